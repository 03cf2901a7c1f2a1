// libFuzzer target: the audit's run-log reader (JSON lines). read_run_log takes a path, so each
// input is written to a per-process scratch file first (in /dev/shm when it exists, to keep the
// executions fast). The reader must return a log or throw InputError naming the file.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

#include "audit/run_log.h"
#include "fuzz_check.h"

namespace {

const std::string& scratch_path() {
  static const std::string path = std::string(access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp") +
                                  "/flakescope_fuzz_run_log_" + std::to_string(getpid()) + ".jsonl";
  return path;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using flakescope::fuzz::require;
  const std::string& path = scratch_path();
  std::FILE* f = std::fopen(path.c_str(), "wb");
  require(f != nullptr, "cannot write the scratch file");
  require(std::fwrite(data, 1, size, f) == size, "short write to the scratch file");
  std::fclose(f);
  try {
    const auto log = flakescope::audit::read_run_log(path);
    require(log.complete_bytes <= size, "complete_bytes beyond the file");
  } catch (const flakescope::InputError& e) {
    require(std::string(e.what()).rfind(path, 0) == 0, "run-log error does not name the file");
  }
  std::remove(path.c_str());
  return 0;
}
