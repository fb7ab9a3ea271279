// Quantized-weight row dots with F32 activations (see quant_dot.h): AVX2 + FMA kernels and the
// scalar reference, block layouts as in quant_gguf.h.
#include "ops/quant_dot.h"

#include <cstdlib>
#include <cstring>

#include "core/error.h"
#include "ops/quant_gguf.h"

#if defined(__AVX2__) && defined(__FMA__) && defined(__F16C__)
#include "ops/quant_dot_kernels.h"
#define TUNA_QUANT_DOT_AVX2 1
#endif

namespace tuna {

// quant_dot_avx512.cpp (built with AVX-512 enabled; called only where the CPU has it).
bool quant_dot_avx512_built();
void quant_dot_rows_avx512(int type, const uint8_t* w, int64_t rows, int64_t I, const float* x,
                           const float* s16, const float* s32, int64_t N, float* y, int64_t ldy);

namespace {

// Q4_K's eight (scale, min) pairs.
inline void q4k_scales(const uint8_t* s, uint8_t sc[8], uint8_t m[8]) {
  for (int j = 0; j < 8; ++j) gguf_scale_min_k4(s, j, sc + j, m + j);
}

// ---- scalar reference ------------------------------------------------------------------------

// Σ q[i]·x[i] for `n` elements given as ints.
inline float dot_q(const int* q, const float* x, int n) {
  float s = 0.0f;
  for (int i = 0; i < n; ++i) s += static_cast<float>(q[i]) * x[i];
  return s;
}

float row_scalar(DType t, const uint8_t* w, int64_t I, const float* x, const float* s16,
                 const float* s32) {
  float acc = 0.0f, corr = 0.0f;
  int q[256];
  switch (t) {
    case DType::Q8_0:
      for (int64_t b = 0; b < I / 32; ++b, w += sizeof(BlockQ8_0)) {
        for (int i = 0; i < 32; ++i) q[i] = static_cast<int8_t>(w[2 + i]);
        acc += gguf_load_f16(w) * dot_q(q, x + b * 32, 32);
      }
      return acc;
    case DType::Q5_0:
      for (int64_t b = 0; b < I / 32; ++b, w += sizeof(BlockQ5_0)) {
        const float d = gguf_load_f16(w);
        const uint32_t qh = gguf_load_u32(w + 2);
        for (int j = 0; j < 16; ++j) {
          q[j] = (w[6 + j] & 0x0F) | static_cast<int>(((qh >> j) & 1u) << 4);
          q[j + 16] = (w[6 + j] >> 4) | static_cast<int>(((qh >> (j + 16)) & 1u) << 4);
        }
        acc += d * dot_q(q, x + b * 32, 32);
        corr += d * s32[b];
      }
      return acc - 16.0f * corr;
    case DType::Q4_K:
      for (int64_t sb = 0; sb < I / 256; ++sb, w += sizeof(BlockQ4_K)) {
        const float d = gguf_load_f16(w), dmin = gguf_load_f16(w + 2);
        uint8_t sc[8], m[8];
        q4k_scales(w + 4, sc, m);
        for (int c = 0; c < 4; ++c) {
          for (int l = 0; l < 32; ++l) {
            q[l] = w[16 + c * 32 + l] & 0x0F;
            q[32 + l] = w[16 + c * 32 + l] >> 4;
          }
          for (int h = 0; h < 2; ++h) {
            const int sub = 2 * c + h;
            acc += (d * static_cast<float>(sc[sub])) * dot_q(q + 32 * h, x + sb * 256 + sub * 32, 32);
            corr += (dmin * static_cast<float>(m[sub])) * s32[sb * 8 + sub];
          }
        }
      }
      return acc - corr;
    case DType::Q6_K:
      for (int64_t sb = 0; sb < I / 256; ++sb, w += sizeof(BlockQ6_K)) {
        const uint8_t* ql = w;
        const uint8_t* qh = w + 128;
        const auto* sc = reinterpret_cast<const int8_t*>(w + 192);
        const float d = gguf_load_f16(w + 208);
        for (int a = 0; a < 2; ++a)
          for (int k = 0; k < 4; ++k) {
            for (int l = 0; l < 32; ++l) {
              const int lo = (ql[a * 64 + (k % 2) * 32 + l] >> (4 * (k / 2))) & 0x0F;
              const int hi = (qh[a * 32 + l] >> (2 * k)) & 3;
              q[l] = lo | (hi << 4);
            }
            for (int h = 0; h < 2; ++h) {
              const int sub = a * 8 + k * 2 + h;
              const float ds = d * static_cast<float>(sc[sub]);
              acc += ds * dot_q(q + 16 * h, x + sb * 256 + sub * 16, 16);
              corr += ds * s16[sb * 16 + sub];
            }
          }
      }
      return acc - 32.0f * corr;
    default:
      throw_internal_error("quant_dot", std::string("no row dot for ") + dtype_name(t));
  }
}

#ifdef TUNA_QUANT_DOT_AVX2
bool cpu_has_avx512() {
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512vl");
}
#endif

static_assert(kQuantDotMaxN == 8, "the kernels are instantiated for 1..8 tokens");

// 0 Q8_0, 1 Q5_0, 2 Q4_K, 3 Q6_K: the kernels' type index.
int kernel_type(DType t) {
  return t == DType::Q8_0 ? 0 : t == DType::Q5_0 ? 1 : t == DType::Q4_K ? 2 : 3;
}

void check_args(DType t, int64_t I, int64_t N) {
  TUNA_ASSERT(quant_dot_supported(t), std::string("quant_dot on ") + dtype_name(t));
  TUNA_ASSERT(I % static_cast<int64_t>(dtype_block_size(t)) == 0, "quant_dot: partial block");
  TUNA_ASSERT(N >= 1 && N <= kQuantDotMaxN, "quant_dot: token count");
}

}  // namespace

bool quant_dot_supported(DType t) {
  return t == DType::Q8_0 || t == DType::Q5_0 || t == DType::Q4_K || t == DType::Q6_K;
}

ActSums act_sums(const float* x, int64_t N, int64_t I) {
  ActSums s;
  s.s16.resize(static_cast<size_t>(N * (I / 16)));
  s.s32.resize(static_cast<size_t>(N * (I / 32)));
  for (int64_t n = 0; n < N; ++n)
    for (int64_t b = 0; b < I / 16; ++b) {
      float a = 0.0f;
      for (int i = 0; i < 16; ++i) a += x[n * I + b * 16 + i];
      s.s16[static_cast<size_t>(n * (I / 16) + b)] = a;
    }
  for (int64_t n = 0; n < N; ++n)
    for (int64_t b = 0; b < I / 32; ++b)
      s.s32[static_cast<size_t>(n * (I / 32) + b)] =
          s.s16[static_cast<size_t>(n * (I / 16) + 2 * b)] +
          s.s16[static_cast<size_t>(n * (I / 16) + 2 * b + 1)];
  return s;
}

bool quant_dot_isa_available(QuantDotIsa isa) {
  switch (isa) {
    case QuantDotIsa::SCALAR:
      return true;
#ifdef TUNA_QUANT_DOT_AVX2
    case QuantDotIsa::AVX2:
      return true;
    case QuantDotIsa::AVX512:
      return quant_dot_avx512_built() && cpu_has_avx512();
#endif
    default:
      return false;
  }
}

QuantDotIsa quant_dot_isa() {
  static const QuantDotIsa isa = [] {
    if (std::getenv("TUNA_NO_AVX512") == nullptr && quant_dot_isa_available(QuantDotIsa::AVX512))
      return QuantDotIsa::AVX512;
    return quant_dot_isa_available(QuantDotIsa::AVX2) ? QuantDotIsa::AVX2 : QuantDotIsa::SCALAR;
  }();
  return isa;
}

const char* quant_dot_isa_name(QuantDotIsa isa) {
  switch (isa) {
    case QuantDotIsa::AVX512:
      return "avx512";
    case QuantDotIsa::AVX2:
      return "avx2";
    default:
      return "scalar";
  }
}

void quant_dot_rows_isa(QuantDotIsa isa, DType t, const uint8_t* w, int64_t rows, int64_t I,
                        const float* x, const ActSums& sums, int64_t N, float* y, int64_t ldy) {
  check_args(t, I, N);
  TUNA_ASSERT(quant_dot_isa_available(isa), "quant_dot: ISA not available on this CPU");
#ifdef TUNA_QUANT_DOT_AVX2
  if (isa != QuantDotIsa::SCALAR) {
    if (isa == QuantDotIsa::AVX512)
      return quant_dot_rows_avx512(kernel_type(t), w, rows, I, x, sums.s16.data(),
                                   sums.s32.data(), N, y, ldy);
    return qdot::rows<qdot::V8>(kernel_type(t), w, rows, I, x, sums.s16.data(), sums.s32.data(), N,
                                y, ldy);
  }
#endif
  const size_t row_bytes = dtype_nbytes(t, I);
  for (int64_t r = 0; r < rows; ++r, w += row_bytes)
    for (int64_t n = 0; n < N; ++n)
      y[n * ldy + r] = row_scalar(t, w, I, x + n * I, sums.s16.data() + n * (I / 16),
                                  sums.s32.data() + n * (I / 32));
}

void quant_dot_rows(DType t, const uint8_t* w, int64_t rows, int64_t I, const float* x,
                    const ActSums& sums, int64_t N, float* y, int64_t ldy) {
  quant_dot_rows_isa(quant_dot_isa(), t, w, rows, I, x, sums, N, y, ldy);
}

}  // namespace tuna
