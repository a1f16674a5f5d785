#ifndef NAS_TESTS_NASCTL_REPORT_CHECKS_H_
#define NAS_TESTS_NASCTL_REPORT_CHECKS_H_

// What the report tests share: counting markup, and loading a report page
// in Debian's headless Chromium to check the DOM the browser built and the
// console messages it logged.

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace nas::testing {

// Occurrences of `needle` in `text` (overlapping ones included).
int CountOccurrences(const std::string& text, const std::string& needle);

// A page as headless Chromium saw it.
struct BrowserPage {
  std::string dom;                   // --dump-dom: the DOM after loading.
  std::vector<std::string> console;  // Console messages (script errors among them).
  std::string log;                   // Chromium's whole stderr, for failure output.
};

// Loads the local file `html_path` in headless Chromium (the binary named
// by $TINYNAS_CHROMIUM, else `chromium` on $PATH) with a private profile
// and every host name unresolvable, so that nothing can be fetched. A
// missing browser is an error naming the package to install, never a skip.
absl::StatusOr<BrowserPage> LoadInChromium(const std::string& html_path);

// What a report page must show.
struct ReportExpectations {
  int front_points = 0;  // Trials on the Pareto front (circles per plot).
  int limit_lines = 2;   // Device limits drawn (over all Pareto plots).
  bool trained = true;   // The search has trained trials (plots, tables).
};

// Adds a test failure for each thing the DOM lacks: the five SVG plots,
// their axis labels, the limit lines, one front circle per front trial in
// each Pareto plot, the summary, top-model and layer tables; and for any
// <script> element or console message.
void ExpectReportPage(const BrowserPage& page, const ReportExpectations& expected);

}  // namespace nas::testing

#endif  // NAS_TESTS_NASCTL_REPORT_CHECKS_H_
