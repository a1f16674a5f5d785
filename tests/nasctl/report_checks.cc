#include "tests/nasctl/report_checks.h"

#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/subprocess.h"

namespace nas::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

constexpr absl::Duration kBrowserTimeout = absl::Seconds(50);

// The Chromium binary: $TINYNAS_CHROMIUM, else the first chromium or
// chromium-browser on $PATH.
absl::StatusOr<std::string> FindChromium() {
  const char* configured = std::getenv("TINYNAS_CHROMIUM");
  if (configured != nullptr && *configured != '\0') {
    if (access(configured, X_OK) == 0) return std::string(configured);
    return absl::FailedPreconditionError(
        absl::StrCat("$TINYNAS_CHROMIUM=", configured, " is not an executable"));
  }
  const char* path = std::getenv("PATH");
  for (absl::string_view dir : absl::StrSplit(path == nullptr ? "" : path, ':')) {
    for (const char* name : {"chromium", "chromium-browser"}) {
      const std::string candidate = absl::StrCat(dir, "/", name);
      if (!dir.empty() && access(candidate.c_str(), X_OK) == 0) return candidate;
    }
  }
  return absl::FailedPreconditionError(
      "headless Chromium is required by the report tests and was not found on $PATH: "
      "install Debian's chromium package (scripts/install_deps.sh does) or set "
      "$TINYNAS_CHROMIUM");
}

std::string ShellQuote(const std::string& word) {
  std::string quoted = "'";
  for (char c : word) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

}  // namespace

int CountOccurrences(const std::string& text, const std::string& needle) {
  int n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) {
    ++n;
  }
  return n;
}

absl::StatusOr<BrowserPage> LoadInChromium(const std::string& html_path) {
  absl::StatusOr<std::string> chromium = FindChromium();
  if (!chromium.ok()) return chromium.status();
  char temp[] = "/tmp/nasbrowserXXXXXX";
  if (mkdtemp(temp) == nullptr) return absl::InternalError("mkdtemp failed");
  const std::string dir = temp;
  const std::string url =
      absl::StrCat("file://", std::filesystem::absolute(html_path).string());
  // --enable-logging=stderr --v=0 puts every console message on stderr as
  // "...:CONSOLE..." lines; --dump-dom prints the DOM once loaded.
  const std::string command = absl::StrCat(
      "exec ", ShellQuote(*chromium),
      " --headless=new --no-sandbox --disable-gpu --no-first-run --user-data-dir=",
      ShellQuote(dir + "/profile"),
      " --host-resolver-rules='MAP * ~NOTFOUND' --enable-logging=stderr --v=0 --dump-dom ",
      ShellQuote(url), " >", ShellQuote(dir + "/dom"), " 2>", ShellQuote(dir + "/log"));
  const pid_t pid = SpawnProcess("/bin/sh", {"-c", command}, dir + "/sh.log");
  const int code = WaitExit(pid, kBrowserTimeout);
  if (code < 0) kill(pid, SIGKILL);
  BrowserPage page{Slurp(dir + "/dom"), {}, Slurp(dir + "/log") + Slurp(dir + "/sh.log")};
  std::filesystem::remove_all(dir);
  if (code != 0) {
    return absl::InternalError(absl::StrCat("chromium exited with ", code, ":\n", page.log));
  }
  for (absl::string_view line : absl::StrSplit(page.log, '\n')) {
    if (line.find(":CONSOLE") != absl::string_view::npos) page.console.emplace_back(line);
  }
  return page;
}

void ExpectReportPage(const BrowserPage& page, const ReportExpectations& expected) {
  const std::string& dom = page.dom;
  EXPECT_THAT(page.console, IsEmpty()) << "console messages:\n" << page.log;
  EXPECT_EQ(CountOccurrences(dom, "<script"), 0);
  EXPECT_EQ(CountOccurrences(dom, "<svg class=\"plot\""), 5) << dom;
  for (const char* section : {"summary", "convergence", "pareto", "top-models", "policy",
                              "failures", "spec"}) {
    EXPECT_THAT(dom, HasSubstr(absl::StrCat("<section id=\"", section, "\">"))) << section;
  }
  EXPECT_THAT(dom, HasSubstr("<table class=\"trial-states\">"));
  if (!expected.trained) {
    EXPECT_EQ(CountOccurrences(dom, "<text class=\"empty\""), 5);
    EXPECT_THAT(dom, HasSubstr("No trained model yet."));
    return;
  }
  for (const char* label : {">trial number", ">time since the search started (",
                            ">int8 flash (bytes)", ">SRAM: max(peak, arena) (bytes)", ">MACs",
                            ">validation accuracy<", ">reward / accuracy<"}) {
    EXPECT_THAT(dom, HasSubstr(label)) << label;
  }
  EXPECT_EQ(CountOccurrences(dom, "<text class=\"axis-label"), 10);
  EXPECT_EQ(CountOccurrences(dom, "<line class=\"limit\""), expected.limit_lines);
  EXPECT_THAT(dom, HasSubstr("flash limit "));
  EXPECT_EQ(CountOccurrences(dom, "<circle class=\"front\""), 3 * expected.front_points);
  EXPECT_EQ(CountOccurrences(dom, "<polyline class=\"best-reward\""), 2);
  EXPECT_THAT(dom, HasSubstr("<table class=\"top-models\">"));
  EXPECT_GE(CountOccurrences(dom, "<table class=\"layer-cost\">"), 1);
  EXPECT_THAT(dom, HasSubstr("<table class=\"front-table\">"));
  EXPECT_THAT(dom, Not(HasSubstr("<text class=\"empty\"")));
}

}  // namespace nas::testing
