#include "cli/probe_options.h"

#include <boost/program_options.hpp>

#include "cli/command_line.h"
#include "core/dtype.h"
#include "core/run_count.h"
#include "engine/tensor_view.h"
#include "flakescope/error.h"

#include <iomanip>
#include <sstream>

namespace po = boost::program_options;

namespace flakescope::cli {

void add_target_options(po::options_description& desc, ProbeTargetOptions& o) {
  // clang-format off
  desc.add_options()
      ("runs", defaulted(&o.runs),
       "runs per setting: N, or 'auto' (adaptive: stop when the measurement is stable)")
      ("max-runs", po::value(&o.max_runs),
       ("cap for --runs auto (default " + std::to_string(kDefaultMaxRuns) + "; auto runs " +
        std::to_string(auto_schedule(RunCountUse::kProbe).min_runs) + ", then batches of " +
        std::to_string(auto_schedule(RunCountUse::kProbe).batch) +
        " until the --target bound of every output moves less than 10% between batches)")
           .c_str())
      ("target", defaulted(&o.target),
       "per-run failure rate the recommended tolerances keep to (--runs auto stabilizes that bound)")
      ("confidence", defaulted(&o.confidence),
       "confidence of the recommendations")
      ("threads", po::value(&o.threads),
       "intra-op thread counts, e.g. 1,2: the first is used when the threads knob is controlled, "
       "all in turn when it is free (default: current count, 1, hardware threads)")
      ("dtype", defaulted(&o.dtype),
       "dtype of probe inputs: float32, float64, float16, bfloat16")
      ("device", defaulted(&o.device), "cpu or cuda")
      ("input-shape", po::value(&o.input_shape),
       "input shape for a TorchScript model, e.g. 4,3,32,32")
      ("input-dtype", defaulted(&o.input_dtype),
       "input dtype for a TorchScript model")
      ("seed", defaulted(&o.seed),
       "seed for inputs and for the controlled generator")
      ("train-steps", defaulted(&o.train_steps),
       "SGD steps for models in train mode")
      ("expected", po::value(&o.expected),
       "a tensor file (safetensors, .npy, torch.save) with the expected outputs, matched by name "
       "(a single tensor matches a single output): deviations are measured against it instead of "
       "the first run");
  // clang-format on
}

std::vector<std::int64_t> parse_int_list(const std::string& text, const std::string& what,
                                         std::int64_t min_value) {
  std::vector<std::int64_t> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t end = text.find_first_of(",x", start);
    if (end == std::string::npos) end = text.size();
    const std::string part = text.substr(start, end - start);
    std::size_t used = 0;
    long long v = 0;
    try {
      v = std::stoll(part, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (part.empty() || used != part.size() || v < min_value || v > (1LL << 40))
      throw InputError("bad " + what + " '" + text +
                       "': expected comma-separated integers >= " + std::to_string(min_value));
    out.push_back(v);
    start = end + 1;
  }
  return out;
}

namespace {
c10::ScalarType scalar_type_option(const std::string& name, const std::string& option) {
  auto d = parse_dtype(name);
  auto st = d ? to_scalar_type(*d) : std::nullopt;
  if (!st)
    throw InputError("unknown " + option + " '" + name +
                     "' (float32, float64, float16, bfloat16, int64, ...)");
  return *st;
}
}  // namespace

ProbeRunOptions to_run_options(const ProbeTargetOptions& o) {
  ProbeRunOptions r;
  r.count = parse_run_count(
      o.runs, o.max_runs.empty() ? std::nullopt : std::optional<std::string>(o.max_runs),
      RunCountUse::kProbe);
  if (!(o.target > 0 && o.target < 1)) throw InputError("--target must be in (0, 1)");
  if (!(o.confidence > 0 && o.confidence < 1)) throw InputError("--confidence must be in (0, 1)");
  r.target = o.target;
  r.confidence = o.confidence;
  if (!o.threads.empty())
    for (auto t : parse_int_list(o.threads, "--threads", 1)) {
      if (t > 1024) throw InputError("--threads value " + std::to_string(t) + " is too large");
      r.threads.push_back(static_cast<int>(t));
    }
  r.probe.dtype = scalar_type_option(o.dtype, "--dtype");
  if (!at::isFloatingType(r.probe.dtype))
    throw InputError("--dtype must be a floating type (float32, float64, float16, bfloat16)");
  r.probe.input_dtype = scalar_type_option(o.input_dtype, "--input-dtype");
  if (o.device == "cpu")
    r.probe.device = c10::Device(c10::kCPU);
  else if (o.device == "cuda")
    r.probe.device = c10::Device(c10::kCUDA, 0);
  else
    throw InputError("unknown --device '" + o.device + "' (cpu or cuda)");
  if (!o.input_shape.empty())
    r.probe.input_shape = parse_int_list(o.input_shape, "--input-shape", 1);
  r.probe.seed = o.seed;
  if (o.train_steps < 1 || o.train_steps > 100000)
    throw InputError("--train-steps must be in 1..100000");
  r.probe.train_steps = o.train_steps;
  r.expected_path = o.expected;
  return r;
}

namespace {
// Shortest text that reads back as the same double.
std::string exact(double v) {
  std::ostringstream s;
  s << std::setprecision(17) << v;
  return s.str();
}
}  // namespace

std::vector<std::string> to_worker_args(const ProbeTargetOptions& o) {
  std::vector<std::string> a = {"--runs",        o.runs,
                                "--target",      exact(o.target),
                                "--confidence",  exact(o.confidence),
                                "--dtype",       o.dtype,
                                "--device",      o.device,
                                "--input-dtype", o.input_dtype,
                                "--seed",        std::to_string(o.seed),
                                "--train-steps", std::to_string(o.train_steps)};
  if (!o.max_runs.empty()) a.insert(a.end(), {"--max-runs", o.max_runs});
  if (!o.threads.empty()) a.insert(a.end(), {"--threads", o.threads});
  if (!o.input_shape.empty()) a.insert(a.end(), {"--input-shape", o.input_shape});
  if (!o.expected.empty()) a.insert(a.end(), {"--expected", o.expected});
  return a;
}

bool operator==(const ProbeTargetOptions& a, const ProbeTargetOptions& b) {
  return a.runs == b.runs && a.max_runs == b.max_runs && a.target == b.target &&
         a.confidence == b.confidence && a.threads == b.threads && a.dtype == b.dtype &&
         a.device == b.device && a.input_shape == b.input_shape && a.input_dtype == b.input_dtype &&
         a.seed == b.seed && a.train_steps == b.train_steps && a.expected == b.expected;
}

}  // namespace flakescope::cli
