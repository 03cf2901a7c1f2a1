#include "engine/probe_runner.h"

#include <ATen/Context.h>
#include <c10/util/Exception.h>
#include <torch/version.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <memory>
#include <optional>

#include "core/output_metrics.h"
#include "engine/scoped_setting.h"
#include "engine/tensor_view.h"
#include "engine/torch_save_reader.h"
#include "flakescope/error.h"
#include "stats/adaptive.h"

namespace flakescope {
namespace {

std::string c10_message(const c10::Error& e) {
  return first_line(e.what_without_backtrace());
}

// The expected tensor for output `name` (position `index` of `count`): by name, by position for
// list-like files ("0", "1", ...), and a lone unnamed tensor matches a lone output.
const HostTensor* expected_for(const std::vector<HostTensor>& expected, const std::string& name,
                               std::size_t index, std::size_t count) {
  for (const auto& h : expected)
    if (h.name == name) return &h;
  for (const auto& h : expected)
    if (h.name == std::to_string(index)) return &h;
  if (count == 1 && expected.size() == 1) return &expected.front();
  return nullptr;
}

}  // namespace

nlohmann::json torch_build_context() {
  const bool cuda = at::hasCUDA();
  return {
      {"libtorch", {{"version", TORCH_VERSION}, {"cuda_build_available", cuda}}},
      {"machine", {{"cuda_device", cuda ? nlohmann::json("cuda:0") : nlohmann::json(nullptr)}}}};
}

namespace {

HostTensor host_copy(const TensorView& v) {
  HostTensor h;
  h.dtype = v.dtype;
  h.shape = v.shape;
  const auto* bytes = static_cast<const unsigned char*>(v.data);
  h.data.assign(bytes, bytes + v.nbytes());
  return h;
}

// The first run of this setting against the controlled setting's first run, with the same
// deviation code as run-to-run metrics (an accumulator fed the reference, then this run).
nlohmann::json shift_from(const HostTensor& controlled, const TensorView& run) {
  OutputAccumulator acc("shift");
  acc.add(TensorView{controlled.dtype, controlled.shape, controlled.data.data()});
  acc.add(run);
  const OutputMetrics m = acc.metrics();
  if (m.shape_changes > 0) return {{"comparable", false}};
  return {{"max_abs", m.max_abs_dev},
          {"max_rel", m.max_rel_dev},
          {"max_ulp", m.max_ulp},
          {"identical", m.identical_to_first == 2}};
}

// The outputs of one setting's runs: an accumulator per output (in the order the probe returned
// them), the shifts from the controlled setting, and the --runs auto decision.
class SettingMeasurement {
 public:
  SettingMeasurement(const Setting& setting, const ProbeRunOptions& options,
                     ControlledReference* reference)
      : options_(options), reference_(reference), is_controlled_(setting.name == "controlled") {
    if (!options.expected_path.empty()) expected_ = read_expected_tensors(options.expected_path);
  }

  void add_run(int index, const NamedTensors& outputs) {
    if (index == 0) {
      for (const auto& named : outputs) start_output(named.first, outputs.size());
    } else if (outputs.size() != order_.size()) {
      throw InputError("the probe returned " + std::to_string(outputs.size()) + " outputs in run " +
                       std::to_string(index) + " but " + std::to_string(order_.size()) +
                       " in run 0");
    }
    for (const auto& [name, t] : outputs) {
      auto it = accumulators_.find(name);
      if (it == accumulators_.end())
        throw InputError("output '" + name + "' appeared in run " + std::to_string(index) +
                         " but not in run 0");
      at::Tensor holder;
      const TensorView view = host_view(t, holder);
      it->second.add(view);
      if (index == 0 && reference_) {
        if (is_controlled_) {
          reference_->outputs[name] = host_copy(view);
        } else if (auto ref = reference_->outputs.find(name); ref != reference_->outputs.end()) {
          shifts_[name] = shift_from(ref->second, view);
        }
      }
    }
  }

  // --runs auto, between batches: whether every output's recommended bound is stable.
  bool stable(const stats::AdaptiveStopper& stopper, std::string* reason) const {
    bool all_stable = true;
    for (const auto& name : order_) {
      std::string why;
      const bool ok = stopper.should_stop(accumulators_.at(name).metrics().samples.abs, &why);
      all_stable = all_stable && ok;
      if (!ok || reason->empty()) *reason = name + ": " + why;
    }
    return all_stable;
  }

  // Writes the metrics into `entry`; returns whether every output was bitwise deterministic.
  bool write_metrics(nlohmann::json& entry) const {
    bool deterministic = true;
    for (const auto& name : order_) {
      const OutputMetrics m = accumulators_.at(name).metrics();
      deterministic = deterministic && m.bitwise_deterministic() && m.shape_changes == 0;
      entry["metrics"][name] = to_json(m, options_.keep_samples);
      if (auto sh = shifts_.find(name); sh != shifts_.end())
        entry["metrics"][name]["shift_from_controlled"] = sh->second;
    }
    return deterministic;
  }

 private:
  void start_output(const std::string& name, std::size_t count) {
    order_.push_back(name);
    auto& acc = accumulators_.emplace(name, OutputAccumulator(name)).first->second;
    if (options_.expected_path.empty()) return;
    const HostTensor* h = expected_for(expected_, name, order_.size() - 1, count);
    if (!h)
      throw InputError(options_.expected_path + ": no expected tensor for output '" + name + "'");
    acc.set_expected(TensorView{h->dtype, h->shape, h->data.data()});
  }

  const ProbeRunOptions& options_;
  ControlledReference* reference_;
  bool is_controlled_;
  std::vector<HostTensor> expected_;
  std::vector<std::string> order_;
  std::map<std::string, OutputAccumulator> accumulators_;
  std::map<std::string, nlohmann::json> shifts_;
};

stats::AdaptiveOptions adaptive_options(const ProbeRunOptions& options) {
  stats::AdaptiveOptions a;
  a.min_runs = options.count.min_runs;
  a.batch = std::max<std::size_t>(options.count.batch, 1);
  a.max_runs = options.count.max_runs;
  a.tail.target = options.target;
  a.tail.confidence = options.confidence;
  return a;
}

}  // namespace

nlohmann::json run_probe_setting(const std::string& probe_name, const ProbeFactory& factory,
                                 const Setting& setting, const ProbeRunOptions& options,
                                 const std::function<void(int)>& progress,
                                 ControlledReference* reference) {
  using Clock = std::chrono::steady_clock;
  const auto t0 = Clock::now();
  nlohmann::json entry = setting_json(setting);
  entry["metrics"] = nlohmann::json::object();
  std::optional<SettingMeasurement> measured;
  const RunCount& count = options.count;
  int done = 0;
  std::string error, stop_reason;
  bool unavailable = false;
  try {
    if (options.probe.device.is_cuda() && !at::hasCUDA()) throw UnavailableError("no CUDA device");
    ScopedSetting applied(setting, options.threads);
    measured.emplace(setting, options, reference);
    ProbeContext ctx(options.probe, setting, probe_name);
    std::unique_ptr<Probe> probe = factory(options.probe);
    probe->setup(ctx);
    const stats::AdaptiveStopper stopper(adaptive_options(options));
    const int planned = static_cast<int>(count.adaptive ? count.max_runs : count.runs);
    const int min_runs = static_cast<int>(stopper.options().min_runs);
    const int batch = static_cast<int>(stopper.options().batch);
    for (int i = 0; i < planned; ++i) {
      applied.begin_run(i);
      ctx.begin_run(i);
      measured->add_run(i, probe->run(ctx));
      done = i + 1;
      if (progress) progress(i);
      if (count.adaptive && done >= min_runs && (done - min_runs) % batch == 0 &&
          measured->stable(stopper, &stop_reason))
        break;
      stop_reason.clear();
    }
    if (count.adaptive && stop_reason.empty()) stop_reason = "reached --max-runs";
  } catch (const UnavailableError& e) {
    unavailable = true;
    error = e.what();
  } catch (const c10::Error& e) {
    error = c10_message(e);
  } catch (const std::exception& e) {
    error = first_line(e.what());
  }

  const bool deterministic = !measured || measured->write_metrics(entry);
  entry["runs"] = done;
  if (count.adaptive) {
    entry["adaptive_stop"] = stop_reason;
    entry["adaptive_target"] = options.target;  // the failure rate whose bound was stabilized
  }
  if (unavailable || !error.empty()) {
    entry["verdict"] = unavailable ? "unavailable" : "error";
    entry["error"] = error;
  } else {
    entry["verdict"] = deterministic ? "bitwise-deterministic" : "nondeterministic";
  }
  entry["duration_seconds"] = std::chrono::duration<double>(Clock::now() - t0).count();
  return entry;
}

}  // namespace flakescope
