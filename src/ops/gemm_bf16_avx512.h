// The entry points of gemm_bf16_avx512.cpp, the one file built with AVX512-BF16 enabled. Internal
// to ops/gemm_bf16.cpp (the driver: buffers, blocking, threads), which calls them only where the
// CPU has AVX-512 F/BW/VL and BF16. Declarations only: nothing here may be compiled with AVX-512
// into code the rest of libtuna shares.
//
// Packed operands hold BF16 pairs, one uint32 per (row or column, k pair): the low half the even
// k, the high half the odd one — the operand layout of `vdpbf16ps`. k past K is zero.
//   A group:  MR rows of op(A)    as [KP][MR]  (KP = ⌈K/2⌉)
//   B panel:  NR columns of op(B) as [KP][NR]
#pragma once

#include <cstdint>

namespace tuna {

constexpr int64_t kBf16MR = 12;  // rows of C per micro-kernel
constexpr int64_t kBf16NR = 32;  // columns of C per micro-kernel (two 16-lane vectors)
constexpr int64_t kBf16KC = 128; // k pairs per pass (a 16 KiB B micro-panel stays in L1)

// False when the compiler could not build the kernels (the functions below are no-ops).
bool gemm_bf16_avx512_built();

// Packs `width` (MR or NR) rows/columns of an F32 operand, `valid` ≤ width of them real (the rest
// zero), K deep: element (w, k) is src[w * stride_w + k * stride_k]; one of the strides is 1.
// Rounded to BF16 to nearest even (the instruction's rounding; denormals become zero).
void bf16_pack(const float* src, int64_t stride_w, int64_t stride_k, int64_t width, int64_t valid,
               int64_t K, uint32_t* out);

// C[m_valid, n_valid] (ldc) from one packed A group and one packed B panel, k pairs [kp0, kp1):
// first pass: C = alpha · Σ + beta · C (C not read when beta is 0); later passes: C += alpha · Σ.
void bf16_micro(const uint32_t* a, const uint32_t* b, int64_t kp0, int64_t kp1, float* c,
                int64_t ldc, int64_t m_valid, int64_t n_valid, float alpha, float beta,
                bool first);

}  // namespace tuna
