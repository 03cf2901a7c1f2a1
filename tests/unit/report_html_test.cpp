// The HTML page: well-formed (parsed as XML: every tag closed, every attribute quoted), self-
// contained (no script, no external resource), with the plots the issue asks for.
#include <gtest/gtest.h>

#include <pugixml.hpp>

#include "report/reporters.h"
#include "report/svg_plots.h"
#include "report_test_support.h"

namespace flakescope {
namespace {

using namespace flakescope::testing;
using report::nice_ticks;
using report::tick_label;

pugi::xml_document parse_html(const std::string& html) {
  // The doctype line is HTML, not XML; everything after it must be well-formed XML.
  const std::string body = html.substr(html.find('\n') + 1);
  pugi::xml_document doc;
  const auto ok = doc.load_string(body.c_str());
  EXPECT_TRUE(ok) << ok.description() << " at " << ok.offset << ": "
                  << body.substr(std::max<long>(0, ok.offset - 60), 120);
  return doc;
}

int count_substrings(const std::string& s, const std::string& what) {
  int n = 0;
  for (auto at = s.find(what); at != std::string::npos; at = s.find(what, at + 1)) ++n;
  return n;
}

int count_nodes(const pugi::xml_document& doc, const char* xpath) {
  return static_cast<int>(doc.select_nodes(xpath).size());
}

TEST(HtmlReport, ProbePageIsWellFormedSelfContainedWithPlots) {
  std::mt19937_64 rng(7);
  json racy = setting("controlled", noisy_samples(rng, 99, 1e-6));
  racy["metrics"]["out"]["recommendation"] = {
      {"target", 1e-4},
      {"default_tolerance", {{"atol", 1e-5}, {"rtol", 1.3e-6}}},
      {"atol",
       {{"bound", 5e-6},
        {"n", 99},
        {"method", "gpd"},
        {"tail", {{"threshold", 1e-6}, {"exceedances", 20}, {"shape", -0.1}, {"scale", 6e-7}}}}}};
  const json r = probe_report({probe("calibration/racy_sum", {racy}),
                               probe("ops/sum", {setting("controlled", {0, 0}),
                                                 setting("free:threads", {0, 1e-5, 2e-5})})});
  const std::string html = render_report(r, ReportFormat::kHtml);
  ASSERT_EQ(html.rfind("<!DOCTYPE html>\n", 0), 0u);
  const auto doc = parse_html(html);
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("http://"), html.find("http://www.w3.org/2000/svg"));
  EXPECT_EQ(html.find("https://"), std::string::npos);
  // Per probe: the ablation bars; per moving output: the histogram, and the tail where enough
  // runs moved (ops/sum's 2 moving runs get a note instead).
  EXPECT_EQ(count_nodes(doc, "//details"), 2);
  EXPECT_EQ(count_nodes(doc, "//details[@open]"), 2);  // both moved: both open
  EXPECT_EQ(count_nodes(doc, "//*[local-name()='svg']"), 2 + 2 + 1);
  EXPECT_NE(html.find("Too few runs for a tail plot: 2 of 3 runs moved from the first, a tail "
                      "needs at least 16"),
            std::string::npos);
  // The recommended bound and the dtype's default atol are marked on both plots of racy_sum; the
  // fitted tail is drawn down to the target.
  EXPECT_EQ(count_substrings(html, ">recommended 5e-6<"), 2);
  EXPECT_EQ(count_substrings(html, "float32 default atol 1e-5"), 2);
  EXPECT_NE(html.find(">target 1e-4<"), std::string::npos);
  EXPECT_NE(html.find("fitted tail (GPD)"), std::string::npos);
  EXPECT_GE(count_nodes(doc, "//*[local-name()='polyline']"), 1);
  // Axes are labelled with units and dtype.
  EXPECT_NE(html.find("per run, float32 (absolute, output units)"), std::string::npos);
  EXPECT_NE(html.find(">P(X &gt; x), log scale<"), std::string::npos);
  // ops/sum has no recommendation: the page says why there is no marker.
  EXPECT_NE(html.find("No recommended-bound marker for &#39;out&#39; under free:threads"),
            std::string::npos)
      << html;
}

// Every plot of a probe page has several tick labels on each axis, not just min and max.
TEST(HtmlReport, PlotsHaveSeveralTicksOnBothAxes) {
  std::mt19937_64 rng(11);
  const json r = probe_report(
      {probe("calibration/racy_sum", {setting("controlled", noisy_samples(rng, 99, 1e-6))})});
  const auto doc = parse_html(render_report(r, ReportFormat::kHtml));
  for (const auto& svg : doc.select_nodes("//*[local-name()='svg']")) {
    // Tick marks are short <line>s: vertical ones under the x axis, horizontal ones left of y.
    int x_ticks = 0, y_ticks = 0;
    for (const auto& l : svg.node().select_nodes(".//*[local-name()='line']")) {
      const auto n = l.node();
      const double x1 = n.attribute("x1").as_double(), x2 = n.attribute("x2").as_double();
      const double y1 = n.attribute("y1").as_double(), y2 = n.attribute("y2").as_double();
      x_ticks += x1 == x2 && y2 - y1 == 4;
      y_ticks += y1 == y2 && x2 - x1 == 4;
    }
    EXPECT_GE(x_ticks, 3);
    const bool bars = svg.node().select_nodes(".//*[local-name()='rect']").size() <= 3;
    if (!bars) {
      EXPECT_GE(y_ticks, 3);
    }
  }
}

TEST(HtmlReport, NiceTicksAreRoundAndCoverTheRange) {
  EXPECT_EQ(nice_ticks(0, 1e-5), (std::vector<double>{0, 2e-6, 4e-6, 6e-6, 8e-6, 1e-5}));
  EXPECT_EQ(nice_ticks(0, 37, 4), (std::vector<double>{0, 10, 20, 30}));
  EXPECT_EQ(tick_label(4e-6, 2e-6), "4e-6");
  EXPECT_EQ(tick_label(12.5, 2.5), "12.5");
  EXPECT_EQ(tick_label(1000.4, 0.2), "1000.4");
  EXPECT_EQ(tick_label(0, 1), "0");
}

TEST(HtmlReport, AuditPageHasOneTimelineSquarePerRun) {
  const json r = audit_report({audit_test("t::a<b>", "flaky", {"pass", "fail", "pass", "error"})});
  const std::string html = render_report(r, ReportFormat::kHtml);
  const auto doc = parse_html(html);
  EXPECT_EQ(count_nodes(doc,
                        "//*[local-name()='svg']//*[local-name()='rect' and "
                        "*[local-name()='title']]"),
            4);
  EXPECT_NE(html.find("t::a&lt;b&gt;"), std::string::npos);
}

// A crashing test leaves one unreadable JUnit file per crash: more than two warnings are one
// collapsed line above the summary, each still named inside; the timelines have a legend.
TEST(HtmlReport, ManyInputWarningsAreCollapsedAndTimelinesHaveALegend) {
  json r = audit_report({audit_test("t::crashes", "crashing", {"pass", "error", "pass", "error"})});
  r["junit_errors"] = {{"count", 3u},
                       {"examples",
                        {{{"run", 1}, {"setting", "controlled"}, {"error", "no JUnit XML"}},
                         {{"run", 3}, {"setting", "controlled"}, {"error", "no JUnit XML"}},
                         {{"run", 5}, {"setting", "controlled"}, {"error", "no JUnit XML"}}}}};
  const std::string html = render_report(r, ReportFormat::kHtml);
  const auto doc = parse_html(html);
  EXPECT_EQ(count_nodes(doc, "//details/summary[@class='warning']"), 1) << html;
  EXPECT_EQ(count_nodes(doc, "//details/ul/li[@class='warning']"), 3);
  EXPECT_NE(html.find("3 warnings (first: JUnit of run 1 (controlled) unreadable"),
            std::string::npos);
  EXPECT_NE(html.find("One square per run, in run order"), std::string::npos);
  EXPECT_NE(html.find("1 finding</span>"), std::string::npos);  // singular
}

}  // namespace
}  // namespace flakescope
