// The C++ capture API (see include/flakescope/capture.h).
#include "flakescope/capture.h"

#include <ATen/ATen.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <string>

#include "core/dtype.h"
#include "core/report.h"
#include "engine/tensor_view.h"

namespace flakescope {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

std::string dtype_label(const at::Tensor& t) {
  if (auto d = to_dtype(t.scalar_type())) return std::string(dtype_name(*d));
  return c10::toString(t.scalar_type());
}

// The site path relative to the working directory when it lies below it (as the pytest plugin
// writes it), so the analysis finds the source from the audit's working directory.
std::string relative_site_path(const char* file) {
  if (file == nullptr) return "";
  std::error_code ec;
  const auto absolute = std::filesystem::absolute(file, ec);
  if (ec) return file;
  const auto relative = absolute.lexically_relative(std::filesystem::current_path(ec));
  if (ec || relative.empty() || *relative.begin() == "..") return file;
  return relative.string();
}

nlohmann::json seed_from_environment() {
  const char* seed = std::getenv("FLAKESCOPE_SEED");
  if (seed == nullptr || *seed == '\0') return nullptr;
  char* end = nullptr;
  errno = 0;
  const unsigned long long value = std::strtoull(seed, &end, 10);
  if (errno != 0 || *end != '\0') return nullptr;
  return value;
}

// One write(2) in append mode: concurrent writers never interleave within a line. A capture file
// that cannot be written must not change the test's result, so errors are ignored.
void append_line(const std::string& path, const std::string& line) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return;
  const std::string data = line + "\n";
  [[maybe_unused]] const ssize_t written = ::write(fd, data.data(), data.size());
  ::close(fd);
}

}  // namespace

CloseMeasurement measure_close(const at::Tensor& actual, const at::Tensor& expected, double rtol,
                               double atol) {
  CloseMeasurement m;
  try {
    const bool complex = actual.is_complex() || expected.is_complex();
    const auto wide = complex ? at::kComplexDouble : at::kDouble;
    at::Tensor a = actual.detach().to(at::kCPU).to(wide);
    at::Tensor e = expected.detach().to(at::kCPU).to(wide);
    auto pair = at::broadcast_tensors({a, e});
    a = pair[0];
    e = pair[1];
    const at::Tensor finite = at::isfinite(a).logical_and(at::isfinite(e));
    // A non-finite pair matches only when equal (NaN never does: equal_nan is off, as in torch).
    m.nonfinite_mismatch = finite.logical_not().logical_and(a.ne(e)).any().item<bool>();
    m.margin = -kInf;
    if (finite.any().item<bool>()) {
      const at::Tensor diff = (a - e).abs().masked_select(finite);
      const at::Tensor scale = e.abs().masked_select(finite);
      m.max_abs = diff.max().item<double>();
      const at::Tensor nonzero = scale.ne(0);
      if (nonzero.any().item<bool>()) {
        m.max_rel =
            (diff.masked_select(nonzero) / scale.masked_select(nonzero)).max().item<double>();
      }
      m.margin = (diff - (atol + rtol * scale)).max().item<double>();
      m.atol_needed = std::max(0.0, (diff - rtol * scale).max().item<double>());
    }
    if (m.nonfinite_mismatch) m.margin = m.atol_needed = kInf;
    m.passed = !m.nonfinite_mismatch && m.margin <= 0;
  } catch (const std::exception& e) {
    // Shapes that do not broadcast, unsupported dtypes: the assertion fails, it does not crash.
    m.error = e.what();
    m.error = m.error.substr(0, m.error.find('\n'));
    m.passed = false;
    m.margin = m.atol_needed = kInf;
  }
  return m;
}

nlohmann::json capture_line(const std::string& name, const at::Tensor& actual, double rtol,
                            double atol, const CloseMeasurement& m, const CaptureSite& site) {
  nlohmann::json line = {
      {"test", site.test},
      {"site", relative_site_path(site.file) + ":" + std::to_string(site.line)},
      {"api", "flakescope::expect_close"},
      {"name", name},
      {"shape", actual.sizes().vec()},
      {"dtype", dtype_label(actual)},
      {"rtol", rtol},
      {"atol", atol},
      {"max_abs", json_number(m.max_abs)},
      {"max_rel", json_number(m.max_rel)},
      {"margin", json_number(m.margin)},
      {"atol_needed", json_number(m.atol_needed)},
      {"nonfinite_mismatch", m.nonfinite_mismatch},
      {"passed", m.passed},
      {"seed", seed_from_environment()},
      {"repeat", 0},
  };
  if (!m.error.empty()) line["error"] = m.error;
  return line;
}

bool expect_close(const std::string& name, const at::Tensor& actual, const at::Tensor& expected,
                  double rtol, double atol, const CaptureSite& site) {
  const CloseMeasurement m = measure_close(actual, expected, rtol, atol);
  const char* path = std::getenv("FLAKESCOPE_CAPTURE");
  if (path != nullptr && *path != '\0') {
    append_line(path, capture_line(name, actual, rtol, atol, m, site).dump());
  }
  return m.passed;
}

}  // namespace flakescope
