// libFuzzer target: the audit's JUnit XML reader (pytest, gtest and ctest dialects) and the gtest
// console fallback, on arbitrary bytes. Both report bad input through their result, never by
// throwing, so any exception here is a finding.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "audit/junit_xml.h"
#include "fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using flakescope::fuzz::require;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const auto parsed = flakescope::audit::parse_junit_xml(bytes);
  require(!parsed.error || parsed.testcases.empty(), "JUnit error with testcases");
  const auto console =
      flakescope::audit::parse_gtest_console(bytes, flakescope::audit::Outcome::kCrash);
  require(console.size() <= size, "more gtest testcases than input bytes");
  return 0;
}
