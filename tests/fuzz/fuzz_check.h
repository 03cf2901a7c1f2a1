#pragma once
// What every fuzz target asserts beyond "no sanitizer report": a parser either returns tensors
// whose bytes match their dtype and shape, or throws InputError with one line naming the origin.
// Any other exception escapes and libFuzzer reports it as a crash.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "flakescope/error.h"
#include "io/tensor_file.h"

namespace flakescope::fuzz {

inline void require(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "fuzz invariant violated: %s\n", what);
    std::abort();
  }
}

inline void check_error_line(const InputError& e, const char* origin) {
  const std::string msg = e.what();
  require(msg.rfind(std::string(origin) + ": ", 0) == 0, "error does not start with the origin");
  require(msg.find('\n') == std::string::npos, "error is more than one line");
}

// Tensor data never exceeds the input: the readers copy, they do not invent bytes.
inline void check_tensors(const std::vector<HostTensor>& ts, std::size_t input_size) {
  std::size_t total = 0;
  for (const HostTensor& t : ts) {
    std::uint64_t n = dtype_size(t.dtype);
    for (const auto d : t.shape) {
      require(d >= 0, "negative dimension returned");
      n *= static_cast<std::uint64_t>(d);
    }
    require(n == t.data.size(), "data size does not match dtype x shape");
    total += t.data.size();
  }
  require(total <= input_size, "more tensor bytes than input bytes");
}

}  // namespace flakescope::fuzz
