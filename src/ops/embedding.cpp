// Embedding lookup (checks + CPU path; the CUDA path will dispatch here by device).
#include "ops/embedding.h"

#include "core/error.h"
#include "ops/dequantize.h"

namespace tuna {

static void check_ids(const Tensor& table, const std::vector<int32_t>& ids, const char* what) {
  const int64_t V = table.dim(0);
  for (size_t i = 0; i < ids.size(); ++i) {
    if (ids[i] < 0 || ids[i] >= V) {
      throw_user_error("embedding", std::string(what) + " " + std::to_string(ids[i]) +
                                        " at position " + std::to_string(i) +
                                        " is outside the table (size " + std::to_string(V) + ")",
                       "token ids must be in [0, vocab size); check the ids file or tokenizer");
    }
  }
}

void embedding_forward(const Tensor& table, const std::vector<int32_t>& ids, float scale, Tensor& out) {
  TUNA_ASSERT(table.ndim() == 2 && out.ndim() == 2 && out.dtype() == DType::F32, "embedding: shapes");
  TUNA_ASSERT(out.dim(0) == static_cast<int64_t>(ids.size()) && out.dim(1) == table.dim(1),
              "embedding: out is [N, C]");
  check_ids(table, ids, "token id");
  TUNA_ASSERT(table.device() == Device::CPU, "embedding: CPU only in this build");
  const int64_t C = table.dim(1);
  float* po = out.data_mut<float>();
#pragma omp parallel for schedule(static)
  for (int64_t n = 0; n < static_cast<int64_t>(ids.size()); ++n) {
    float* row = po + n * C;
    dequantize_rows(table, ids[static_cast<size_t>(n)], ids[static_cast<size_t>(n)] + 1, row);
    if (scale != 1.0f)
      for (int64_t c = 0; c < C; ++c) row[c] *= scale;
  }
}

void embedding_add_forward(const Tensor& table, const std::vector<int32_t>& positions, Tensor& out) {
  TUNA_ASSERT(table.ndim() == 2 && out.ndim() == 2 && out.dim(1) == table.dim(1) &&
                  out.dim(0) == static_cast<int64_t>(positions.size()),
              "embedding_add: shapes");
  check_ids(table, positions, "position");
  const int64_t C = table.dim(1);
  float* po = out.data_mut<float>();
#pragma omp parallel
  {
    std::vector<float> row(static_cast<size_t>(C));
#pragma omp for schedule(static)
    for (int64_t n = 0; n < static_cast<int64_t>(positions.size()); ++n) {
      dequantize_rows(table, positions[static_cast<size_t>(n)], positions[static_cast<size_t>(n)] + 1, row.data());
      for (int64_t c = 0; c < C; ++c) po[n * C + c] += row[static_cast<size_t>(c)];
    }
  }
}

}  // namespace tuna
