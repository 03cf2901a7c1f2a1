// torch.save files via torch::pickle_load. The bytes are size-checked by read_bounded_file before
// LibTorch sees them; every c10::Error (a corrupt zip, a pickle that is not a tensor container, a
// legacy file) becomes one InputError line.
#include "engine/torch_save_reader.h"

#include <torch/csrc/jit/serialization/pickle.h>

#include <cstring>
#include <fstream>

#include "engine/tensor_view.h"
#include "flakescope/error.h"

namespace flakescope {
namespace {

HostTensor to_host(const at::Tensor& t, std::string name, const std::string& path) {
  const auto where = [&] {
    return path + ": " + (name.empty() ? "the tensor" : "tensor '" + name + "'");
  };
  if (t.layout() != c10::kStrided) throw InputError(where() + " is sparse; save it dense");
  if (t.is_quantized()) throw InputError(where() + " is quantized");
  const auto dtype = to_dtype(t.scalar_type());
  if (!dtype) {
    throw InputError(where() + " has unsupported dtype " +
                     std::string(c10::toString(t.scalar_type())));
  }
  if (t.dim() > static_cast<std::int64_t>(kMaxTensorDims)) {
    throw InputError(where() + " has more than " + std::to_string(kMaxTensorDims) + " dimensions");
  }
  const at::Tensor c = t.to(at::kCPU).contiguous();
  HostTensor h;
  h.name = std::move(name);
  h.dtype = *dtype;
  h.shape.assign(c.sizes().begin(), c.sizes().end());
  h.data.resize(static_cast<std::size_t>(c.numel()) * c.element_size());
  if (!h.data.empty()) std::memcpy(h.data.data(), c.data_ptr(), h.data.size());
  return h;
}

std::vector<HostTensor> convert(const c10::IValue& v, const std::string& path) {
  std::vector<HostTensor> out;
  if (v.isTensor()) {
    out.push_back(to_host(v.toTensor(), "", path));
  } else if (v.isTensorList() || v.isList() || v.isTuple()) {
    const std::vector<c10::IValue> items =
        v.isTuple() ? v.toTupleRef().elements().vec() : v.toListRef().vec();
    for (std::size_t i = 0; i < items.size(); ++i) {
      if (!items[i].isTensor()) {
        throw InputError(path + ": element " + std::to_string(i) + " is a " + items[i].tagKind() +
                         ", not a tensor");
      }
      out.push_back(to_host(items[i].toTensor(), std::to_string(i), path));
    }
  } else if (v.isGenericDict()) {
    for (const auto& entry : v.toGenericDict()) {
      if (!entry.key().isString()) {
        throw InputError(path + ": a dict key is a " + entry.key().tagKind() + ", not a string");
      }
      const std::string key = entry.key().toStringRef();
      if (!entry.value().isTensor()) {
        throw InputError(path + ": dict value '" + key + "' is a " + entry.value().tagKind() +
                         ", not a tensor");
      }
      out.push_back(to_host(entry.value().toTensor(), key, path));
    }
  } else {
    throw InputError(path + ": holds a " + v.tagKind() +
                     "; expected a tensor, a list or tuple of tensors, or a dict of str -> tensor");
  }
  return out;
}

}  // namespace

std::vector<HostTensor> read_torch_save(const std::string& path) {
  const std::string bytes = read_bounded_file(path);
  if (bytes.compare(0, 4, std::string("PK\x03\x04", 4)) != 0) {
    throw InputError(path +
                     ": not a torch.save zip archive (legacy pre-1.6 files are not read; "
                     "save with torch.save(..., _use_new_zipfile_serialization=True))");
  }
  c10::IValue value;
  try {
    value = torch::jit::pickle_load(std::vector<char>(bytes.begin(), bytes.end()));
  } catch (const c10::Error& e) {
    throw InputError(path + ": cannot unpickle: " + first_line(e.what_without_backtrace()));
  } catch (const std::exception& e) {
    throw InputError(path + ": cannot unpickle: " + first_line(e.what()));
  }
  return convert(value, path);
}

std::vector<HostTensor> read_expected_tensors(const std::string& path) {
  // Only the first bytes decide the format; read_tensor_file reports a missing or oversized file.
  std::string head(16, '\0');
  std::ifstream in(path, std::ios::binary);
  in.read(head.data(), static_cast<std::streamsize>(head.size()));
  head.resize(static_cast<std::size_t>(in.gcount()));
  if (detect_tensor_file_format(head, path) == TensorFileFormat::kTorchSave) {
    return read_torch_save(path);
  }
  return read_tensor_file(path);
}

}  // namespace flakescope
