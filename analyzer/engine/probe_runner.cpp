#include "engine/probe_runner.h"

#include <ATen/Context.h>
#include <c10/util/Exception.h>
#include <torch/version.h>

#include <chrono>
#include <map>
#include <memory>

#include "engine/scoped_setting.h"
#include "engine/tensor_view.h"
#include "flakescope/error.h"
#include "flakescope/output_metrics.h"
#include "flakescope/stats/adaptive.h"
#include "flakescope/torch_save_reader.h"

namespace flakescope {
namespace {

std::string c10_message(const c10::Error& e) { return first_line(e.what_without_backtrace()); }

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

nlohmann::json setting_json(const Setting& setting) {
  nlohmann::json knobs = nlohmann::json::object();
  for (Knob k : kAllKnobs)
    knobs[std::string(knob_name(k))] = setting.is_free(k) ? "free" : "controlled";
  return {{"setting", setting.name}, {"knobs", knobs}};
}

nlohmann::json torch_build_context() {
  const bool cuda = at::hasCUDA();
  return {{"libtorch", {{"version", TORCH_VERSION}, {"cuda_build_available", cuda}}},
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

}  // namespace

nlohmann::json run_probe_setting(const std::string& probe_name, const ProbeFactory& factory,
                                 const Setting& setting, const ProbeRunOptions& options,
                                 const std::function<void(int)>& progress,
                                 ControlledReference* reference) {
  const bool is_controlled = setting.name == "controlled";
  std::map<std::string, nlohmann::json> shifts;
  using Clock = std::chrono::steady_clock;
  const auto t0 = Clock::now();
  nlohmann::json entry = setting_json(setting);
  entry["runs"] = 0;
  entry["metrics"] = nlohmann::json::object();

  std::vector<std::string> order;  // output names in the order the probe returned them
  std::map<std::string, OutputAccumulator> accumulators;
  int done = 0;
  std::string error, stop_reason;
  bool unavailable = false;
  try {
    if (options.probe.device.is_cuda() && !at::hasCUDA())
      throw UnavailableError("no CUDA device");
    ScopedSetting applied(setting, options.threads);
    std::vector<HostTensor> expected;
    if (!options.expected_path.empty()) expected = read_expected_tensors(options.expected_path);
    ProbeContext ctx(options.probe, setting, probe_name);
    std::unique_ptr<Probe> probe = factory(options.probe);
    probe->setup(ctx);
    const int planned = options.adaptive ? options.max_runs : options.runs;
    stats::AdaptiveOptions adaptive;
    adaptive.min_runs = static_cast<std::size_t>(options.min_runs);
    adaptive.batch = static_cast<std::size_t>(options.batch);
    adaptive.max_runs = static_cast<std::size_t>(options.max_runs);
    adaptive.tail.target = options.target;
    adaptive.tail.confidence = options.confidence;
    const stats::AdaptiveStopper stopper(adaptive);
    for (int i = 0; i < planned; ++i) {
      applied.begin_run(i);
      ctx.begin_run(i);
      NamedTensors outputs = probe->run(ctx);
      if (i == 0) {
        for (auto& [name, t] : outputs) {
          order.push_back(name);
          auto& acc = accumulators.emplace(name, OutputAccumulator(name)).first->second;
          if (!options.expected_path.empty()) {
            const HostTensor* h = expected_for(expected, name, order.size() - 1, outputs.size());
            if (!h)
              throw InputError(options.expected_path + ": no expected tensor for output '" + name +
                               "'");
            acc.set_expected(TensorView{h->dtype, h->shape, h->data.data()});
          }
        }
      } else if (outputs.size() != order.size()) {
        throw InputError("the probe returned " + std::to_string(outputs.size()) +
                         " outputs in run " + std::to_string(i) + " but " +
                         std::to_string(order.size()) + " in run 0");
      }
      for (auto& [name, t] : outputs) {
        auto it = accumulators.find(name);
        if (it == accumulators.end())
          throw InputError("output '" + name + "' appeared in run " + std::to_string(i) +
                           " but not in run 0");
        at::Tensor holder;
        const TensorView view = host_view(t, holder);
        it->second.add(view);
        if (i == 0 && reference) {
          if (is_controlled) {
            reference->outputs[name] = host_copy(view);
          } else if (auto ref = reference->outputs.find(name); ref != reference->outputs.end()) {
            shifts[name] = shift_from(ref->second, view);
          }
        }
      }
      done = i + 1;
      if (progress) progress(i);
      // --runs auto: between batches, stop once every output's recommended bound is stable.
      if (options.adaptive && done >= options.min_runs && (done - options.min_runs) % options.batch == 0) {
        bool all_stable = true;
        std::string reason;
        for (const auto& name : order) {
          std::string why;
          const bool stable = stopper.should_stop(accumulators.at(name).metrics().samples.abs, &why);
          all_stable = all_stable && stable;
          if (!stable || reason.empty()) reason = name + ": " + why;
        }
        if (all_stable) {
          stop_reason = reason;
          break;
        }
      }
    }
    if (options.adaptive && stop_reason.empty()) stop_reason = "reached --max-runs";
  } catch (const UnavailableError& e) {
    unavailable = true;
    error = e.what();
  } catch (const c10::Error& e) {
    error = c10_message(e);
  } catch (const std::exception& e) {
    error = first_line(e.what());
  }

  bool deterministic = true;
  for (const auto& name : order) {
    const OutputMetrics m = accumulators.at(name).metrics();
    deterministic = deterministic && m.bitwise_deterministic() && m.shape_changes == 0;
    entry["metrics"][name] = to_json(m, options.keep_samples);
    if (auto sh = shifts.find(name); sh != shifts.end())
      entry["metrics"][name]["shift_from_controlled"] = sh->second;
  }
  entry["runs"] = done;
  if (options.adaptive) entry["adaptive_stop"] = stop_reason;
  if (unavailable) {
    entry["verdict"] = "unavailable";
    entry["error"] = error;
  } else if (!error.empty()) {
    entry["verdict"] = "error";
    entry["error"] = error;
  } else {
    entry["verdict"] = deterministic ? "bitwise-deterministic" : "nondeterministic";
  }
  entry["duration_seconds"] = std::chrono::duration<double>(Clock::now() - t0).count();
  return entry;
}

}  // namespace flakescope
