// Authentication of the real nas-controller binary serving TLS with
// certificates and a token from scripts/make_certs.sh: mutual TLS for the
// worker API (a worker's certificate), a bearer token (or an API client's
// certificate) for the search API, health checks open to probes; and its
// refusals at start.
#include <signal.h>
#include <stdlib.h>

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "proto/nas.grpc.pb.h"
#include "tests/integration/grpc_probe.h"
#include "tests/integration/pg_environment.h"
#include "tests/integration/subprocess.h"
#include "tests/integration/tls_material.h"
#include "tests/status_matchers.h"

namespace nas::testing {
namespace {

using ::testing::AnyOf;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;

constexpr char kController[] = NAS_CONTROLLER_BINARY;
constexpr char kNasctl[] = NAS_NASCTL_BINARY;

std::string TempDir() {
  char dir[] = "/tmp/nasauthXXXXXX";
  return mkdtemp(dir) != nullptr ? dir : "";
}

// One controller serving TLS for the whole suite, and a second CA that the
// controller does not know.
class AuthTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(TempDir());
    ASSERT_FALSE(dir_->empty());
    NAS_ASSERT_OK_AND_ASSIGN(TlsMaterial tls, TlsMaterial::Make(*dir_ + "/tls"));
    NAS_ASSERT_OK_AND_ASSIGN(TlsMaterial other, TlsMaterial::Make(*dir_ + "/other"));
    tls_ = new TlsMaterial(tls);
    other_ = new TlsMaterial(other);
    // A client certificate the CA signed with no role (as make_certs.sh
    // made them before roles): it admits to neither API.
    std::string output;
    ASSERT_EQ(RunCommand(absl::StrCat(
                  "(cd '", tls_->dir, "' && openssl genpkey -algorithm EC -pkeyopt "
                  "ec_paramgen_curve:P-256 -out norole.key && openssl req -new -key "
                  "norole.key -subj /O=tinynas/CN=tinynas-worker -out norole.csr && "
                  "printf 'extendedKeyUsage=clientAuth\\n' > norole.ext && "
                  "openssl x509 -req -in norole.csr -CA ca.pem -CAkey ca.key "
                  "-CAserial ca.srl -days 2 -extfile norole.ext -out norole.pem) 2>&1"),
                  &output),
              0)
        << output;
    std::vector<std::string> args = {
        "--db=" + PostgresEnvironment::NewDatabaseUri(), "--listen=127.0.0.1:0",
        "--port_file=" + *dir_ + "/port", "--metrics_listen=127.0.0.1:0"};
    for (const std::string& flag : tls_->ControllerFlags()) args.push_back(flag);
    pid_ = SpawnProcess(kController, args, *dir_ + "/controller.log");
    port_ = ReadPort(*dir_ + "/port", absl::Seconds(30));
    ASSERT_GT(port_, 0) << Slurp(*dir_ + "/controller.log");
  }

  static void TearDownTestSuite() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      WaitExit(pid_, absl::Seconds(15));
    }
    std::string ignored;
    if (dir_ != nullptr) RunCommand("rm -rf '" + *dir_ + "'", &ignored);
  }

  static std::string Address() { return absl::StrCat("127.0.0.1:", port_); }

  static std::shared_ptr<grpc::Channel> Channel(
      const std::shared_ptr<grpc::ChannelCredentials>& credentials) {
    return grpc::CreateChannel(Address(), credentials);
  }

  static grpc::Status Register(const std::shared_ptr<grpc::ChannelCredentials>& creds) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    v1::RegisterWorkerRequest request;
    request.set_name("auth-test-worker");
    request.set_slots(1);
    request.set_device("cpu");
    v1::RegisterWorkerResponse response;
    return v1::WorkerService::NewStub(Channel(creds))->RegisterWorker(&context, request,
                                                                     &response);
  }

  static grpc::Status ListSearches(const std::shared_ptr<grpc::ChannelCredentials>& creds) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    v1::ListSearchesResponse response;
    return v1::SearchService::NewStub(Channel(creds))
        ->ListSearches(&context, v1::ListSearchesRequest(), &response);
  }

  // Runs nasctl against the controller; returns its exit code.
  static int Nasctl(const std::string& flags, std::string* output) {
    return RunCommand(absl::StrCat("env -u TINYNAS_TOKEN -u TINYNAS_TLS_CA ", kNasctl,
                                   " --controller=", Address(), " --timeout=5s ", flags),
                      output);
  }

  static std::string* dir_;
  static TlsMaterial* tls_;
  static TlsMaterial* other_;
  static pid_t pid_;
  static int port_;
};

std::string* AuthTest::dir_ = nullptr;
TlsMaterial* AuthTest::tls_ = nullptr;
TlsMaterial* AuthTest::other_ = nullptr;
pid_t AuthTest::pid_ = -1;
int AuthTest::port_ = 0;

TEST_F(AuthTest, WorkerWithCertificateTheCaSignedRegisters) {
  const grpc::Status status = Register(tls_->Credentials("worker", ""));
  EXPECT_TRUE(status.ok()) << status.error_message();
}

TEST_F(AuthTest, OnlyAWorkerCertificateMakesAWorker) {
  // nasctl's certificate (OU=api) and one without a role, both signed by
  // the CA: refused, naming the subject as the controller read it.
  grpc::Status status = Register(tls_->Credentials("nasctl", ""));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_THAT(status.error_message(),
              HasSubstr("(OU=worker); this one's subject is "
                        "'CN=tinynas-nasctl,OU=api,O=tinynas'"));
  status = Register(tls_->Credentials("norole", ""));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_THAT(status.error_message(),
              HasSubstr("this one's subject is 'CN=tinynas-worker,O=tinynas'"));
}

TEST_F(AuthTest, WorkerWithoutCertificateIsUnauthenticated) {
  const grpc::Status status = Register(tls_->Credentials("", ""));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_THAT(status.error_message(), HasSubstr("client certificate"));
  // A search token does not make a worker.
  const grpc::Status with_token = Register(tls_->Credentials("", tls_->token));
  EXPECT_EQ(with_token.error_code(), grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(AuthTest, WorkerWithCertificateFromAnotherCaIsRefused) {
  // The other CA's worker certificate, trusting the right server CA: the
  // handshake fails (the controller verifies every certificate it gets).
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = Slurp(tls_->ca());
  options.pem_cert_chain = Slurp(other_->Path("worker.pem"));
  options.pem_private_key = Slurp(other_->Path("worker.key"));
  const grpc::Status status = Register(grpc::SslCredentials(options));
  EXPECT_THAT(status.error_code(), AnyOf(grpc::StatusCode::UNAVAILABLE,
                                         grpc::StatusCode::UNAUTHENTICATED))
      << status.error_message();
}

TEST_F(AuthTest, ClientTrustingAnotherCaDoesNotConnect) {
  const grpc::Status status = ListSearches(other_->Credentials("nasctl", other_->token));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
}

TEST_F(AuthTest, SearchApiTakesTheTokenOrACertificate) {
  grpc::Status status = ListSearches(tls_->Credentials("", tls_->token));
  EXPECT_TRUE(status.ok()) << status.error_message();
  status = ListSearches(tls_->Credentials("nasctl", ""));
  EXPECT_TRUE(status.ok()) << status.error_message();

  // A worker's certificate runs no search (its machine trains untrusted
  // models), nor does one without a role; with the token they may.
  status = ListSearches(tls_->Credentials("worker", ""));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_THAT(status.error_message(),
              HasSubstr("(OU=api); this one's subject is 'CN=tinynas-worker,OU=worker,O=tinynas'"));
  status = ListSearches(tls_->Credentials("norole", ""));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  status = ListSearches(tls_->Credentials("worker", tls_->token));
  EXPECT_TRUE(status.ok()) << status.error_message();

  status = ListSearches(tls_->Credentials("", ""));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_THAT(status.error_message(), HasSubstr("bearer token"));
  status = ListSearches(tls_->Credentials("", other_->token));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_THAT(status.error_message(), HasSubstr("not valid"));
  // The token's prefix is not the token.
  status = ListSearches(tls_->Credentials("", tls_->token.substr(0, 32)));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(AuthTest, StreamingCallsAreCheckedToo) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  v1::WatchSearchRequest request;
  request.set_search_id(1);
  auto reader = v1::SearchService::NewStub(Channel(tls_->Credentials("", "")))
                    ->WatchSearch(&context, request);
  v1::SearchProgress progress;
  EXPECT_FALSE(reader->Read(&progress));
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(AuthTest, PlainTextClientFails) {
  const grpc::Status status = ListSearches(grpc::InsecureChannelCredentials());
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
}

TEST_F(AuthTest, HealthCheckNeedsNoCredentials) {
  NAS_ASSERT_OK_AND_ASSIGN(std::string health,
                           HealthCheck(Channel(tls_->Credentials("", ""))));
  EXPECT_EQ(health, std::string("\x08\x01", 2));  // SERVING
}

TEST_F(AuthTest, NasctlWithTheTokenWorks) {
  std::string output;
  EXPECT_EQ(Nasctl(absl::StrCat("--tls_ca=", tls_->ca(),
                                " --token_file=", tls_->tokens_file(), " list"),
                   &output),
            0)
      << output;
  EXPECT_EQ(RunCommand(absl::StrCat("TINYNAS_TOKEN=", tls_->token, " TINYNAS_TLS_CA=",
                                    tls_->ca(), " ", kNasctl, " --controller=",
                                    Address(), " list --json"),
                       &output),
            0)
      << output;
  EXPECT_EQ(Nasctl(absl::StrCat("--tls_ca=", tls_->ca(), " --tls_cert=",
                                tls_->Path("nasctl.pem"), " --tls_key=",
                                tls_->Path("nasctl.key"), " list"),
                   &output),
            0)
      << output;
}

TEST_F(AuthTest, NasctlWithWrongOrMissingTokenPrintsOneLineAndFails) {
  std::string output;
  EXPECT_EQ(Nasctl(absl::StrCat("--tls_ca=", tls_->ca(), " --token=",
                                other_->token, " show 1"),
                   &output),
            1);
  EXPECT_THAT(output, MatchesRegex("nasctl: show 1: unauthenticated: [^\n]*not "
                                   "valid[^\n]*\n"));
  EXPECT_EQ(Nasctl(absl::StrCat("--tls_ca=", tls_->ca(), " list"), &output), 1);
  EXPECT_THAT(output,
              MatchesRegex("nasctl: [^\n]*unauthenticated: [^\n]*bearer token[^\n]*\n"));
  // A token is never sent in plain text.
  EXPECT_EQ(Nasctl(absl::StrCat("--insecure --token=", tls_->token, " list"), &output),
            2);
  EXPECT_THAT(output, MatchesRegex("nasctl: [^\n]*only sent over TLS[^\n]*\n"));
}

// Starts the controller with `flags` and no database reachable; returns
// what it printed and sets `code` to its exit status.
std::string StartFails(const std::string& flags, int* code) {
  std::string output;
  *code = RunCommand(absl::StrCat("env -u TINYNAS_DB ", kController,
                                  " --db='postgresql:///x?host=/nonexistent' "
                                  "--listen=127.0.0.1:0 --metrics_listen=127.0.0.1:0 ",
                                  flags),
                     &output);
  return output;
}

TEST_F(AuthTest, NoTlsWithoutInsecureOrWrongTlsFlagsExitWithOneLine) {
  const std::string cert = " --tls_cert=" + tls_->Path("server.pem");
  const std::string ca = " --tls_client_ca=" + tls_->ca();
  const struct {
    std::string flags;
    std::string line;  // A regular expression for the one line printed.
  } cases[] = {
      {"", "no TLS material: pass --tls_cert, --tls_key and --tls_client_ca "
           "\\(scripts/make_certs.sh makes them\\), or --insecure to serve plain "
           "text without authentication"},
      {cert, "--tls_cert, --tls_key and --tls_client_ca go together[^\n]*"},
      {cert + " --tls_key=" + tls_->Path("worker.key") + ca,
       "--tls_key: [^\n]*worker.key: is not the key of the certificate[^\n]*"},
      {cert + " --tls_key=" + tls_->Path("server.key") +
           " --tls_client_ca=" + tls_->tokens_file(),
       "--tls_client_ca: [^\n]*: holds no PEM certificate"},
      {"--insecure --api_tokens_file=" + tls_->tokens_file(),
       "--insecure \\(plain text\\) cannot be combined[^\n]*"},
  };
  for (const auto& c : cases) {
    int code = 0;
    const std::string output = StartFails(c.flags, &code);
    EXPECT_EQ(code, 1) << c.flags;
    EXPECT_THAT(output, MatchesRegex("nas-controller: " + c.line + "\n")) << c.flags;
  }
}

TEST_F(AuthTest, InsecureLogsAWarning) {
  const std::string port_file = *dir_ + "/insecure_port";
  const std::string log = *dir_ + "/insecure.log";
  const pid_t pid = SpawnProcess(
      kController,
      {"--db=" + PostgresEnvironment::NewDatabaseUri(), "--listen=127.0.0.1:0",
       "--port_file=" + port_file, "--metrics_listen=127.0.0.1:0", "--insecure"},
      log);
  const int port = ReadPort(port_file, absl::Seconds(30));
  kill(pid, SIGTERM);
  EXPECT_EQ(WaitExit(pid, absl::Seconds(15)), 0);
  ASSERT_GT(port, 0) << Slurp(log);
  bool warned = false;
  for (absl::string_view line : absl::StrSplit(Slurp(log), '\n')) {
    warned |= !line.empty() && line[0] == 'W' &&
              absl::StrContains(line, "--insecure: serving plain text WITHOUT "
                                      "authentication");
  }
  EXPECT_TRUE(warned) << Slurp(log);
}

}  // namespace
}  // namespace nas::testing
