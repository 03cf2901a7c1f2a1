// The HTML page: well-formed (parsed as XML: every tag closed, every attribute quoted), self-
// contained (no script, no external resource), with the plots the issue asks for.
#include <gtest/gtest.h>

#include <pugixml.hpp>

#include "flakescope/reporters.h"
#include "report_test_support.h"

namespace flakescope {
namespace {

using namespace flakescope::testing;

pugi::xml_document parse_html(const std::string& html) {
  // The doctype line is HTML, not XML; everything after it must be well-formed XML.
  const std::string body = html.substr(html.find('\n') + 1);
  pugi::xml_document doc;
  const auto ok = doc.load_string(body.c_str());
  EXPECT_TRUE(ok) << ok.description() << " at " << ok.offset << ": "
                  << body.substr(std::max<long>(0, ok.offset - 60), 120);
  return doc;
}

int count_nodes(const pugi::xml_document& doc, const char* xpath) {
  return static_cast<int>(doc.select_nodes(xpath).size());
}

TEST(HtmlReport, ProbePageIsWellFormedSelfContainedWithPlots) {
  std::mt19937_64 rng(7);
  json racy = setting("controlled", noisy_samples(rng, 99, 1e-6));
  racy["metrics"]["out"]["recommendation"] = {
      {"atol",
       {{"bound", 5e-6}, {"n", 99}, {"method", "gpd"},
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
  // Per probe: the ablation bars; per moving output: histogram and tail.
  EXPECT_EQ(count_nodes(doc, "//details"), 2);
  EXPECT_EQ(count_nodes(doc, "//details[@open]"), 2);  // both moved: both open
  EXPECT_EQ(count_nodes(doc, "//*[local-name()='svg']"), 2 + 2 * 2);
  // The recommended bound is marked; the fitted tail is drawn.
  EXPECT_NE(html.find("bound 5e-06"), std::string::npos);
  EXPECT_NE(html.find("fitted tail (GPD)"), std::string::npos);
  EXPECT_GE(count_nodes(doc, "//*[local-name()='polyline']"), 1);
}

TEST(HtmlReport, AuditPageHasOneTimelineSquarePerRun) {
  const json r = audit_report({audit_test("t::a<b>", "flaky", {"pass", "fail", "pass", "error"})});
  const std::string html = render_report(r, ReportFormat::kHtml);
  const auto doc = parse_html(html);
  EXPECT_EQ(count_nodes(doc, "//*[local-name()='svg']//*[local-name()='rect' and "
                             "*[local-name()='title']]"),
            4);
  EXPECT_NE(html.find("t::a&lt;b&gt;"), std::string::npos);
}

}  // namespace
}  // namespace flakescope
