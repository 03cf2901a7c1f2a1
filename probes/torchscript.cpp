// A probe for any TorchScript file: `flakescope probe model.pt --input-shape 4,3,32,32`.
// The module is loaded once per setting; one input of the given shape and dtype is drawn from the
// input generator (standard normal for floating types, integers in [0, 8) otherwise, e.g. token
// ids of a small vocabulary); every run is one forward pass without autograd, in the mode the
// module was saved in (a module saved in training mode keeps its dropout, so the generator knob
// matters for it). Outputs: "out" for a tensor, out0, out1, ... for tuples and lists (nested ones
// flattened depth first), the key for string-keyed dicts.
#include <ATen/core/grad_mode.h>
#include <ATen/ops/randint.h>
#include <ATen/ops/randn.h>
#include <ATen/ops/scalar_tensor.h>
#include <c10/util/Exception.h>
#include <torch/csrc/jit/api/module.h>
#include <torch/csrc/jit/serialization/import.h>

#include <filesystem>
#include <string>
#include <utility>

#include "flakescope/error.h"
#include "flakescope/probe.h"
#include "ops/op_probe.h"

namespace flakescope {
namespace {

// The first line of a c10::Error's message: its what() carries a C++ backtrace after it.
std::string first_line(const std::string& message) {
  return message.substr(0, message.find('\n'));
}

void flatten_outputs(const c10::IValue& value, const std::string& name, NamedTensors& out) {
  if (value.isTensor()) {
    out.emplace_back(name, value.toTensor());
  } else if (value.isTuple() || value.isList()) {
    const std::vector<c10::IValue> items =
        value.isTuple() ? value.toTupleRef().elements().vec() : value.toListRef().vec();
    for (std::size_t i = 0; i < items.size(); ++i) {
      flatten_outputs(items[i],
                      name == "out" ? "out" + std::to_string(i) : name + "." + std::to_string(i),
                      out);
    }
  } else if (value.isGenericDict()) {
    for (const auto& entry : value.toGenericDict()) {
      const std::string key =
          entry.key().isString() ? entry.key().toStringRef() : c10::str(entry.key());
      flatten_outputs(entry.value(), name == "out" ? key : name + "." + key, out);
    }
  } else if (value.isScalar()) {
    out.emplace_back(name, at::scalar_tensor(value.toScalar(), at::TensorOptions(at::kDouble)));
  }
  // Other values (None, strings) carry no numbers to compare and are left out.
}

class TorchScriptProbe final : public Probe {
 public:
  explicit TorchScriptProbe(ProbeOptions options) : path_(options.model_path) {
    if (!std::filesystem::is_regular_file(path_)) {
      throw InputError("TorchScript file not found: " + path_);
    }
    if (options.input_shape.empty()) {
      throw InputError("probing " + path_ + " needs --input-shape (e.g. 4,3,32,32)");
    }
    for (std::int64_t d : options.input_shape) {
      if (d <= 0) throw InputError("--input-shape dimensions must be positive");
    }
    try {
      module_ = torch::jit::load(path_);
    } catch (const c10::Error& e) {
      throw InputError("cannot load TorchScript file " + path_ + ": " + first_line(e.what()));
    }
  }

  void setup(ProbeContext& ctx) override {
    const ProbeOptions& options = ctx.options();
    module_.to(ctx.device());
    at::Generator gen = probes::cpu_input_generator(ctx, 0);
    if (at::isFloatingType(options.input_dtype)) {
      input_ = at::randn(options.input_shape, gen, at::TensorOptions(options.input_dtype));
    } else {
      input_ = at::randint(8, options.input_shape, gen, at::TensorOptions(options.input_dtype));
    }
    input_ = input_.to(ctx.device());
  }

  NamedTensors run(ProbeContext&) override {
    at::NoGradGuard no_grad;
    c10::IValue result;
    try {
      result = module_.forward({input_});
    } catch (const c10::Error& e) {
      throw InputError("running " + path_ + " on an input of the given shape failed: " +
                       first_line(e.what_without_backtrace()));
    }
    NamedTensors outputs;
    flatten_outputs(result, "out", outputs);
    if (outputs.empty()) throw InputError(path_ + " returned no tensors to compare");
    return outputs;
  }

 private:
  std::string path_;
  torch::jit::Module module_;
  at::Tensor input_;
};

}  // namespace

std::unique_ptr<Probe> make_torchscript_probe(const ProbeOptions& options) {
  return std::make_unique<TorchScriptProbe>(options);
}

}  // namespace flakescope
