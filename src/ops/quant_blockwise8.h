// bitsandbytes' 8-bit blockwise dynamic quantization (functional.quantize_blockwise /
// dequantize_blockwise), bit-identical to bitsandbytes 0.48.2's CPU backend for F32 input. Our
// own implementation of bitsandbytes' format (there is no C++ library for it here). Used for
// NF4/FP4 double quantization (ops/quant_bnb4.h) and 8-bit optimizer states
// (ops/adamw_8bit.h). Not here: the 4-bit formats, the optimizers' fused update kernels.
// CPU-internal helper, not a dispatched op: the format code the CPU kernels and the optimizer
// states call directly (a CUDA backend brings its own kernels).
#pragma once

#include <array>
#include <cstdint>

namespace tuna {

// The two 256-entry code books of bitsandbytes' create_dynamic_map(): SIGNED (default; the
// 8-bit optimizers' first moment and double quantization) and UNSIGNED (second moment).
enum class DynamicMap : uint8_t { SIGNED, UNSIGNED };

// The code book exactly as bitsandbytes' CPU kernel uses it: create_dynamic_map(signed) with
// entry 0 overwritten by -1.0. bitsandbytes' cquantize_blockwise_cpu_fp32 writes code[0] = -1
// into the map it is given (the cached global map included), so every CPU quantize/dequantize
// after the first call sees -1.0 there -- also for the unsigned map, whose entry 0 was 0.0.
const std::array<float, 256>& dynamic_map(DynamicMap map);
// create_dynamic_map(signed) as Python builds it (entry 0: -0.99296875 signed, 0.0 unsigned).
const std::array<float, 256>& dynamic_map_pristine(DynamicMap map);

// Index of the entry of `code` (ascending) nearest s, by F32 distance |s - code[k]|, the lower
// index on a tie -- what torch.argmin(|s - code|) picks too; NaN gives the entry nearest 0.
uint8_t nearest_dynamic_code(const std::array<float, 256>& code, float s);

// Elements per block bitsandbytes accepts for blockwise quantization.
bool blockwise8_blocksize_valid(int64_t blocksize);  // 64, 128, ..., 4096

inline int64_t blockwise_n_blocks(int64_t n, int64_t blocksize) {
  return (n + blocksize - 1) / blocksize;
}

// x: [n] F32 (any shape, flattened). q: [n] codes out. absmax: [ceil(n / blocksize)] out.
// Per block: absmax = max |x|; code = first index k minimising |x / absmax - map[k]| (F32
// division and distances, ties to the lower index). Where bitsandbytes' CPU kernel crashes
// (x / absmax is NaN: an all-zero block, Inf or NaN input) we pick the code nearest 0.
void quantize_blockwise_8bit(const float* x, int64_t n, int64_t blocksize, DynamicMap map,
                             uint8_t* q, float* absmax);

// Elements [i0, i1) of the dequantized tensor: out[i - i0] = map[q[i]] * absmax[i / blocksize].
// q and absmax are the whole tensor's arrays.
void dequantize_blockwise_8bit(const uint8_t* q, const float* absmax, int64_t blocksize,
                               DynamicMap map, int64_t i0, int64_t i1, float* out);

// One element (double-quantized statistics are read one at a time).
inline float dequantize_blockwise_8bit_one(const std::array<float, 256>& code, const uint8_t* q,
                                           const float* absmax, int64_t blocksize, int64_t i) {
  return code[q[i]] * absmax[i / blocksize];
}

}  // namespace tuna
