// bitsandbytes' 4-bit blockwise formats NF4 and FP4 (functional.quantize_4bit / dequantize_4bit,
// with and without double quantization of the statistics), bit-identical to bitsandbytes 0.48.2's
// CPU backend (backends/default/ops.py; the nested statistics through its CPU 8-bit kernel). Our
// own implementation of bitsandbytes' formats: there is no C++ library for them here.
// Not here: the matmul (ops/linear.h reads these weights through ops/dequantize.h), CUDA kernels.
//
// Layout (bitsandbytes' flattened order): the tensor is flattened row-major into n elements and
// cut into blocks of `blocksize` (the last block may be partial), so a block may span two rows.
// Element i is stored as a 4-bit code index in byte i / 2: even i in the high nibble, odd i in
// the low nibble (a 0 nibble pads an odd n). value(i) = code[nibble] * absmax[i / blocksize].
// CPU-internal helper, not a dispatched op: the format code behind ops/dequantize.h and the
// QLoRA quantizer (a CUDA backend dequantizes inside its own kernels).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "core/tensor.h"

namespace tuna {

enum class Bnb4Type : uint8_t { NF4, FP4 };

// The 16-entry code books bitsandbytes' CPU backend quantizes and dequantizes with
// (backends/utils.py CODE). FP4's there are rounded to 4 decimals (0.0052, 0.6667, 0.3333, 0.1667),
// unlike get_4bit_type("fp4") and the CUDA kernel's constants (1/192, 2/3, 1/3, 1/6).
const float* bnb4_code(Bnb4Type type);
DType bnb4_dtype(Bnb4Type type);  // DType::NF4 / DType::FP4

bool bnb4_blocksize_valid(int64_t blocksize);  // 32, 64, ..., 4096 (as bitsandbytes accepts)

// How to quantize (the QuantState's fixed parameters, transformers' BitsAndBytesConfig names).
struct Bnb4bitParams {
  Bnb4Type type = Bnb4Type::FP4;  // bnb_4bit_quant_type (transformers' default "fp4")
  int64_t blocksize = 64;
  bool double_quant = false;  // bnb_4bit_use_double_quant / compress_statistics
  // quant_state.dtype: the dtype the weight was held in when quantized (transformers: the
  // model's torch_dtype). Dequantization rounds the code to it and the product to it.
  DType dtype = DType::F32;
  // bnb_4bit_compute_dtype: the matmul's dtype; dequantized weights are rounded to it.
  DType compute_dtype = DType::F32;
  // torch's CPU threads when bitsandbytes computed the double-quant offset (absmax.mean()): for
  // more than 32,768 blocks torch splits that sum by thread count, so the offset depends on it.
  int offset_threads = 1;
};

// Statistics of one 4-bit tensor: bitsandbytes' QuantState.
struct Bnb4bitState final : QuantState {
  static constexpr int64_t kNestedBlocksize = 256;  // quantize_4bit's double-quant block size
  Bnb4bitParams params;
  int64_t numel = 0;
  int64_t n_blocks = 0;
  std::vector<float> absmax;         // [n_blocks] F32 when !params.double_quant
  std::vector<uint8_t> nested_q;     // [n_blocks] signed-dynamic codes of absmax - offset
  std::vector<float> nested_absmax;  // [ceil(n_blocks / 256)]
  float offset = 0.0f;               // mean of absmax (torch's float32 sum order) / n_blocks

  size_t nbytes() const override;
  // The F32 absmax of block b as bitsandbytes' dequantize_4bit sees it: stored, or
  // dequantize_blockwise(nested) + offset.
  float block_absmax(int64_t b) const;
};

// x: [n] F32 values (already representable in params.dtype). packed: [(n + 1) / 2] out.
// Per block: absmax = max |x|; code = first index minimising |clamp(x * (1 / absmax), -1, 1) -
// code[k]| in F32 (torch.argmin: ties to the lower index, NaN -- e.g. an all-zero block -- to 0).
Bnb4bitState quantize_4bit(const float* x, int64_t n, const Bnb4bitParams& params, uint8_t* packed);

// Elements [i0, i1) of bitsandbytes' dequantize_4bit output (values in params.dtype, as F32):
// out[i - i0] = round_dtype(round_dtype(code[nibble]) * absmax(block)).
void dequantize_4bit(const uint8_t* packed, const Bnb4bitState& state, int64_t i0, int64_t i1,
                     float* out);

// torch.Tensor.mean() of a contiguous float32 CPU tensor, bit-identical: torch 2.x's cascade sum
// (8-lane vectors, 4-way ILP, 4 levels) over chunks split by `torch_threads` when n > 32,768,
// then one F32 division by n.
float torch_mean_f32(const float* x, int64_t n, int torch_threads = 1);

// A weight [out, in] in any dequantize_rows format -> the same shape as NF4/FP4 with its
// Bnb4bitState attached (values first rounded to params.dtype, as transformers loads them).
Tensor quantize_weight_4bit(const Tensor& w, const Bnb4bitParams& params);

}  // namespace tuna
