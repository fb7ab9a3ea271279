// Quantized-weight row dots with F32 activations (see quant_dot.h): AVX2 + FMA kernels and the
// scalar reference, block layouts as in quant_gguf.h.
#include "ops/quant_dot.h"

#include <cstdlib>
#include <cstring>
#include <type_traits>

#include "core/error.h"
#include "ops/quant_gguf.h"

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#define TUNA_QUANT_DOT_AVX2 1
#endif

namespace tuna {

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

// ---- AVX2 + FMA --------------------------------------------------------------------------------

// An IEEE half (unaligned) to F32 with F16C: the value gguf_load_f16 gives, in one instruction.
inline float half_at(const uint8_t* p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  return _cvtsh_ss(h);
}

inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// 32 bytes (unsigned 0..63 or signed) as four vectors of eight floats, in element order.
struct Floats32 {
  __m256 v[4];
};
inline Floats32 u8_to_ps(__m256i q) {
  const __m128i a = _mm256_castsi256_si128(q), b = _mm256_extracti128_si256(q, 1);
  return {{_mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(a)),
           _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_srli_si128(a, 8))),
           _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(b)),
           _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_srli_si128(b, 8)))}};
}
inline Floats32 i8_to_ps(__m128i a, __m128i b) {
  return {{_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(a)),
           _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(a, 8))),
           _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(b)),
           _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(b, 8)))}};
}

// Σ over 32 elements of w·x, as a vector (lanes summed at the end of the row).
// Two independent chains (elements 0-15 and 16-31), then their sum: half the latency of one.
inline __m256 dot32(const Floats32& w, const float* x) {
  const __m256 lo = _mm256_fmadd_ps(w.v[1], _mm256_loadu_ps(x + 8),
                                    _mm256_mul_ps(w.v[0], _mm256_loadu_ps(x)));
  const __m256 hi = _mm256_fmadd_ps(w.v[3], _mm256_loadu_ps(x + 24),
                                    _mm256_mul_ps(w.v[2], _mm256_loadu_ps(x + 16)));
  return _mm256_add_ps(lo, hi);
}
// The same over elements [16·h, 16·h + 16).
inline __m256 dot16(const Floats32& w, int h, const float* x) {
  const __m256 s = _mm256_mul_ps(w.v[2 * h], _mm256_loadu_ps(x));
  return _mm256_fmadd_ps(w.v[2 * h + 1], _mm256_loadu_ps(x + 8), s);
}

// Bit e of `bits` as byte e of the result: 0xFF when set, else 0.
inline __m256i bits_to_bytes(uint32_t bits) {
  const __m256i spread = _mm256_shuffle_epi8(
      _mm256_set1_epi32(static_cast<int>(bits)),
      _mm256_set_epi64x(0x0303030303030303, 0x0202020202020202, 0x0101010101010101, 0));
  const __m256i mask = _mm256_set1_epi64x(static_cast<int64_t>(0x8040201008040201ull));
  return _mm256_cmpeq_epi8(_mm256_and_si256(spread, mask), mask);
}

// One row against N tokens: acc[n] (vector) and corr[n] (offset sums) per token. N is a
// compile-time constant (with_n below), so the accumulators live in registers.
template <int64_t N>
struct Accumulators {
  __m256 acc[N];
  float corr[N];
  Accumulators() {
    for (int64_t n = 0; n < N; ++n) acc[n] = _mm256_setzero_ps(), corr[n] = 0.0f;
  }
};

template <int64_t N>
void rows_q8_0(const uint8_t* w, int64_t rows, int64_t I, const float* x, float* y, int64_t ldy) {
  const int64_t nb = I / 32;
  for (int64_t r = 0; r < rows; ++r) {
    Accumulators<N> a;
    for (int64_t b = 0; b < nb; ++b, w += sizeof(BlockQ8_0)) {
      const __m256 d = _mm256_set1_ps(half_at(w));
      const Floats32 q = i8_to_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w + 2)),
                                  _mm_loadu_si128(reinterpret_cast<const __m128i*>(w + 18)));
      for (int64_t n = 0; n < N; ++n)
        a.acc[n] = _mm256_fmadd_ps(d, dot32(q, x + n * I + b * 32), a.acc[n]);
    }
    for (int64_t n = 0; n < N; ++n) y[n * ldy + r] = hsum(a.acc[n]);
  }
}

// AVX-512 (F, BW): 16 lanes; chosen at run time where the CPU has it (the build targets AVX2).
// GCC 12's own AVX-512 headers trip -Wmaybe-uninitialized (its _mm512_undefined_* helpers).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
template <int64_t N>
__attribute__((target("avx512f,avx512bw,avx512vl"))) void rows_q8_0_avx512(
    const uint8_t* w, int64_t rows, int64_t I, const float* x, float* y, int64_t ldy) {
  const int64_t nb = I / 32;
  for (int64_t r = 0; r < rows; ++r) {
    __m512 acc[N];
    for (int64_t n = 0; n < N; ++n) acc[n] = _mm512_setzero_ps();
    for (int64_t b = 0; b < nb; ++b, w += sizeof(BlockQ8_0)) {
      const __m512 d = _mm512_set1_ps(half_at(w));
      const __m512 q0 = _mm512_cvtepi32_ps(
          _mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w + 2))));
      const __m512 q1 = _mm512_cvtepi32_ps(
          _mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w + 18))));
      for (int64_t n = 0; n < N; ++n) {
        const float* xb = x + n * I + b * 32;
        const __m512 s = _mm512_fmadd_ps(q1, _mm512_loadu_ps(xb + 16),
                                         _mm512_mul_ps(q0, _mm512_loadu_ps(xb)));
        acc[n] = _mm512_fmadd_ps(d, s, acc[n]);
      }
    }
    for (int64_t n = 0; n < N; ++n) y[n * ldy + r] = _mm512_reduce_add_ps(acc[n]);
  }
}

#pragma GCC diagnostic pop

bool cpu_has_avx512() {
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512vl");
}

template <int64_t N>
void rows_q5_0(const uint8_t* w, int64_t rows, int64_t I, const float* x, const float* s32,
               float* y, int64_t ldy) {
  const int64_t nb = I / 32;
  const __m128i low4 = _mm_set1_epi8(0x0F);
  const __m256i bit4 = _mm256_set1_epi8(0x10);
  for (int64_t r = 0; r < rows; ++r) {
    Accumulators<N> a;
    for (int64_t b = 0; b < nb; ++b, w += sizeof(BlockQ5_0)) {
      const float df = half_at(w);
      const __m256 d = _mm256_set1_ps(df);
      const __m128i qs = _mm_loadu_si128(reinterpret_cast<const __m128i*>(w + 6));
      const __m256i nib = _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(qs, 4), low4),
                                           _mm_and_si128(qs, low4));
      const __m256i q =
          _mm256_or_si256(nib, _mm256_and_si256(bits_to_bytes(gguf_load_u32(w + 2)), bit4));
      const Floats32 qf = u8_to_ps(q);
      for (int64_t n = 0; n < N; ++n) {
        a.acc[n] = _mm256_fmadd_ps(d, dot32(qf, x + n * I + b * 32), a.acc[n]);
        a.corr[n] += df * s32[n * nb + b];
      }
    }
    for (int64_t n = 0; n < N; ++n) y[n * ldy + r] = hsum(a.acc[n]) - 16.0f * a.corr[n];
  }
}

template <int64_t N>
void rows_q4_k(const uint8_t* w, int64_t rows, int64_t I, const float* x, const float* s32,
               float* y, int64_t ldy) {
  const int64_t nsb = I / 256, n32 = I / 32;
  const __m256i low4 = _mm256_set1_epi8(0x0F);
  for (int64_t r = 0; r < rows; ++r) {
    Accumulators<N> a;
    for (int64_t sb = 0; sb < nsb; ++sb, w += sizeof(BlockQ4_K)) {
      const float d = half_at(w), dmin = half_at(w + 2);
      uint8_t sc[8], m[8];
      q4k_scales(w + 4, sc, m);
      for (int c = 0; c < 4; ++c) {
        const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + 16 + c * 32));
        const Floats32 half[2] = {u8_to_ps(_mm256_and_si256(q, low4)),
                                  u8_to_ps(_mm256_and_si256(_mm256_srli_epi16(q, 4), low4))};
        for (int h = 0; h < 2; ++h) {
          const int sub = 2 * c + h;
          const __m256 ds = _mm256_set1_ps(d * static_cast<float>(sc[sub]));
          const float dm = dmin * static_cast<float>(m[sub]);
          const int64_t at = sb * 256 + sub * 32;
          for (int64_t n = 0; n < N; ++n) {
            a.acc[n] = _mm256_fmadd_ps(ds, dot32(half[h], x + n * I + at), a.acc[n]);
            a.corr[n] += dm * s32[n * n32 + sb * 8 + sub];
          }
        }
      }
    }
    for (int64_t n = 0; n < N; ++n) y[n * ldy + r] = hsum(a.acc[n]) - a.corr[n];
  }
}

template <int64_t N>
void rows_q6_k(const uint8_t* w, int64_t rows, int64_t I, const float* x, const float* s16,
               float* y, int64_t ldy) {
  const int64_t nsb = I / 256, n16 = I / 16;
  const __m256i low4 = _mm256_set1_epi8(0x0F), low2 = _mm256_set1_epi8(0x03);
  for (int64_t r = 0; r < rows; ++r) {
    Accumulators<N> a;
    for (int64_t sb = 0; sb < nsb; ++sb, w += sizeof(BlockQ6_K)) {
      const auto* sc = reinterpret_cast<const int8_t*>(w + 192);
      const float d = half_at(w + 208);
      for (int g = 0; g < 2; ++g) {
        const __m256i l0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + g * 64));
        const __m256i l1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + g * 64 + 32));
        const __m256i hb = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + 128 + g * 32));
        for (int k = 0; k < 4; ++k) {
          __m256i lo = (k % 2) ? l1 : l0;
          if (k / 2) lo = _mm256_srli_epi16(lo, 4);
          lo = _mm256_and_si256(lo, low4);
          const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(hb, 2 * k), low2);
          const Floats32 q = u8_to_ps(_mm256_or_si256(lo, _mm256_slli_epi16(hi, 4)));
          for (int h = 0; h < 2; ++h) {
            const int sub = g * 8 + k * 2 + h;
            const float dsf = d * static_cast<float>(sc[sub]);
            const __m256 ds = _mm256_set1_ps(dsf);
            const int64_t at = sb * 256 + sub * 16;
            for (int64_t n = 0; n < N; ++n) {
              a.acc[n] = _mm256_fmadd_ps(ds, dot16(q, h, x + n * I + at), a.acc[n]);
              a.corr[n] += dsf * s16[n * n16 + sb * 16 + sub];
            }
          }
        }
      }
    }
    for (int64_t n = 0; n < N; ++n) y[n * ldy + r] = hsum(a.acc[n]) - 32.0f * a.corr[n];
  }
}

#endif  // TUNA_QUANT_DOT_AVX2

// f(std::integral_constant<int64_t, N>) for the runtime N in [1, kQuantDotMaxN].
template <typename F>
void with_n(int64_t N, F&& f) {
  switch (N) {
    case 1: return f(std::integral_constant<int64_t, 1>{});
    case 2: return f(std::integral_constant<int64_t, 2>{});
    case 3: return f(std::integral_constant<int64_t, 3>{});
    case 4: return f(std::integral_constant<int64_t, 4>{});
    case 5: return f(std::integral_constant<int64_t, 5>{});
    case 6: return f(std::integral_constant<int64_t, 6>{});
    case 7: return f(std::integral_constant<int64_t, 7>{});
    default: return f(std::integral_constant<int64_t, 8>{});
  }
}
static_assert(kQuantDotMaxN == 8, "with_n covers 1..8");

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
      return cpu_has_avx512();
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
    const float* s16 = sums.s16.data();
    const float* s32 = sums.s32.data();
    const bool wide = isa == QuantDotIsa::AVX512;
    return with_n(N, [&](auto n) {
      constexpr int64_t kN = decltype(n)::value;
      switch (t) {
        case DType::Q8_0:
          if (wide) return rows_q8_0_avx512<kN>(w, rows, I, x, y, ldy);
          return rows_q8_0<kN>(w, rows, I, x, y, ldy);
        case DType::Q5_0:
          return rows_q5_0<kN>(w, rows, I, x, s32, y, ldy);
        case DType::Q4_K:
          return rows_q4_k<kN>(w, rows, I, x, s32, y, ldy);
        default:  // Q6_K (check_args admits only the four)
          return rows_q6_k<kN>(w, rows, I, x, s16, y, ldy);
      }
    });
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
