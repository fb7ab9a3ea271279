// Embedding lookup: id checks and device dispatch.
#include "ops/embedding.h"

#include "core/error.h"
#include "ops/dequantize.h"
#include "ops/dispatch.h"

namespace tuna {

static void check_ids(const Tensor& table, const std::vector<int32_t>& ids, const char* what) {
  const int64_t V = table.dim(0);
  for (size_t i = 0; i < ids.size(); ++i) {
    if (ids[i] < 0 || ids[i] >= V) {
      throw_user_error("embedding",
                       std::string(what) + " " + std::to_string(ids[i]) + " at position " +
                           std::to_string(i) + " is outside the table (size " + std::to_string(V) +
                           ")",
                       "token ids must be in [0, vocab size); check the ids file or tokenizer");
    }
  }
}

void embedding_forward(const Tensor& table, const std::vector<int32_t>& ids, float scale,
                       Tensor& out) {
  TUNA_ASSERT(table.ndim() == 2 && out.ndim() == 2 && out.dtype() == DType::F32,
              "embedding: shapes");
  TUNA_ASSERT(out.dim(0) == static_cast<int64_t>(ids.size()) && out.dim(1) == table.dim(1),
              "embedding: out is [N, C]");
  check_ids(table, ids, "token id");
  if (!weight_format_supported(table.dtype())) dequantize_rows(table, 0, 0, nullptr);  // throws
  const Device device = op_device("embedding_forward", {&table, &out});
  if (device == Device::CPU) return cpu::embedding_forward(table, ids, scale, out);
  throw_no_kernel("embedding_forward", device);
}

void embedding_add_forward(const Tensor& table, const std::vector<int32_t>& positions,
                           Tensor& out) {
  TUNA_ASSERT(table.ndim() == 2 && out.ndim() == 2 && out.dim(1) == table.dim(1) &&
                  out.dim(0) == static_cast<int64_t>(positions.size()),
              "embedding_add: shapes");
  check_ids(table, positions, "position");
  if (!weight_format_supported(table.dtype())) dequantize_rows(table, 0, 0, nullptr);  // throws
  const Device device = op_device("embedding_add_forward", {&table, &out});
  if (device == Device::CPU) return cpu::embedding_add_forward(table, positions, out);
  throw_no_kernel("embedding_add_forward", device);
}

void embedding_backward(const std::vector<int32_t>& ids, const Tensor& dy, float scale,
                        Tensor& dtable, int32_t padding_idx) {
  TUNA_ASSERT(dtable.ndim() == 2 && dtable.dtype() == DType::F32 && dy.ndim() == 2 &&
                  dy.dtype() == DType::F32 && dy.dim(1) == dtable.dim(1) &&
                  dy.dim(0) == static_cast<int64_t>(ids.size()),
              "embedding_backward: dy [N, C], dtable [V, C] F32");
  check_ids(dtable, ids, "token id");
  const Device device = op_device("embedding_backward", {&dy, &dtable});
  if (device == Device::CPU) return cpu::embedding_backward(ids, dy, scale, dtable, padding_idx);
  throw_no_kernel("embedding_backward", device);
}

}  // namespace tuna
