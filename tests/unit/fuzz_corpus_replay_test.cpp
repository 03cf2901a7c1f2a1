// Replays every file of the fuzz corpora (tests/fuzz/corpus/<target>/: the seeds, and the inputs
// that once crashed a reader, named crash_*) through the same parsers as the libFuzzer targets, in
// the fast tier and without sanitizers: each must parse or be refused with InputError naming the
// file, never throw anything else. scripts/fuzz.sh runs the fuzzers themselves.
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "audit/junit_xml.h"
#include "audit/run_log.h"
#include "core/report.h"
#include "flakescope/error.h"
#include "io/tensor_file.h"

namespace flakescope {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> corpus(const std::string& target) {
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(std::string(FLAKESCOPE_SOURCE_DIR) +
                                              "/tests/fuzz/corpus/" + target)) {
    if (e.is_regular_file()) files.push_back(e.path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

// Parses or throws InputError "<path>: ..." of one line; counts the files that parse.
template <typename Parse>
int replay(const std::string& target, Parse parse) {
  int accepted = 0;
  const auto files = corpus(target);
  EXPECT_FALSE(files.empty()) << target;
  for (const std::string& path : files) {
    SCOPED_TRACE(path);
    try {
      parse(path);
      ++accepted;
    } catch (const InputError& e) {
      const std::string msg = e.what();
      EXPECT_EQ(msg.rfind(path + ":", 0), 0u) << msg;
    } catch (const std::exception& e) {
      ADD_FAILURE() << "not an InputError: " << e.what();
    }
  }
  return accepted;
}

TEST(FuzzCorpusReplay, Npy) {
  const int ok = replay("npy", [](const std::string& p) {
    for (const auto& t : parse_npy(read_file(p), p))
      EXPECT_EQ(t.data.size(), static_cast<std::size_t>(t.numel()) * dtype_size(t.dtype));
  });
  EXPECT_GE(ok, 12);  // the seeds written by numpy
}

TEST(FuzzCorpusReplay, Safetensors) {
  const int ok = replay("safetensors", [](const std::string& p) {
    for (const auto& t : parse_safetensors(read_file(p), p))
      EXPECT_EQ(t.data.size(), static_cast<std::size_t>(t.numel()) * dtype_size(t.dtype));
  });
  EXPECT_GE(ok, 2);
}

TEST(FuzzCorpusReplay, Junit) {
  int with_testcases = 0;
  replay("junit", [&](const std::string& p) {
    const std::string text = read_file(p);
    const auto parsed = audit::parse_junit_xml(text);
    audit::parse_gtest_console(text, audit::Outcome::kCrash);
    if (!parsed.testcases.empty()) ++with_testcases;
  });
  EXPECT_GE(with_testcases, 3);  // the pytest, gtest and ctest seeds
}

TEST(FuzzCorpusReplay, RunLog) {
  const int ok = replay("run_log", [](const std::string& p) { audit::read_run_log(p); });
  EXPECT_GE(ok, 2);
}

}  // namespace
}  // namespace flakescope
