#pragma once
// The TF32 knob through PyTorch's fp32-precision API where the LibTorch in use has it (2.9 on),
// else through the legacy setAllowTF32CuBLAS/CuDNN. The API has had two C++ spellings
// (setFloat32Precision with strings, then with enums made by at::str2backend/str2op/
// str2precision), so the call is chosen by overload resolution on what compiles, not by a version
// number. Checked: LibTorch 1.13 (legacy), 2.11 on the GPU machine, 2.15 (enums).
#include <ATen/Context.h>

#include <string>

namespace at::flakescope_compat {
// In namespace at so that, where they exist, str2backend & co. are found by ordinary lookup; where
// they do not, the dependent calls below fail substitution instead of compilation.

template <typename S, typename C>
auto set_float32_precision(C& ctx, const S& backend, const S& op, const S& precision, int)
    -> decltype(ctx.setFloat32Precision(str2backend(backend), str2op(op),
                                        str2precision(precision)),
                true) {
  ctx.setFloat32Precision(str2backend(backend), str2op(op), str2precision(precision));
  return true;
}

template <typename S, typename C>
auto set_float32_precision(C& ctx, const S& backend, const S& op, const S& precision, long)
    -> decltype(ctx.setFloat32Precision(backend, op, precision), true) {
  ctx.setFloat32Precision(backend, op, precision);
  return true;
}

template <typename S, typename C>
bool set_float32_precision(C&, const S&, const S&, const S&, ...) {
  return false;
}

// Reads back through the same API: 2.15 refuses the legacy getters once the new setters were used
// ("mix of the legacy and new APIs"). 1 = TF32, 0 = anything else, -1 = no such API here.
template <typename S, typename C>
auto is_tf32(const C& ctx, const S& backend, const S& op, int)
    -> decltype(ctx.float32Precision(str2backend(backend), str2op(op)) ==
                    str2precision(S("tf32")),
                int()) {
  return ctx.float32Precision(str2backend(backend), str2op(op)) == str2precision(S("tf32")) ? 1 : 0;
}

template <typename S, typename C>
auto is_tf32(const C& ctx, const S& backend, const S& op, long)
    -> decltype(ctx.float32Precision(backend, op) == S(), int()) {
  return ctx.float32Precision(backend, op) == S("tf32") ? 1 : 0;
}

template <typename S, typename C>
int is_tf32(const C&, const S&, const S&, ...) {
  return -1;
}

}  // namespace at::flakescope_compat

namespace flakescope {

// TF32 allowed or not for CUDA matmuls (cuBLAS) and convolutions (cuDNN). Returns which API did it.
inline const char* set_cuda_tf32(bool matmul, bool conv) {
  auto& ctx = at::globalContext();
  const std::string cuda = "cuda";
  const bool new_api =
      at::flakescope_compat::set_float32_precision(ctx, cuda, std::string("matmul"),
                                                   std::string(matmul ? "tf32" : "ieee"), 0) &&
      at::flakescope_compat::set_float32_precision(ctx, cuda, std::string("conv"),
                                                   std::string(conv ? "tf32" : "ieee"), 0);
  if (new_api) return "fp32-precision";
  ctx.setAllowTF32CuBLAS(matmul);
  ctx.setAllowTF32CuDNN(conv);
  return "legacy";
}

// Whether TF32 is allowed for CUDA matmuls and convolutions, read through the API that sets it.
inline void get_cuda_tf32(bool* matmul, bool* conv) {
  const auto& ctx = at::globalContext();
  const std::string cuda = "cuda";
  const int m = at::flakescope_compat::is_tf32(ctx, cuda, std::string("matmul"), 0);
  const int c = at::flakescope_compat::is_tf32(ctx, cuda, std::string("conv"), 0);
  if (m >= 0 && c >= 0) {
    *matmul = m == 1;
    *conv = c == 1;
    return;
  }
  *matmul = ctx.allowTF32CuBLAS();
  *conv = ctx.allowTF32CuDNN();
}

}  // namespace flakescope
