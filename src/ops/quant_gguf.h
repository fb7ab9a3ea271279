// GGUF (ggml) block-quantized formats: the block layouts of ggml-common.h, and CPU dequantization
// of F32/F16/BF16 and every block type tuna reads, bit-identical to the gguf Python package's
// dequantizers (gguf.quants.dequantize). Quantization (writing blocks) is not here.
// CPU-internal helper, not a dispatched op: the format code behind ops/dequantize.h.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "core/dtype.h"

namespace tuna {

constexpr int kGgufQK = 32;     // elements per block of the legacy formats (Q4_0 ... Q8_0)
constexpr int kGgufQK_K = 256;  // elements per super-block of the K-quants

// Block layouts, field order as stored. `d`/`dmin`/`m` are IEEE half bits. Readers never cast
// file bytes to these structs (mapped data carries no alignment guarantee); they document the
// layout and fix the sizes, and the dequantizers read the same offsets with memcpy.
struct BlockQ4_0 {  // x = d * (q - 8); element j in the low nibble of qs[j%16] for j < 16
  uint16_t d;
  uint8_t qs[kGgufQK / 2];
};
struct BlockQ4_1 {  // x = d * q + m
  uint16_t d, m;
  uint8_t qs[kGgufQK / 2];
};
struct BlockQ5_0 {  // x = d * (q - 16); bit 4 of element j is bit j of qh (little-endian u32)
  uint16_t d;
  uint8_t qh[4];
  uint8_t qs[kGgufQK / 2];
};
struct BlockQ5_1 {  // x = d * q + m
  uint16_t d, m;
  uint8_t qh[4];
  uint8_t qs[kGgufQK / 2];
};
struct BlockQ8_0 {  // x = q * d
  uint16_t d;
  int8_t qs[kGgufQK];
};
struct BlockQ2_K {  // 16 sub-blocks of 16: x = (d * (sc & 15)) * q - dmin * (sc >> 4)
  uint8_t scales[kGgufQK_K / 16];
  uint8_t qs[kGgufQK_K / 4];
  uint16_t d, dmin;
};
struct BlockQ3_K {  // 16 sub-blocks of 16, 6-bit signed scales: x = (d * (sc - 32)) * q
  uint8_t hmask[kGgufQK_K / 8];
  uint8_t qs[kGgufQK_K / 4];
  uint8_t scales[12];
  uint16_t d;
};
struct BlockQ4_K {  // 8 sub-blocks of 32, 6-bit scales and mins: x = (d * sc) * q - dmin * m
  uint16_t d, dmin;
  uint8_t scales[12];
  uint8_t qs[kGgufQK_K / 2];
};
struct BlockQ5_K {  // Q4_K plus a fifth bit per element in qh
  uint16_t d, dmin;
  uint8_t scales[12];
  uint8_t qh[kGgufQK_K / 8];
  uint8_t qs[kGgufQK_K / 2];
};
struct BlockQ6_K {  // 16 sub-blocks of 16, int8 scales: x = (d * sc) * (q - 32)
  uint8_t ql[kGgufQK_K / 2];
  uint8_t qh[kGgufQK_K / 4];
  int8_t scales[kGgufQK_K / 16];
  uint16_t d;
};

static_assert(sizeof(BlockQ4_0) == 18 && sizeof(BlockQ4_1) == 20 && sizeof(BlockQ5_0) == 22 &&
              sizeof(BlockQ5_1) == 24 && sizeof(BlockQ8_0) == 34);
static_assert(sizeof(BlockQ2_K) == 84 && sizeof(BlockQ3_K) == 110 && sizeof(BlockQ4_K) == 144 &&
              sizeof(BlockQ5_K) == 176 && sizeof(BlockQ6_K) == 210);

// Field readers for the block layouts above (mapped bytes: no alignment, little-endian).
inline float gguf_load_f16(const uint8_t* p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  return f16_to_f32(h);
}
inline uint32_t gguf_load_u32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 |
         static_cast<uint32_t>(p[2]) << 16 | static_cast<uint32_t>(p[3]) << 24;
}
// Q4_K / Q5_K: scale and min of sub-block j (0..7) from the 12 packed bytes `s` (gguf-py
// Q4_K.get_scale_min).
inline void gguf_scale_min_k4(const uint8_t* s, int j, uint8_t* sc, uint8_t* m) {
  if (j < 4) {
    *sc = s[j] & 63;
    *m = s[j + 4] & 63;
  } else {
    *sc = static_cast<uint8_t>((s[j + 4] & 0x0F) | ((s[j - 4] >> 2) & 0x30));
    *m = static_cast<uint8_t>((s[j + 4] >> 4) | ((s[j] >> 2) & 0x30));
  }
}

// True for the formats dequantize_gguf reads: F32, F16, BF16 and the ten block types.
bool gguf_dequantizable(DType type);

// Dequantizes `n` elements stored as `type` at `src` (for block types, n is a whole number of
// blocks: n % dtype_block_size(type) == 0) into out[0, n). No allocation; `src` needs no
// alignment. Element order is the stored order (a row of a [rows, cols] weight is contiguous).
void dequantize_gguf(DType type, const void* src, int64_t n, float* out);

// Per-format kernels (n_blocks whole blocks, out gets n_blocks * block size floats).
void dequantize_q4_0(const uint8_t* blocks, int64_t n_blocks, float* out);
void dequantize_q4_1(const uint8_t* blocks, int64_t n_blocks, float* out);
void dequantize_q5_0(const uint8_t* blocks, int64_t n_blocks, float* out);
void dequantize_q5_1(const uint8_t* blocks, int64_t n_blocks, float* out);
void dequantize_q8_0(const uint8_t* blocks, int64_t n_blocks, float* out);
void dequantize_q2_k(const uint8_t* blocks, int64_t n_blocks, float* out);
void dequantize_q3_k(const uint8_t* blocks, int64_t n_blocks, float* out);
void dequantize_q4_k(const uint8_t* blocks, int64_t n_blocks, float* out);
void dequantize_q5_k(const uint8_t* blocks, int64_t n_blocks, float* out);
void dequantize_q6_k(const uint8_t* blocks, int64_t n_blocks, float* out);

}  // namespace tuna
