// The capture end-to-end study without the CLI: the pytest plugin repeats
// tests/fixtures/pytest/test_capture_noise.py (output + N(0, 1e-6) noise, atol=2e-6) N times in
// one process with capture on (what `flakescope audit --capture --isolation inprocess` runs),
// analyze_captures recommends an atol, and 2000 fresh seeds validate it: the failure rate at the
// recommended atol must be within the target's interval (Clopper-Pearson lower bound <= target).
//
// usage: capture_noise_study [N=300] [VALIDATION=2000] [PYTHON=/usr/bin/python3]
// Exit 0 when the validation holds, 1 when it does not, 2 when Python/torch/pytest are missing.
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include <unistd.h>

#include "audit/capture_analysis.h"
#include "core/report.h"
#include "core/subprocess.h"
#include "stats/rates.h"
#include "stats/recommend.h"

namespace fs = std::filesystem;
using flakescope::ProcessResult;
using flakescope::ProcessSpec;

namespace {

ProcessResult run_plugin(const std::string& python, const fs::path& dir, const std::string& seed,
                         int repeats, const std::string& capture) {
  ProcessSpec spec;
  spec.argv = {python,
               "-m",
               "pytest",
               "-q",
               "-p",
               "no:cacheprovider",
               "-p",
               "flakescope_pytest",
               "test_capture_noise.py"};
  spec.cwd = dir.string();
  spec.env = {{"PYTHONPATH", std::string(FLAKESCOPE_SOURCE_DIR) + "/integrations/pytest"},
              {"PYTHONDONTWRITEBYTECODE", "1"},
              {"FLAKESCOPE_SEED", seed},
              {"FLAKESCOPE_REPEAT", std::to_string(repeats)},
              {"FLAKESCOPE_CAPTURE", capture}};
  return flakescope::run_process(spec);
}

}  // namespace

int main(int argc, char** argv) {
  const int runs = argc > 1 ? std::stoi(argv[1]) : 300;
  const int validation_runs = argc > 2 ? std::stoi(argv[2]) : 2000;
  const std::string python = argc > 3 ? argv[3] : "/usr/bin/python3";
  const fs::path dir =
      fs::temp_directory_path() / ("flakescope-capture-study-" + std::to_string(getpid()));
  fs::create_directories(dir);
  fs::copy_file(std::string(FLAKESCOPE_SOURCE_DIR) + "/tests/fixtures/pytest/test_capture_noise.py",
                dir / "test_capture_noise.py", fs::copy_options::overwrite_existing);

  const std::string audit_capture = (dir / "audit.jsonl").string();
  const ProcessResult audited = run_plugin(python, dir, "1000", runs, audit_capture);
  if (audited.status != flakescope::ProcessStatus::kExited || audited.exit_code > 1) {
    std::cerr << "the audit runs did not complete: " << audited.stderr_tail << audited.error
              << "\n";
    fs::remove_all(dir);
    return 2;
  }
  const flakescope::CaptureFile file = flakescope::read_capture_file(audit_capture);
  const nlohmann::json record = {{"run", 0}, {"captures", file.captures}};
  flakescope::stats::ToleranceOptions options;
  flakescope::CaptureAnalysisOptions capture_options;
  capture_options.source_root = dir.string();
  const nlohmann::json assertions =
      flakescope::analyze_captures({record}, options, capture_options);
  if (assertions.size() != 1) {
    std::cerr << "expected one assertion site, got " << assertions.dump() << "\n";
    return 1;
  }
  const nlohmann::json& a = assertions[0];
  const auto& rate = a["failure_rate"];
  std::cout << "audit: " << a["trials"] << " in-process repetitions in " << audited.duration_seconds
            << " s; current atol=2e-6 fails " << rate["failures"] << "/" << rate["trials"]
            << ", Clopper-Pearson " << rate["clopper_pearson"].dump() << " (exact 4.55e-2)\n";
  std::cout << "recommendation: " << a["recommendation"]["method"] << ", atol_bound "
            << a["recommendation"].value("atol_bound", nlohmann::json()) << "\n"
            << "suggestion: " << a["suggestion"].get<std::string>() << "\n"
            << (a["diff"].is_string() ? a["diff"].get<std::string>() : "(no diff)\n");
  if (!a["recommendation"]["atol"].is_number()) {
    fs::remove_all(dir);
    return 1;
  }
  const double atol = a["recommendation"]["atol"].get<double>();

  const std::string validation_capture = (dir / "validation.jsonl").string();
  const ProcessResult validated =
      run_plugin(python, dir, "50000000", validation_runs, validation_capture);
  const flakescope::CaptureFile validation = flakescope::read_capture_file(validation_capture);
  std::size_t failures = 0;
  for (const auto& line : validation.captures) {
    failures += flakescope::number_from_json(line["atol_needed"]) > atol ? 1 : 0;
  }
  const auto estimate =
      flakescope::stats::estimate_rate(failures, validation.captures.size(), 0.95);
  std::cout << "validation: " << validation.captures.size() << " fresh seeds in "
            << validated.duration_seconds << " s: " << failures << " fail at atol=" << atol
            << ", Clopper-Pearson [" << estimate.clopper_pearson.lower << ", "
            << estimate.clopper_pearson.upper << "]; exact P(fail) at that atol "
            << std::erfc(atol / 1e-6 / std::sqrt(2.0)) << " (target " << options.target << ")\n";
  fs::remove_all(dir);
  const bool holds = static_cast<int>(validation.captures.size()) == validation_runs &&
                     estimate.clopper_pearson.lower <= options.target;
  std::cout << (holds ? "PASS" : "FAIL") << ": the recommended atol " << (holds ? "is" : "is not")
            << " within the target's interval\n";
  return holds ? 0 : 1;
}
