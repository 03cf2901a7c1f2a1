#pragma once
// Tensor files from outside (expected outputs for `probe --expected`, `tolerance`, capture):
// safetensors and NumPy .npy, read into plain host buffers without LibTorch. torch.save files need
// LibTorch and live in torch_save_reader.h.
//
// Everything in a file is untrusted: header lengths are checked against the file size, offsets and
// shapes against the data, sizes with checked arithmetic. The readers never allocate more than the
// input size plus a small constant for the tensor data, and header bookkeeping is bounded by the
// header length. Any malformed input throws InputError with one line "<origin>: <problem>".
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/dtype.h"

namespace flakescope {

// One tensor from a file. The bytes are little-endian, C order (row-major), contiguous:
// data.size() == numel * dtype_size(dtype). A bool element is one byte holding 0 or 1.
struct HostTensor {
  std::string name;  // the safetensors key; empty for .npy (one unnamed array per file)
  DType dtype = DType::kFloat32;
  std::vector<std::int64_t> shape;  // empty for a scalar
  std::vector<unsigned char> data;

  std::int64_t numel() const;
};

// Files larger than this are refused before reading: an expected tensor is a test artifact, and a
// bound keeps a mistaken path (a dataset, a disk image) from exhausting memory.
inline constexpr std::uint64_t kMaxTensorFileBytes = std::uint64_t{2} << 30;  // 2 GiB

// Tensors of more dimensions than this are refused (LibTorch kernels handle at most a few dozen).
inline constexpr std::size_t kMaxTensorDims = 64;

// Parse from memory; these are the fuzz entry points. `origin` names the file in error messages.
//
// safetensors: u64 little-endian header length N, N bytes of JSON
//   {"name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}, ...,
//    "__metadata__": {"key": "value"}}
// then the data. Offsets are relative to the data, must lie inside it, must not overlap and must
// cover it without holes; end - begin == numel * dtype size. Dtypes: F64 F32 F16 BF16 I64 I32 I16
// I8 U8 BOOL. Tensors come back in the order of their offsets.
std::vector<HostTensor> parse_safetensors(std::string_view bytes, std::string_view origin);

// .npy format versions 1.0, 2.0 and 3.0: the header dictionary {'descr': ..., 'fortran_order': ...,
// 'shape': (...)} is parsed strictly (exactly those three keys, Python literals only). descr is
// '<' or '>' (or '|' for one-byte types) with f8 f4 f2 i8 i4 i2 i1 u1 b1; big-endian data is
// converted to little-endian and Fortran-order data to C order. The data must be exactly
// numel * itemsize bytes. Returns one tensor with an empty name.
std::vector<HostTensor> parse_npy(std::string_view bytes, std::string_view origin);

enum class TensorFileFormat { kSafetensors, kNpy, kTorchSave };

// The format of a file from its first bytes (`head`: at least the first 16 bytes when the file has
// them), then from the extension of `path` (.safetensors, .npy, .pt, .pth); nullopt when neither
// tells.
std::optional<TensorFileFormat> detect_tensor_file_format(std::string_view head,
                                                          std::string_view path);

// Reads a whole file after checking it is a regular file of at most `max_bytes`. Throws InputError
// naming the file when it is missing, unreadable, or too large.
std::string read_bounded_file(const std::string& path,
                              std::uint64_t max_bytes = kMaxTensorFileBytes);

// Reads a safetensors or .npy file (format by magic bytes, then extension). A torch.save file is
// refused with a hint: it needs read_torch_save (torch_save_reader.h, LibTorch build).
std::vector<HostTensor> read_tensor_file(const std::string& path);

}  // namespace flakescope
