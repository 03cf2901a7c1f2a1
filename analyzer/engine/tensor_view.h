#pragma once
// The LibTorch edge of the metrics: tensors become contiguous host buffers (TensorView) here and
// nowhere else.
#include <ATen/core/Tensor.h>

#include <optional>

#include "core/dtype.h"
#include "core/output_metrics.h"

namespace flakescope {

std::optional<DType> to_dtype(c10::ScalarType t);
std::optional<c10::ScalarType> to_scalar_type(DType t);

// A host view of `t`. `holder` keeps the contiguous CPU copy alive while the view is used.
// Throws InputError for dtypes flakescope cannot compare (complex, quantized).
TensorView host_view(const at::Tensor& t, at::Tensor& holder);

}  // namespace flakescope
