// libFuzzer target: parse_safetensors on arbitrary bytes.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  try {
    flakescope::fuzz::check_tensors(flakescope::parse_safetensors(bytes, "fuzz.safetensors"), size);
  } catch (const flakescope::InputError& e) {
    flakescope::fuzz::check_error_line(e, "fuzz.safetensors");
  }
  return 0;
}
