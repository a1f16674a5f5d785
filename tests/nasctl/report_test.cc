// `nasctl report`: the page's content from canned searches (RenderReportHtml)
// and the whole command line against TestSearchService on port 0. The page
// in a real browser: report_chromium_test.cc.
#include "nasctl/report.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nasctl/commands.h"
#include "nasctl/report_plots.h"
#include "tests/integration/subprocess.h"
#include "tests/nasctl/canned_search.h"
#include "tests/nasctl/report_checks.h"
#include "tests/nasctl/test_search_service.h"

namespace nas::nasctl {
namespace {

using ::nas::testing::CountOccurrences;
using ::testing::HasSubstr;
using ::testing::Not;

TEST(ReportHtmlTest, HoldsEverySectionOfARealisticSearch) {
  const ReportData data = CannedSearch({});
  ASSERT_FALSE(data.front.empty());
  const std::string html = RenderReportHtml(data);
  EXPECT_THAT(html, HasSubstr("<title>tinynas search 7: ecg-canned</title>"));
  for (const char* section : {"summary", "convergence", "pareto", "top-models", "policy",
                              "failures", "spec"}) {
    EXPECT_THAT(html, HasSubstr(absl::StrCat("<section id=\"", section, "\">"))) << section;
  }
  // Two convergence plots and three Pareto plots.
  EXPECT_EQ(CountOccurrences(html, "<svg class=\"plot\""), 5);
  EXPECT_EQ(CountOccurrences(html, "<circle class=\"front\""), 3 * static_cast<int>(data.front.size()));
  // The nrf52840's flash (1 MiB - 100 KiB reserved) and SRAM (256 - 16 KiB)
  // limits as dashed lines; no MAC limit in this spec.
  EXPECT_EQ(CountOccurrences(html, "<line class=\"limit\""), 2);
  EXPECT_THAT(html, HasSubstr("flash limit 946k"));
  EXPECT_THAT(html, HasSubstr("SRAM limit 246k"));
  EXPECT_THAT(html, HasSubstr("int8 flash (bytes) (log)"));
  EXPECT_THAT(html, HasSubstr("best reward so far"));
  EXPECT_THAT(html, HasSubstr("time since the search started (s)"));
  // The top models with a layer table each, and the Q-learning state.
  EXPECT_EQ(CountOccurrences(html, "<table class=\"layer-cost\">"), kReportTopModels);
  EXPECT_THAT(html, HasSubstr("<td>CONV1D"));
  EXPECT_THAT(html, HasSubstr("<dt>epsilon (next proposal)</dt><dd>0.700</dd>"));
  EXPECT_THAT(html, HasSubstr("d1 CONV1D c8 k3 s1 |70"));
  EXPECT_THAT(html, HasSubstr("<table class=\"schedule\">"));
  // Nothing to run and nothing to fetch.
  EXPECT_THAT(html, Not(HasSubstr("<script")));
  EXPECT_THAT(html, Not(HasSubstr("src=")));
  EXPECT_THAT(html, Not(HasSubstr("href=")));
}

TEST(ReportHtmlTest, EscapesEveryStringFromTheSearch) {
  CannedSearchOptions options;
  options.name = "<script>alert('x')</script> & co";
  ReportData data = CannedSearch(options);
  const std::string html = RenderReportHtml(data);
  EXPECT_THAT(html, Not(HasSubstr("<script>")));
  EXPECT_THAT(html, HasSubstr("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; co"));
  // The failure reasons and the spec (the name inside the JSON) too.
  EXPECT_THAT(html, HasSubstr("(loss is NaN) &amp; &lt;gave up&gt;"));
  // (The JSON printer writes < and > as \u003c and \u003e.)
  EXPECT_THAT(html, HasSubstr("&quot;name&quot;: &quot;\\u003cscript\\u003ealert(&#39;x&#39;)"));
  EXPECT_THAT(html, Not(HasSubstr("<gave up>")));
}

TEST(ReportHtmlTest, SearchWithoutTrialsSaysSo) {
  CannedSearchOptions options;
  options.trials = 0;
  const ReportData data = CannedSearch(options);
  ASSERT_TRUE(data.trials.empty());
  const std::string html = RenderReportHtml(data);
  EXPECT_EQ(CountOccurrences(html, "<svg class=\"plot\""), 5);
  EXPECT_EQ(CountOccurrences(html, "<text class=\"empty\""), 5);
  EXPECT_THAT(html, HasSubstr("This search has no trials yet."));
  EXPECT_THAT(html, HasSubstr("No trained model yet."));
  EXPECT_THAT(html, Not(HasSubstr("nan")));
  EXPECT_THAT(html, Not(HasSubstr("inf\"")));
}

TEST(ReportHtmlTest, SearchWithOnlyFailedTrials) {
  CannedSearchOptions options;
  options.trials = 12;
  options.all_failed = true;
  const ReportData data = CannedSearch(options);
  const std::string html = RenderReportHtml(data);
  EXPECT_EQ(CountOccurrences(html, "<text class=\"empty\""), 5);
  EXPECT_THAT(html, HasSubstr("<td>FAILED</td><td class=\"num\">12</td>"));
  EXPECT_THAT(html, HasSubstr("12 trials did not train; the last 12:"));
  EXPECT_THAT(html, HasSubstr("No trained model yet."));
  EXPECT_THAT(html, HasSubstr("<dt>best trial</dt><dd>none yet</dd>"));
}

TEST(ReportHtmlTest, ThousandsOfTrialsKeepThePageBounded) {
  CannedSearchOptions options;
  options.trials = 5000;
  const ReportData data = CannedSearch(options);
  const std::string html = RenderReportHtml(data);
  // Each faint series is thinned to kMaxFaintPoints circles at most.
  EXPECT_LE(CountOccurrences(html, "<circle class=\"trial\""), 5 * kMaxFaintPoints);
  EXPECT_EQ(CountOccurrences(html, "<circle class=\"front\""), 3 * static_cast<int>(data.front.size()));
  EXPECT_LT(html.size(), 1500u * 1024) << html.size();
  EXPECT_THAT(html, HasSubstr("<td>all</td><td class=\"num\">5000</td>"));
}

TEST(ReportHtmlTest, TheFrontIsShownInTheReportsMetricWithItsFloorAndSpread) {
  ReportData data = CannedSearch({});
  v1::SearchSpec& spec = *data.search.mutable_spec();
  spec.mutable_reward()->set_metric("macro_f1_int8");
  spec.mutable_constraints()->set_min_macro_f1(0.25);
  ASSERT_FALSE(data.front.empty());
  v1::Metrics* m = data.front[0].mutable_metrics();
  m->set_folds(5);
  m->set_macro_f1_spread(0.0123);
  const std::string html = RenderReportHtml(data);
  // The plots' quality axis, the table's column and the note follow the
  // metric; the floor is a dashed line in each Pareto plot.
  EXPECT_EQ(CountOccurrences(html, ">validation macro-F1<"), 3);
  EXPECT_THAT(html, HasSubstr("<th class=\"num\">macro-F1</th><th class=\"num\">spread</th>"));
  EXPECT_THAT(html, HasSubstr("<td class=\"num\">0.0123 (5 folds)</td>"));
  EXPECT_THAT(html, HasSubstr("(validation macro-F1, the reward's metric"));
  EXPECT_THAT(html, HasSubstr("below macro-F1 0.2500 (constraints.min_macro_f1) are kept off it"));
  EXPECT_EQ(CountOccurrences(html, "<line class=\"limit\""), 2 + 3);
  EXPECT_THAT(html, HasSubstr("macro-F1 floor 0.2500"));
}

TEST(ReportHtmlTest, EvolutionAndRandomPolicies) {
  CannedSearchOptions options;
  options.policy = "evolution";
  const std::string evolution = RenderReportHtml(CannedSearch(options));
  EXPECT_THAT(evolution, HasSubstr("<table class=\"population\">"));
  EXPECT_THAT(evolution, HasSubstr("<dt>removal</dt><dd>oldest</dd>"));
  options.policy = "random";
  const std::string random = RenderReportHtml(CannedSearch(options));
  EXPECT_THAT(random, HasSubstr("Random search: every architecture is sampled afresh"));
  EXPECT_THAT(random, Not(HasSubstr("q-table")));
}

class ReportCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = StartTestServer(&service_, &address_);
    ASSERT_NE(server_, nullptr);
    dir_ = (std::filesystem::temp_directory_path() /
            absl::StrCat("nasctl_report_test_", getpid(), "_",
                         ::testing::UnitTest::GetInstance()->current_test_info()->name()))
               .string();
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override {
    server_->Shutdown();
    std::filesystem::remove_all(dir_);
  }

  int Nasctl(std::vector<std::string> args, std::string* out, std::string* err) {
    args.insert(args.begin(), {"--controller", address_, "--insecure"});
    std::ostringstream out_stream, err_stream;
    Environment env;
    env.out = &out_stream;
    env.err = &err_stream;
    env.now_ms = [] { return int64_t{1700000200000}; };
    const int code = RunNasctl(args, env);
    *out = out_stream.str();
    *err = err_stream.str();
    return code;
  }

  TestSearchService service_;
  std::unique_ptr<grpc::Server> server_;
  std::string address_;
  std::string dir_;
};

TEST_F(ReportCommandTest, WritesIndexHtmlIntoANewDirectory) {
  const ReportData data = CannedSearch({});
  LoadCannedSearch(data, &service_);
  std::string out, err;
  const std::string target = dir_ + "/nested/report";
  ASSERT_EQ(Nasctl({"report", "7", "-o", target}, &out, &err), 0) << err;
  EXPECT_THAT(out, HasSubstr(absl::StrCat("wrote ", target, "/index.html (")));
  EXPECT_THAT(out, HasSubstr(absl::StrCat("search 7, 60 trials, ", data.front.size(),
                                          " on the Pareto front")));
  EXPECT_EQ(service_.last_policy().search_id(), 7);
  const std::string html = ::nas::testing::Slurp(target + "/index.html");
  EXPECT_THAT(html, HasSubstr("<title>tinynas search 7: ecg-canned</title>"));
  // Run again: index.html is replaced, no temporary file left.
  ASSERT_EQ(Nasctl({"report", "7", "-o", target, "--json"}, &out, &err), 0) << err;
  EXPECT_THAT(out, HasSubstr("\"pareto_front\": "));
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(target),
                          std::filesystem::directory_iterator()),
            1);
}

TEST_F(ReportCommandTest, ErrorsAreOneLine) {
  std::string out, err;
  EXPECT_EQ(Nasctl({"report", "99", "-o", dir_}, &out, &err), 1);
  EXPECT_EQ(err, "nasctl: report 99: search 99 not found\n");
  EXPECT_FALSE(std::filesystem::exists(dir_));
  EXPECT_EQ(Nasctl({"report", "7"}, &out, &err), 2);
  EXPECT_EQ(err, "nasctl: report needs -o DIR\n");
  LoadCannedSearch(CannedSearch({}), &service_);
  std::ofstream(dir_) << "a file";
  EXPECT_EQ(Nasctl({"report", "7", "-o", dir_}, &out, &err), 2);
  EXPECT_EQ(err, absl::StrCat("nasctl: report 7: ", dir_, " exists and is not a directory\n"));
}

}  // namespace
}  // namespace nas::nasctl
