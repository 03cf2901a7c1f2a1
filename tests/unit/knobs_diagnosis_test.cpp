// Settings parsing and the ablation diagnosis on hand-built probe entries.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/diagnosis.h"
#include "flakescope/error.h"
#include "flakescope/knobs.h"
#include "flakescope/report_model.h"

namespace flakescope {
namespace {

TEST(Settings, AblationIsControlledEachKnobFreedAloneAndAllFree) {
  auto all = parse_settings("ablation", false);
  ASSERT_EQ(all.size(), kKnobCount + 2);
  EXPECT_EQ(all.front().name, "controlled");
  EXPECT_EQ(all[1].name, "free:deterministic");
  EXPECT_EQ(all.back().name, "free");
  auto cpu = parse_settings("ablation", true);
  EXPECT_EQ(cpu.size(), kKnobCount + 2 - 3);  // cudnn, tf32, cublas_workspace skipped
  for (const auto& s : cpu) EXPECT_EQ(s.name.find("tf32"), std::string::npos);
}

TEST(Settings, ListsAndCombinations) {
  auto s = parse_settings("controlled,free:threads+generator,free", false);
  ASSERT_EQ(s.size(), 3u);
  EXPECT_TRUE(s[1].is_free(Knob::kThreads));
  EXPECT_TRUE(s[1].is_free(Knob::kGenerator));
  EXPECT_FALSE(s[1].is_free(Knob::kBatch));
  EXPECT_EQ(s[1].name, "free:threads+generator");
  EXPECT_EQ(parse_setting_name("free:threads+generator"), s[1]);
}

TEST(Settings, BadSpecsAreInputErrors) {
  EXPECT_THROW(parse_settings("sometimes", false), InputError);
  EXPECT_THROW(parse_settings("free:gpu", false), InputError);
  EXPECT_THROW(parse_settings("free:", false), InputError);
  EXPECT_THROW(parse_settings("", false), InputError);
}

// The diagnosis of a hand-built probe entry, as the report writes it.
nlohmann::json diagnose(const nlohmann::json& probe) {
  nlohmann::json p = probe;
  p["name"] = "ops/x";
  p["diagnosis"] = nullptr;
  p.erase("diagnosis");
  const model::ProbeResult typed = model::probe_result_from_json(p);
  nlohmann::json out;
  model::ProbeResult with = typed;
  with.diagnosis = diagnose_probe(typed);
  to_json(out, with);
  return out["diagnosis"];
}

nlohmann::json entry(const std::string& name, const std::string& verdict, double dev = 0) {
  return {{"setting", name},
          {"verdict", verdict},
          {"metrics", {{"out", {{"max_abs_dev", dev}, {"max_ulp", dev > 0 ? 3 : 0}}}}}};
}

TEST(Diagnosis, NamesTheKnobWhoseFreeingMovesTheOutput) {
  nlohmann::json p = {{"settings",
                       {entry("controlled", "bitwise-deterministic"),
                        entry("free:threads", "nondeterministic", 1e-7),
                        entry("free:generator", "bitwise-deterministic"),
                        entry("free", "nondeterministic", 1e-7)}}};
  auto d = diagnose(p);
  EXPECT_EQ(d["causes"], nlohmann::json::array({"threads"}));
  EXPECT_NE(d["summary"].get<std::string>().find("thread count"), std::string::npos);
  EXPECT_EQ(d["fixes"].size(), 1u);
}

TEST(Diagnosis, NondeterministicWhenControlledBlamesNoKnob) {
  nlohmann::json p = {{"settings",
                       {entry("controlled", "nondeterministic", 1e-3),
                        entry("free:threads", "nondeterministic", 1e-3)}}};
  auto d = diagnose(p);
  EXPECT_TRUE(d["causes"].empty());
  EXPECT_NE(d["summary"].get<std::string>().find("every knob controlled"), std::string::npos);
}

TEST(Diagnosis, RaisingUnderDeterministicAlgorithmsIsNamed) {
  nlohmann::json c = entry("controlled", "error");
  c["error"] = "index_add_cuda_ does not have a deterministic implementation";
  nlohmann::json p = {{"settings", {c, entry("free:deterministic", "nondeterministic", 1e-6)}}};
  auto d = diagnose(p);
  EXPECT_TRUE(d["raises_when_controlled"].get<bool>());
  EXPECT_EQ(d["causes"], nlohmann::json::array({"deterministic"}));
}

TEST(Diagnosis, InteractionOnlyWhenAllFree) {
  nlohmann::json p = {
      {"settings",
       {entry("controlled", "bitwise-deterministic"),
        entry("free:threads", "bitwise-deterministic"), entry("free", "nondeterministic", 1e-6)}}};
  auto d = diagnose(p);
  EXPECT_TRUE(d["causes"].empty());
  EXPECT_NE(d["summary"].get<std::string>().find("interact"), std::string::npos);
}

TEST(Diagnosis, UnavailableEverywhereSaysSo) {
  nlohmann::json u = {
      {"setting", "controlled"}, {"verdict", "unavailable"}, {"error", "no CUDA device"}};
  auto d = diagnose({{"settings", {u}}});
  EXPECT_NE(d["summary"].get<std::string>().find("no CUDA device"), std::string::npos);
}

// TF32-like: every setting repeats bitwise, but freeing one knob gives a different (repeatable)
// result. The diagnosis names that shift; identical shifts are not mentioned.
TEST(Diagnosis, RepeatableShiftFromControlledIsNamed) {
  nlohmann::json tf32 = entry("free:tf32", "bitwise-deterministic");
  tf32["metrics"]["out"]["shift_from_controlled"] = {
      {"max_abs", 3e-4}, {"max_rel", 1e-3}, {"max_ulp", 12}, {"identical", false}};
  nlohmann::json threads = entry("free:threads", "bitwise-deterministic");
  threads["metrics"]["out"]["shift_from_controlled"] = {
      {"max_abs", 0}, {"max_rel", 0}, {"max_ulp", 0}, {"identical", true}};
  nlohmann::json p = {{"settings", {entry("controlled", "bitwise-deterministic"), tf32, threads}}};
  auto d = diagnose(p);
  EXPECT_TRUE(d["causes"].empty());  // nothing varies run to run
  ASSERT_TRUE(d.contains("shifts"));
  EXPECT_EQ(d["shifts"].size(), 1u);
  EXPECT_DOUBLE_EQ(d["shifts"]["free:tf32"]["max_abs"].get<double>(), 3e-4);
  EXPECT_NE(d["summary"].get<std::string>().find("free:tf32 by 0.0003 (12 ULP)"), std::string::npos)
      << d["summary"];
}

}  // namespace
}  // namespace flakescope
