// The typed report model: every committed report survives from_json -> to_json unchanged (so
// files stay byte-compatible), and loading checks the schema and names the offending field.
#include "flakescope/report_model.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <unistd.h>

#include "core/json_schema.h"
#include "core/report.h"
#include "flakescope/error.h"
#include "report_test_support.h"

namespace flakescope {
namespace {

using nlohmann::json;

std::string source(const std::string& rel) {
  return std::string(FLAKESCOPE_SOURCE_DIR) + "/" + rel;
}

void expect_round_trip(const std::string& path, const std::vector<std::string>& dropped = {}) {
  const json original = load_report(path);
  const model::Report report = model::from_json(original);
  json expected = original;
  if (!dropped.empty())
    for (const char* list : {"tests", "process"})
      if (expected.contains(list))
        for (auto& t : expected[list])
          for (const auto& key : dropped) t["failure_rate"].erase(key);
  const json written = model::to_json(report);
  EXPECT_EQ(written.dump(2), expected.dump(2)) << path;
}

TEST(ReportModel, CommittedReportsRoundTripByteForByte) {
  expect_round_trip(source("reports/baselines/cpu-x86_64-libtorch-1.13.json"));
  for (const auto& e : std::filesystem::directory_iterator(source("reports/gpu")))
    if (e.path().extension() == ".json") expect_round_trip(e.path().string());
}

// Hand-written reports (integers where the tool writes doubles, optional fields left out) are
// read into the same values: writing them back and reading again changes nothing.
TEST(ReportModel, HandWrittenReportsReadStably) {
  for (const char* name : {"probe_small.json", "audit_small.json"}) {
    const json original = load_report(source(std::string("tests/data/reports/") + name));
    const json once = model::to_json(model::from_json(original));
    EXPECT_EQ(model::to_json(model::from_json(once)).dump(2), once.dump(2)) << name;
    if (original.contains("probes")) {  // numerically equal (0 == 0.0)
      EXPECT_EQ(once.at("probes"), original.at("probes")) << name;
    }
  }
  // The duplicated Clopper-Pearson bounds (lower/upper) of older audit reports are read, not
  // written back: clopper_pearson carries them.
  const json audit = load_report(source("tests/data/reports/audit_small.json"));
  const json written = model::to_json(model::from_json(audit));
  EXPECT_FALSE(written["tests"][0]["failure_rate"].contains("lower"));
  EXPECT_EQ(written["tests"][0]["failure_rate"]["clopper_pearson"],
            audit["tests"][0]["failure_rate"]["clopper_pearson"]);
}

TEST(ReportModel, TypedValuesOfAProbeReport) {
  const model::Report r =
      model::load_report_model(source("reports/baselines/cpu-x86_64-libtorch-1.13.json"));
  ASSERT_EQ(r.kind(), model::ReportKind::kProbe);
  ASSERT_FALSE(r.probes.empty());
  const auto* racy = &r.probes[0];
  for (const auto& p : r.probes)
    if (p.name == "calibration/racy_sum") racy = &p;
  const model::ProbeSetting* controlled = racy->find_setting("controlled");
  ASSERT_NE(controlled, nullptr);
  EXPECT_EQ(controlled->verdict, model::ProbeVerdict::kNondeterministic);
  ASSERT_FALSE(controlled->metrics.empty());
  ASSERT_TRUE(controlled->metrics[0].samples.has_value());
  EXPECT_EQ(controlled->metrics[0].samples->abs.size() + 1,
            static_cast<std::size_t>(controlled->metrics[0].runs));
  EXPECT_DOUBLE_EQ(r.confidence(), 0.95);
}

TEST(ReportModel, EnumsReadAndWriteTheReportsStrings) {
  EXPECT_EQ(model::parse_test_class("timing-out"), model::TestClass::kTimingOut);
  EXPECT_EQ(model::to_string(model::TestClass::kStablePass), "stable-pass");
  EXPECT_EQ(model::parse_outcome_letter("X"), model::RunOutcome::kXfail);
  EXPECT_EQ(model::outcome_letter(model::RunOutcome::kCrash), 'C');
  EXPECT_FALSE(model::parse_probe_verdict("maybe"));
  EXPECT_EQ(model::parse_gate_status("regression"), model::GateStatus::kRegression);
}

class SchemaOnLoad : public ::testing::Test {
 protected:
  std::string write(const json& j) {
    const auto dir =
        std::filesystem::temp_directory_path() / ("flakescope-model-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const std::string path = (dir / "r.json").string();
    std::ofstream(path) << j.dump();
    return path;
  }
  std::string load_error(const json& j) {
    try {
      load_report(write(j));
    } catch (const InputError& e) {
      return e.what();
    }
    return "";
  }
};

TEST_F(SchemaOnLoad, AMismatchNamesTheField) {
  json r = load_report(source("tests/data/reports/probe_small.json"));
  EXPECT_EQ(load_error(r), "");
  json bad = r;
  bad["probes"][0]["settings"][0]["verdict"] = "maybe";
  const std::string e = load_error(bad);
  EXPECT_NE(e.find("/probes/0/settings/0/verdict"), std::string::npos) << e;
  EXPECT_NE(e.find("\"maybe\""), std::string::npos) << e;
  bad = r;
  bad["probes"][0]["settings"][0]["runs"] = "ten";
  EXPECT_NE(load_error(bad).find("/probes/0/settings/0/runs is \"ten\", expected integer"),
            std::string::npos)
      << load_error(bad);
  bad = r;
  bad["created"] = "yesterday";
  EXPECT_NE(load_error(bad).find("field /created"), std::string::npos);
  bad = r;
  bad.erase("partial");
  EXPECT_NE(load_error(bad).find("field /partial is missing"), std::string::npos)
      << load_error(bad);
}

TEST_F(SchemaOnLoad, AuditAndNumbers) {
  json r = load_report(source("tests/data/reports/audit_small.json"));
  json bad = r;
  bad["tests"][0]["timeline"][1] = "Q";
  EXPECT_NE(load_error(bad).find("/tests/0/timeline/1"), std::string::npos) << load_error(bad);
  bad = r;
  bad["tests"][0]["failure_rate"]["wilson"] = {0.1};
  EXPECT_NE(load_error(bad).find("/tests/0/failure_rate/wilson has 1 items"), std::string::npos)
      << load_error(bad);
  // Non-finite numbers are "inf"/"-inf"/null; anything else is refused.
  json probe = load_report(source("tests/data/reports/probe_small.json"));
  auto& metrics = probe["probes"][0]["settings"][0]["metrics"];
  const std::string output = metrics.begin().key();
  metrics[output]["max_abs_dev"] = "inf";
  EXPECT_EQ(load_error(probe), "");
  metrics[output]["max_abs_dev"] = "lots";
  EXPECT_NE(load_error(probe).find("max_abs_dev"), std::string::npos) << load_error(probe);
}

// The capture analysis's sites are typed: the golden audit report's sites read into the model,
// write back unchanged, and a site whose class or action the model does not know is refused with
// the field named.
TEST_F(SchemaOnLoad, AssertionSitesAreTypedAndChecked) {
  const json r = load_report(source("tests/data/golden/audit_report.json"));
  const model::Report report = model::from_json(r);
  ASSERT_TRUE(report.audit.assertions.has_value());
  ASSERT_EQ(report.audit.assertions->size(), r["assertions"].size());
  const model::AssertionSite& first = report.audit.assertions->front();
  EXPECT_EQ(first.cls, model::AssertionClass::kDeterministic);
  EXPECT_EQ(first.recommendation.action, model::AssertionAction::kLoosen);
  EXPECT_EQ(first.line, 39);
  ASSERT_TRUE(first.estimated_failure_rate.has_value());
  EXPECT_EQ(json(*report.audit.assertions).dump(2), r["assertions"].dump(2));
  json bad = r;
  bad["assertions"][1]["class"] = "flaky-ish";
  EXPECT_NE(load_error(bad).find("/assertions/1/class"), std::string::npos) << load_error(bad);
  bad = r;
  bad["assertions"][0]["recommendation"]["action"] = "shrug";
  EXPECT_NE(load_error(bad).find("/assertions/0/recommendation/action"), std::string::npos)
      << load_error(bad);
  bad = r;
  bad["assertions"][2]["line"] = "forty";
  EXPECT_NE(load_error(bad).find("/assertions/2/line"), std::string::npos) << load_error(bad);
}

}  // namespace
}  // namespace flakescope
