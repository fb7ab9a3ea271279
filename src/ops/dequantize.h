// Row access to weights in any stored format: dequantize_rows() turns rows [r0, r1) of a weight
// [out, in] into F32. Forward and backward matmuls go through it, so no full F32 copy of a
// non-F32 weight is ever built unless asked (DESIGN.md §8). GGUF block formats go through
// ops/quant_gguf.h (rows must be whole blocks); bitsandbytes NF4/FP4 through ops/quant_bnb4.h
// (blocks may span rows; values rounded to the weight's compute dtype).
// CPU-internal helper, not a dispatched op: the *_cpu.cpp kernels and host-side weight code
// (merge, export) call it on CPU tensors; GPU kernels will dequantize in their own code.
#pragma once

#include <cstdint>

#include "core/tensor.h"

namespace tuna {

// True when `dtype` can be read by dequantize_rows (F32, F16, BF16, GGUF block types, NF4/FP4).
bool weight_format_supported(DType dtype);

// w: [rows, cols] (2-D; higher dims are flattened into rows). out: [(r1 - r0), cols] F32.
void dequantize_rows(const Tensor& w, int64_t r0, int64_t r1, float* out);

}  // namespace tuna
