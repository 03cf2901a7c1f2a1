#include "engine/tensor_view.h"

#include <ATen/ops/contiguous.h>
#include <c10/core/ScalarType.h>

#include "flakescope/error.h"

namespace flakescope {

std::optional<DType> to_dtype(c10::ScalarType t) {
  switch (t) {
    case c10::kDouble: return DType::kFloat64;
    case c10::kFloat: return DType::kFloat32;
    case c10::kHalf: return DType::kFloat16;
    case c10::kBFloat16: return DType::kBFloat16;
    case c10::kLong: return DType::kInt64;
    case c10::kInt: return DType::kInt32;
    case c10::kShort: return DType::kInt16;
    case c10::kChar: return DType::kInt8;
    case c10::kByte: return DType::kUInt8;
    case c10::kBool: return DType::kBool;
    default: return std::nullopt;
  }
}

std::optional<c10::ScalarType> to_scalar_type(DType t) {
  switch (t) {
    case DType::kFloat64: return c10::kDouble;
    case DType::kFloat32: return c10::kFloat;
    case DType::kFloat16: return c10::kHalf;
    case DType::kBFloat16: return c10::kBFloat16;
    case DType::kInt64: return c10::kLong;
    case DType::kInt32: return c10::kInt;
    case DType::kInt16: return c10::kShort;
    case DType::kInt8: return c10::kChar;
    case DType::kUInt8: return c10::kByte;
    case DType::kBool: return c10::kBool;
  }
  return std::nullopt;
}

TensorView host_view(const at::Tensor& t, at::Tensor& holder) {
  auto dtype = to_dtype(t.scalar_type());
  if (!dtype)
    throw InputError(std::string("output dtype ") + c10::toString(t.scalar_type()) +
                     " is not supported (floating, integer and bool outputs are)");
  holder = t.detach();
  if (!holder.device().is_cpu()) holder = holder.cpu();
  holder = holder.contiguous();
  TensorView v;
  v.dtype = *dtype;
  v.shape.assign(holder.sizes().begin(), holder.sizes().end());
  v.data = holder.data_ptr();
  return v;
}

}  // namespace flakescope
