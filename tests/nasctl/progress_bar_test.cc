#include "nasctl/progress_bar.h"

#include <sstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/nasctl/canned_search.h"
#include "nasctl/progress_printer.h"
#include "tests/nasctl/report_checks.h"

namespace nas::nasctl {
namespace {

using ::nas::testing::CountOccurrences;
using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

constexpr int64_t kStartMs = 1700000000000;

v1::Search Running(int done, int total) {
  v1::Search s;
  s.set_id(3);
  s.set_state(v1::SEARCH_RUNNING);
  s.set_trials_done(done);
  s.set_trials_total(total);
  s.set_trials_running(2);
  s.set_started_unix_ms(kStartMs);
  if (done > 0) {
    s.set_best_trial_id(11);
    s.set_best_accuracy(0.9123);
    s.set_best_reward(0.88);
  }
  return s;
}

TEST(ProgressBarTest, ShowsDoneBudgetBestPaceAndEta) {
  // 10 of 40 in 20 s: 0.5 trials/s, 30 left -> ETA 1m00s.
  const std::string line =
      RenderProgressBar(Running(10, 40), kStartMs + 20000, {/*columns=*/160, /*unicode=*/false});
  EXPECT_EQ(line,
            "search 3 RUNNING [##########..............................] 10/40 25% (2 running) "
            "| best acc 0.9123 reward 0.8800 | 0.50 trials/s | ETA 1m00s");
  EXPECT_LT(DisplayWidth(line), 160);
  // On 80 columns the running count, reward and pace make room for the bar.
  EXPECT_EQ(RenderProgressBar(Running(10, 40), kStartMs + 20000, {80, false}),
            "search 3 RUNNING [#####...............] 10/40 25% | best acc 0.9123 | ETA 1m00s");
}

TEST(ProgressBarTest, FitsTheTerminalWidth) {
  for (int columns : {200, 120, 100, 80, 60, 40, 20}) {
    for (bool unicode : {true, false}) {
      const std::string line = RenderProgressBar(Running(7, 40), kStartMs + 9000, {columns, unicode});
      EXPECT_LE(DisplayWidth(line), columns - 1) << columns << " " << line;
      EXPECT_THAT(line, StartsWith("search 3 RUNNING"));
    }
  }
  // Wide terminals get the longest bar, narrow ones none at all.
  const std::string wide = RenderProgressBar(Running(7, 40), kStartMs + 9000, {200, false});
  const size_t open = wide.find('['), close = wide.find(']');
  ASSERT_NE(close, std::string::npos);
  EXPECT_EQ(wide.substr(open + 1, close - open - 1),
            std::string(7, '#') + std::string(kMaxBarWidth - 7, '.'));
  EXPECT_THAT(RenderProgressBar(Running(7, 40), kStartMs + 9000, {40, false}), Not(HasSubstr("[")));
}

TEST(ProgressBarTest, UnicodeBlocks) {
  const std::string line = RenderProgressBar(Running(20, 40), kStartMs + 9000, {120, true});
  EXPECT_THAT(line, HasSubstr("[\u2588\u2588"));
  EXPECT_THAT(line, HasSubstr("\u2591]"));
  const int full = CountOccurrences(line, "\u2588");
  EXPECT_EQ(full, (full + CountOccurrences(line, "\u2591")) / 2);  // Half done.
}

TEST(ProgressBarTest, ClampsAtOneHundredPercent) {
  v1::Search s = Running(45, 40);  // Cached trials can overshoot.
  const std::string line = RenderProgressBar(s, kStartMs + 9000, {120, false});
  EXPECT_THAT(line, HasSubstr("#] 45/40 100%"));
  EXPECT_THAT(line, Not(HasSubstr(".]")));
}

TEST(ProgressBarTest, ZeroBudgetAndNothingDone) {
  v1::Search s = Running(0, 0);
  s.set_started_unix_ms(0);
  const std::string line = RenderProgressBar(s, kStartMs, {100, false});
  EXPECT_THAT(line, HasSubstr("[...."));
  EXPECT_THAT(line, HasSubstr("] 0/0 0% (2 running) | best - | ETA -"));
  EXPECT_THAT(line, Not(HasSubstr("trials/s")));
  EXPECT_THAT(line, Not(HasSubstr("nan")));
}

TEST(ProgressBarTest, FinishedSearchShowsElapsed) {
  v1::Search s = Running(40, 40);
  s.set_state(v1::SEARCH_SUCCEEDED);
  s.set_trials_running(0);
  s.set_finished_unix_ms(kStartMs + 80000);
  EXPECT_THAT(RenderProgressBar(s, kStartMs + 99000, {120, false}),
              EndsWith("] 40/40 100% | best acc 0.9123 reward 0.8800 | 0.50 trials/s | elapsed 1m20s"));
}

TEST(ProgressPrinterTest, TerminalRedrawsTheBarInPlaceAndEndsTheLine) {
  std::ostringstream out;
  {
    ProgressPrinter printer(&out, /*tty=*/true, /*json=*/false,
                            [] { return kStartMs + 20000; }, {150, false});
    v1::SearchProgress update;
    *update.mutable_search() = Running(10, 40);
    printer.Update(update);
    *update.mutable_search() = Running(11, 40);
    printer.Update(update);
    v1::Search done = Running(40, 40);
    done.set_state(v1::SEARCH_SUCCEEDED);
    done.set_finished_unix_ms(kStartMs + 20000);
    printer.Finish(done);
  }
  const std::string text = out.str();
  EXPECT_THAT(text, StartsWith("\r\x1b[Ksearch 3 RUNNING [##########"));
  EXPECT_THAT(text, HasSubstr("\r\x1b[Ksearch 3 RUNNING [###########"));
  EXPECT_THAT(text, HasSubstr("\r\x1b[Ksearch 3 SUCCEEDED ["));
  EXPECT_EQ(CountOccurrences(text, "\n"), 2) << text;  // The bar's end, then the summary.
  EXPECT_THAT(text, EndsWith("search 3 SUCCEEDED after 20s: best trial 11, accuracy 0.9123, "
                             "reward 0.8800\n"));
}

TEST(ProgressPrinterTest, TerminalShowsRunningTrialsBelowTheBarAndErasesThem) {
  std::ostringstream out;
  {
    ProgressPrinter printer(&out, /*tty=*/true, /*json=*/false,
                            [] { return kStartMs + 20000; }, {150, false});
    v1::SearchProgress update;
    *update.mutable_search() = Running(10, 40);
    *update.add_running() = CannedRunningTrial();
    printer.Update(update);
    update.clear_running();
    printer.Update(update);  // The trial is done: its line goes.
  }
  const std::string text = out.str();
  EXPECT_THAT(text, HasSubstr("\n  trial 41 (#12) on w1: epoch 3/15"));
  // The redraw goes up one row (the running line) and clears below.
  EXPECT_THAT(text, HasSubstr("\x1b[1A\x1b[J\r\x1b[Ksearch 3 RUNNING"));
  // The last redraw, after the trial was done, has no line for it.
  const size_t last_bar = text.rfind("search 3 RUNNING");
  ASSERT_NE(last_bar, std::string::npos);
  EXPECT_THAT(text.substr(last_bar), Not(HasSubstr("trial 41"))) << text;
}

TEST(ProgressPrinterTest, PipesGetALinePerEpochOfARunningTrial) {
  std::ostringstream out;
  {
    ProgressPrinter printer(&out, /*tty=*/false, /*json=*/false,
                            [] { return kStartMs + 20000; }, {100, true});
    v1::SearchProgress update;
    *update.mutable_search() = Running(10, 40);
    v1::TrialProgress* p = update.add_running();
    *p = CannedRunningTrial();
    p->set_epoch(1);
    p->set_epochs(2);
    printer.Update(update);
    p->set_batches_done(5);  // Same epoch: no new line.
    printer.Update(update);
    p->set_epoch(2);
    printer.Update(update);
  }
  EXPECT_EQ(CountOccurrences(out.str(), "trial 41"), 2) << out.str();
  EXPECT_THAT(out.str(), HasSubstr("epoch 2/2"));
}

TEST(ProgressPrinterTest, PipesGetPlainLines) {
  std::ostringstream out;
  {
    ProgressPrinter printer(&out, /*tty=*/false, /*json=*/false,
                            [] { return kStartMs + 20000; }, {100, true});
    v1::SearchProgress update;
    *update.mutable_search() = Running(10, 40);
    printer.Update(update);
  }
  EXPECT_EQ(out.str(),
            "search 3 RUNNING | trials 10/40 done, 2 running | best acc 0.9123 reward 0.8800 | "
            "elapsed 20s | ETA 1m00s\n");
}

}  // namespace
}  // namespace nas::nasctl
