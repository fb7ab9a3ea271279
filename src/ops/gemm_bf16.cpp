// The BF16 GEMM driver (see gemm_bf16.h): pack op(A) in groups of 12 rows and op(B) in panels of
// 32 columns (BF16 pairs), then compute C in blocks of 96 × 256 across threads, each block in
// passes of 128 k pairs: for a pass, every 32-column panel (16 KiB, in L1) meets every 12-row
// group of the block (in L2).
#include "ops/gemm_bf16.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/error.h"
#include "core/memory.h"
#include "ops/gemm_bf16_avx512.h"

namespace tuna {

namespace {

thread_local bool t_bf16_matmuls = false;

bool cpu_has_avx512_bf16() {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bf16");
#else
  return false;
#endif
}

constexpr int64_t kGroupsPerBlock = 8;  // 96 rows of C
constexpr int64_t kPanelsPerBlock = 8;  // 256 columns of C

}  // namespace

bool bf16_matmul_available() {
  static const bool available = gemm_bf16_avx512_built() && cpu_has_avx512_bf16();
  return available;
}

bool bf16_matmuls() {
  return t_bf16_matmuls;
}

Bf16MatmulScope::Bf16MatmulScope(bool on) : previous_(t_bf16_matmuls) {
  t_bf16_matmuls = on && bf16_matmul_available();
}

Bf16MatmulScope::~Bf16MatmulScope() {
  t_bf16_matmuls = previous_;
}

namespace cpu {

void gemm_bf16(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
               const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
               int64_t ldc) {
  TUNA_ASSERT(bf16_matmul_available(), "gemm_bf16 without AVX512-BF16");
  if (M <= 0 || N <= 0) return;
  if (K <= 0) {
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < N; ++j) C[i * ldc + j] = beta == 0.0f ? 0.0f : beta * C[i * ldc + j];
    return;
  }
  const int64_t KP = (K + 1) / 2;
  const int64_t groups = (M + kBf16MR - 1) / kBf16MR, panels = (N + kBf16NR - 1) / kBf16NR;
  // B panels start on a cache line (the kernel's aligned loads): A's words rounded up to 16.
  const size_t a_words = static_cast<size_t>((groups * KP * kBf16MR + 15) / 16 * 16);
  const size_t b_words = static_cast<size_t>(panels * KP * kBf16NR);
  AlignedBuffer buf = make_aligned_buffer((a_words + b_words) * sizeof(uint32_t));
  uint32_t* pa = static_cast<uint32_t*>(buf.get());
  uint32_t* pb = pa + a_words;
  // op(A)[i, k] = A[i·lda + k] or A[k·lda + i]; op(B)[k, j] = B[k·ldb + j] or B[j·ldb + k].
  const int64_t a_sw = trans_a ? 1 : lda, a_sk = trans_a ? lda : 1;
  const int64_t b_sw = trans_b ? ldb : 1, b_sk = trans_b ? 1 : ldb;
  const int64_t row_blocks = (groups + kGroupsPerBlock - 1) / kGroupsPerBlock;
  const int64_t col_blocks = (panels + kPanelsPerBlock - 1) / kPanelsPerBlock;
#pragma omp parallel if (!omp_in_parallel())
  {
#pragma omp for schedule(dynamic, 4)
    for (int64_t t = 0; t < groups + panels; ++t) {
      if (t < groups) {
        const int64_t i0 = t * kBf16MR;
        bf16_pack(A + i0 * a_sw, a_sw, a_sk, kBf16MR, std::min(kBf16MR, M - i0), K,
                  pa + t * KP * kBf16MR);
      } else {
        const int64_t p = t - groups, j0 = p * kBf16NR;
        bf16_pack(B + j0 * b_sw, b_sw, b_sk, kBf16NR, std::min(kBf16NR, N - j0), K,
                  pb + p * KP * kBf16NR);
      }
    }
#pragma omp for schedule(dynamic)
    for (int64_t blk = 0; blk < row_blocks * col_blocks; ++blk) {
      const int64_t g0 = (blk / col_blocks) * kGroupsPerBlock;
      const int64_t g1 = std::min(groups, g0 + kGroupsPerBlock);
      const int64_t p0 = (blk % col_blocks) * kPanelsPerBlock;
      const int64_t p1 = std::min(panels, p0 + kPanelsPerBlock);
      for (int64_t kp0 = 0; kp0 < KP; kp0 += kBf16KC) {
        const int64_t kp1 = std::min(KP, kp0 + kBf16KC);
        for (int64_t p = p0; p < p1; ++p) {
          const int64_t j0 = p * kBf16NR;
          for (int64_t g = g0; g < g1; ++g) {
            const int64_t i0 = g * kBf16MR;
            bf16_micro(pa + g * KP * kBf16MR, pb + p * KP * kBf16NR, kp0, kp1, C + i0 * ldc + j0,
                       ldc, std::min(kBf16MR, M - i0), std::min(kBf16NR, N - j0), alpha, beta,
                       kp0 == 0);
          }
        }
      }
    }
  }
}

namespace {

// F32 → BF16 → F32 as vcvtne(2)ps2bf16 rounds: nearest even, denormals to (signed) zero, NaN kept.
double to_bf16(float x) {
  uint32_t u;
  std::memcpy(&u, &x, 4);
  if ((u & 0x7F800000u) == 0) u &= 0x80000000u;  // denormal (or zero) → signed zero
  if (std::isnan(x)) return x;
  u += 0x7FFFu + ((u >> 16) & 1u);
  u &= 0xFFFF0000u;
  float r;
  std::memcpy(&r, &u, 4);
  return r;
}

}  // namespace

void gemm_bf16_reference(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
                         const float* A, int64_t lda, const float* B, int64_t ldb, float beta,
                         float* C, int64_t ldc) {
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) {
      double s = 0.0;
      for (int64_t k = 0; k < K; ++k) {
        const float a = trans_a ? A[k * lda + i] : A[i * lda + k];
        const float b = trans_b ? B[j * ldb + k] : B[k * ldb + j];
        s += to_bf16(a) * to_bf16(b);
      }
      const double c = beta == 0.0f ? 0.0 : static_cast<double>(beta) * C[i * ldc + j];
      C[i * ldc + j] = static_cast<float>(alpha * s + c);
    }
}

}  // namespace cpu

}  // namespace tuna
