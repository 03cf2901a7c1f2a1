// Golden files per output format: a probe, an audit (with assertion captures and an ablation) and a
// gate report (tests/data/golden/*_report.json, written by the CLI and then fixed in place) are
// rendered by every reporter and compared byte for byte with tests/data/golden/<kind>.<ext>.
// A deliberate change of an output is recorded with
//   FLAKESCOPE_UPDATE_GOLDEN=1 build/tests/unit_tests --gtest_filter='ReportGolden.*'
// and the diff of the golden files is then reviewed like any other change.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "flakescope/report_model.h"
#include "report/reporters.h"

namespace flakescope {
namespace {

const std::string kGolden = std::string(FLAKESCOPE_TEST_DATA) + "/golden/";

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

struct Format {
  ReportFormat format;
  const char* extension;
};

constexpr Format kFormats[] = {{ReportFormat::kTerminal, "txt"},
                               {ReportFormat::kMarkdown, "md"},
                               {ReportFormat::kHtml, "html"},
                               {ReportFormat::kJunit, "xml"},
                               {ReportFormat::kJson, "json"}};

void expect_golden(const std::string& kind) {
  const model::Report report = model::load_report_model(kGolden + kind + "_report.json");
  const bool update = std::getenv("FLAKESCOPE_UPDATE_GOLDEN") != nullptr;
  for (const Format& f : kFormats) {
    const std::string path = kGolden + kind + "." + f.extension;
    const std::string rendered = render_report(report, f.format);
    if (update) std::ofstream(path, std::ios::binary) << rendered;
    const std::string expected = read_text(path);
    ASSERT_FALSE(expected.empty()) << path << " is missing (FLAKESCOPE_UPDATE_GOLDEN=1 writes it)";
    EXPECT_EQ(rendered, expected) << path << " differs; if the change is meant, rerun with "
                                  << "FLAKESCOPE_UPDATE_GOLDEN=1 and review the diff";
  }
}

TEST(ReportGolden, ProbeReportInEveryFormat) {
  expect_golden("probe");
}
TEST(ReportGolden, AuditReportWithCapturesAndAblationInEveryFormat) {
  expect_golden("audit");
}
TEST(ReportGolden, GateReportInEveryFormat) {
  expect_golden("gate");
}

}  // namespace
}  // namespace flakescope
