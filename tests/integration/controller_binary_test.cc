// The nas-controller binary as a subprocess: flags, a database it cannot
// reach, health checking, reflection, metrics and a graceful SIGTERM.
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <vector>

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
#include "tests/status_matchers.h"

namespace nas::testing {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;

constexpr char kBinary[] = NAS_CONTROLLER_BINARY;

// Starts the controller with `args`, its output going to `log`.
pid_t Spawn(const std::vector<std::string>& args, const std::string& log) {
  return SpawnProcess(kBinary, args, log);
}

TEST(ControllerBinaryTest, UnreachableDatabaseExitsWithOneClearLine) {
  std::string output;
  const int code = RunCommand(
      absl::StrCat("env -u TINYNAS_DB ", kBinary,
                   " --db='postgresql:///tinynas?host=/nonexistent/sock'"
                   " --listen=127.0.0.1:0 --metrics_listen=127.0.0.1:0"
                   " --insecure"),
      &output);
  EXPECT_EQ(code, 1);
  EXPECT_THAT(output,
              MatchesRegex("nas-controller: cannot connect to database "
                           "postgresql:///tinynas\\?host=/nonexistent/sock: "
                           "[^\n]+\n"));
}

TEST(ControllerBinaryTest, MissingDatabaseFlagExitsWithOneClearLine) {
  std::string output;
  EXPECT_EQ(RunCommand(absl::StrCat("env -u TINYNAS_DB ", kBinary, " --insecure"),
                       &output),
            1);
  EXPECT_EQ(output,
            "nas-controller: no database: pass --db or set TINYNAS_DB\n");
  EXPECT_EQ(RunCommand(absl::StrCat(kBinary,
                                    " --insecure --db=x --lease_ttl_ms=100 "
                                    "--heartbeat_ms=500"),
                       &output),
            1);
  EXPECT_THAT(output, HasSubstr("--heartbeat_ms < --lease_ttl_ms"));
}

TEST(ControllerBinaryTest, ServesHealthReflectionMetricsAndStopsOnSigterm) {
  char dir[] = "/tmp/nasbinXXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string port_file = absl::StrCat(dir, "/port");
  const std::string metrics_file = absl::StrCat(dir, "/metrics_port");
  const std::string log = absl::StrCat(dir, "/log");
  const pid_t pid = Spawn(
      {"--db=" + PostgresEnvironment::NewDatabaseUri(), "--listen=127.0.0.1:0",
       "--port_file=" + port_file, "--metrics_listen=127.0.0.1:0",
       "--metrics_port_file=" + metrics_file, "--lease_ttl_ms=5000",
       "--heartbeat_ms=1000", "--insecure"},
      log);
  ASSERT_GT(pid, 0);
  const int port = ReadPort(port_file, absl::Seconds(20));
  const int metrics_port = ReadPort(metrics_file, absl::Seconds(5));
  ASSERT_GT(port, 0) << Slurp(log);
  ASSERT_GT(metrics_port, 0) << Slurp(log);

  auto channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", port),
                                     grpc::InsecureChannelCredentials());
  NAS_ASSERT_OK_AND_ASSIGN(std::string health, HealthCheck(channel));
  EXPECT_EQ(health, std::string("\x08\x01", 2));  // SERVING
  NAS_ASSERT_OK_AND_ASSIGN(std::string services,
                           ReflectionListServices(channel));
  EXPECT_THAT(services, AllOf(HasSubstr("nas.v1.SearchService"),
                              HasSubstr("nas.v1.WorkerService")));

  // A real call through the binary: the migrated database answers.
  auto stub = v1::SearchService::NewStub(channel);
  grpc::ClientContext context;
  v1::GetSearchRequest request;
  request.set_search_id(1);
  v1::Search reply;
  EXPECT_EQ(stub->GetSearch(&context, request, &reply).error_code(),
            grpc::StatusCode::NOT_FOUND);

  NAS_ASSERT_OK_AND_ASSIGN(std::string scraped, ScrapeMetrics(metrics_port));
  EXPECT_THAT(scraped, AllOf(HasSubstr("200 OK"),
                             HasSubstr("nas_rpc_requests_total{code=\"5\","
                                       "method=\"GetSearch\"} 1")));

  ASSERT_EQ(kill(pid, SIGTERM), 0);
  EXPECT_EQ(WaitExit(pid, absl::Seconds(15)), 0) << Slurp(log);
  EXPECT_THAT(Slurp(log), HasSubstr("shutting down"));
  std::string ignored;
  RunCommand(absl::StrCat("rm -rf ", dir), &ignored);
}

}  // namespace
}  // namespace nas::testing
