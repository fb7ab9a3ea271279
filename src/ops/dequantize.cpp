// Weight row dequantization (checks + per-format conversion). CPU only: GPU matmuls will
// dequantize in their own kernels.
#include "ops/dequantize.h"

#include "core/error.h"
#include "ops/quant_bnb4.h"
#include "ops/quant_gguf.h"

namespace tuna {

bool weight_format_supported(DType dtype) {
  return gguf_dequantizable(dtype) || dtype_is_bnb4(dtype);
}

// bitsandbytes NF4/FP4: rows [r0, r1) are elements [r0·cols, r1·cols) of the flattened tensor
// (blocks may span rows). Values are what bnb's MatMul4Bit feeds the matmul:
// dequantize_4bit(W, quant_state).to(compute_dtype).
static void dequantize_rows_bnb4(const Tensor& w, int64_t e0, int64_t e1, float* out) {
  const auto* state = dynamic_cast<const Bnb4bitState*>(w.quant_state());
  TUNA_ASSERT(
      state != nullptr && state->numel == w.numel(),
      std::string("dequantize_rows: ") + dtype_name(w.dtype()) + " weight without its state");
  dequantize_4bit(w.data<uint8_t>(), *state, e0, e1, out);
  const DType compute = state->params.compute_dtype;
  if (compute != state->params.dtype)
    for (int64_t i = 0; i < e1 - e0; ++i) out[i] = round_to_dtype(compute, out[i]);
}

void dequantize_rows(const Tensor& w, int64_t r0, int64_t r1, float* out) {
  TUNA_ASSERT(w.ndim() >= 1, "dequantize_rows on a scalar");
  const int64_t cols = w.dim(-1);
  const int64_t rows = w.numel() / (cols == 0 ? 1 : cols);
  TUNA_ASSERT(0 <= r0 && r0 <= r1 && r1 <= rows, "dequantize_rows range");
  const size_t n = static_cast<size_t>((r1 - r0) * cols);
  const size_t start = static_cast<size_t>(r0 * cols);
  switch (w.dtype()) {
    case DType::F32:
      convert_to_f32(DType::F32, w.data<float>() + start, out, n);
      return;
    case DType::F16:
      f16_to_f32_n(w.data<uint16_t>() + start, out, n);
      return;
    case DType::BF16:
      bf16_to_f32_n(w.data<uint16_t>() + start, out, n);
      return;
    case DType::NF4:
    case DType::FP4:
      dequantize_rows_bnb4(w, r0 * cols, r1 * cols, out);
      return;
    default:
      if (dtype_is_block(w.dtype()) && gguf_dequantizable(w.dtype())) {
        // Rows are whole blocks (the GGUF reader rejects other row lengths).
        TUNA_ASSERT(cols % static_cast<int64_t>(dtype_block_size(w.dtype())) == 0,
                    "dequantize_rows: a row of " + std::to_string(cols) + " is not whole " +
                        dtype_name(w.dtype()) + " blocks");
        const auto* base = static_cast<const uint8_t*>(w.raw());
        dequantize_gguf(w.dtype(), base + dtype_nbytes(w.dtype(), r0 * cols),
                        static_cast<int64_t>(n), out);
        return;
      }
      throw_user_error(
          "weights",
          std::string("weights stored as ") + dtype_name(w.dtype()) + " are not supported",
          "use F32, F16, BF16 or GGUF Q4_0/Q4_1/Q5_0/Q5_1/Q8_0/Q2_K..Q6_K weights");
  }
}

}  // namespace tuna
