// The AVX-512 quantized row dots: ops/quant_dot_kernels.h with 16 lanes. The one libtuna file
// built with AVX-512 enabled (src/CMakeLists.txt); quant_dot.cpp calls it only on CPUs that have
// AVX-512 F/BW/VL (and VNNI for the 8-bit-activation kernels). It includes nothing but the
// kernels header (and the declarations of its own entry points), whose code has internal linkage.
#include "ops/quant_dot_avx512.h"

#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VL__) && \
    defined(__AVX512VNNI__) && defined(__FMA__) && defined(__F16C__)
// GCC 12's AVX-512 headers trip -Wmaybe-uninitialized (their _mm512_undefined_* helpers).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include "ops/quant_dot_kernels.h"
#include "ops/quant_dot_lanes_kernels.h"

namespace tuna {
bool quant_dot_avx512_built() {
  return true;
}
void quant_dot_rows_avx512(int type, const uint8_t* w, int64_t rows, int64_t I, const float* x,
                           const float* s16, const float* s32, int64_t N, float* y, int64_t ldy) {
  qdot::rows<qdot::V16>(type, w, rows, I, x, s16, s32, N, y, ldy);
}
void quant_dot_rows_vnni(int type, const uint8_t* w, int64_t rows, int64_t I, const int8_t* xq,
                         const float* xd, const int32_t* xs16, const int32_t* xs32, int64_t N,
                         float* y, int64_t ldy) {
  qdot::rows_i8<qdot::DotVnni>(type, w, rows, I, xq, xd, xs16, xs32, N, y, ldy);
}
void quant_dot_rows_lanes_vnni(int type, const uint8_t* w, int64_t rows, int64_t I,
                               const int8_t* xq, const float* xd, const float* xds32,
                               const int32_t* xs16, const int32_t* xs32, int64_t N, float* y,
                               int64_t ldy) {
  qdot::rows_lanes<qdot::LanesVnni>(type, w, rows, I, xq, xd, xds32, xs16, xs32, N, y, ldy);
}
}  // namespace tuna
#pragma GCC diagnostic pop

#else

namespace tuna {
bool quant_dot_avx512_built() {
  return false;
}
void quant_dot_rows_avx512(int, const uint8_t*, int64_t, int64_t, const float*, const float*,
                           const float*, int64_t, float*, int64_t) {}
void quant_dot_rows_vnni(int, const uint8_t*, int64_t, int64_t, const int8_t*, const float*,
                         const int32_t*, const int32_t*, int64_t, float*, int64_t) {}
void quant_dot_rows_lanes_vnni(int, const uint8_t*, int64_t, int64_t, const int8_t*, const float*,
                               const float*, const int32_t*, const int32_t*, int64_t, float*,
                               int64_t) {}
}  // namespace tuna

#endif
