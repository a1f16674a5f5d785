#include "nasctl/progress_bar.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "nasctl/format.h"
#include "nasctl/views.h"

namespace nas::nasctl {
namespace {

constexpr char kFullBlock[] = "\u2588";   // █
constexpr char kLightShade[] = "\u2591";  // ░

std::string Bar(double fraction, int width, bool unicode) {
  const int filled = std::clamp(static_cast<int>(std::floor(fraction * width)), 0, width);
  std::string bar = "[";
  for (int i = 0; i < width; ++i) {
    if (unicode) {
      bar += i < filled ? kFullBlock : kLightShade;
    } else {
      bar += i < filled ? '#' : '.';
    }
  }
  return bar + "]";
}

}  // namespace

int DisplayWidth(const std::string& text) {
  int width = 0;
  for (unsigned char c : text) {
    if ((c & 0xC0) != 0x80) ++width;  // Count lead bytes, not continuations.
  }
  return width;
}

std::string RenderProgressBar(const v1::Search& search, int64_t now_ms,
                              const ProgressBarStyle& style) {
  const int done = std::max(0, search.trials_done());
  const int total = std::max(0, search.trials_total());
  const double fraction = total > 0 ? std::min(1.0, static_cast<double>(done) / total) : 0.0;
  const double elapsed = ElapsedSeconds(search, now_ms);
  const bool best = search.best_trial_id() > 0;
  // The parts after the bar in display order; the ones with a drop rank go
  // (rank 1 first) while the line would leave the bar too short.
  struct Part {
    std::string text;
    int drop_rank;  // 0: always kept.
  };
  std::vector<Part> parts = {
      {absl::StrCat(" ", done, "/", total, " ", static_cast<int>(std::floor(fraction * 100)),
                    "%"),
       0},
      {search.trials_running() > 0 ? absl::StrCat(" (", search.trials_running(), " running)")
                                   : "",
       1},
      {search.trials_failed() > 0 ? absl::StrCat(", ", search.trials_failed(), " failed") : "",
       2},
      {best ? absl::StrCat(" | best acc ", FormatScore(search.best_accuracy())) : " | best -", 0},
      {best ? absl::StrCat(" reward ", FormatScore(search.best_reward())) : "", 3},
      {elapsed > 0 && done > 0 ? absl::StrFormat(" | %.2f trials/s", done / elapsed) : "", 4},
      {IsTerminal(search.state())
           ? absl::StrCat(" | elapsed ", FormatDuration(elapsed))
           : absl::StrCat(" | ETA ", FormatDuration(EtaSeconds(search, now_ms))),
       0},
  };
  const std::string head =
      absl::StrCat("search ", search.id(), " ", SearchStateName(search.state()));
  // The line stays one cell short of the width so the cursor never wraps
  // (a wrapped line would not be erased by the next "\r").
  const int room = style.columns - 1;
  auto tail_width = [&] {
    int width = 0;
    for (const Part& p : parts) width += static_cast<int>(p.text.size());
    return width;
  };
  auto bar_room = [&] { return room - static_cast<int>(head.size()) - tail_width() - 3; };
  for (int rank = 1; rank <= 4 && bar_room() < kWantedBarWidth; ++rank) {
    for (Part& p : parts) {
      if (p.drop_rank == rank) p.text.clear();
    }
  }
  const int bar_width = std::min(kMaxBarWidth, bar_room());
  std::string line = head;
  if (bar_width >= kMinBarWidth) {
    absl::StrAppend(&line, " ", Bar(fraction, bar_width, style.unicode));
  }
  for (const Part& p : parts) line += p.text;
  if (room > 0 && DisplayWidth(line) > room) line.resize(room);  // All ASCII without a bar.
  return line;
}

}  // namespace nas::nasctl
