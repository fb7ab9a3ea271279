// CPU linear: OpenBLAS SGEMM on F32 weights; for other formats, rows of W are dequantized in
// tiles (≈ 4 MiB of F32) into scratch and multiplied tile by tile. Bias added last.
#include <cblas.h>

#include <algorithm>
#include <vector>

#include "core/memory.h"
#include "ops/dequantize.h"
#include "ops/linear.h"

namespace tuna::cpu {

static void add_bias(const Tensor& bias, Tensor& y) {
  if (!bias.defined()) return;
  const int64_t N = y.dim(0), O = y.dim(1);
  std::vector<float> b = bias.to_f32_vector();
  float* py = y.data_mut<float>();
#pragma omp parallel for schedule(static)
  for (int64_t n = 0; n < N; ++n)
    for (int64_t o = 0; o < O; ++o) py[n * O + o] += b[static_cast<size_t>(o)];
}

void linear_forward(const Tensor& x, const Tensor& w, const Tensor& bias, Tensor& y,
                    bool transposed) {
  const int64_t N = x.dim(0), I = x.dim(1), O = y.dim(1);
  const float* px = x.data<float>();
  float* py = y.data_mut<float>();
  if (N == 0 || O == 0) return;
  if (w.dtype() == DType::F32) {
    // y[N,O] = x[N,I] · W[O,I]ᵀ   (transposed: W[I,O])
    cblas_sgemm(CblasRowMajor, CblasNoTrans, transposed ? CblasNoTrans : CblasTrans,
                static_cast<int>(N), static_cast<int>(O), static_cast<int>(I), 1.0f, px,
                static_cast<int>(I), w.data<float>(), static_cast<int>(transposed ? O : I), 0.0f,
                py, static_cast<int>(O));
    add_bias(bias, y);
    return;
  }
  const int64_t stored_cols = w.dim(1);  // I, or O when transposed
  // ≈ 4 MiB of F32 per tile: few enough tiles that the per-tile OpenMP region and SGEMM call
  // stay cheap (the tied 262,144-row LM head is 160 tiles), small enough to stay in L2/L3.
  const int64_t tile_rows =
      std::max<int64_t>(1, kLinearTileElements / std::max<int64_t>(1, stored_cols));
  const int64_t stored_rows = w.dim(0);
  AlignedBuffer scratch = make_aligned_buffer(static_cast<size_t>(tile_rows * stored_cols) * 4);
  float* tile = static_cast<float*>(scratch.get());
  for (int64_t r0 = 0; r0 < stored_rows; r0 += tile_rows) {
    const int64_t r1 = std::min(stored_rows, r0 + tile_rows);
    const int64_t rows = r1 - r0;
#pragma omp parallel for schedule(static)
    for (int64_t r = r0; r < r1; ++r) dequantize_rows(w, r, r + 1, tile + (r - r0) * stored_cols);
    if (!transposed) {
      // y[:, r0:r1] = x[N,I] · tile[rows,I]ᵀ
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(N),
                  static_cast<int>(rows), static_cast<int>(I), 1.0f, px, static_cast<int>(I), tile,
                  static_cast<int>(I), 0.0f, py + r0, static_cast<int>(O));
    } else {
      // y[N,O] += x[:, r0:r1] · tile[rows,O]   (K-split over the input dim)
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, static_cast<int>(N),
                  static_cast<int>(O), static_cast<int>(rows), 1.0f, px + r0, static_cast<int>(I),
                  tile, static_cast<int>(O), r0 == 0 ? 0.0f : 1.0f, py, static_cast<int>(O));
    }
  }
  add_bias(bias, y);
}

}  // namespace tuna::cpu
