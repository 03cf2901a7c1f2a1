// The capture's measurement of one compared pair, for the pytest plugin (flakescope_native.py
// loads this library with ctypes). It computes in one pass what the plugin's numpy path
// (flakescope_capture._Totals) computes with a dozen numpy calls: in an audit that path cost
// ~55 us of a small test's ~600 us repetition, most of it interpreter and cache overhead around
// calls on a few hundred elements, not arithmetic.
//
// The numbers are the numpy path's, bit for bit: each element is widened to double exactly
// (float16, bfloat16 and float32 are subsets of double) and combined with the same operations in
// the same order, |a - e|, |e|, rtol * |e|, |a - e| - (atol + rtol * |e|); a maximum is exact in
// any order. Only finite pairs are measured; a pair with a NaN or an infinity on either side
// matches when both sides are equal (or both NaN with equal_nan), as in the numpy path.
//
// Plain C ABI, no dependencies: the library must load into any Python process.

#include <cmath>
#include <cstdint>
#include <cstring>

namespace {

// Element types, as the plugin numbers them.
enum Code : std::int64_t { kFloat64 = 0, kFloat32 = 1, kFloat16 = 2, kBFloat16 = 3 };

struct Half {
  std::uint16_t bits;
};
struct BFloat16 {
  std::uint16_t bits;
};

double widen(double x) {
  return x;
}
double widen(float x) {
  return x;
}

double widen(Half h) {
  const std::uint32_t sign = static_cast<std::uint32_t>(h.bits & 0x8000) << 16;
  const std::uint32_t exponent = (h.bits >> 10) & 0x1f;
  const std::uint32_t mantissa = h.bits & 0x3ff;
  if (exponent == 0) {  // zero or subnormal: mantissa * 2^-24, exact in float
    const float magnitude = static_cast<float>(mantissa) * 5.9604644775390625e-8f;
    return sign ? -magnitude : magnitude;
  }
  // Normal numbers rebias the exponent (15 -> 127); infinities and NaNs keep all ones.
  const std::uint32_t bits =
      sign | (exponent == 31 ? 0x7f800000u : (exponent + 112) << 23) | (mantissa << 13);
  float value;
  std::memcpy(&value, &bits, sizeof value);
  return value;
}

double widen(BFloat16 b) {
  const std::uint32_t wide = static_cast<std::uint32_t>(b.bits) << 16;  // float's top half
  float value;
  std::memcpy(&value, &wide, sizeof value);
  return value;
}

// The four maxima over the finite pairs, and what the plugin needs to combine them. A maximum is
// NaN when one of its values was (numpy.maximum.reduce's rule); only the margin and the atol
// needed can be, and only for a NaN or infinite rtol or atol.
struct Maxima {
  double abs = -HUGE_VAL, rel = -HUGE_VAL, margin = -HUGE_VAL, atol_needed = -HUGE_VAL;
  bool any_finite = false, any_relative = false, nonfinite_mismatch = false;
};

double larger(double so_far, double x) {
  return x > so_far ? x : so_far;
}

struct Tolerances {
  double rtol, atol;
  bool equal_nan;
};

// The pass for the usual pair, every element finite on both sides, with no branch per element
// (the compiler vectorizes it). Returns false, its results unusable, when an element was not.
template <typename A, typename E>
bool measure_all_finite(const A* a, const E* e, std::int64_t n, const Tolerances& t, Maxima& m) {
  double abs = -HUGE_VAL, rel = -HUGE_VAL, margin = -HUGE_VAL, needed = -HUGE_VAL;
  bool not_finite = false, any_relative = false, margin_nan = false, needed_nan = false;
  for (std::int64_t i = 0; i < n; ++i) {
    const double x = widen(a[i]), y = widen(e[i]);
    not_finite |= !(x - x == 0) | !(y - y == 0);  // x - x is NaN for an infinity or a NaN
    const double diff = std::fabs(x - y), scale = std::fabs(y), relative = t.rtol * scale;
    const double over_atol = diff - (t.atol + relative), over_rtol = diff - relative;
    abs = larger(abs, diff);
    any_relative |= scale != 0;
    rel = larger(rel, scale != 0 ? diff / (scale != 0 ? scale : 1.0) : -HUGE_VAL);
    margin = larger(margin, over_atol);
    needed = larger(needed, over_rtol);
    margin_nan |= over_atol != over_atol;
    needed_nan |= over_rtol != over_rtol;
  }
  if (not_finite) return false;
  m.abs = abs;
  m.rel = rel;
  m.margin = margin_nan ? std::nan("") : margin;
  m.atol_needed = needed_nan ? std::nan("") : needed;
  m.any_finite = n > 0;
  m.any_relative = any_relative;
  return true;
}

// The general pass: pairs with a NaN or an infinity are matched, not measured.
template <typename A, typename E>
void measure_with_nonfinite(const A* a, const E* e, std::int64_t n, const Tolerances& t,
                            Maxima& m) {
  bool margin_nan = false, needed_nan = false;
  for (std::int64_t i = 0; i < n; ++i) {
    const double x = widen(a[i]), y = widen(e[i]);
    if (std::isfinite(x) && std::isfinite(y)) {
      const double diff = std::fabs(x - y), scale = std::fabs(y), relative = t.rtol * scale;
      const double over_atol = diff - (t.atol + relative), over_rtol = diff - relative;
      m.any_finite = true;
      m.abs = larger(m.abs, diff);
      if (scale != 0) {
        m.any_relative = true;
        m.rel = larger(m.rel, diff / scale);
      }
      m.margin = larger(m.margin, over_atol);
      m.atol_needed = larger(m.atol_needed, over_rtol);
      margin_nan |= std::isnan(over_atol);
      needed_nan |= std::isnan(over_rtol);
    } else if (!(x == y || (t.equal_nan && std::isnan(x) && std::isnan(y)))) {
      m.nonfinite_mismatch = true;
    }
  }
  if (margin_nan) m.margin = std::nan("");
  if (needed_nan) m.atol_needed = std::nan("");
}

template <typename A, typename E>
void measure(const void* a, const void* e, std::int64_t n, const Tolerances& t, Maxima& m) {
  const A* actual = static_cast<const A*>(a);
  const E* expected = static_cast<const E*>(e);
  if (!measure_all_finite(actual, expected, n, t, m)) {
    m = Maxima();
    measure_with_nonfinite(actual, expected, n, t, m);
  }
}

template <typename A>
bool dispatch_expected(std::int64_t code, const void* a, const void* e, std::int64_t n,
                       const Tolerances& t, Maxima& m) {
  switch (code) {
    case kFloat64:
      return measure<A, double>(a, e, n, t, m), true;
    case kFloat32:
      return measure<A, float>(a, e, n, t, m), true;
    case kFloat16:
      return measure<A, Half>(a, e, n, t, m), true;
    case kBFloat16:
      return measure<A, BFloat16>(a, e, n, t, m), true;
  }
  return false;
}

bool dispatch(std::int64_t a_code, std::int64_t e_code, const void* a, const void* e,
              std::int64_t n, const Tolerances& t, Maxima& m) {
  switch (a_code) {
    case kFloat64:
      return dispatch_expected<double>(e_code, a, e, n, t, m);
    case kFloat32:
      return dispatch_expected<float>(e_code, a, e, n, t, m);
    case kFloat16:
      return dispatch_expected<Half>(e_code, a, e, n, t, m);
    case kBFloat16:
      return dispatch_expected<BFloat16>(e_code, a, e, n, t, m);
  }
  return false;
}

}  // namespace

extern "C" {

// One call per compared pair, its arguments packed so that ctypes converts nothing (a call with
// nine typed arguments cost 1.2 us, this one 0.2 us):
//   in[0] address of actual, in[1] its element type, in[2] address of expected, in[3] its type,
//   in[4] element count (both dense, same shape), in[5] equal_nan (0 or 1)
//   io[0] rtol, io[1] atol; on return io[2..5] the largest |a - e|, the largest |a - e| / |e|
//   over |e| != 0, the largest |a - e| - (atol + rtol |e|) (the margin: > 0 fails), the largest
//   |a - e| - rtol |e| (the atol that would pass), each over the finite pairs; io[6] = 1 when no
//   pair is finite, io[7] = 1 when no finite pair has |e| != 0, io[8] = 1 when a non-finite pair
//   does not match.
// A maximum is NaN when one of its values was, as numpy.maximum.reduce's is.
// Returns 0, or -1 for an element type it does not know (io untouched).
int flakescope_measure_pair(const std::int64_t* in, double* io) {
  const Tolerances t{io[0], io[1], in[5] != 0};
  Maxima m;
  if (!dispatch(in[1], in[3], reinterpret_cast<const void*>(in[0]),
                reinterpret_cast<const void*>(in[2]), in[4], t, m))
    return -1;
  io[2] = m.abs;
  io[3] = m.rel;
  io[4] = m.margin;
  io[5] = m.atol_needed;
  io[6] = m.any_finite ? 0.0 : 1.0;
  io[7] = m.any_relative ? 0.0 : 1.0;
  io[8] = m.nonfinite_mismatch ? 1.0 : 0.0;
  return 0;
}

}  // extern "C"
