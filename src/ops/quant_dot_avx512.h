// The entry points of quant_dot_avx512.cpp, the one file built with AVX-512 enabled. Internal to
// ops/quant_dot.cpp (callers go through quant_dot_rows_isa / quant_dot_rows_q8act, which call
// these only where the CPU has AVX-512 F/BW/VL and VNNI). Declarations only: nothing here may be
// compiled with AVX-512 into code the rest of libtuna shares.
#pragma once

#include <cstdint>

namespace tuna {

// False when the compiler could not build the AVX-512 kernels (the functions below are no-ops).
bool quant_dot_avx512_built();
// The F32-activation kernels with 16 lanes; `type` 0 Q8_0, 1 Q5_0, 2 Q4_K, 3 Q6_K.
void quant_dot_rows_avx512(int type, const uint8_t* w, int64_t rows, int64_t I, const float* x,
                           const float* s16, const float* s32, int64_t N, float* y, int64_t ldy);
// The 8-bit-activation kernels with VNNI integer dots.
void quant_dot_rows_vnni(int type, const uint8_t* w, int64_t rows, int64_t I, const int8_t* xq,
                         const float* xd, const int32_t* xs16, const int32_t* xs32, int64_t N,
                         float* y, int64_t ldy);
// The token-lane 8-bit kernels (ops/quant_dot_lanes_kernels.h) with VNNI.
void quant_dot_rows_lanes_vnni(int type, const uint8_t* w, int64_t rows, int64_t I,
                               const int8_t* xq, const float* xd, const float* xds32,
                               const int32_t* xs16, const int32_t* xs32, int64_t N, float* y,
                               int64_t ldy);

}  // namespace tuna
