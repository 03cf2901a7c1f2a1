#pragma once
// torch.save files (the zip format PyTorch writes since 1.6), read with LibTorch's
// torch::pickle_load. Declared apart from tensor_file.h because it needs the LibTorch build
// (flakescope_engine); the safetensors and .npy readers do not.
#include <string>
#include <vector>

#include "io/tensor_file.h"

namespace flakescope {

// Accepts a tensor (one HostTensor named ""), a list or tuple of tensors (named "0", "1", ...) or a
// dict of str -> tensor (named by key, in the dict's order). Tensors come back contiguous, on the
// host, little-endian C order. Anything else (other objects, sparse or quantized tensors,
// unsupported dtypes, legacy non-zip files, a corrupt archive) throws InputError
// "<path>: <problem>". The size limit of read_tensor_file applies.
std::vector<HostTensor> read_torch_save(const std::string& path);

// Any tensor file flakescope reads: safetensors, .npy or torch.save, by magic bytes then extension.
// This is the entry point for `probe --expected FILE`.
std::vector<HostTensor> read_expected_tensors(const std::string& path);

}  // namespace flakescope
