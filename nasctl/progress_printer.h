#ifndef NAS_NASCTL_PROGRESS_PRINTER_H_
#define NAS_NASCTL_PROGRESS_PRINTER_H_

#include <cstdint>
#include <functional>
#include <ostream>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "nasctl/progress_bar.h"
#include "proto/nas.pb.h"

namespace nas::nasctl {

// Prints the progress of a watched search.
// - On a terminal: a progress bar (RenderProgressBar) redrawn in place
//   ("\r" + clear to end of line), refreshed every second so the pace and
//   ETA keep moving, with a line per running trial below it (epoch, batch,
//   loss, rate, time left, as the trial's last heartbeat said); a trial
//   that reaches a final state is announced on its own line above them; a
//   newline once the search ends.
// - Otherwise (pipe, file, CI log): plain lines, a status line only when
//   the counts, best score or state change, and a line for a running trial
//   each time it starts an epoch or its evaluation.
// - With json: every update as one JSON line (SearchProgress), nothing else.
// Thread-safe: Update() may be called from the stream thread while the
// ticker redraws. `out` is borrowed and must outlive the printer.
class ProgressPrinter {
 public:
  // `style` shapes the bar on a terminal (`tty`).
  ProgressPrinter(std::ostream* out, bool tty, bool json, std::function<int64_t()> now_ms,
                  ProgressBarStyle style = {});
  ~ProgressPrinter();
  ProgressPrinter(const ProgressPrinter&) = delete;
  ProgressPrinter& operator=(const ProgressPrinter&) = delete;

  void Update(const v1::SearchProgress& progress);
  // Prints the final line(s) for a search in a terminal state and stops
  // the ticker.
  void Finish(const v1::Search& search);

 private:
  void TickerLoop();
  void DrawLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void AnnounceLocked(const v1::Trial& trial) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // tty: erases the bar and the running-trial lines drawn below it.
  void ClearDrawnLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const bool tty_;
  const bool json_;
  const std::function<int64_t()> now_ms_;
  const ProgressBarStyle style_;
  absl::Mutex mu_;
  std::ostream* out_ ABSL_GUARDED_BY(mu_);
  v1::Search last_ ABSL_GUARDED_BY(mu_);
  bool have_search_ ABSL_GUARDED_BY(mu_) = false;
  bool line_open_ ABSL_GUARDED_BY(mu_) = false;   // tty: a status line is shown.
  int running_lines_ ABSL_GUARDED_BY(mu_) = 0;    // tty: lines drawn below it.
  std::vector<v1::TrialProgress> running_ ABSL_GUARDED_BY(mu_);
  // non-tty: (trial id, phase and epoch) of the running trials, printed.
  std::set<std::pair<int64_t, int>> printed_steps_ ABSL_GUARDED_BY(mu_);
  std::string last_plain_ ABSL_GUARDED_BY(mu_);   // non-tty: last printed state.
  std::set<std::pair<int64_t, int>> announced_ ABSL_GUARDED_BY(mu_);
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::thread ticker_;  // tty and not json only.
};

}  // namespace nas::nasctl

#endif  // NAS_NASCTL_PROGRESS_PRINTER_H_
