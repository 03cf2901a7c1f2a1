#include "core/output_metrics.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include <nlohmann/json.hpp>

#include "core/hash.h"
#include "core/report.h"
#include "core/ulp.h"
#include "flakescope/error.h"

namespace flakescope {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// Decodes element i of a buffer as double, and measures ULP distance in the buffer's own format.
struct Decoder {
  DType dtype;
  const unsigned char* p;

  double value(std::size_t i) const {
    switch (dtype) {
      case DType::kFloat64: {
        double v;
        std::memcpy(&v, p + 8 * i, 8);
        return v;
      }
      case DType::kFloat32: {
        float v;
        std::memcpy(&v, p + 4 * i, 4);
        return v;
      }
      case DType::kFloat16:
        return half_to_double(bits16(i));
      case DType::kBFloat16:
        return bfloat16_to_double(bits16(i));
      case DType::kInt64: {
        std::int64_t v;
        std::memcpy(&v, p + 8 * i, 8);
        return double(v);
      }
      case DType::kInt32: {
        std::int32_t v;
        std::memcpy(&v, p + 4 * i, 4);
        return v;
      }
      case DType::kInt16: {
        std::int16_t v;
        std::memcpy(&v, p + 2 * i, 2);
        return v;
      }
      case DType::kInt8:
        return static_cast<std::int8_t>(p[i]);
      case DType::kUInt8:
        return p[i];
      case DType::kBool:
        return p[i] != 0;
    }
    return 0;
  }
  std::uint16_t bits16(std::size_t i) const {
    std::uint16_t b;
    std::memcpy(&b, p + 2 * i, 2);
    return b;
  }
};

double ulp_between(const Decoder& a, const Decoder& e, std::size_t i, double av, double ev) {
  switch (a.dtype) {
    case DType::kFloat64:
      return double(ulp_distance(av, ev));
    case DType::kFloat32:
      return double(ulp_distance(float(av), float(ev)));
    case DType::kFloat16:
      return double(ulp_distance_half(a.bits16(i), e.bits16(i)));
    case DType::kBFloat16:
      return double(ulp_distance_bfloat16(a.bits16(i), e.bits16(i)));
    default:
      return std::fabs(av - ev);  // integers: the distance is the difference
  }
}

// Non-finite values are counted on their own (nonfinite_mismatch_runs); the per-element spread is
// measured over finite values, a non-finite one standing in as the first run's (or 0).
double welford_value(double x, double first) {
  if (std::isfinite(x)) return x;
  return std::isfinite(first) ? first : 0.0;
}

bool same_nonfinite(double a, double e) {
  if (std::isnan(a) && std::isnan(e)) return true;
  return a == e;  // same-signed infinities
}

}  // namespace

std::size_t TensorView::numel() const {
  std::size_t n = 1;
  for (auto d : shape) n *= static_cast<std::size_t>(d < 0 ? 0 : d);
  return n;
}

OutputAccumulator::OutputAccumulator(std::string name) {
  m_.name = std::move(name);
}

void OutputAccumulator::set_expected(const TensorView& expected) {
  if (m_.runs != 0) throw InputError("set_expected after the first run");
  has_expected_ = true;
  expected_dtype_ = expected.dtype;
  expected_shape_ = expected.shape;
  const std::size_t n = expected.numel();
  expected_bytes_.assign(static_cast<const unsigned char*>(expected.data),
                         static_cast<const unsigned char*>(expected.data) + expected.nbytes());
  Decoder d{expected.dtype, expected_bytes_.data()};
  expected_values_.resize(n);
  for (std::size_t i = 0; i < n; ++i) expected_values_[i] = d.value(i);
}

OutputAccumulator::Deviation OutputAccumulator::deviation(
    const TensorView& run, const unsigned char* ref_bytes,
    const std::vector<double>& ref_values) const {
  Decoder a{run.dtype, static_cast<const unsigned char*>(run.data)};
  Decoder e{run.dtype, ref_bytes};
  const double rtol = default_tolerance(run.dtype).rtol;
  Deviation d;
  double dot = 0, na = 0, ne = 0;
  const std::size_t n = run.numel();
  for (std::size_t i = 0; i < n; ++i) {
    const double av = a.value(i);
    const double ev = ref_values[i];
    if (!std::isfinite(av) || !std::isfinite(ev)) {
      if (!same_nonfinite(av, ev)) d.nonfinite_mismatch = true;
      continue;
    }
    const double diff = std::fabs(av - ev);
    d.abs = std::max(d.abs, diff);
    if (ev != 0) d.rel = std::max(d.rel, diff / std::fabs(ev));
    d.margin = std::max(d.margin, diff - rtol * std::fabs(ev));
    if (diff != 0) d.ulp = std::max(d.ulp, ulp_between(a, e, i, av, ev));
    dot += av * ev;
    na += av * av;
    ne += ev * ev;
  }
  d.cosine = (na == 0 && ne == 0)   ? 0.0
             : (na == 0 || ne == 0) ? 1.0
                                    : 1.0 - dot / std::sqrt(na * ne);
  if (d.nonfinite_mismatch) d.abs = d.rel = d.ulp = d.margin = kInf;
  return d;
}

void OutputAccumulator::record(const Deviation& d) {
  m_.max_cosine_distance = std::max(m_.max_cosine_distance, d.cosine);
  m_.max_abs_dev = std::max(m_.max_abs_dev, d.abs);
  m_.max_rel_dev = std::max(m_.max_rel_dev, d.rel);
  m_.max_ulp = std::max(m_.max_ulp, d.ulp);
  m_.samples.abs.push_back(d.abs);
  m_.samples.rel.push_back(d.rel);
  m_.samples.ulp.push_back(d.ulp);
  m_.samples.atol_at_rtol.push_back(d.margin);
}

void OutputAccumulator::add(const TensorView& run) {
  const std::size_t index = m_.runs++;
  // A run bitwise identical to the first has the first run's hash, which is already counted:
  // checked by memcmp first, so a deterministic output is never hashed twice.
  const bool same_as_first = index > 0 && run.dtype == m_.dtype && run.shape == m_.shape &&
                             std::memcmp(run.data, ref_bytes_.data(), run.nbytes()) == 0;
  if (!same_as_first) count_distinct(run);
  const bool comparable_to_expected =
      !has_expected_ || (run.dtype == expected_dtype_ && run.shape == expected_shape_);
  if (index == 0) {
    add_first(run, comparable_to_expected);
  } else if (run.dtype != m_.dtype || run.shape != m_.shape || !comparable_to_expected) {
    // Not comparable element by element: a finding on its own, and a certain failure of any
    // assert_close, so the deviation samples are infinite.
    ++m_.shape_changes;
    Deviation inf;
    inf.abs = inf.rel = inf.ulp = inf.margin = kInf;
    record(inf);
  } else if (same_as_first) {
    ++m_.identical_to_first;
    record(has_expected_ ? first_deviation_ : Deviation{});
    if (!mean_.empty()) update_spread(ref_values_.data(), double(index + 1));
  } else {
    add_differing(run, double(index + 1));
  }
}

void OutputAccumulator::count_distinct(const TensorView& run) {
  if (hashes_.size() < kMaxDistinct) {
    hashes_.insert(hash_bytes(run.data, run.nbytes(), static_cast<std::uint64_t>(run.dtype)));
  } else {
    m_.distinct_capped = true;
  }
}

void OutputAccumulator::add_first(const TensorView& run, bool comparable_to_expected) {
  const std::size_t n = run.numel();
  m_.dtype = run.dtype;
  m_.shape = run.shape;
  m_.rtol_for_margin = default_tolerance(run.dtype).rtol;
  ref_bytes_.assign(static_cast<const unsigned char*>(run.data),
                    static_cast<const unsigned char*>(run.data) + run.nbytes());
  Decoder d{run.dtype, ref_bytes_.data()};
  ref_values_.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    ref_values_[i] = d.value(i);
    if (std::isnan(ref_values_[i]))
      ++m_.nan_first;
    else if (std::isinf(ref_values_[i]))
      ++m_.inf_first;
  }
  m_.identical_to_first = 1;
  if (!has_expected_) return;
  if (!comparable_to_expected) {
    throw InputError("output '" + m_.name + "' is " + std::string(dtype_name(run.dtype)) + " of " +
                     std::to_string(n) + " elements but the expected tensor is " +
                     std::string(dtype_name(expected_dtype_)) + " of " +
                     std::to_string(expected_values_.size()) +
                     " elements (shape and dtype must match)");
  }
  first_deviation_ = deviation(run, expected_bytes_.data(), expected_values_);
  record(first_deviation_);
}

void OutputAccumulator::add_differing(const TensorView& run, double count) {
  const std::size_t n = run.numel();
  if (mean_.empty()) {
    // Every run so far equalled the first: the Welford state is exactly (first run, 0).
    mean_.resize(n);
    for (std::size_t i = 0; i < n; ++i) mean_[i] = welford_value(ref_values_[i], ref_values_[i]);
    m2_.assign(n, 0.0);
  }
  const Deviation d = has_expected_ ? deviation(run, expected_bytes_.data(), expected_values_)
                                    : deviation(run, ref_bytes_.data(), ref_values_);
  if (d.nonfinite_mismatch) ++m_.nonfinite_mismatch_runs;
  record(d);
  Decoder a{run.dtype, static_cast<const unsigned char*>(run.data)};
  std::vector<double>& values = run_values_;
  values.resize(n);
  for (std::size_t i = 0; i < n; ++i) values[i] = a.value(i);
  update_spread(values.data(), count);
}

// One Welford step per element; `count` is the number of runs including this one.
void OutputAccumulator::update_spread(const double* values, double count) {
  for (std::size_t i = 0; i < mean_.size(); ++i) {
    const double x = welford_value(values[i], ref_values_[i]);
    const double delta = x - mean_[i];
    mean_[i] += delta / count;
    m2_[i] += delta * (x - mean_[i]);
  }
}

OutputMetrics OutputAccumulator::metrics() const {
  OutputMetrics out = m_;
  out.distinct_outputs = hashes_.size();
  // Hash collisions aside, a non-identical run is a distinct output: never report fewer.
  if (out.identical_to_first < out.runs && out.distinct_outputs < 2) out.distinct_outputs = 2;
  if (!m2_.empty() && out.runs > 1) {
    double sum = 0;
    for (double v : m2_) {
      const double sd = std::sqrt(std::max(0.0, v / double(out.runs - 1)));
      out.std_max = std::max(out.std_max, sd);
      sum += sd;
    }
    out.std_mean = sum / double(m2_.size());
  }
  return out;
}

namespace {
nlohmann::json sample_array(const std::vector<double>& v) {
  auto arr = nlohmann::json::array();
  for (double x : v) arr.push_back(json_number(x));
  return arr;
}
}  // namespace

nlohmann::json to_json(const OutputMetrics& m, bool with_samples) {
  nlohmann::json j = {
      {"dtype", std::string(dtype_name(m.dtype))},
      {"shape", m.shape},
      {"runs", m.runs},
      {"bitwise_identical_runs", m.identical_to_first},
      {"identical_to_first", m.runs ? double(m.identical_to_first) / double(m.runs) : 0.0},
      {"distinct_outputs", m.distinct_outputs},
      {"distinct_outputs_capped", m.distinct_capped},
      {"max_abs_dev", json_number(m.max_abs_dev)},
      {"max_rel_dev", json_number(m.max_rel_dev)},
      {"max_ulp", json_number(m.max_ulp)},
      {"max_cosine_distance", m.max_cosine_distance},
      {"std_max", m.std_max},
      {"std_mean", m.std_mean},
      {"nan_first_run", m.nan_first},
      {"inf_first_run", m.inf_first},
      {"nonfinite_positions_stable", m.nonfinite_mismatch_runs == 0},
      {"nonfinite_mismatch_runs", m.nonfinite_mismatch_runs},
      {"shape_or_dtype_changes", m.shape_changes},
      {"rtol_for_margin", m.rtol_for_margin},
  };
  if (with_samples) {
    j["samples"] = {{"abs", sample_array(m.samples.abs)},
                    {"rel", sample_array(m.samples.rel)},
                    {"ulp", sample_array(m.samples.ulp)},
                    {"atol_at_rtol", sample_array(m.samples.atol_at_rtol)}};
  }
  return j;
}

}  // namespace flakescope
