// End to end over TLS: the real nas-controller serving TLS with the
// certificates of scripts/make_certs.sh, a real nas-worker that connects
// with its client certificate (mutual TLS) and trains a tiny ECG5000 search,
// submitted and read back with the bearer token, the last read through the
// real nasctl binary.
#include <stdlib.h>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "grpcpp/create_channel.h"
#include "gtest/gtest.h"
#include "proto/nas.grpc.pb.h"
#include "tests/integration/pg_environment.h"
#include "tests/integration/subprocess.h"
#include "tests/integration/tls_material.h"
#include "tests/status_matchers.h"

namespace nas::testing {
namespace {

using ::testing::HasSubstr;

constexpr char kController[] = NAS_CONTROLLER_BINARY;
constexpr char kWorker[] = NAS_WORKER_BINARY;
constexpr char kNasctl[] = NAS_NASCTL_BINARY;

constexpr char kSpec[] =
    "name: tls-e2e\n"
    "dataset: {name: ecg5000, train_subset: 300, validation_subset: 100}\n"
    "device: nrf52840\n"
    "space:\n"
    "  layer_types: [CONV1D, MAXPOOL1D]\n"
    "  channels: [4, 8]\n"
    "  kernels: [3]\n"
    "  strides: [1]\n"
    "  max_layers: 2\n"
    "training: {epochs: 1, batch_size: 32}\n"
    "budget: {max_trials: 2}\n"
    "seed: 5\n";

class TlsSearchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/nastlsXXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    dir_ = dir;
    NAS_ASSERT_OK_AND_ASSIGN(tls_, TlsMaterial::Make(dir_ + "/tls"));
  }

  void TearDown() override {
    TearDownProcesses({worker_, controller_}, dir_,
                      {"controller.log", "worker.log"}, HasFailure());
  }

  v1::Search Call(const std::function<grpc::Status(grpc::ClientContext*, v1::Search*)>& rpc) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    v1::Search search;
    const grpc::Status status = rpc(&context, &search);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return search;
  }

  std::string dir_;
  TlsMaterial tls_;
  pid_t controller_ = -1;
  pid_t worker_ = -1;
};

TEST_F(TlsSearchTest, WorkerTrainsARealSearchOverMutualTls) {
  std::vector<std::string> args = {
      "--db=" + PostgresEnvironment::NewDatabaseUri(), "--listen=127.0.0.1:0",
      "--port_file=" + dir_ + "/port", "--metrics_listen=127.0.0.1:0",
      std::string("--data_root=") + TINYNAS_SOURCE_DIR + "/data"};
  for (const std::string& flag : tls_.ControllerFlags()) args.push_back(flag);
  controller_ = SpawnProcess(kController, args, dir_ + "/controller.log");
  const int port = ReadPort(dir_ + "/port", absl::Seconds(30));
  ASSERT_GT(port, 0) << Slurp(dir_ + "/controller.log");
  const std::string address = absl::StrCat("localhost:", port);

  std::vector<std::string> worker_args = {"--controller=" + address, "--slots=1",
                                          "--threads=1", "--name=tls-worker",
                                          "--metrics_listen=none"};
  for (const std::string& flag : tls_.WorkerFlags()) worker_args.push_back(flag);
  worker_ = SpawnProcess(kWorker, worker_args, dir_ + "/worker.log");

  auto stub = v1::SearchService::NewStub(
      grpc::CreateChannel(address, tls_.Credentials("", tls_.token)));
  v1::SubmitSearchRequest submit;
  submit.set_spec_yaml(kSpec);
  const v1::Search submitted = Call([&](grpc::ClientContext* c, v1::Search* s) {
    return stub->SubmitSearch(c, submit, s);
  });
  ASSERT_GT(submitted.id(), 0);

  v1::Search search;
  const absl::Time give_up = absl::Now() + absl::Seconds(120);
  do {
    absl::SleepFor(absl::Milliseconds(250));
    v1::GetSearchRequest get;
    get.set_search_id(submitted.id());
    search = Call([&](grpc::ClientContext* c, v1::Search* s) {
      return stub->GetSearch(c, get, s);
    });
  } while (search.state() == v1::SEARCH_RUNNING && absl::Now() < give_up);
  ASSERT_EQ(search.state(), v1::SEARCH_SUCCEEDED) << search.DebugString();
  EXPECT_EQ(search.trials_done(), 2);

  // The trials were trained by the TLS worker, and nasctl reads them with
  // the token file.
  std::string output;
  ASSERT_EQ(RunCommand(absl::StrCat("env -u TINYNAS_TOKEN ", kNasctl, " --controller=",
                                    address, " --tls_ca=", tls_.ca(), " --token_file=",
                                    tls_.tokens_file(), " trials ", submitted.id()),
                       &output),
            0)
      << output;
  EXPECT_THAT(output, HasSubstr("tls-worker"));

  // nasctl's certificate (OU=api), signed by the same CA, makes no worker:
  // nas-worker stops at once, saying why.
  EXPECT_EQ(RunCommand(absl::StrCat(kWorker, " --controller=", address,
                                    " --metrics_listen=none --name=api-cert",
                                    " --tls_ca=", tls_.ca(),
                                    " --tls_cert=", tls_.Path("nasctl.pem"),
                                    " --tls_key=", tls_.Path("nasctl.key")),
                       &output),
            1)
      << output;
  EXPECT_THAT(output, ::testing::ContainsRegex(
                          "nas-worker: RegisterWorker: [^\n]*OU=worker[^\n]*"
                          "'CN=tinynas-nasctl,OU=api,O=tinynas'"));
  EXPECT_THAT(Slurp(dir_ + "/worker.log"), HasSubstr("tls-worker"));
}

TEST_F(TlsSearchTest, WorkerTlsFlagErrorsAreOneLine) {
  const std::string base =
      absl::StrCat(kWorker, " --controller=localhost:1 --metrics_listen=none ");
  const struct {
    std::string flags;
    std::string line;  // A regular expression for the one line printed.
  } cases[] = {
      {"", "no TLS material: pass --tls_ca, --tls_cert and --tls_key[^\n]*or "
           "--insecure for plain text"},
      {"--tls_ca=" + tls_.ca(),
       "the controller admits workers by client certificate: pass --tls_cert and "
       "--tls_key[^\n]*"},
      {"--tls_cert=" + tls_.Path("worker.pem") + " --tls_key=" + tls_.Path("server.key"),
       "--tls_key: [^\n]*server.key: is not the key of the certificate[^\n]*"},
      {"--insecure --tls_ca=" + tls_.ca(), "--insecure \\(plain text\\) cannot be "
                                           "combined[^\n]*"},
  };
  for (const auto& c : cases) {
    std::string output;
    EXPECT_EQ(RunCommand(base + c.flags, &output), 1) << c.flags;
    EXPECT_THAT(output, ::testing::MatchesRegex("nas-worker: " + c.line + "\n")) << c.flags;
  }
}

}  // namespace
}  // namespace nas::testing
