// `nasctl report` on a real search: the real nas-controller on the ctest
// PostgreSQL, a real nas-worker training a tiny Q-learning ECG5000 search
// whose name holds markup, the real nasctl binary following it with
// `watch` through a pipe and writing the report, and headless Chromium
// loading the page (ctest -L report).
#include <stdlib.h>

#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/integration/pg_environment.h"
#include "tests/integration/subprocess.h"
#include "tests/nasctl/report_checks.h"

namespace nas::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kController[] = NAS_CONTROLLER_BINARY;
constexpr char kWorker[] = NAS_WORKER_BINARY;
constexpr char kNasctl[] = NAS_NASCTL_BINARY;

constexpr char kSpec[] =
    "name: \"<script>alert(1)</script> & co\"\n"
    "dataset: {name: ecg5000, train_subset: 300, validation_subset: 100}\n"
    "device: nrf52840\n"
    "space:\n"
    "  layer_types: [CONV1D, MAXPOOL1D]\n"
    "  channels: [4, 8]\n"
    "  kernels: [3]\n"
    "  max_layers: 2\n"
    "  dense_units: [16]\n"
    "  max_dense_layers: 1\n"
    "training: {epochs: 1, batch_size: 32, latency_runs: 2}\n"
    "budget: {max_trials: 4}\n"
    "policy: qlearning\n"
    "seed: 3\n";

class ReportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/nasreportXXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    dir_ = dir;
  }

  void TearDown() override {
    TearDownProcesses({worker_, controller_}, dir_,
                      {"controller.log", "worker.log"}, HasFailure());
  }

  // The nasctl binary against the controller; its exit status, and its
  // stdout and stderr in `output`.
  int Nasctl(const std::string& args, std::string* output) {
    return RunCommand(absl::StrCat("timeout 120 ", kNasctl, " --insecure --controller=",
                                   address_, " ", args),
                      output);
  }

  std::string dir_;
  std::string address_;
  pid_t controller_ = -1;
  pid_t worker_ = -1;
};

TEST_F(ReportTest, RealSearchReportRendersInChromium) {
  controller_ = SpawnProcess(
      kController,
      {"--db=" + PostgresEnvironment::NewDatabaseUri(), "--listen=127.0.0.1:0",
       "--port_file=" + dir_ + "/port", "--metrics_listen=127.0.0.1:0",
       std::string("--data_root=") + TINYNAS_SOURCE_DIR + "/data", "--insecure"},
      dir_ + "/controller.log");
  const int port = ReadPort(dir_ + "/port", absl::Seconds(30));
  ASSERT_GT(port, 0) << Slurp(dir_ + "/controller.log");
  address_ = absl::StrCat("127.0.0.1:", port);
  worker_ = SpawnProcess(kWorker,
                         {"--controller=" + address_, "--slots=1", "--threads=1",
                          "--name=report-worker", "--metrics_listen=none", "--insecure"},
                         dir_ + "/worker.log");

  std::ofstream(dir_ + "/spec.yaml") << kSpec;
  std::string output;
  ASSERT_EQ(Nasctl("submit " + dir_ + "/spec.yaml --json", &output), 0) << output;
  const int64_t id = std::stoll(nlohmann::json::parse(output)["id"].get<std::string>());

  // watch through a pipe: plain lines, no redraw, exit 0 once SUCCEEDED.
  ASSERT_EQ(Nasctl(absl::StrCat("watch ", id, " | cat"), &output), 0) << output;
  EXPECT_THAT(output, Not(HasSubstr("\r")));
  EXPECT_THAT(output, HasSubstr(absl::StrCat("search ", id, " SUCCEEDED after")));

  const std::string report = dir_ + "/report";
  ASSERT_EQ(Nasctl(absl::StrCat("report ", id, " -o ", report, " --json"), &output), 0)
      << output;
  const nlohmann::json written = nlohmann::json::parse(output);
  EXPECT_EQ(written["trials"], 4);
  const int front = written["pareto_front"].get<int>();
  EXPECT_GE(front, 1);

  absl::StatusOr<BrowserPage> page = LoadInChromium(report + "/index.html");
  ASSERT_TRUE(page.ok()) << page.status();
  ExpectReportPage(*page, {front, /*limit_lines=*/2, /*trained=*/true});
  EXPECT_THAT(page->dom, HasSubstr("&lt;script&gt;alert(1)&lt;/script&gt; &amp; co"));
  EXPECT_THAT(page->dom, HasSubstr("<table class=\"q-table\">"));
  EXPECT_THAT(page->dom, HasSubstr("<td>SUCCEEDED</td>"));
}

}  // namespace
}  // namespace nas::testing
