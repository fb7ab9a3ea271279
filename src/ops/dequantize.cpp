// Weight row dequantization (checks + per-format conversion). CPU only: GPU matmuls will
// dequantize in their own kernels.
#include "ops/dequantize.h"

#include "core/error.h"

namespace tuna {

bool weight_format_supported(DType dtype) {
  return dtype == DType::F32 || dtype == DType::F16 || dtype == DType::BF16;
}

void dequantize_rows(const Tensor& w, int64_t r0, int64_t r1, float* out) {
  TUNA_ASSERT(w.ndim() >= 1, "dequantize_rows on a scalar");
  const int64_t cols = w.dim(-1);
  const int64_t rows = w.numel() / (cols == 0 ? 1 : cols);
  TUNA_ASSERT(0 <= r0 && r0 <= r1 && r1 <= rows, "dequantize_rows range");
  const size_t n = static_cast<size_t>((r1 - r0) * cols);
  const size_t start = static_cast<size_t>(r0 * cols);
  switch (w.dtype()) {
    case DType::F32: convert_to_f32(DType::F32, w.data<float>() + start, out, n); return;
    case DType::F16: f16_to_f32_n(w.data<uint16_t>() + start, out, n); return;
    case DType::BF16: bf16_to_f32_n(w.data<uint16_t>() + start, out, n); return;
    default:
      throw_user_error("weights", std::string("weights stored as ") + dtype_name(w.dtype()) +
                                      " are not supported",
                       "use F32, F16 or BF16 weights");
  }
}

}  // namespace tuna
