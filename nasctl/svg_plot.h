#ifndef NAS_NASCTL_SVG_PLOT_H_
#define NAS_NASCTL_SVG_PLOT_H_

// A small plotting module that writes self-contained inline SVG (no script,
// no external resource): two axes with "nice" ticks, linear or log scale
// (chosen automatically when the data span decades), axis labels, a title,
// a legend, line and scatter series, and horizontal or vertical limit
// lines. Every text that reaches the SVG is HTML-escaped.
//
// Elements carry classes so that a page (or a test) can find them:
//   svg.plot, text.plot-title, text.axis-label, g.x-ticks / g.y-ticks,
//   polyline.<series class>, circle.<series class>, line.limit,
//   text.limit-label, g.legend, text.empty (a plot without points).

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace nas::nasctl {

enum class Scale {
  kLinear,
  kLog,
  // Log when every value is > 0 and the largest is at least 100 times the
  // smallest (two decades), linear otherwise.
  kAuto,
};

// Tick positions at 1, 2 or 5 times a power of ten, covering [lo, hi] with
// at most about `max_ticks` ticks (first tick <= lo, last >= hi). A
// degenerate range (lo == hi) is widened around the value.
std::vector<double> NiceTicks(double lo, double hi, int max_ticks);

// Ticks of a log axis covering [lo, hi] (0 < lo <= hi): the powers of ten
// from 10^floor(log10 lo) to 10^ceil(log10 hi); with 1 and 3 times them
// when the range spans fewer than three decades.
std::vector<double> LogTicks(double lo, double hi);

// A compact tick label: 0.25 -> "0.25", 1200 -> "1.2k", 3e6 -> "3M",
// 4.5e9 -> "4.5G".
std::string TickLabel(double value);

struct PlotAxis {
  std::string label;
  Scale scale = Scale::kLinear;
  // Fixed ends of the axis; when both are unset (min >= max) the range
  // follows the data and the limit lines.
  double min = 0;
  double max = 0;
  // A linear range that follows the data starts (or ends) at zero.
  bool include_zero = false;
};

struct PlotPoint {
  double x = 0;
  double y = 0;
  std::string title;  // Hover text (<title>), optional.
};

struct PlotSeries {
  enum class Kind {
    kLine,   // A polyline through the points in order.
    kSteps,  // A step line (value held until the next point): best-so-far.
    kPoints  // One circle per point.
  };
  std::string name;       // Legend text; no legend entry when empty.
  std::string css_class;  // Class of the polyline / circles.
  std::string color;      // Any SVG colour ("#1f77b4").
  Kind kind = Kind::kPoints;
  std::vector<PlotPoint> points;
  double radius = 3;      // kPoints.
  double opacity = 1;
  // kPoints: at most this many circles (0 = all). Points that fall on the
  // same few pixels are drawn once, then an even stride keeps the rest
  // under the bound, so a search of thousands of trials stays small.
  int max_points = 0;
};

struct LimitLine {
  bool vertical = false;  // A vertical line at x = value, else y = value.
  double value = 0;
  std::string label;      // "flash limit 924 KiB"
  std::string color = "#d62728";
};

// One plot. Build it, add series and limits, Render() once or more.
// Value type; not thread-safe.
class SvgPlot {
 public:
  SvgPlot(std::string title, PlotAxis x, PlotAxis y, int width = 640, int height = 380);

  void AddSeries(PlotSeries series);
  void AddLimit(LimitLine limit);
  // Text shown instead of the plot area when no series has a point.
  void set_empty_message(std::string message) { empty_message_ = std::move(message); }

  // The whole <svg> element. Points that cannot be drawn (not finite, or
  // <= 0 on a log axis) are left out.
  std::string Render() const;

 private:
  struct Frame;  // Pixel mapping of one render (svg_plot.cc).

  bool HasPoints() const;
  void RenderAxes(const Frame& frame, std::string* out) const;
  void RenderSeries(const Frame& frame, const PlotSeries& series, std::string* out) const;
  void RenderLimits(const Frame& frame, std::string* out) const;
  void RenderLegend(const Frame& frame, std::string* out) const;

  std::string title_;
  PlotAxis x_, y_;
  int width_, height_;
  std::vector<PlotSeries> series_;
  std::vector<LimitLine> limits_;
  std::string empty_message_ = "no data yet";
};

}  // namespace nas::nasctl

#endif  // NAS_NASCTL_SVG_PLOT_H_
