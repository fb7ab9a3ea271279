// CPU embedding lookup: each row dequantized straight into the output, then scaled.
#include <omp.h>

#include <algorithm>
#include <vector>

#include "ops/dequantize.h"
#include "ops/embedding.h"

namespace tuna::cpu {

void embedding_forward(const Tensor& table, const std::vector<int32_t>& ids, float scale,
                       Tensor& out) {
  const int64_t C = table.dim(1);
  float* po = out.data_mut<float>();
#pragma omp parallel for schedule(static)
  for (int64_t n = 0; n < static_cast<int64_t>(ids.size()); ++n) {
    float* row = po + n * C;
    const int32_t id = ids[static_cast<size_t>(n)];
    dequantize_rows(table, id, id + 1, row);
    if (scale != 1.0f)
      for (int64_t c = 0; c < C; ++c) row[c] *= scale;
  }
}

void embedding_backward(const std::vector<int32_t>& ids, const Tensor& dy, float scale,
                        Tensor& dtable, int32_t padding_idx) {
  constexpr int64_t kColumnBlock = 64;
  const int64_t C = dtable.dim(1), N = static_cast<int64_t>(ids.size());
  const int64_t n_blocks = (C + kColumnBlock - 1) / kColumnBlock;
  const float* pdy = dy.data<float>();
  float* pw = dtable.data_mut<float>();
#pragma omp parallel for schedule(static)
  for (int64_t blk = 0; blk < n_blocks; ++blk) {
    const int64_t c0 = blk * kColumnBlock, c1 = std::min(C, c0 + kColumnBlock);
    for (int64_t n = 0; n < N; ++n) {
      if (ids[static_cast<size_t>(n)] == padding_idx) continue;
      float* row = pw + static_cast<int64_t>(ids[static_cast<size_t>(n)]) * C;
      for (int64_t c = c0; c < c1; ++c) row[c] += scale * pdy[n * C + c];
    }
  }
}

void embedding_add_forward(const Tensor& table, const std::vector<int32_t>& positions,
                           Tensor& out) {
  const int64_t C = table.dim(1);
  float* po = out.data_mut<float>();
  // Scratch allocated before the parallel region: nothing may throw inside it.
  const int threads = omp_get_max_threads();
  std::vector<float> scratch(static_cast<size_t>(threads) * static_cast<size_t>(C));
#pragma omp parallel num_threads(threads)
  {
    float* row =
        scratch.data() + static_cast<size_t>(omp_get_thread_num()) * static_cast<size_t>(C);
#pragma omp for schedule(static)
    for (int64_t n = 0; n < static_cast<int64_t>(positions.size()); ++n) {
      const int32_t p = positions[static_cast<size_t>(n)];
      dequantize_rows(table, p, p + 1, row);
      for (int64_t c = 0; c < C; ++c) po[n * C + c] += row[c];
    }
  }
}

}  // namespace tuna::cpu
