// The report page in a real browser: nasctl report writes the page of a
// canned search served by TestSearchService (a unit-level fake of the
// controller, see its header) and headless Chromium loads it; the DOM must
// hold the plots, limits, front points and tables, with no script and no
// console message. The same page from a real search: tests/e2e/report_test.cc.
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
#include "tests/nasctl/canned_search.h"
#include "tests/nasctl/report_checks.h"
#include "tests/nasctl/test_search_service.h"

namespace nas::nasctl {
namespace {

using ::nas::testing::BrowserPage;
using ::nas::testing::CountOccurrences;
using ::nas::testing::LoadInChromium;
using ::testing::HasSubstr;
using ::testing::Not;

class ReportChromiumTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = StartTestServer(&service_, &address_);
    ASSERT_NE(server_, nullptr);
    char temp[] = "/tmp/nasreportXXXXXX";
    ASSERT_NE(mkdtemp(temp), nullptr);
    dir_ = temp;
  }
  void TearDown() override {
    server_->Shutdown();
    std::filesystem::remove_all(dir_);
  }

  // `nasctl report ID -o dir_/report`; the page's path.
  std::string WriteReport(int64_t id) {
    std::ostringstream out, err;
    Environment env;
    env.out = &out;
    env.err = &err;
    env.now_ms = [] { return int64_t{1700000200000}; };
    const std::string target = dir_ + "/report";
    EXPECT_EQ(RunNasctl({"--controller", address_, "--insecure", "report",
                         absl::StrCat(id), "-o", target},
                        env),
              0)
        << err.str();
    return target + "/index.html";
  }

  TestSearchService service_;
  std::unique_ptr<grpc::Server> server_;
  std::string address_;
  std::string dir_;
};

TEST_F(ReportChromiumTest, RealisticSearchHasEveryPlotAndNoScript) {
  CannedSearchOptions options;
  options.name = "<script>alert('pwned')</script> & friends";
  const ReportData data = CannedSearch(options);
  LoadCannedSearch(data, &service_);
  absl::StatusOr<BrowserPage> page = LoadInChromium(WriteReport(options.id));
  ASSERT_TRUE(page.ok()) << page.status();
  ::nas::testing::ExpectReportPage(
      *page, {static_cast<int>(data.front.size()), /*limit_lines=*/2, /*trained=*/true});
  // The hostile name is text in the browser's DOM, not an element.
  EXPECT_THAT(page->dom,
              HasSubstr("<h1>tinynas search 7: &lt;script&gt;alert('pwned')&lt;/script&gt; "
                        "&amp; friends</h1>"));
  EXPECT_THAT(page->dom, HasSubstr("(loss is NaN) &amp; &lt;gave up&gt;"));
  EXPECT_EQ(CountOccurrences(page->dom, "<table class=\"layer-cost\">"), 10);
  EXPECT_THAT(page->dom, HasSubstr("<table class=\"q-table\">"));
}

TEST_F(ReportChromiumTest, SearchWithoutTrainedTrialsShowsEmptyPlots) {
  CannedSearchOptions options;
  options.trials = 6;
  options.all_failed = true;
  LoadCannedSearch(CannedSearch(options), &service_);
  absl::StatusOr<BrowserPage> page = LoadInChromium(WriteReport(options.id));
  ASSERT_TRUE(page.ok()) << page.status();
  ::nas::testing::ExpectReportPage(*page, {0, 0, /*trained=*/false});
  EXPECT_THAT(page->dom, HasSubstr("6 trials did not train"));
  EXPECT_THAT(page->dom, Not(HasSubstr("<circle class=\"front\"")));
}

// The console check can fail: a page with a script error is caught.
TEST_F(ReportChromiumTest, ScriptErrorsReachTheConsoleCheck) {
  const std::string path = dir_ + "/broken.html";
  std::ofstream(path) << "<!DOCTYPE html><html><body><p>x</p>"
                         "<script>undefinedFunction();</script></body></html>";
  absl::StatusOr<BrowserPage> page = LoadInChromium(path);
  ASSERT_TRUE(page.ok()) << page.status();
  ASSERT_EQ(page->console.size(), 1u) << page->log;
  EXPECT_THAT(page->console[0], HasSubstr("undefinedFunction is not defined"));
}

}  // namespace
}  // namespace nas::nasctl
