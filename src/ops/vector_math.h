// Element-wise exp and tanh on 8 lanes at a time (GCC vector extensions: AVX2 on x86-64-v3,
// pairs of NEON registers on aarch64). glibc's expf/tanhf are scalar calls and the compiler
// cannot vectorise them without -ffast-math, which the project never uses; they were 11 % of a
// training step. Every element, tails included, goes through the same lane code, so a value
// gives the same bits wherever it sits and results stay thread-count independent.
// Accuracy (tests/ops/test_vector_math.cpp): exp within 2 ulp of std::exp on [−87, 88] (0 below,
// where e^x < 1.7e-38; +inf above); tanh within 3 ulp of std::tanh. NaN in, NaN out.
// CPU-internal helper, not a dispatched op: lane math for the *_cpu.cpp kernels.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>

namespace tuna::cpu {

using Lanes = float __attribute__((vector_size(32)));       // 8 × F32
using LaneInts = int32_t __attribute__((vector_size(32)));  // 8 × I32
constexpr int64_t kLaneCount = 8;

// e^x: Cody–Waite reduction x = n·ln2 + r (|r| ≤ ln2/2), Cephes expf's degree-6 polynomial for
// e^r, then 2^n built in the exponent bits.
inline Lanes exp_lanes(Lanes x) {
  constexpr float kLog2e = 1.44269504088896341f;
  constexpr float kLn2Hi = 0.693359375f, kLn2Lo = -2.12194440e-4f;
  constexpr float kRound = 12582912.0f;  // 1.5 · 2^23: adding it rounds to an integer
  const Lanes lo = x < -87.0f ? Lanes{} + -87.0f : x;
  const Lanes xc = lo > 88.0f ? Lanes{} + 88.0f : lo;
  const Lanes shifted = xc * kLog2e + kRound;
  const Lanes n = shifted - kRound;  // round(x / ln2) ∈ [−126, 127]
  const LaneInts ni = std::bit_cast<LaneInts>(shifted) - 0x4B400000;  // bits of kRound
  const Lanes r = (xc - n * kLn2Hi) - n * kLn2Lo;
  Lanes p = Lanes{} + 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * (r * r) + r + 1.0f;
  const LaneInts bits = (ni + 127) << 23;  // 2^n, a normal number
  Lanes y = p * std::bit_cast<Lanes>(bits);
  const LaneInts inf_bits = LaneInts{} + 0x7f800000;
  y = x < -87.0f ? Lanes{} : y;
  y = x > 88.0f ? std::bit_cast<Lanes>(inf_bits) : y;
  return x != x ? x : y;
}

// tanh: for |x| < 0.625 Cephes tanhf's odd polynomial x + x³·P(x²); above, sign(x) · (1 − 2 /
// (e^{2|x|} + 1)), which is exactly ±1 for |x| ≳ 9. Both are evaluated and one is selected.
inline Lanes tanh_lanes(Lanes x) {
  const LaneInts sign_bit = LaneInts{} + static_cast<int32_t>(0x80000000u);
  const LaneInts xi = std::bit_cast<LaneInts>(x);
  const LaneInts abs_bits = xi & ~sign_bit;
  const Lanes ax = std::bit_cast<Lanes>(abs_bits);
  const Lanes big = 1.0f - 2.0f / (exp_lanes(2.0f * ax) + 1.0f);
  const LaneInts big_signed = std::bit_cast<LaneInts>(big) | (xi & sign_bit);
  const Lanes s = x * x;
  Lanes p = Lanes{} + -5.70498872745e-3f;
  p = p * s + 2.06390887954e-2f;
  p = p * s + -5.37397155531e-2f;
  p = p * s + 1.33314422036e-1f;
  p = p * s + -3.33332819422e-1f;
  const Lanes small = p * s * x + x;
  return ax < 0.625f ? small : std::bit_cast<Lanes>(big_signed);
}

// Loads / stores n ≤ 8 floats (missing lanes read as 0); a full group is one vector move.
inline Lanes load_lanes(const float* p, int64_t n = kLaneCount) {
  Lanes v = {};
  if (n == kLaneCount)
    std::memcpy(&v, p, sizeof(Lanes));
  else
    std::memcpy(&v, p, static_cast<size_t>(n) * sizeof(float));
  return v;
}

inline void store_lanes(float* p, Lanes v, int64_t n = kLaneCount) {
  if (n == kLaneCount)
    std::memcpy(p, &v, sizeof(Lanes));
  else
    std::memcpy(p, &v, static_cast<size_t>(n) * sizeof(float));
}

// Applies fn (Lanes → Lanes) to in[0, n) into out (may be in), 8 at a time; the tail is padded
// with zeros and goes through the same fn.
template <typename Fn>
inline void map_lanes(const float* in, int64_t n, float* out, Fn fn) {
  int64_t i = 0;
  for (; i + kLaneCount <= n; i += kLaneCount) store_lanes(out + i, fn(load_lanes(in + i)));
  if (i < n) store_lanes(out + i, fn(load_lanes(in + i, n - i)), n - i);
}

// out[v] = e^(z[v] − shift) · weight(z[v]) for v < n (out may be z; weight: Lanes → Lanes);
// returns Σ e^(z[v] − shift) without the weight, summed in 8 lanes then lane by lane: the order
// depends on n only.
template <typename Weight>
inline float exp_shifted_sum_weighted(const float* z, int64_t n, float shift, float* out,
                                      Weight weight) {
  Lanes acc = {};
  int64_t i = 0;
  for (; i + kLaneCount <= n; i += kLaneCount) {
    const Lanes x = load_lanes(z + i);
    const Lanes e = exp_lanes(x - shift);
    store_lanes(out + i, e * weight(x));
    acc += e;
  }
  float s = 0.0f;
  for (int64_t j = 0; j < kLaneCount; ++j) s += acc[j];
  if (i < n) {
    const Lanes x = load_lanes(z + i, n - i);
    const Lanes e = exp_lanes(x - shift);
    store_lanes(out + i, e * weight(x), n - i);
    for (int64_t j = 0; j < n - i; ++j) s += e[j];
  }
  return s;
}

// out[v] = e^(z[v] − shift) (out may be z); returns Σ out[v] as exp_shifted_sum_weighted does.
inline float exp_shifted_sum(const float* z, int64_t n, float shift, float* out) {
  int64_t i = 0;
  Lanes acc = {};
  for (; i + kLaneCount <= n; i += kLaneCount) {
    const Lanes e = exp_lanes(load_lanes(z + i) - shift);
    store_lanes(out + i, e);
    acc += e;
  }
  float s = 0.0f;
  for (int64_t j = 0; j < kLaneCount; ++j) s += acc[j];
  if (i < n) {
    const Lanes e = exp_lanes(load_lanes(z + i, n - i) - shift);
    store_lanes(out + i, e, n - i);
    for (int64_t j = 0; j < n - i; ++j) s += e[j];
  }
  return s;
}

// max over z[0, n) (n ≥ 1); max is exact, so for inputs without NaN this equals the sequential
// max whatever the lane order.
inline float max_of(const float* z, int64_t n) {
  int64_t i = 0;
  float m = z[0];
  if (n >= kLaneCount) {
    Lanes acc = load_lanes(z);
    for (i = kLaneCount; i + kLaneCount <= n; i += kLaneCount) {
      const Lanes v = load_lanes(z + i);
      acc = v > acc ? v : acc;
    }
    for (int64_t j = 0; j < kLaneCount; ++j) m = acc[j] > m ? acc[j] : m;
  }
  for (; i < n; ++i) m = z[i] > m ? z[i] : m;
  return m;
}

}  // namespace tuna::cpu
