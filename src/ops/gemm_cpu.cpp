// CPU helpers shared by the matmul-shaped kernels (linear, LoRA, LM head + loss). See gemm_cpu.h.
#include "ops/gemm_cpu.h"

#include <algorithm>

#include "core/memory.h"
#include "ops/dequantize.h"
#include "ops/gemm_bf16.h"

namespace tuna::cpu {

namespace {

// C's rows (by_rows) or columns cut into blocks of `size`, each one single-threaded OpenBLAS call.
void sgemm_in_blocks(bool by_rows, int64_t size, bool trans_a, bool trans_b, int64_t M, int64_t N,
                     int64_t K, float alpha, const float* A, int64_t lda, const float* B,
                     int64_t ldb, float beta, float* C, int64_t ldc) {
  const int64_t n_blocks = ((by_rows ? M : N) + size - 1) / size;
  // Inside an active parallel region the OpenMP OpenBLAS runs each call single-threaded.
#pragma omp parallel for schedule(dynamic)
  for (int64_t blk = 0; blk < n_blocks; ++blk) {
    const int64_t i0 = blk * size;
    if (by_rows) {
      // rows [i0, i0 + m) of C and of op(A)
      const int64_t m = std::min(size, M - i0);
      const float* a = trans_a ? A + i0 : A + i0 * lda;
      sgemm(trans_a, trans_b, m, N, K, alpha, a, lda, B, ldb, beta, C + i0 * ldc, ldc);
    } else {
      // columns [i0, i0 + n) of C and of op(B)
      const int64_t n = std::min(size, N - i0);
      const float* b = trans_b ? B + i0 * ldb : B + i0;
      sgemm(trans_a, trans_b, M, n, K, alpha, A, lda, b, ldb, beta, C + i0, ldc);
    }
  }
}

// About a quarter of `extent`, rounded up to 16 (the kernels' unroll).
int64_t quarter_of(int64_t extent) {
  return ((extent + 3) / 4 + 15) / 16 * 16;
}

}  // namespace

void sgemm_blocked(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
                   const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
                   int64_t ldc) {
  constexpr int64_t kMinRowBlock = 64, kMaxRowBlock = 256, kColumnBlock = 256;
  const bool by_rows = M >= 2 * kMinRowBlock;
  // Row blocks: about a quarter of M, between 64 and 256 rows. Every block packs all of op(B)
  // again, so 64-row blocks of a 1,024-token batch spent ~20 % of SGEMM time packing; 256-row
  // blocks measured 15–25 % faster on the training shapes (2-core Zen 4) while M < 1,024 still
  // gives four blocks to share between threads.
  const int64_t size =
      by_rows ? std::min(kMaxRowBlock, std::max(kMinRowBlock, quarter_of(M))) : kColumnBlock;
  sgemm_in_blocks(by_rows, size, trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

void sgemm_column_blocked(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
                          const float* A, int64_t lda, const float* B, int64_t ldb, float beta,
                          float* C, int64_t ldc) {
  const int64_t size = std::max<int64_t>(256, quarter_of(N));
  sgemm_in_blocks(false, size, trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

namespace {

using SgemmFn = void (*)(bool, bool, int64_t, int64_t, int64_t, float, const float*, int64_t,
                         const float*, int64_t, float, float*, int64_t);

// The one choice between the BF16 product and an F32 one (`f32`: sgemm or a blocked variant).
void bf16_or(bool bf16, SgemmFn f32, bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K,
             float alpha, const float* A, int64_t lda, const float* B, int64_t ldb, float beta,
             float* C, int64_t ldc) {
  if (bf16)
    gemm_bf16(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
  else
    f32(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

}  // namespace

void gemm_as(bool bf16, bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
             const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
             int64_t ldc) {
  bf16_or(bf16, sgemm, trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
          int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  bf16_or(bf16_matmuls(), sgemm, trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

void gemm_blocked(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
                  const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
                  int64_t ldc) {
  bf16_or(bf16_matmuls(), sgemm_blocked, trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C,
          ldc);
}

void gemm_column_blocked(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
                         const float* A, int64_t lda, const float* B, int64_t ldb, float beta,
                         float* C, int64_t ldc) {
  bf16_or(bf16_matmuls(), sgemm_column_blocked, trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb,
          beta, C, ldc);
}

void column_sums(const float* rows, int64_t N, int64_t C, float* out, bool accumulate) {
  constexpr int64_t kColumnBlock = 64;
  const int64_t n_blocks = (C + kColumnBlock - 1) / kColumnBlock;
#pragma omp parallel for schedule(static)
  for (int64_t blk = 0; blk < n_blocks; ++blk) {
    const int64_t c0 = blk * kColumnBlock, c1 = std::min(C, c0 + kColumnBlock);
    float acc[kColumnBlock];
    for (int64_t c = c0; c < c1; ++c) acc[c - c0] = accumulate ? out[c] : 0.0f;
    for (int64_t n = 0; n < N; ++n)
      for (int64_t c = c0; c < c1; ++c) acc[c - c0] += rows[n * C + c];
    for (int64_t c = c0; c < c1; ++c) out[c] = acc[c - c0];
  }
}

void for_each_weight_tile(
    const Tensor& w, int64_t tile_rows,
    const std::function<void(int64_t r0, int64_t r1, const float* tile)>& fn) {
  const int64_t cols = w.dim(-1);
  const int64_t rows = cols == 0 ? 0 : w.numel() / cols;
  tile_rows = std::max<int64_t>(1, std::min(tile_rows, rows));
  if (w.dtype() == DType::F32) {
    for (int64_t r0 = 0; r0 < rows; r0 += tile_rows)
      fn(r0, std::min(rows, r0 + tile_rows), w.data<float>() + r0 * cols);
    return;
  }
  AlignedBuffer scratch = make_aligned_buffer(static_cast<size_t>(tile_rows * cols) * 4);
  float* tile = static_cast<float*>(scratch.get());
  for (int64_t r0 = 0; r0 < rows; r0 += tile_rows) {
    const int64_t r1 = std::min(rows, r0 + tile_rows);
#pragma omp parallel for schedule(static)
    for (int64_t r = r0; r < r1; ++r) dequantize_rows(w, r, r + 1, tile + (r - r0) * cols);
    fn(r0, r1, tile);
  }
}

}  // namespace tuna::cpu
