#ifndef NAS_NASCTL_PROGRESS_BAR_H_
#define NAS_NASCTL_PROGRESS_BAR_H_

#include <cstdint>
#include <string>

#include "proto/nas.pb.h"

namespace nas::nasctl {

// How `watch` draws on a terminal.
struct ProgressBarStyle {
  int columns = 80;     // Terminal width; the line never reaches it.
  bool unicode = true;  // Block characters; '#' and '.' otherwise.
};

// The bar is never wider than kMaxBarWidth nor drawn narrower than
// kMinBarWidth (then it is left out). While it would be narrower than
// kWantedBarWidth, the least useful figures make room: running, failed,
// best reward, trials/s, in that order.
inline constexpr int kMaxBarWidth = 40;
inline constexpr int kWantedBarWidth = 10;
inline constexpr int kMinBarWidth = 5;

// One status line for a terminal, without newline:
//   "search 3 RUNNING [█████░░░░░] 12/40 30% | best acc 0.9123 reward 0.8800
//    | 0.42 trials/s | ETA 1m06s"
// done/budget from trials_done/trials_total (clamped to 100 %; a zero
// budget draws an empty bar), the best trial's accuracy and reward, the
// pace so far and the ETA (elapsed time once the search has ended). The
// bar takes the room the text leaves; the display width stays below
// `style.columns` (figures dropped, then the bar, then the text cut).
// Pure function.
std::string RenderProgressBar(const v1::Search& search, int64_t now_ms,
                              const ProgressBarStyle& style);

// The number of terminal cells `text` takes (UTF-8 code points).
int DisplayWidth(const std::string& text);

}  // namespace nas::nasctl

#endif  // NAS_NASCTL_PROGRESS_BAR_H_
