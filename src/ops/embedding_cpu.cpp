// CPU embedding lookup: each row dequantized straight into the output, then scaled.
#include <omp.h>

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
