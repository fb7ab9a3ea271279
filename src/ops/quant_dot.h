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
// AVX-512 (F/BW/VL) where the CPU has it (Q8_0; the other types run their AVX2 kernel).
// quant_dot_rows uses quant_dot_isa(): the widest available, AVX2 when TUNA_NO_AVX512 is set.
// Results differ between kernels in the order of additions only; each is deterministic.
enum class QuantDotIsa : uint8_t { SCALAR, AVX2, AVX512 };
bool quant_dot_isa_available(QuantDotIsa isa);
QuantDotIsa quant_dot_isa();
const char* quant_dot_isa_name(QuantDotIsa isa);
void quant_dot_rows_isa(QuantDotIsa isa, DType t, const uint8_t* w, int64_t rows, int64_t I,
                        const float* x, const ActSums& sums, int64_t N, float* y, int64_t ldy);

}  // namespace tuna
