// Element types of tensors and weights, their sizes, names, and exact F16/BF16 <-> F32
// conversion (round-to-nearest-even; NaN and Inf preserved). Block-quantized formats (GGUF
// blocks, bitsandbytes NF4/FP4) are DType values too: a block of dtype_block_size() elements
// takes dtype_block_bytes() bytes, and dtype_size() (bytes per element) is defined for plain
// types only. NF4/FP4 count as blocks of 2 elements in 1 byte (their per-block statistics live in
// the tensor's QuantState, core/tensor.h), and any element count is valid: ceil(n/2) bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

namespace tuna {

// clang-format off
enum class DType : uint8_t {
  F32, F16, BF16, F64, I8, I16, I32, I64, U8, U16, U32, U64, BOOL,
  // GGUF (ggml) block-quantized formats; layouts in ops/quant_gguf.h.
  Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K,
  // bitsandbytes 4-bit formats, packed two per byte; layouts in ops/quant_bnb4.h.
  NF4, FP4,
};
// clang-format on

size_t dtype_size(DType t);         // bytes per element; an internal error for block types
size_t dtype_block_size(DType t);   // elements per block (1 for plain types)
size_t dtype_block_bytes(DType t);  // bytes per block (dtype_size for plain types)
bool dtype_is_block(DType t);       // block-quantized (dtype_block_size > 1)
bool dtype_is_bnb4(DType t);        // NF4 or FP4 (statistics in the tensor's QuantState)
// Bytes of `numel` elements; for block types numel must be a whole number of blocks (NF4/FP4:
// any count, ceil(numel / 2) bytes).
size_t dtype_nbytes(DType t, int64_t numel);
const char* dtype_name(DType t);  // "F32", "BF16", ... (safetensors spelling)
bool dtype_from_name(const std::string& name, DType* out);  // safetensors spelling
bool dtype_is_float(DType t);
// torch's names: "float32"/"bfloat16"/"float16" ↔ F32/BF16/F16 (config.json's torch_dtype, the
// bnb compute dtype). dtype_from_torch_name maps anything else to F32.
DType dtype_from_torch_name(const std::string& name);
const char* torch_dtype_name(DType t);  // F32, BF16, F16 only

// --- F16 / BF16 <-> F32, bit-exact --------------------------------------------------------

inline uint32_t f32_bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}
inline float f32_from_bits(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

inline float bf16_to_f32(uint16_t h) {
  return f32_from_bits(static_cast<uint32_t>(h) << 16);
}

// Round-to-nearest-even; NaN becomes the canonical quiet NaN 0x7FC0 (as torch does), with sign.
inline uint16_t f32_to_bf16(float f) {
  uint32_t u = f32_bits(f);
  if ((u & 0x7fffffffu) > 0x7f800000u)
    return static_cast<uint16_t>(((u >> 16) & 0x8000u) | 0x7fc0u);
  uint32_t rounding_bias = 0x7fffu + ((u >> 16) & 1u);
  return static_cast<uint16_t>((u + rounding_bias) >> 16);
}

inline float f16_to_f32(uint16_t h) {
  uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1fu;
  uint32_t mant = h & 0x3ffu;
  if (exp == 0) {
    if (mant == 0) return f32_from_bits(sign);
    // subnormal: value = mant * 2^-24
    float v = static_cast<float>(mant) * 5.9604644775390625e-8f;
    return sign ? -v : v;
  }
  if (exp == 31) return f32_from_bits(sign | 0x7f800000u | (mant << 13));  // Inf / NaN
  return f32_from_bits(sign | ((exp + 112u) << 23) | (mant << 13));
}

// Round-to-nearest-even, overflow to Inf, gradual underflow; NaN stays NaN (quiet).
inline uint16_t f32_to_f16(float f) {
  uint32_t u = f32_bits(f);
  uint16_t sign = static_cast<uint16_t>((u >> 16) & 0x8000u);
  uint32_t abs = u & 0x7fffffffu;
  if (abs > 0x7f800000u) return static_cast<uint16_t>(sign | 0x7e00u | ((abs >> 13) & 0x3ffu));
  if (abs >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);  // rounds to >= 65520
  if (abs < 0x38800000u) {               // below the smallest normal F16 (2^-14): subnormal or zero
    if (abs < 0x33000000u) return sign;  // < 2^-25 rounds to zero (2^-25 exactly ties to 0)
    uint32_t exp = abs >> 23;
    uint32_t mant = (abs & 0x7fffffu) | 0x800000u;
    uint32_t shift = 126u - exp;  // bits to drop so the result is in units of 2^-24
    uint32_t result = mant >> shift;
    uint32_t rem = mant & ((1u << shift) - 1u);
    uint32_t half = 1u << (shift - 1u);
    if (rem > half || (rem == half && (result & 1u))) ++result;
    return static_cast<uint16_t>(sign | result);
  }
  uint32_t rounded = abs + 0xfffu + ((abs >> 13) & 1u);  // RNE at bit 13
  return static_cast<uint16_t>(sign | ((rounded - 0x38000000u) >> 13));
}

// `v` rounded to F16 or BF16 (round-to-nearest-even) and back; unchanged for other types.
inline float round_to_dtype(DType t, float v) {
  if (t == DType::BF16) return bf16_to_f32(f32_to_bf16(v));
  if (t == DType::F16) return f16_to_f32(f32_to_f16(v));
  return v;
}

// Bulk conversions.
void f16_to_f32_n(const uint16_t* src, float* dst, size_t n);
void bf16_to_f32_n(const uint16_t* src, float* dst, size_t n);
void f32_to_f16_n(const float* src, uint16_t* dst, size_t n);
void f32_to_bf16_n(const float* src, uint16_t* dst, size_t n);

// Convert n elements of any float or integer dtype to F32 (integers by value).
void convert_to_f32(DType src_type, const void* src, float* dst, size_t n);

}  // namespace tuna
