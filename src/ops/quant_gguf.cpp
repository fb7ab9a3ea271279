// CPU dequantization of GGUF block formats, bit-identical to gguf-py (gguf/quants.py, 0.19.0):
// every product and difference is one F32 operation in the order numpy evaluates it (libtuna is
// built with -ffp-contract=off, so `a * b - c` is never fused). See quant_gguf.h.
#include "ops/quant_gguf.h"

#include <cstring>

#include "core/error.h"

namespace tuna {

void dequantize_q4_0(const uint8_t* __restrict x, int64_t n_blocks, float* __restrict y) {
  for (int64_t b = 0; b < n_blocks; ++b, x += sizeof(BlockQ4_0), y += kGgufQK) {
    const float d = gguf_load_f16(x);
    const uint8_t* qs = x + 2;
    for (int j = 0; j < 16; ++j) {
      y[j] = d * static_cast<float>((qs[j] & 0x0F) - 8);
      y[j + 16] = d * static_cast<float>((qs[j] >> 4) - 8);
    }
  }
}

void dequantize_q4_1(const uint8_t* __restrict x, int64_t n_blocks, float* __restrict y) {
  for (int64_t b = 0; b < n_blocks; ++b, x += sizeof(BlockQ4_1), y += kGgufQK) {
    const float d = gguf_load_f16(x), m = gguf_load_f16(x + 2);
    const uint8_t* qs = x + 4;
    for (int j = 0; j < 16; ++j) {
      const float lo = d * static_cast<float>(qs[j] & 0x0F);
      const float hi = d * static_cast<float>(qs[j] >> 4);
      y[j] = lo + m;
      y[j + 16] = hi + m;
    }
  }
}

void dequantize_q5_0(const uint8_t* __restrict x, int64_t n_blocks, float* __restrict y) {
  for (int64_t b = 0; b < n_blocks; ++b, x += sizeof(BlockQ5_0), y += kGgufQK) {
    const float d = gguf_load_f16(x);
    const uint32_t qh = gguf_load_u32(x + 2);
    const uint8_t* qs = x + 6;
    for (int j = 0; j < 16; ++j) {
      const int lo = (qs[j] & 0x0F) | static_cast<int>(((qh >> j) & 1u) << 4);
      const int hi = (qs[j] >> 4) | static_cast<int>(((qh >> (j + 16)) & 1u) << 4);
      y[j] = d * static_cast<float>(lo - 16);
      y[j + 16] = d * static_cast<float>(hi - 16);
    }
  }
}

void dequantize_q5_1(const uint8_t* __restrict x, int64_t n_blocks, float* __restrict y) {
  for (int64_t b = 0; b < n_blocks; ++b, x += sizeof(BlockQ5_1), y += kGgufQK) {
    const float d = gguf_load_f16(x), m = gguf_load_f16(x + 2);
    const uint32_t qh = gguf_load_u32(x + 4);
    const uint8_t* qs = x + 8;
    for (int j = 0; j < 16; ++j) {
      const int lo = (qs[j] & 0x0F) | static_cast<int>(((qh >> j) & 1u) << 4);
      const int hi = (qs[j] >> 4) | static_cast<int>(((qh >> (j + 16)) & 1u) << 4);
      const float a = d * static_cast<float>(lo);
      const float c = d * static_cast<float>(hi);
      y[j] = a + m;
      y[j + 16] = c + m;
    }
  }
}

void dequantize_q8_0(const uint8_t* __restrict x, int64_t n_blocks, float* __restrict y) {
  for (int64_t b = 0; b < n_blocks; ++b, x += sizeof(BlockQ8_0), y += kGgufQK) {
    const float d = gguf_load_f16(x);
    const int8_t* qs = reinterpret_cast<const int8_t*>(x + 2);
    for (int j = 0; j < kGgufQK; ++j) y[j] = static_cast<float>(qs[j]) * d;
  }
}

// K-quants: element e of a super-block. Q2_K/Q3_K: e = h*128 + j*32 + l takes 2 bits at shift 2j
// of qs[h*32 + l]; sub-block (scale) e / 16.
void dequantize_q2_k(const uint8_t* __restrict x, int64_t n_blocks, float* __restrict y) {
  for (int64_t b = 0; b < n_blocks; ++b, x += sizeof(BlockQ2_K), y += kGgufQK_K) {
    const uint8_t* scales = x;
    const uint8_t* qs = x + 16;
    const float d = gguf_load_f16(x + 80), dmin = gguf_load_f16(x + 82);
    for (int h = 0; h < 2; ++h) {
      for (int j = 0; j < 4; ++j) {
        for (int half = 0; half < 2; ++half) {
          const int sub = h * 8 + j * 2 + half;
          const float dl = d * static_cast<float>(scales[sub] & 0x0F);
          const float ml = dmin * static_cast<float>(scales[sub] >> 4);
          float* out = y + sub * 16;
          const uint8_t* q = qs + h * 32 + half * 16;
          for (int l = 0; l < 16; ++l) {
            const float v = dl * static_cast<float>((q[l] >> (2 * j)) & 3);
            out[l] = v - ml;
          }
        }
      }
    }
  }
}

void dequantize_q3_k(const uint8_t* __restrict x, int64_t n_blocks, float* __restrict y) {
  for (int64_t b = 0; b < n_blocks; ++b, x += sizeof(BlockQ3_K), y += kGgufQK_K) {
    const uint8_t* hmask = x;
    const uint8_t* qs = x + 32;
    const uint8_t* sc = x + 96;
    const float d = gguf_load_f16(x + 108);
    for (int h = 0; h < 2; ++h) {
      for (int j = 0; j < 4; ++j) {
        for (int half = 0; half < 2; ++half) {
          const int sub = h * 8 + j * 2 + half;  // element e0 = sub * 16
          const int low = sub < 8 ? (sc[sub] & 0x0F) : (sc[sub - 8] >> 4);
          const int high = (sc[8 + sub % 4] >> (2 * (sub / 4))) & 3;
          const float dl = d * static_cast<float>((low | (high << 4)) - 32);
          // hmask bit of element e is e / 32 (= h*4 + j here); its byte is e % 32.
          const uint8_t* q = qs + h * 32 + half * 16;
          const uint8_t* m = hmask + half * 16;
          const int shift = 2 * j, bit = h * 4 + j;
          float* out = y + sub * 16;
          for (int l = 0; l < 16; ++l) {
            const int ql = (q[l] >> shift) & 3;
            const int hb = (m[l] >> bit) & 1;
            out[l] = dl * static_cast<float>(ql - 4 + 4 * hb);
          }
        }
      }
    }
  }
}

// Q4_K/Q5_K: e = c*64 + h*32 + l takes the nibble at shift 4h of qs[c*32 + l]; sub-block e / 32.
void dequantize_q4_k(const uint8_t* __restrict x, int64_t n_blocks, float* __restrict y) {
  for (int64_t b = 0; b < n_blocks; ++b, x += sizeof(BlockQ4_K), y += kGgufQK_K) {
    const float d = gguf_load_f16(x), dmin = gguf_load_f16(x + 2);
    const uint8_t* scales = x + 4;
    for (int c = 0; c < 4; ++c) {
      uint8_t sc0, m0, sc1, m1;
      gguf_scale_min_k4(scales, 2 * c, &sc0, &m0);
      gguf_scale_min_k4(scales, 2 * c + 1, &sc1, &m1);
      const float dl0 = d * static_cast<float>(sc0), ml0 = dmin * static_cast<float>(m0);
      const float dl1 = d * static_cast<float>(sc1), ml1 = dmin * static_cast<float>(m1);
      const uint8_t* q = x + 16 + c * 32;
      float* out = y + c * 64;
      for (int l = 0; l < 32; ++l) {
        const float v = dl0 * static_cast<float>(q[l] & 0x0F);
        out[l] = v - ml0;
      }
      for (int l = 0; l < 32; ++l) {
        const float v = dl1 * static_cast<float>(q[l] >> 4);
        out[32 + l] = v - ml1;
      }
    }
  }
}

void dequantize_q5_k(const uint8_t* __restrict x, int64_t n_blocks, float* __restrict y) {
  for (int64_t b = 0; b < n_blocks; ++b, x += sizeof(BlockQ5_K), y += kGgufQK_K) {
    const float d = gguf_load_f16(x), dmin = gguf_load_f16(x + 2);
    const uint8_t* scales = x + 4;
    const uint8_t* qh = x + 16;
    const uint8_t* qs = x + 48;
    for (int sub = 0; sub < 8; ++sub) {
      uint8_t sc, m;
      gguf_scale_min_k4(scales, sub, &sc, &m);
      const float dl = d * static_cast<float>(sc);
      const float ml = dmin * static_cast<float>(m);
      const uint8_t* q = qs + (sub / 2) * 32;
      const int shift = 4 * (sub % 2);
      float* out = y + sub * 32;
      for (int l = 0; l < 32; ++l) {
        const int v5 = ((q[l] >> shift) & 0x0F) | (((qh[l] >> sub) & 1) << 4);
        const float v = dl * static_cast<float>(v5);
        out[l] = v - ml;
      }
    }
  }
}

// Q6_K: e = a*128 + k*32 + l (l < 32) combines the nibble at shift 4*(k/2) of
// ql[a*64 + (k%2)*32 + l] with the 2 bits at shift 2k of qh[a*32 + l]; sub-block e / 16.
void dequantize_q6_k(const uint8_t* __restrict x, int64_t n_blocks, float* __restrict y) {
  for (int64_t b = 0; b < n_blocks; ++b, x += sizeof(BlockQ6_K), y += kGgufQK_K) {
    const int8_t* scales = reinterpret_cast<const int8_t*>(x + 192);
    const float d = gguf_load_f16(x + 208);
    for (int a = 0; a < 2; ++a) {
      for (int k = 0; k < 4; ++k) {
        for (int half = 0; half < 2; ++half) {
          const int sub = a * 8 + k * 2 + half;
          const float dl = d * static_cast<float>(scales[sub]);
          const uint8_t* lo = x + a * 64 + (k % 2) * 32 + half * 16;
          const uint8_t* hi = x + 128 + a * 32 + half * 16;
          const int lshift = 4 * (k / 2), hshift = 2 * k;
          float* out = y + sub * 16;
          for (int l = 0; l < 16; ++l) {
            const int q = (((lo[l] >> lshift) & 0x0F) | (((hi[l] >> hshift) & 3) << 4)) - 32;
            out[l] = dl * static_cast<float>(q);
          }
        }
      }
    }
  }
}

bool gguf_dequantizable(DType type) {
  switch (type) {
    case DType::F32:
    case DType::F16:
    case DType::BF16:
    case DType::Q4_0:
    case DType::Q4_1:
    case DType::Q5_0:
    case DType::Q5_1:
    case DType::Q8_0:
    case DType::Q2_K:
    case DType::Q3_K:
    case DType::Q4_K:
    case DType::Q5_K:
    case DType::Q6_K:
      return true;
    default:
      return false;
  }
}

void dequantize_gguf(DType type, const void* src, int64_t n, float* out) {
  const auto* p = static_cast<const uint8_t*>(src);
  const int64_t block = static_cast<int64_t>(dtype_block_size(type));
  TUNA_ASSERT(n >= 0 && n % block == 0, std::string("dequantize_gguf: ") + std::to_string(n) +
                                            " elements are not whole " + dtype_name(type) +
                                            " blocks");
  const int64_t nb = n / block;
  switch (type) {
    case DType::F32:
      std::memcpy(out, p, static_cast<size_t>(n) * 4);
      return;
    case DType::F16:
      for (int64_t i = 0; i < n; ++i) out[i] = gguf_load_f16(p + 2 * i);
      return;
    case DType::BF16:
      for (int64_t i = 0; i < n; ++i) {
        uint16_t h;
        std::memcpy(&h, p + 2 * i, 2);
        out[i] = bf16_to_f32(h);
      }
      return;
    case DType::Q4_0:
      dequantize_q4_0(p, nb, out);
      return;
    case DType::Q4_1:
      dequantize_q4_1(p, nb, out);
      return;
    case DType::Q5_0:
      dequantize_q5_0(p, nb, out);
      return;
    case DType::Q5_1:
      dequantize_q5_1(p, nb, out);
      return;
    case DType::Q8_0:
      dequantize_q8_0(p, nb, out);
      return;
    case DType::Q2_K:
      dequantize_q2_k(p, nb, out);
      return;
    case DType::Q3_K:
      dequantize_q3_k(p, nb, out);
      return;
    case DType::Q4_K:
      dequantize_q4_k(p, nb, out);
      return;
    case DType::Q5_K:
      dequantize_q5_k(p, nb, out);
      return;
    case DType::Q6_K:
      dequantize_q6_k(p, nb, out);
      return;
    default:
      break;
  }
  throw_internal_error("quant_gguf",
                       std::string("dequantize_gguf: cannot dequantize ") + dtype_name(type));
}

}  // namespace tuna
