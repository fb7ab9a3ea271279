// Dot products of GGUF block-quantized weight rows with F32 activations, straight from the
// blocks (no dequantized copy): the decoding path of linear_forward for Q8_0, Q5_0, Q4_K and
// Q6_K weights. Activations stay F32 (this is the exact path: the per-element values are the
// dequantized weights, only the summation order differs from dequantize-then-dot).
//
// Each block's scale is factored out of its sum: Σ_i (d·q_i − m)·x_i = d·Σ q_i·x_i − m·Σ x_i,
// with the sums of x over 16- and 32-element sub-blocks computed once per call (ActSums). One
// token's result is the same whatever the number of tokens in the call (batch invariance: each
// token has its own accumulators, filled in the same order).
//
// AVX2 + FMA kernels (the build's x86-64-v3 baseline), AVX-512 where the CPU has it, and a
// scalar version with the same factorisation elsewhere and for tests.
#pragma once

#include <cstdint>
#include <vector>

#include "core/dtype.h"

namespace tuna {

// Q8_0, Q5_0, Q4_K, Q6_K.
bool quant_dot_supported(DType t);

// Sums of each token's activations over sub-blocks of 16 and 32 elements: [N, I/16], [N, I/32].
struct ActSums {
  std::vector<float> s16, s32;
};
// x: [N, I] F32, I a multiple of 32.
ActSums act_sums(const float* x, int64_t N, int64_t I);

// y[n·ldy + r] = row r of w · x[n] for rows r in [0, rows), n in [0, N), N <= kQuantDotMaxN.
// `w` points at the first row; rows are `I` elements (whole blocks) each, contiguous.
constexpr int64_t kQuantDotMaxN = 8;
void quant_dot_rows(DType t, const uint8_t* w, int64_t rows, int64_t I, const float* x,
                    const ActSums& sums, int64_t N, float* y, int64_t ldy);

// The kernels: portable scalar code (the reference; where AVX2 is absent), AVX2 + FMA, and
// AVX-512 (F/BW/VL, with VNNI for the file's 8-bit kernels) where the CPU has it.
// quant_dot_rows uses quant_dot_isa(): the widest available, AVX2 when TUNA_NO_AVX512 is set.
// Results differ between kernels in the order of additions only; each is deterministic.
enum class QuantDotIsa : uint8_t { SCALAR, AVX2, AVX512 };
bool quant_dot_isa_available(QuantDotIsa isa);
QuantDotIsa quant_dot_isa();
const char* quant_dot_isa_name(QuantDotIsa isa);
void quant_dot_rows_isa(QuantDotIsa isa, DType t, const uint8_t* w, int64_t rows, int64_t I,
                        const float* x, const ActSums& sums, int64_t N, float* y, int64_t ldy);

// ---- 8-bit activations: the decoding fast path (not the exact path) ---------------------------
// As llama.cpp does: each 32 activations become int8 with one F32 scale (d = max|x| / 127,
// q = x / d rounded to nearest), and each block's dot is an integer dot of the weight quants with
// those int8s (VNNI where the CPU has it). Changes the numerics (the activations are rounded):
// linear_forward takes it for up to kQuantDotMaxN tokens only while an Int8ActivationScope that
// turns it on is alive on the calling thread — generation's decoding steps unless `--exact`
// (docs/generate.md); training, scoring and prefill never do.
bool int8_activations();
class Int8ActivationScope {
 public:
  explicit Int8ActivationScope(bool on);
  ~Int8ActivationScope();
  Int8ActivationScope(const Int8ActivationScope&) = delete;
  Int8ActivationScope& operator=(const Int8ActivationScope&) = delete;

 private:
  bool previous_;
};

struct ActQ8 {
  int64_t N = 0, I = 0;
  std::vector<int8_t> q;        // [N, I]
  std::vector<float> d;         // [N, I/32]
  std::vector<int32_t> s16, s32;  // Σ q over each 16 / 32 elements: [N, I/16], [N, I/32]
};
ActQ8 quantize_act_q8(const float* x, int64_t N, int64_t I);
// Kernels (quant_dot_isa_available): SCALAR (the reference: integer sums, then F32), AVX2
// (maddubs), AVX512 (VNNI).
// y[n·ldy + r] = row r of w · (dequantized) activations of token n0 + n, n in [0, N ≤ 8).
void quant_dot_rows_q8act(QuantDotIsa isa, DType t, const uint8_t* w, int64_t rows, int64_t I,
                          const ActQ8& a, int64_t n0, int64_t N, float* y, int64_t ldy);
// The same with the widest available kernel.
void quant_dot_rows_q8act(DType t, const uint8_t* w, int64_t rows, int64_t I, const ActQ8& a,
                          int64_t n0, int64_t N, float* y, int64_t ldy);

// Several tokens at once, one 32-bit lane each: the 8-bit activations of up to 8 tokens
// interleaved in groups of four (group g = elements 4g..4g+3: token n's four int8s at
// (g·8 + n)·4), so one integer dot with four weight quants broadcast to all lanes serves every
// token, and each block's scales are applied once for all of them. The same rounding of the
// activations as quantize_act_q8; a token's result does not depend on the others in the call,
// but differs from the one-token kernels' in the order of its float additions. Lanes ≥ N hold
// zeros.
struct ActQ8Lanes {
  int64_t N = 0, I = 0;
  std::vector<int8_t> q;          // [I/4][8][4]
  std::vector<float> d;           // [I/32][8]
  std::vector<float> ds32;        // [I/32][8]: d · Σq over the 32 (Q4_K's min term)
  std::vector<int32_t> s16, s32;  // [I/16][8], [I/32][8]: Σq
};
// Tokens [n0, n0 + N) of `a`, N ≤ 8.
ActQ8Lanes act_q8_lanes(const ActQ8& a, int64_t n0, int64_t N);
// y[n·ldy + r] = row r of w · token n's (dequantized) activations, n < a.N. Kernels: SCALAR (the
// reference), AVX2 (maddubs), AVX512 (VNNI on 256-bit registers); all three give the same bits.
void quant_dot_rows_lanes(QuantDotIsa isa, DType t, const uint8_t* w, int64_t rows, int64_t I,
                          const ActQ8Lanes& a, float* y, int64_t ldy);
void quant_dot_rows_lanes(DType t, const uint8_t* w, int64_t rows, int64_t I, const ActQ8Lanes& a,
                          float* y, int64_t ldy);

}  // namespace tuna
