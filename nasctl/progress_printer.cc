#include "nasctl/progress_printer.h"

#include <algorithm>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "nasctl/format.h"
#include "nasctl/views.h"

namespace nas::nasctl {
namespace {

// Clears from the cursor to the end of the line (ANSI EL).
constexpr char kClearLine[] = "\r\x1b[K";
// Clears from the cursor to the end of the screen (ANSI ED).
constexpr char kClearBelow[] = "\x1b[J";

bool IsFinalTrialState(v1::TrialState state) {
  return state == v1::TRIAL_SUCCEEDED || state == v1::TRIAL_FAILED ||
         state == v1::TRIAL_INFEASIBLE || state == v1::TRIAL_CACHED ||
         state == v1::TRIAL_CANCELLED;
}

// What a plain-line watcher cares about; elapsed time is left out so a
// line is printed only when something happened.
std::string ChangeKey(const v1::Search& s) {
  return absl::StrCat(s.state(), "/", s.trials_done(), "/", s.trials_total(), "/",
                      s.trials_running(), "/", s.trials_infeasible(), "/", s.trials_failed(),
                      "/", s.best_trial_id(), "/", s.best_accuracy());
}

}  // namespace

ProgressPrinter::ProgressPrinter(std::ostream* out, bool tty, bool json,
                                 std::function<int64_t()> now_ms, ProgressBarStyle style)
    : tty_(tty && !json), json_(json), now_ms_(std::move(now_ms)), style_(style), out_(out) {
  if (tty_) ticker_ = std::thread([this] { TickerLoop(); });
}

ProgressPrinter::~ProgressPrinter() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
    if (line_open_) *out_ << "\n" << std::flush;
    line_open_ = false;
  }
  if (ticker_.joinable()) ticker_.join();
}

void ProgressPrinter::TickerLoop() {
  absl::MutexLock lock(&mu_);
  while (!stop_) {
    mu_.AwaitWithTimeout(absl::Condition(&stop_), absl::Seconds(1));
    if (!stop_ && have_search_) DrawLocked();
  }
}

void ProgressPrinter::ClearDrawnLocked() {
  if (!tty_ || !line_open_) return;
  // Up to the bar's row, everything below erased, then the bar's row.
  if (running_lines_ > 0) *out_ << "\x1b[" << running_lines_ << "A" << kClearBelow;
  *out_ << kClearLine;
  line_open_ = false;
  running_lines_ = 0;
}

void ProgressPrinter::DrawLocked() {
  if (tty_) {
    if (line_open_) {
      ClearDrawnLocked();
    } else {
      *out_ << kClearLine;
    }
    *out_ << RenderProgressBar(last_, now_ms_(), style_);
    if (!IsTerminal(last_.state())) {
      for (const v1::TrialProgress& p : running_) {
        // Cut to the width, so that every line takes one row to erase.
        std::string line = absl::StrCat("  ", RenderRunningTrial(p));
        if (static_cast<int>(line.size()) >= style_.columns) {
          line.resize(std::max(0, style_.columns - 1));
        }
        *out_ << "\n" << line;
        ++running_lines_;
      }
    }
    *out_ << std::flush;
    line_open_ = true;
    return;
  }
  const std::string line = RenderProgressLine(last_, now_ms_());
  const std::string key = ChangeKey(last_);
  if (key != last_plain_) {
    last_plain_ = key;
    *out_ << line << "\n";
  }
  // A line per running trial when it starts an epoch or its evaluation.
  std::set<std::pair<int64_t, int>> steps;
  for (const v1::TrialProgress& p : running_) {
    const std::pair<int64_t, int> step = {p.trial_id(), p.phase() * 100000 + p.epoch()};
    steps.insert(step);
    if (printed_steps_.count(step) == 0) *out_ << "  " << RenderRunningTrial(p) << "\n";
  }
  printed_steps_ = std::move(steps);  // Only the trials running now.
  *out_ << std::flush;
}

void ProgressPrinter::AnnounceLocked(const v1::Trial& trial) {
  if (!IsFinalTrialState(trial.state())) return;
  if (!announced_.insert({trial.id(), trial.state()}).second) return;
  ClearDrawnLocked();
  *out_ << RenderTrialEvent(trial) << "\n";
}

void ProgressPrinter::Update(const v1::SearchProgress& progress) {
  absl::MutexLock lock(&mu_);
  if (json_) {
    *out_ << ToJson(progress, /*one_line=*/true) << "\n" << std::flush;
    return;
  }
  if (progress.has_last_trial()) AnnounceLocked(progress.last_trial());
  if (progress.has_search()) {
    last_ = progress.search();
    have_search_ = true;
    running_.assign(progress.running().begin(), progress.running().end());
  }
  if (have_search_) DrawLocked();
}

void ProgressPrinter::Finish(const v1::Search& search) {
  absl::MutexLock lock(&mu_);
  stop_ = true;
  if (json_) return;
  last_ = search;
  have_search_ = true;
  running_.clear();
  DrawLocked();
  if (tty_) *out_ << "\n";
  line_open_ = false;
  std::string summary = absl::StrCat("search ", search.id(), " ",
                                     SearchStateName(search.state()), " after ",
                                     FormatDuration(ElapsedSeconds(search, now_ms_())));
  if (search.best_trial_id() > 0) {
    absl::StrAppend(&summary, ": best trial ", search.best_trial_id(), ", accuracy ",
                    FormatScore(search.best_accuracy()), ", reward ",
                    FormatScore(search.best_reward()));
  }
  if (!search.message().empty()) absl::StrAppend(&summary, "; ", search.message());
  *out_ << summary << "\n" << std::flush;
}

}  // namespace nas::nasctl
