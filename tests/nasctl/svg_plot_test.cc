#include "nasctl/svg_plot.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nasctl/html.h"
#include "tests/nasctl/report_checks.h"

namespace nas::nasctl {
namespace {

using ::nas::testing::CountOccurrences;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

TEST(NiceTicksTest, StepsAreOneTwoOrFiveTimesAPowerOfTen) {
  EXPECT_THAT(NiceTicks(0, 1, 7), ElementsAre(0, 0.2, 0.4, 0.6, 0.8, 1));
  EXPECT_THAT(NiceTicks(0.53, 0.91, 7), ElementsAre(0.5, 0.6, 0.7, 0.8, 0.9, 1));
  EXPECT_THAT(NiceTicks(3, 97, 6), ElementsAre(0, 20, 40, 60, 80, 100));
  EXPECT_THAT(NiceTicks(-0.4, 0.3, 5), ElementsAre(-0.4, -0.2, 0, 0.2, 0.4));
}

TEST(NiceTicksTest, DegenerateRangesAreWidened) {
  EXPECT_THAT(NiceTicks(0, 0, 5), ElementsAre(-1, -0.5, 0, 0.5, 1));
  const std::vector<double> ticks = NiceTicks(5, 5, 5);
  EXPECT_LE(ticks.front(), 4.5);
  EXPECT_GE(ticks.back(), 5.5);
}

TEST(LogTicksTest, DecadesAndFinerTicksForShortRanges) {
  EXPECT_THAT(LogTicks(3000, 2e6), ElementsAre(1e3, 1e4, 1e5, 1e6, 1e7));
  EXPECT_THAT(LogTicks(30, 400), ElementsAre(10, 20, 50, 100, 200, 500, 1000));
}

TEST(TickLabelTest, CompactWithSuffixes) {
  EXPECT_EQ(TickLabel(0), "0");
  EXPECT_EQ(TickLabel(0.25), "0.25");
  EXPECT_EQ(TickLabel(1200), "1200");
  EXPECT_EQ(TickLabel(20000), "20k");
  EXPECT_EQ(TickLabel(946176), "946k");
  EXPECT_EQ(TickLabel(3e6), "3M");
  EXPECT_EQ(TickLabel(4.5e9), "4.5G");
}

TEST(EscapeHtmlTest, EscapesMarkupCharacters) {
  EXPECT_EQ(EscapeHtml("<a href=\"x\">Tom & Jerry's</a>"),
            "&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&#39;s&lt;/a&gt;");
}

TEST(HtmlTableTest, EscapesCellsAndAlignsNumbers) {
  HtmlTable table("t", {{"name"}, {"n", true}});
  table.AddRow({"<b>", "3"}, "total");
  EXPECT_EQ(table.Render(),
            "<table class=\"t\">\n<thead><tr><th>name</th><th class=\"num\">n</th></tr>"
            "</thead>\n<tbody>\n<tr class=\"total\"><td>&lt;b&gt;</td><td class=\"num\">3</td>"
            "</tr>\n</tbody>\n</table>\n");
}

SvgPlot ScatterPlot(std::vector<PlotPoint> points, Scale x_scale = Scale::kAuto) {
  SvgPlot plot("Accuracy <vs> flash", {"flash & more", x_scale}, {"accuracy", Scale::kLinear});
  PlotSeries series{"front", "front", "#d95f02", PlotSeries::Kind::kPoints};
  series.points = std::move(points);
  plot.AddSeries(std::move(series));
  return plot;
}

TEST(SvgPlotTest, ScatterWithLimitLabelsAndLegend) {
  SvgPlot plot = ScatterPlot({{2000, 0.8, "trial <1>"}, {9000, 0.9, ""}}, Scale::kLinear);
  plot.AddLimit({/*vertical=*/true, 12000, "flash limit 12k"});
  plot.AddLimit({/*vertical=*/false, 0.85, "target"});
  const std::string svg = plot.Render();
  EXPECT_THAT(svg, HasSubstr("<svg class=\"plot\" xmlns=\"http://www.w3.org/2000/svg\""));
  EXPECT_EQ(CountOccurrences(svg, "<circle class=\"front\""), 2);
  EXPECT_EQ(CountOccurrences(svg, "<line class=\"limit\""), 2);
  EXPECT_THAT(svg, HasSubstr("<title>trial &lt;1&gt;</title>"));
  EXPECT_THAT(svg, HasSubstr(">Accuracy &lt;vs&gt; flash</text>"));
  EXPECT_THAT(svg, HasSubstr("flash &amp; more</text>"));
  EXPECT_THAT(svg, HasSubstr("<g class=\"legend\""));
  EXPECT_THAT(svg, HasSubstr(">12k</text>"));  // The axis reaches the limit.
  EXPECT_THAT(svg, Not(HasSubstr("(log)")));
}

TEST(SvgPlotTest, AutoScaleIsLogAcrossDecades) {
  const std::string svg = ScatterPlot({{800, 0.7, ""}, {2e6, 0.9, ""}}).Render();
  EXPECT_THAT(svg, HasSubstr("flash &amp; more (log)"));
  EXPECT_THAT(svg, HasSubstr(">100</text>"));
  EXPECT_THAT(svg, HasSubstr(">10M</text>"));
  const std::string narrow = ScatterPlot({{800, 0.7, ""}, {2000, 0.9, ""}}).Render();
  EXPECT_THAT(narrow, Not(HasSubstr("(log)")));
}

TEST(SvgPlotTest, AxisCanIncludeZero) {
  PlotAxis time{"time (s)"};
  time.include_zero = true;
  SvgPlot plot("t", time, {"y"});
  plot.AddSeries({"", "p", "#000", PlotSeries::Kind::kPoints, {{31, 1, ""}, {58, 2, ""}}});
  const std::string svg = plot.Render();
  EXPECT_THAT(svg, HasSubstr(">0</text>"));
  EXPECT_THAT(svg, HasSubstr(">60</text>"));
}

TEST(SvgPlotTest, LogAxisLeavesOutNonPositivePoints) {
  const std::string svg = ScatterPlot({{0, 0.7, ""}, {10, 0.8, ""}, {1e4, 0.9, ""}},
                                      Scale::kLog).Render();
  EXPECT_EQ(CountOccurrences(svg, "<circle class=\"front\""), 2);
  EXPECT_THAT(svg, Not(HasSubstr("nan")));
  EXPECT_THAT(svg, Not(HasSubstr("inf")));
}

TEST(SvgPlotTest, ThinsFaintPointsToTheBound) {
  SvgPlot plot("many", {"x"}, {"y"});
  PlotSeries faint{"", "trial", "#777", PlotSeries::Kind::kPoints};
  for (int i = 0; i < 20000; ++i) faint.points.push_back({i * 1.0, (i * 7919 % 1000) / 1e3, ""});
  faint.max_points = 300;
  plot.AddSeries(std::move(faint));
  const std::string svg = plot.Render();
  const int circles = CountOccurrences(svg, "<circle class=\"trial\"");
  EXPECT_LE(circles, 300);
  EXPECT_GE(circles, 250);
}

TEST(SvgPlotTest, StepLineHoldsTheValueUntilTheNextPoint) {
  SvgPlot plot("best", {"trial"}, {"reward"}, 200, 150);
  PlotSeries best{"best", "best-reward", "#1f77b4", PlotSeries::Kind::kSteps};
  best.points = {{0, 0, ""}, {10, 1, ""}};
  plot.AddSeries(std::move(best));
  const std::string svg = plot.Render();
  // Plot area x 72..176, y 48..98: (0,0) -> (72,98), then (176,98), (176,48).
  EXPECT_THAT(svg, HasSubstr("points=\"72.0,98.0 176.0,98.0 176.0,48.0 \""));
}

TEST(SvgPlotTest, NoPointsShowsTheEmptyMessage) {
  SvgPlot plot("nothing", {"x"}, {"y"});
  plot.set_empty_message("no trained trial <yet>");
  plot.AddLimit({true, 5, "limit"});
  const std::string svg = plot.Render();
  EXPECT_THAT(svg, HasSubstr("<text class=\"empty\""));
  EXPECT_THAT(svg, HasSubstr("no trained trial &lt;yet&gt;"));
  EXPECT_THAT(svg, Not(HasSubstr("<line class=\"limit\"")));
}

}  // namespace
}  // namespace nas::nasctl
