#include "nasctl/svg_plot.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "nasctl/html.h"

namespace nas::nasctl {
namespace {

// Space around the plot area, in pixels: title and legend on top, tick
// labels and the axis labels left and below.
constexpr double kMarginLeft = 72;
constexpr double kMarginRight = 24;
constexpr double kMarginTop = 48;
constexpr double kMarginBottom = 52;
// Estimated width of one character of the 11 px legend font.
constexpr double kCharWidth = 6.2;
constexpr int kMaxLinearTicks = 7;
// Thinned scatter points: one circle per cell of this many pixels.
constexpr double kThinCell = 2.0;

std::string Px(double value) { return absl::StrFormat("%.1f", value); }

// Heckbert's "nice number": mantissa 1, 2, 5 or 10 times 10^exponent near
// `x`, rounded to the closest (`round`) or the next one up.
struct NiceNumber {
  double mantissa;
  int exponent;
  double value() const { return Scaled(1); }
  // k times the number, computed so that k * 0.2 is exactly the double of
  // "0.6" and not 0.6000000000000001.
  double Scaled(double k) const {
    return exponent < 0 ? k * mantissa / std::pow(10.0, -exponent)
                        : k * mantissa * std::pow(10.0, exponent);
  }
};

NiceNumber Nice(double x, bool round) {
  const int exponent = static_cast<int>(std::floor(std::log10(x)));
  const double f = x / std::pow(10.0, exponent);
  double nice;
  if (round) {
    nice = f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10;
  } else {
    nice = f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10;
  }
  return {nice, exponent};
}

}  // namespace

std::vector<double> NiceTicks(double lo, double hi, int max_ticks) {
  if (!std::isfinite(lo) || !std::isfinite(hi)) return {0, 1};
  if (lo > hi) std::swap(lo, hi);
  if (lo == hi) {
    const double pad = lo == 0 ? 1 : std::abs(lo) * 0.1;
    lo -= pad;
    hi += pad;
  }
  max_ticks = std::max(max_ticks, 2);
  const double range = Nice(hi - lo, /*round=*/false).value();
  const NiceNumber step = Nice(range / (max_ticks - 1), /*round=*/true);
  // The small slack keeps 0.6 / 0.2 = 2.9999999999999996 from adding a
  // tick below the data.
  const double first = std::floor(lo / step.value() + 1e-9);
  const double last = std::ceil(hi / step.value() - 1e-9);
  std::vector<double> ticks;
  for (double k = first; k <= last; ++k) {
    ticks.push_back(k == 0 ? 0.0 : step.Scaled(k));
  }
  return ticks;
}

std::vector<double> LogTicks(double lo, double hi) {
  if (!(lo > 0) || !std::isfinite(hi) || hi < lo) return {1, 10};
  const int e0 = static_cast<int>(std::floor(std::log10(lo)));
  int e1 = static_cast<int>(std::ceil(std::log10(hi)));
  if (e1 == e0) ++e1;
  const bool fine = e1 - e0 < 3;
  std::vector<double> ticks;
  for (int e = e0; e <= e1; ++e) {
    const double power = std::pow(10.0, e);
    ticks.push_back(power);
    if (fine && e < e1) {
      ticks.push_back(2 * power);
      ticks.push_back(5 * power);
    }
  }
  return ticks;
}

std::string TickLabel(double value) {
  const double a = std::abs(value);
  if (a >= 1e9) return absl::StrFormat("%.3gG", value / 1e9);
  if (a >= 1e6) return absl::StrFormat("%.3gM", value / 1e6);
  if (a >= 1e4) return absl::StrFormat("%.3gk", value / 1e3);
  return absl::StrFormat("%.4g", value);
}

// The mapping of one axis from data values to pixels.
struct AxisMap {
  bool log = false;
  double lo = 0, hi = 1;   // Data range (ends of the axis).
  double p0 = 0, p1 = 1;   // Pixels of lo and hi.
  std::vector<double> ticks;

  bool Drawable(double v) const { return std::isfinite(v) && (!log || v > 0); }
  double Map(double v) const {
    const double t = log ? (std::log10(v) - std::log10(lo)) / (std::log10(hi) - std::log10(lo))
                         : (v - lo) / (hi - lo);
    return p0 + t * (p1 - p0);
  }
};

struct SvgPlot::Frame {
  AxisMap x, y;
  double left, right, top, bottom;  // The plot area.
};

namespace {

// Chooses scale, range and ticks of an axis for `values` (points and limit
// lines on it).
AxisMap MakeAxis(const PlotAxis& axis, const std::vector<double>& values) {
  AxisMap map;
  double lo = INFINITY, hi = -INFINITY, positive_lo = INFINITY;
  for (double v : values) {
    if (!std::isfinite(v)) continue;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
    if (v > 0) positive_lo = std::min(positive_lo, v);
  }
  if (axis.include_zero && axis.scale != Scale::kLog && lo <= hi) {
    lo = std::min(lo, 0.0);
    hi = std::max(hi, 0.0);
  }
  const bool fixed = axis.min < axis.max;
  if (fixed) {
    lo = axis.min;
    hi = axis.max;
  }
  const bool have = lo <= hi;
  map.log = axis.scale == Scale::kLog ||
            (axis.scale == Scale::kAuto && have && lo > 0 && hi >= 100 * lo);
  if (map.log) {
    if (!(positive_lo < INFINITY)) positive_lo = 1;
    lo = std::max(lo, positive_lo);
    hi = std::max(hi, lo);
    map.ticks = LogTicks(lo, hi);
  } else {
    map.ticks = have ? NiceTicks(lo, hi, kMaxLinearTicks) : NiceTicks(0, 1, kMaxLinearTicks);
  }
  if (fixed) {
    map.lo = lo;
    map.hi = hi;
    map.ticks.erase(std::remove_if(map.ticks.begin(), map.ticks.end(),
                                   [&](double t) { return t < lo || t > hi; }),
                    map.ticks.end());
  } else {
    map.lo = map.ticks.front();
    map.hi = map.ticks.back();
  }
  return map;
}

// The circles of a scatter series after thinning: at most one per
// kThinCell-pixel cell, then an even stride down to `max_points`.
std::vector<const PlotPoint*> VisiblePoints(const PlotSeries& series, const AxisMap& x,
                                            const AxisMap& y) {
  std::vector<const PlotPoint*> kept;
  std::set<std::pair<long, long>> cells;
  for (const PlotPoint& p : series.points) {
    if (!x.Drawable(p.x) || !y.Drawable(p.y)) continue;
    if (series.max_points > 0) {
      const auto cell = std::make_pair(std::lround(x.Map(p.x) / kThinCell),
                                       std::lround(y.Map(p.y) / kThinCell));
      if (!cells.insert(cell).second) continue;
    }
    kept.push_back(&p);
  }
  if (series.max_points <= 0 || kept.size() <= static_cast<size_t>(series.max_points)) {
    return kept;
  }
  const double stride = static_cast<double>(kept.size()) / series.max_points;
  std::vector<const PlotPoint*> thinned;
  for (int i = 0; i < series.max_points; ++i) {
    thinned.push_back(kept[static_cast<size_t>(i * stride)]);
  }
  return thinned;
}

}  // namespace

SvgPlot::SvgPlot(std::string title, PlotAxis x, PlotAxis y, int width, int height)
    : title_(std::move(title)), x_(std::move(x)), y_(std::move(y)), width_(width),
      height_(height) {}

void SvgPlot::AddSeries(PlotSeries series) { series_.push_back(std::move(series)); }

void SvgPlot::AddLimit(LimitLine limit) { limits_.push_back(std::move(limit)); }

bool SvgPlot::HasPoints() const {
  for (const PlotSeries& s : series_) {
    if (!s.points.empty()) return true;
  }
  return false;
}

void SvgPlot::RenderAxes(const Frame& f, std::string* out) const {
  absl::StrAppend(out, "<rect class=\"frame\" x=\"", Px(f.left), "\" y=\"", Px(f.top),
                  "\" width=\"", Px(f.right - f.left), "\" height=\"", Px(f.bottom - f.top),
                  "\" fill=\"none\" stroke=\"#888\"/>\n<g class=\"x-ticks\" font-size=\"11\" "
                  "text-anchor=\"middle\">");
  for (double t : f.x.ticks) {
    const std::string px = Px(f.x.Map(t));
    absl::StrAppend(out, "<line x1=\"", px, "\" x2=\"", px, "\" y1=\"", Px(f.top), "\" y2=\"",
                    Px(f.bottom), "\" stroke=\"#e4e4e4\"/><text x=\"", px, "\" y=\"",
                    Px(f.bottom + 16), "\">", EscapeHtml(TickLabel(t)), "</text>");
  }
  absl::StrAppend(out, "</g>\n<g class=\"y-ticks\" font-size=\"11\" text-anchor=\"end\">");
  for (double t : f.y.ticks) {
    const std::string py = Px(f.y.Map(t));
    absl::StrAppend(out, "<line x1=\"", Px(f.left), "\" x2=\"", Px(f.right), "\" y1=\"", py,
                    "\" y2=\"", py, "\" stroke=\"#e4e4e4\"/><text x=\"", Px(f.left - 6),
                    "\" y=\"", Px(f.y.Map(t) + 4), "\">", EscapeHtml(TickLabel(t)), "</text>");
  }
  const double mid_x = (f.left + f.right) / 2, mid_y = (f.top + f.bottom) / 2;
  absl::StrAppend(out, "</g>\n<text class=\"axis-label x-label\" x=\"", Px(mid_x), "\" y=\"",
                  Px(height_ - 10.0), "\" font-size=\"12\" text-anchor=\"middle\">",
                  EscapeHtml(x_.label), f.x.log ? " (log)" : "", "</text>\n",
                  "<text class=\"axis-label y-label\" x=\"16\" y=\"", Px(mid_y),
                  "\" font-size=\"12\" text-anchor=\"middle\" transform=\"rotate(-90 16 ",
                  Px(mid_y), ")\">", EscapeHtml(y_.label), f.y.log ? " (log)" : "",
                  "</text>\n");
}

void SvgPlot::RenderSeries(const Frame& f, const PlotSeries& s, std::string* out) const {
  const std::string css = EscapeHtml(s.css_class);
  const std::string color = EscapeHtml(s.color);
  if (s.kind == PlotSeries::Kind::kPoints) {
    absl::StrAppend(out, "<g class=\"series ", css, "\" fill=\"", color, "\" fill-opacity=\"",
                    Px(s.opacity), "\">");
    for (const PlotPoint* p : VisiblePoints(s, f.x, f.y)) {
      absl::StrAppend(out, "<circle class=\"", css, "\" cx=\"", Px(f.x.Map(p->x)), "\" cy=\"",
                      Px(f.y.Map(p->y)), "\" r=\"", Px(s.radius), "\"");
      if (p->title.empty()) {
        out->append("/>");
      } else {
        absl::StrAppend(out, "><title>", EscapeHtml(p->title), "</title></circle>");
      }
    }
    out->append("</g>\n");
    return;
  }
  std::string coords;
  const PlotPoint* previous = nullptr;
  const bool steps = s.kind == PlotSeries::Kind::kSteps;
  for (size_t i = 0; i < s.points.size(); ++i) {
    const PlotPoint& p = s.points[i];
    if (!f.x.Drawable(p.x) || !f.y.Drawable(p.y)) continue;
    // A step line needs only the points where the value changes, and the
    // last one.
    if (steps && previous != nullptr && p.y == previous->y && i + 1 < s.points.size()) continue;
    if (steps && previous != nullptr) {
      absl::StrAppend(&coords, Px(f.x.Map(p.x)), ",", Px(f.y.Map(previous->y)), " ");
    }
    absl::StrAppend(&coords, Px(f.x.Map(p.x)), ",", Px(f.y.Map(p.y)), " ");
    previous = &p;
  }
  absl::StrAppend(out, "<polyline class=\"", css, "\" fill=\"none\" stroke=\"", color,
                  "\" stroke-width=\"2\" stroke-opacity=\"", Px(s.opacity), "\" points=\"",
                  coords, "\"/>\n");
}

void SvgPlot::RenderLimits(const Frame& f, std::string* out) const {
  for (const LimitLine& limit : limits_) {
    const AxisMap& axis = limit.vertical ? f.x : f.y;
    if (!axis.Drawable(limit.value)) continue;
    const double at = axis.Map(limit.value);
    const std::string color = EscapeHtml(limit.color);
    const std::string label = EscapeHtml(limit.label);
    if (limit.vertical) {
      absl::StrAppend(out, "<line class=\"limit\" x1=\"", Px(at), "\" x2=\"", Px(at),
                      "\" y1=\"", Px(f.top), "\" y2=\"", Px(f.bottom), "\" stroke=\"", color,
                      "\" stroke-width=\"1.5\" stroke-dasharray=\"6 4\"><title>", label,
                      "</title></line><text class=\"limit-label\" x=\"", Px(at - 4),
                      "\" y=\"", Px(f.top + 12), "\" font-size=\"11\" text-anchor=\"end\" "
                      "fill=\"", color, "\">", label, "</text>\n");
    } else {
      absl::StrAppend(out, "<line class=\"limit\" x1=\"", Px(f.left), "\" x2=\"", Px(f.right),
                      "\" y1=\"", Px(at), "\" y2=\"", Px(at), "\" stroke=\"", color,
                      "\" stroke-width=\"1.5\" stroke-dasharray=\"6 4\"><title>", label,
                      "</title></line><text class=\"limit-label\" x=\"", Px(f.right - 4),
                      "\" y=\"", Px(at - 4), "\" font-size=\"11\" text-anchor=\"end\" fill=\"",
                      color, "\">", label, "</text>\n");
    }
  }
}

void SvgPlot::RenderLegend(const Frame& f, std::string* out) const {
  out->append("<g class=\"legend\" font-size=\"11\">");
  double x = f.left;
  const double y = kMarginTop - 14;
  for (const PlotSeries& s : series_) {
    if (s.name.empty()) continue;
    const std::string color = EscapeHtml(s.color);
    if (s.kind == PlotSeries::Kind::kPoints) {
      absl::StrAppend(out, "<circle cx=\"", Px(x + 6), "\" cy=\"", Px(y - 4), "\" r=\"4\" "
                      "fill=\"", color, "\" fill-opacity=\"", Px(std::max(s.opacity, 0.4)),
                      "\"/>");
    } else {
      absl::StrAppend(out, "<line x1=\"", Px(x), "\" x2=\"", Px(x + 14), "\" y1=\"", Px(y - 4),
                      "\" y2=\"", Px(y - 4), "\" stroke=\"", color, "\" stroke-width=\"2\"/>");
    }
    absl::StrAppend(out, "<text x=\"", Px(x + 18), "\" y=\"", Px(y), "\">", EscapeHtml(s.name),
                    "</text>");
    x += 30 + kCharWidth * static_cast<double>(s.name.size());
  }
  out->append("</g>\n");
}

std::string SvgPlot::Render() const {
  std::string out = absl::StrCat(
      "<svg class=\"plot\" xmlns=\"http://www.w3.org/2000/svg\" width=\"", width_,
      "\" height=\"", height_, "\" viewBox=\"0 0 ", width_, " ", height_,
      "\" role=\"img\" aria-label=\"", EscapeHtml(title_), "\" font-family=\"sans-serif\">\n",
      "<text class=\"plot-title\" x=\"", Px(kMarginLeft), "\" y=\"18\" font-size=\"14\" "
      "font-weight=\"bold\">", EscapeHtml(title_), "</text>\n");
  if (!HasPoints()) {
    absl::StrAppend(&out, "<text class=\"empty\" x=\"", Px(width_ / 2.0), "\" y=\"",
                    Px(height_ / 2.0), "\" font-size=\"13\" text-anchor=\"middle\" "
                    "fill=\"#666\">", EscapeHtml(empty_message_), "</text>\n</svg>\n");
    return out;
  }
  std::vector<double> xs, ys;
  for (const PlotSeries& s : series_) {
    for (const PlotPoint& p : s.points) {
      xs.push_back(p.x);
      ys.push_back(p.y);
    }
  }
  for (const LimitLine& limit : limits_) (limit.vertical ? xs : ys).push_back(limit.value);
  Frame f;
  f.left = kMarginLeft;
  f.right = width_ - kMarginRight;
  f.top = kMarginTop;
  f.bottom = height_ - kMarginBottom;
  f.x = MakeAxis(x_, xs);
  f.x.p0 = f.left;
  f.x.p1 = f.right;
  f.y = MakeAxis(y_, ys);
  f.y.p0 = f.bottom;
  f.y.p1 = f.top;
  RenderAxes(f, &out);
  for (const PlotSeries& s : series_) RenderSeries(f, s, &out);
  RenderLimits(f, &out);
  RenderLegend(f, &out);
  out += "</svg>\n";
  return out;
}

}  // namespace nas::nasctl
