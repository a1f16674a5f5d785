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
#include "tests/e2e/real_stack.h"
#include "tests/nasctl/report_checks.h"

namespace nas::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

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

using ReportTest = RealStackTest;

TEST_F(ReportTest, RealSearchReportRendersInChromium) {
  StartController();
  StartWorker("report-worker");

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
