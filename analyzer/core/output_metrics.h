#pragma once
// Streaming variance metrics for one output of one probe under one setting.
//
// Runs are fed one at a time as plain host buffers (the LibTorch edge converts tensors), so this is
// testable on hand-built vectors. Memory is independent of the number of runs: the first run is
// kept as the reference, per-element Welford state is allocated only once a run differs, and
// distinct outputs are counted by hash. Only a few scalars per run are kept: the deviation samples
// the statistics work on.
#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_set>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "core/dtype.h"

namespace flakescope {

// A contiguous host buffer of `dtype` elements with `shape`.
struct TensorView {
  DType dtype = DType::kFloat32;
  std::vector<std::int64_t> shape;
  const void* data = nullptr;

  std::size_t numel() const;
  std::size_t nbytes() const { return numel() * dtype_size(dtype); }
};

// One scalar per run after the first, measured against the first run.
struct DeviationSamples {
  std::vector<double> abs;           // max |a - e|
  std::vector<double> rel;           // max |a - e| / |e| over elements with e != 0
  std::vector<double> ulp;           // max ULP distance
  std::vector<double> atol_at_rtol;  // max(0, max |a - e| - rtol |e|): the atol a test needs
                                     // on top of the dtype's default rtol
};

struct OutputMetrics {
  std::string name;
  DType dtype = DType::kFloat32;
  std::vector<std::int64_t> shape;
  std::size_t runs = 0;
  std::size_t identical_to_first = 0;  // runs bitwise identical to the first (the first included)
  std::size_t distinct_outputs = 0;    // by hash of the bytes
  bool distinct_capped = false;        // stopped counting at kMaxDistinct
  double max_abs_dev = 0;
  double max_rel_dev = 0;
  double max_ulp = 0;
  double max_cosine_distance = 0;
  double std_max = 0;         // per-element standard deviation across runs: the largest
  double std_mean = 0;        // and the mean over elements
  std::size_t nan_first = 0;  // NaN / Inf elements in the first run
  std::size_t inf_first = 0;
  std::size_t nonfinite_mismatch_runs = 0;  // runs whose NaN/Inf positions differ from the first
  std::size_t shape_changes = 0;            // runs whose shape or dtype differ from the first
  double rtol_for_margin = 0;               // the rtol used for `atol_at_rtol`
  DeviationSamples samples;

  bool bitwise_deterministic() const { return runs > 0 && identical_to_first == runs; }
};

nlohmann::json to_json(const OutputMetrics& m, bool with_samples = true);

class OutputAccumulator {
 public:
  static constexpr std::size_t kMaxDistinct = 4096;

  explicit OutputAccumulator(std::string name);
  // Measure deviations against a stored expected tensor (probe --expected) instead of the first
  // run; bitwise identity is still judged against the first run. Call before the first add().
  // Throws InputError when shape or dtype cannot match later runs' (checked at each add).
  void set_expected(const TensorView& expected);
  void add(const TensorView& run);
  // Final values (per-element std is computed on demand from the Welford state).
  OutputMetrics metrics() const;

 private:
  OutputMetrics m_;
  struct Deviation {
    double abs = 0, rel = 0, ulp = 0, margin = 0, cosine = 0;
    bool nonfinite_mismatch = false;
  };
  Deviation deviation(const TensorView& run, const unsigned char* ref_bytes,
                      const std::vector<double>& ref_values) const;
  void record(const Deviation& d);
  void count_distinct(const TensorView& run);
  void add_first(const TensorView& run, bool comparable_to_expected);
  void add_differing(const TensorView& run, double count);
  void update_spread(const double* values, double count);

  std::vector<unsigned char> ref_bytes_;
  std::vector<double> ref_values_;
  // probe --expected: the reference for deviations, and the first run's deviation from it (reused
  // for runs bitwise identical to the first).
  bool has_expected_ = false;
  std::vector<unsigned char> expected_bytes_;
  std::vector<double> expected_values_;
  std::vector<std::int64_t> expected_shape_;
  DType expected_dtype_ = DType::kFloat32;
  Deviation first_deviation_;
  // Welford state, allocated at the first run that differs from the reference.
  std::vector<double> mean_, m2_;
  std::vector<double> run_values_;  // the decoded run, reused across add_differing calls
  std::unordered_set<std::uint64_t> hashes_;
};

}  // namespace flakescope
