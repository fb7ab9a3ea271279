// CPU-internal helpers for the *_cpu.cpp kernels (not dispatched ops): tiled row access to
// weights of any format, column sums, and row-major SGEMM with int64 sizes,
// C = alpha·op(A)·op(B) + beta·C, so kernels read as the formula in their shape comments.
// OpenBLAS's level-3 threading splits M and N, not the K reduction, so results do not depend on
// the thread count (the backward thread-count tests check it).
#pragma once

#include <cblas.h>

#include <cstdint>
#include <functional>

#include "core/tensor.h"

namespace tuna::cpu {

inline void sgemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
                  const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
                  int64_t ldc) {
  if (M == 0 || N == 0) return;
  cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
              trans_b ? CblasTrans : CblasNoTrans, static_cast<int>(M), static_cast<int>(N),
              static_cast<int>(K), alpha, A, static_cast<int>(lda), B, static_cast<int>(ldb), beta,
              C, static_cast<int>(ldc));
}

// sgemm split into output blocks fixed by the shape (blocks of 64–256 rows when M ≥ 128, else
// 256-column blocks), each computed by one single-threaded OpenBLAS call inside an OpenMP loop:
// every element comes out of the same call whatever the thread count, so results are bit-identical.
void sgemm_blocked(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
                   const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
                   int64_t ldc);

// The same with C's columns in about four blocks (≥ 256 columns) whatever M is: for a wide,
// weight-shaped op(B) (an LM-head vocabulary tile) read by many rows, each block packs its part
// of op(B) once instead of once per row block (op(A), the smaller operand, is packed per block).
void sgemm_column_blocked(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
                          const float* A, int64_t lda, const float* B, int64_t ldb, float beta,
                          float* C, int64_t ldc);

// The products `bf16: true` computes in BF16 (gemm_bf16.h) go through these: while a
// Bf16MatmulScope is on for the calling thread, gemm_bf16 (threads split C; K in fixed passes);
// otherwise sgemm / sgemm_blocked / sgemm_column_blocked. Both give the same bits for any thread
// count.
void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
          int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc);
void gemm_blocked(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
                  const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
                  int64_t ldc);
void gemm_column_blocked(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
                         const float* A, int64_t lda, const float* B, int64_t ldb, float beta,
                         float* C, int64_t ldc);
// The same choice made by the caller: `bf16` read from its own thread before a parallel region
// whose threads call this (bf16_matmuls() is per thread; OpenMP workers never set it).
void gemm_as(bool bf16, bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
             const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
             int64_t ldc);

// Column sums out[c] (+)= Σ_n rows[n, c] over [N, C] in row order: columns split across threads,
// each column summed by one thread in a fixed order (bit-identical for any thread count).
void column_sums(const float* rows, int64_t N, int64_t C, float* out, bool accumulate);

// Calls fn(r0, r1, tile) for consecutive row ranges of w ([rows, cols], any format) of at most
// tile_rows rows, tile = rows [r0, r1) as F32 [r1 - r0, cols]. F32 weights are passed in place
// (no copy); other formats are dequantized (rows in parallel) into one reused scratch buffer.
void for_each_weight_tile(const Tensor& w, int64_t tile_rows,
                          const std::function<void(int64_t r0, int64_t r1, const float* tile)>& fn);

}  // namespace tuna::cpu
