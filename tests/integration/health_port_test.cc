// The real nas-controller's plain-text health port (--health_listen), for the
// kubelet's gRPC probes: grpc.health.v1.Health only, SERVING while the
// database answers, NOT_SERVING while it is down (liveness stays SERVING),
// the main port still TLS-only; and its refusals at start.
#include <signal.h>
#include <stdlib.h>

#include <chrono>
#include <string>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
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

using ::testing::HasSubstr;
using ::testing::MatchesRegex;

constexpr char kController[] = NAS_CONTROLLER_BINARY;
const std::string kServing("\x08\x01", 2);
const std::string kNotServing("\x08\x02", 2);

std::string TempDir() {
  char dir[] = "/tmp/nashealthXXXXXX";
  return mkdtemp(dir) != nullptr ? dir : "";
}

std::shared_ptr<grpc::Channel> PlainChannel(int port) {
  return grpc::CreateChannel(absl::StrCat("127.0.0.1:", port),
                             grpc::InsecureChannelCredentials());
}

// The health status of `service`, or the call's error as text.
std::string Health(int port, const std::string& service = "") {
  absl::StatusOr<std::string> health = HealthCheck(PlainChannel(port), service);
  return health.ok() ? *health : health.status().ToString();
}

// Polls until `service` on `port` reports `want`, for up to `timeout`.
bool WaitForHealth(int port, const std::string& want, absl::Duration timeout) {
  const absl::Time end = absl::Now() + timeout;
  while (absl::Now() < end) {
    if (Health(port) == want) return true;
    absl::SleepFor(absl::Milliseconds(200));
  }
  return false;
}

// A controller started with its health port on 127.0.0.1:0.
struct Controller {
  pid_t pid = -1;
  int port = 0;
  int health_port = 0;
  std::string log;
};

Controller StartController(const std::string& dir, const std::string& db,
                           const std::vector<std::string>& auth_flags) {
  Controller c;
  c.log = dir + "/controller.log";
  std::vector<std::string> args = {
      "--db=" + db, "--listen=127.0.0.1:0", "--port_file=" + dir + "/port",
      "--metrics_listen=127.0.0.1:0", "--health_listen=127.0.0.1:0",
      "--health_port_file=" + dir + "/health_port"};
  args.insert(args.end(), auth_flags.begin(), auth_flags.end());
  c.pid = SpawnProcess(kController, args, c.log);
  c.port = ReadPort(dir + "/port", absl::Seconds(30));
  c.health_port = ReadPort(dir + "/health_port", absl::Seconds(5));
  return c;
}

void Stop(const Controller& c) {
  if (c.pid <= 0) return;
  kill(c.pid, SIGTERM);
  EXPECT_EQ(WaitExit(c.pid, absl::Seconds(15)), 0) << Slurp(c.log);
}

void RemoveDir(const std::string& dir) {
  std::string ignored;
  if (!dir.empty()) RunCommand("rm -rf '" + dir + "'", &ignored);
}

TEST(HealthPortTest, PlainTextHealthOnlyWhileTheMainPortStaysTls) {
  const std::string dir = TempDir();
  ASSERT_FALSE(dir.empty());
  absl::Cleanup remove_dir = [&] { RemoveDir(dir); };
  NAS_ASSERT_OK_AND_ASSIGN(TlsMaterial tls, TlsMaterial::Make(dir + "/tls"));
  const Controller c = StartController(
      dir, PostgresEnvironment::NewDatabaseUri(), tls.ControllerFlags());
  absl::Cleanup stop = [&] { Stop(c); };
  ASSERT_GT(c.port, 0) << Slurp(c.log);
  ASSERT_GT(c.health_port, 0) << Slurp(c.log);
  EXPECT_NE(c.port, c.health_port);
  EXPECT_THAT(Slurp(c.log),
              HasSubstr(absl::StrCat("health checks (plain text, "
                                     "grpc.health.v1.Health only) on port ",
                                     c.health_port)));

  // Health in plain text, for the whole server and for liveness.
  EXPECT_EQ(Health(c.health_port), kServing);
  EXPECT_EQ(Health(c.health_port, "liveness"), kServing);
  EXPECT_THAT(Health(c.health_port, "nas.v1.NoSuchService"),
              HasSubstr("NOT_FOUND"));

  // Nothing else on the health port: neither the search API nor reflection.
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(5));
  v1::ListSearchesResponse response;
  const grpc::Status listed =
      v1::SearchService::NewStub(PlainChannel(c.health_port))
          ->ListSearches(&context, v1::ListSearchesRequest(), &response);
  EXPECT_EQ(listed.error_code(), grpc::StatusCode::UNIMPLEMENTED)
      << listed.error_message();
  const absl::StatusOr<std::string> reflection =
      ReflectionListServices(PlainChannel(c.health_port));
  EXPECT_EQ(reflection.status().code(), absl::StatusCode::kUnimplemented)
      << reflection.status();

  // The main port still refuses plain text, and serves the same health over
  // TLS.
  EXPECT_EQ(HealthCheck(PlainChannel(c.port)).status().code(),
            absl::StatusCode::kUnavailable);
  NAS_ASSERT_OK_AND_ASSIGN(
      std::string main_health,
      HealthCheck(grpc::CreateChannel(absl::StrCat("127.0.0.1:", c.port),
                                      tls.Credentials("", ""))));
  EXPECT_EQ(main_health, kServing);
}

// The test has a PostgreSQL cluster of its own (the ctest one is shared) to
// stop and start again.
TEST(HealthPortTest, NotServingWhileTheDatabaseIsDownServingWhenItIsBack) {
  const std::string dir = TempDir();
  ASSERT_FALSE(dir.empty());
  const std::string pg_script =
      absl::StrCat(TINYNAS_SOURCE_DIR, "/scripts/pg_cluster.sh");
  const std::string pg_start = absl::StrCat(pg_script, " start ", dir, "/pg");
  const std::string pg_stop = absl::StrCat(pg_script, " stop ", dir, "/pg");
  std::string out;
  absl::Cleanup remove_dir = [&] {
    std::string ignored;
    RunCommand(pg_stop, &ignored);
    RemoveDir(dir);
  };
  ASSERT_EQ(RunCommand(pg_start, &out), 0) << out;
  while (!out.empty() && out.back() == '\n') out.pop_back();
  const std::string uri = out.substr(out.rfind('\n') + 1);  // Last line.
  ASSERT_EQ(uri.rfind("postgresql://", 0), 0u) << out;

  const Controller c = StartController(dir, uri, {"--insecure"});
  absl::Cleanup stop = [&] { Stop(c); };
  ASSERT_GT(c.health_port, 0) << Slurp(c.log);
  EXPECT_EQ(Health(c.health_port), kServing);

  ASSERT_EQ(RunCommand(pg_stop, &out), 0) << out;
  // Checked every 2 s; a query against the stopped server fails at once.
  EXPECT_TRUE(WaitForHealth(c.health_port, kNotServing, absl::Seconds(15)))
      << Health(c.health_port) << "\n" << Slurp(c.log);
  EXPECT_EQ(Health(c.health_port, "liveness"), kServing);
  EXPECT_THAT(Slurp(c.log),
              HasSubstr("health: NOT_SERVING (the database does not answer)"));

  ASSERT_EQ(RunCommand(pg_start, &out), 0) << out;
  EXPECT_TRUE(WaitForHealth(c.health_port, kServing, absl::Seconds(20)))
      << Health(c.health_port) << "\n" << Slurp(c.log);
}

TEST(HealthPortTest, BadHealthFlagsExitWithOneLine) {
  const std::string db = PostgresEnvironment::NewDatabaseUri();
  const struct {
    std::string flags;
    std::string line;  // A regular expression for the one line printed.
  } cases[] = {
      {"--health_listen=nonsense",
       "--health_listen: \"nonsense\" is not HOST:PORT[^\n]*"},
      {"--health_listen=127.0.0.1:99999",
       "--health_listen: \"127.0.0.1:99999\" is not HOST:PORT[^\n]*"},
      {"--health_port_file=/tmp/x", "--health_port_file needs --health_listen"},
  };
  for (const auto& c : cases) {
    std::string output;
    const int code = RunCommand(
        absl::StrCat(kController, " --db='", db,
                     "' --listen=127.0.0.1:0 --metrics_listen=127.0.0.1:0 "
                     "--insecure ",
                     c.flags),
        &output);
    EXPECT_EQ(code, 1) << c.flags;
    EXPECT_THAT(output, MatchesRegex("nas-controller: " + c.line + "\n"))
        << c.flags;
  }
}

}  // namespace
}  // namespace nas::testing
