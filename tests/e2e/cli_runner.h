#pragma once
// How the end-to-end tests run flakescope: as a user would, a separate process from its argv, in a
// scratch directory, with stdout and stderr captured. One definition for every e2e test file.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/subprocess.h"

namespace flakescope::e2e {

struct CliResult {
  int code;
  std::string out, err;
};

using EnvChanges = std::vector<std::pair<std::string, std::optional<std::string>>>;

// `flakescope ARGS...`, run in `cwd` (empty: the test's own) with `env` changes; a run that does
// not exit normally (crash, timeout) fails the test.
inline CliResult run_cli(std::vector<std::string> args, const std::string& cwd = "",
                         EnvChanges env = {}, double timeout_seconds = 300) {
  ProcessSpec spec;
  spec.argv = {FLAKESCOPE_CLI};
  spec.argv.insert(spec.argv.end(), args.begin(), args.end());
  spec.cwd = cwd;
  // The CI's own step summary stays out of the tests' commands unless a test sets one.
  spec.env.emplace_back("GITHUB_STEP_SUMMARY", std::nullopt);
  spec.env.insert(spec.env.end(), env.begin(), env.end());
  spec.timeout_seconds = timeout_seconds;
  spec.output_tail_bytes = 1 << 20;
  const ProcessResult r = run_process(spec);
  EXPECT_EQ(r.status, ProcessStatus::kExited) << r.error << r.stderr_tail;
  return {r.exit_code, r.stdout_tail, r.stderr_tail};
}

// A fresh scratch directory per test, named after it and removed afterwards.
class ScratchDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("flakescope-e2e-" + std::to_string(getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  std::filesystem::path dir_;
};

}  // namespace flakescope::e2e
