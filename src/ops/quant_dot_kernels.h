// The SIMD row-dot kernels of quant_dot.cpp, written once over a vector policy: V8 (AVX2 + FMA,
// quant_dot.cpp) and V16 (AVX-512 F/BW/VL, quant_dot_avx512.cpp, the one file compiled with
// AVX-512 enabled). Everything here has internal linkage and the header includes no project
// header: an AVX-512 build of an inline function shared with the rest of libtuna could be the
// copy the linker keeps, and crash CPUs without AVX-512. (So the block offsets and the Q4_K
// scale unpacking are restated here, from ops/quant_gguf.h.)
//
// Per row and token: one vector accumulator of block (or sub-block) sums times their scale, and
// a scalar sum of the offsets (Σx per sub-block times the block's offset), subtracted at the end.
// N, the token count, is a template parameter so the accumulators stay in registers; each
// token's arithmetic does not depend on N.
#pragma once

#include <immintrin.h>

#include <cstdint>
#include <cstring>
#include <type_traits>

namespace tuna {
namespace {  // NOLINT(google-build-namespaces): internal linkage on purpose (see above)
namespace qdot {

constexpr int64_t kQ8_0Bytes = 34, kQ5_0Bytes = 22, kQ4_KBytes = 144, kQ6_KBytes = 210;

// An IEEE half (unaligned) to F32 with F16C: one instruction, the value gguf_load_f16 gives.
inline float half_at(const uint8_t* p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  return _cvtsh_ss(h);
}

inline uint32_t u32_at(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);  // little-endian hosts (as the GGUF reader)
  return v;
}

// Q4_K's scale and min of sub-block j from its 12 packed bytes (gguf-py get_scale_min).
inline void q4k_scale_min(const uint8_t* s, int j, uint8_t* sc, uint8_t* m) {
  if (j < 4) {
    *sc = s[j] & 63;
    *m = s[j + 4] & 63;
  } else {
    *sc = static_cast<uint8_t>((s[j + 4] & 0x0F) | ((s[j - 4] >> 2) & 0x30));
    *m = static_cast<uint8_t>((s[j + 4] >> 4) | ((s[j] >> 2) & 0x30));
  }
}

// Bit e of `bits` as byte e of the result: 0xFF when set, else 0.
inline __m256i bits_to_bytes(uint32_t bits) {
  const __m256i spread = _mm256_shuffle_epi8(
      _mm256_set1_epi32(static_cast<int>(bits)),
      _mm256_set_epi64x(0x0303030303030303, 0x0202020202020202, 0x0101010101010101, 0));
  const __m256i mask = _mm256_set1_epi64x(static_cast<int64_t>(0x8040201008040201ull));
  return _mm256_cmpeq_epi8(_mm256_and_si256(spread, mask), mask);
}

// Q5_0 block: its 32 quants (0..31) as bytes, in element order.
inline __m256i q5_0_bytes(const uint8_t* w) {
  const __m128i low4 = _mm_set1_epi8(0x0F);
  const __m128i qs = _mm_loadu_si128(reinterpret_cast<const __m128i*>(w + 6));
  const __m256i nib =
      _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(qs, 4), low4), _mm_and_si128(qs, low4));
  return _mm256_or_si256(nib,
                         _mm256_and_si256(bits_to_bytes(u32_at(w + 2)), _mm256_set1_epi8(0x10)));
}

// Q4_K: the 32 quant bytes of chunk c (0..3) of a super-block, split into sub-block 2c (the low
// nibbles) and 2c + 1 (the high ones), each as 32 bytes 0..15 in element order.
inline void q4_k_nibbles(const uint8_t* block, int c, __m256i out[2]) {
  const __m256i low4 = _mm256_set1_epi8(0x0F);
  const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(block + 16 + c * 32));
  out[0] = _mm256_and_si256(q, low4);
  out[1] = _mm256_and_si256(_mm256_srli_epi16(q, 4), low4);
}

// Q6_K: quants (0..63) of elements g·128 + k·32 + [0, 32) from the low-bit bytes l0 / l1
// (ql[g·64 ..], ql[g·64 + 32 ..]) and the high-bit bytes hb (qh[g·32 ..]).
inline __m256i q6_k_bytes(__m256i l0, __m256i l1, __m256i hb, int k) {
  __m256i lo = (k % 2) ? l1 : l0;
  if (k / 2) lo = _mm256_srli_epi16(lo, 4);
  lo = _mm256_and_si256(lo, _mm256_set1_epi8(0x0F));
  const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(hb, 2 * k), _mm256_set1_epi8(0x03));
  return _mm256_or_si256(lo, _mm256_slli_epi16(hi, 4));
}

// ---- vector policies ----------------------------------------------------------------------------

struct V8 {  // AVX2 + FMA: 8 lanes
  using F = __m256;
  static constexpr int kW = 8;
  static F zero() { return _mm256_setzero_ps(); }
  static F set1(float v) { return _mm256_set1_ps(v); }
  static F load(const float* p) { return _mm256_loadu_ps(p); }
  static F mul(F a, F b) { return _mm256_mul_ps(a, b); }
  static F add(F a, F b) { return _mm256_add_ps(a, b); }
  static F fmadd(F a, F b, F c) { return _mm256_fmadd_ps(a, b, c); }
  static float sum(F v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
  }
  // 32 unsigned bytes → 4 vectors, element order.
  static void u8(__m256i q, F* out) {
    const __m128i a = _mm256_castsi256_si128(q), b = _mm256_extracti128_si256(q, 1);
    out[0] = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(a));
    out[1] = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_srli_si128(a, 8)));
    out[2] = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(b));
    out[3] = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_srli_si128(b, 8)));
  }
  // 32 signed bytes (two halves of 16) → 4 vectors.
  static void i8(__m128i a, __m128i b, F* out) {
    out[0] = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(a));
    out[1] = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(a, 8)));
    out[2] = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(b));
    out[3] = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(b, 8)));
  }
};

#ifdef __AVX512F__
struct V16 {  // AVX-512: 16 lanes
  using F = __m512;
  static constexpr int kW = 16;
  static F zero() { return _mm512_setzero_ps(); }
  static F set1(float v) { return _mm512_set1_ps(v); }
  static F load(const float* p) { return _mm512_loadu_ps(p); }
  static F mul(F a, F b) { return _mm512_mul_ps(a, b); }
  static F add(F a, F b) { return _mm512_add_ps(a, b); }
  static F fmadd(F a, F b, F c) { return _mm512_fmadd_ps(a, b, c); }
  static float sum(F v) { return _mm512_reduce_add_ps(v); }
  static void u8(__m256i q, F* out) {
    out[0] = _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm256_castsi256_si128(q)));
    out[1] = _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm256_extracti128_si256(q, 1)));
  }
  static void i8(__m128i a, __m128i b, F* out) {
    out[0] = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(a));
    out[1] = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(b));
  }
};
#endif

// Σ over 32 elements of w·x as a vector (lanes summed at the end of the row); with 8 lanes, two
// independent chains (elements 0-15 and 16-31), half the latency of one.
template <class V>
inline typename V::F dot32(const typename V::F* w, const float* x) {
  if constexpr (V::kW == 8) {
    const auto lo = V::fmadd(w[1], V::load(x + 8), V::mul(w[0], V::load(x)));
    const auto hi = V::fmadd(w[3], V::load(x + 24), V::mul(w[2], V::load(x + 16)));
    return V::add(lo, hi);
  } else {
    return V::fmadd(w[1], V::load(x + 16), V::mul(w[0], V::load(x)));
  }
}
// The same over elements [16·h, 16·h + 16) of the 32.
template <class V>
inline typename V::F dot16(const typename V::F* w, int h, const float* x) {
  if constexpr (V::kW == 8) {
    return V::fmadd(w[2 * h + 1], V::load(x + 8), V::mul(w[2 * h], V::load(x)));
  } else {
    return V::mul(w[h], V::load(x));
  }
}

// ---- kernels: y[n·ldy + r] = row r · x[n], rows contiguous ----------------------------------------

template <class V, int64_t N>
void rows_q8_0(const uint8_t* w, int64_t rows, int64_t I, const float* x, float* y, int64_t ldy) {
  using F = typename V::F;
  const int64_t nb = I / 32;
  for (int64_t r = 0; r < rows; ++r) {
    F acc[N];
    for (int64_t n = 0; n < N; ++n) acc[n] = V::zero();
    for (int64_t b = 0; b < nb; ++b, w += kQ8_0Bytes) {
      const F d = V::set1(half_at(w));
      F q[32 / V::kW];
      V::i8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w + 2)),
            _mm_loadu_si128(reinterpret_cast<const __m128i*>(w + 18)), q);
      for (int64_t n = 0; n < N; ++n) acc[n] = V::fmadd(d, dot32<V>(q, x + n * I + b * 32), acc[n]);
    }
    for (int64_t n = 0; n < N; ++n) y[n * ldy + r] = V::sum(acc[n]);
  }
}

// Q5_0: x = d·(q − 16) → d·Σq·x − 16·d·Σx.
template <class V, int64_t N>
void rows_q5_0(const uint8_t* w, int64_t rows, int64_t I, const float* x, const float* s32,
               float* y, int64_t ldy) {
  using F = typename V::F;
  const int64_t nb = I / 32;
  for (int64_t r = 0; r < rows; ++r) {
    F acc[N];
    float corr[N];
    for (int64_t n = 0; n < N; ++n) acc[n] = V::zero(), corr[n] = 0.0f;
    for (int64_t b = 0; b < nb; ++b, w += kQ5_0Bytes) {
      const float df = half_at(w);
      const F d = V::set1(df);
      F q[32 / V::kW];
      V::u8(q5_0_bytes(w), q);
      for (int64_t n = 0; n < N; ++n) {
        acc[n] = V::fmadd(d, dot32<V>(q, x + n * I + b * 32), acc[n]);
        corr[n] += df * s32[n * nb + b];
      }
    }
    for (int64_t n = 0; n < N; ++n) y[n * ldy + r] = V::sum(acc[n]) - 16.0f * corr[n];
  }
}

// Q4_K: sub-block j of 32: x = (d·sc_j)·q − dmin·m_j.
template <class V, int64_t N>
void rows_q4_k(const uint8_t* w, int64_t rows, int64_t I, const float* x, const float* s32,
               float* y, int64_t ldy) {
  using F = typename V::F;
  const int64_t nsb = I / 256, n32 = I / 32;
  for (int64_t r = 0; r < rows; ++r) {
    F acc[N];
    float corr[N];
    for (int64_t n = 0; n < N; ++n) acc[n] = V::zero(), corr[n] = 0.0f;
    for (int64_t sb = 0; sb < nsb; ++sb, w += kQ4_KBytes) {
      const float d = half_at(w), dmin = half_at(w + 2);
      for (int c = 0; c < 4; ++c) {
        __m256i nib[2];
        q4_k_nibbles(w, c, nib);
        F half[2][32 / V::kW];
        V::u8(nib[0], half[0]);
        V::u8(nib[1], half[1]);
        for (int h = 0; h < 2; ++h) {
          const int sub = 2 * c + h;
          uint8_t sc, m;
          q4k_scale_min(w + 4, sub, &sc, &m);
          const F ds = V::set1(d * static_cast<float>(sc));
          const float dm = dmin * static_cast<float>(m);
          const int64_t at = sb * 256 + sub * 32;
          for (int64_t n = 0; n < N; ++n) {
            acc[n] = V::fmadd(ds, dot32<V>(half[h], x + n * I + at), acc[n]);
            corr[n] += dm * s32[n * n32 + sb * 8 + sub];
          }
        }
      }
    }
    for (int64_t n = 0; n < N; ++n) y[n * ldy + r] = V::sum(acc[n]) - corr[n];
  }
}

// Q6_K: sub-block j of 16: x = (d·sc_j)·(q − 32).
template <class V, int64_t N>
void rows_q6_k(const uint8_t* w, int64_t rows, int64_t I, const float* x, const float* s16,
               float* y, int64_t ldy) {
  using F = typename V::F;
  const int64_t nsb = I / 256, n16 = I / 16;
  for (int64_t r = 0; r < rows; ++r) {
    F acc[N];
    float corr[N];
    for (int64_t n = 0; n < N; ++n) acc[n] = V::zero(), corr[n] = 0.0f;
    for (int64_t sb = 0; sb < nsb; ++sb, w += kQ6_KBytes) {
      const auto* sc = reinterpret_cast<const int8_t*>(w + 192);
      const float d = half_at(w + 208);
      for (int g = 0; g < 2; ++g) {
        const __m256i l0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + g * 64));
        const __m256i l1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + g * 64 + 32));
        const __m256i hb = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + 128 + g * 32));
        for (int k = 0; k < 4; ++k) {
          F q[32 / V::kW];
          V::u8(q6_k_bytes(l0, l1, hb, k), q);
          for (int h = 0; h < 2; ++h) {
            const int sub = g * 8 + k * 2 + h;
            const float dsf = d * static_cast<float>(sc[sub]);
            const F ds = V::set1(dsf);
            const int64_t at = sb * 256 + sub * 16;
            for (int64_t n = 0; n < N; ++n) {
              acc[n] = V::fmadd(ds, dot16<V>(q, h, x + n * I + at), acc[n]);
              corr[n] += dsf * s16[n * n16 + sb * 16 + sub];
            }
          }
        }
      }
    }
    for (int64_t n = 0; n < N; ++n) y[n * ldy + r] = V::sum(acc[n]) - 32.0f * corr[n];
  }
}

// ---- 8-bit activations (the fast path): u8 weights · s8 activations summed in int32 ------------
// xq: [N, I] int8, xd: [N, I/32] scales, xs32 / xs16: [N, I/32] / [N, I/16] sums of xq.
// Per block b of 32: x ≈ xd[b]·xq. The integer dot of 32 weight quants with 32 activation
// quants leaves 8 int32 lanes (lane i: elements 4i..4i+3), scaled and accumulated in F32.

struct DotMaddubs {  // AVX2: u8·s8 pairs summed to int16, then pairs of those to int32
  static __m256i dot(__m256i a_u8, __m256i b_s8) {
    return _mm256_madd_epi16(_mm256_maddubs_epi16(a_u8, b_s8), _mm256_set1_epi16(1));
  }
};
#if defined(__AVX512VNNI__) && defined(__AVX512VL__)
struct DotVnni {  // AVX-512 VNNI (256-bit): four u8·s8 products per int32 lane in one instruction
  static __m256i dot(__m256i a_u8, __m256i b_s8) {
    return _mm256_dpbusd_epi32(_mm256_setzero_si256(), a_u8, b_s8);
  }
};
#endif

inline __m256i load32(const void* p) {
  return _mm256_loadu_si256(static_cast<const __m256i*>(p));
}

template <class Dot, int64_t N>
void rows_q8_0_i8(const uint8_t* w, int64_t rows, int64_t I, const int8_t* xq, const float* xd,
                  float* y, int64_t ldy) {
  const int64_t nb = I / 32;
  for (int64_t r = 0; r < rows; ++r) {
    __m256 acc[N];
    for (int64_t n = 0; n < N; ++n) acc[n] = _mm256_setzero_ps();
    for (int64_t b = 0; b < nb; ++b, w += kQ8_0Bytes) {
      const float dw = half_at(w);
      const __m256i wq = load32(w + 2);
      const __m256i aw = _mm256_sign_epi8(wq, wq);  // |w| as u8; the sign moves to x
      for (int64_t n = 0; n < N; ++n) {
        const __m256i bx = _mm256_sign_epi8(load32(xq + n * I + b * 32), wq);
        acc[n] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(Dot::dot(aw, bx)),
                                 _mm256_set1_ps(dw * xd[n * nb + b]), acc[n]);
      }
    }
    for (int64_t n = 0; n < N; ++n) y[n * ldy + r] = V8::sum(acc[n]);
  }
}

template <class Dot, int64_t N>
void rows_q5_0_i8(const uint8_t* w, int64_t rows, int64_t I, const int8_t* xq, const float* xd,
                  const int32_t* xs32, float* y, int64_t ldy) {
  const int64_t nb = I / 32;
  for (int64_t r = 0; r < rows; ++r) {
    __m256 acc[N];
    float corr[N];
    for (int64_t n = 0; n < N; ++n) acc[n] = _mm256_setzero_ps(), corr[n] = 0.0f;
    for (int64_t b = 0; b < nb; ++b, w += kQ5_0Bytes) {
      const float dw = half_at(w);
      const __m256i q = q5_0_bytes(w);
      for (int64_t n = 0; n < N; ++n) {
        const float s = dw * xd[n * nb + b];
        acc[n] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(Dot::dot(q, load32(xq + n * I + b * 32))),
                                 _mm256_set1_ps(s), acc[n]);
        corr[n] += s * static_cast<float>(xs32[n * nb + b]);
      }
    }
    for (int64_t n = 0; n < N; ++n) y[n * ldy + r] = V8::sum(acc[n]) - 16.0f * corr[n];
  }
}

template <class Dot, int64_t N>
void rows_q4_k_i8(const uint8_t* w, int64_t rows, int64_t I, const int8_t* xq, const float* xd,
                  const int32_t* xs32, float* y, int64_t ldy) {
  const int64_t nsb = I / 256, nb = I / 32;
  for (int64_t r = 0; r < rows; ++r) {
    __m256 acc[N];
    float corr[N];
    for (int64_t n = 0; n < N; ++n) acc[n] = _mm256_setzero_ps(), corr[n] = 0.0f;
    for (int64_t sb = 0; sb < nsb; ++sb, w += kQ4_KBytes) {
      const float d = half_at(w), dmin = half_at(w + 2);
      for (int c = 0; c < 4; ++c) {
        __m256i half[2];
        q4_k_nibbles(w, c, half);
        for (int h = 0; h < 2; ++h) {
          const int sub = 2 * c + h;
          uint8_t sc, m;
          q4k_scale_min(w + 4, sub, &sc, &m);
          const float ds = d * static_cast<float>(sc), dm = dmin * static_cast<float>(m);
          const int64_t b = sb * 8 + sub;
          for (int64_t n = 0; n < N; ++n) {
            const float dx = xd[n * nb + b];
            acc[n] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(Dot::dot(half[h], load32(xq + n * I + b * 32))),
                                     _mm256_set1_ps(ds * dx), acc[n]);
            corr[n] += dm * dx * static_cast<float>(xs32[n * nb + b]);
          }
        }
      }
    }
    for (int64_t n = 0; n < N; ++n) y[n * ldy + r] = V8::sum(acc[n]) - corr[n];
  }
}

template <class Dot, int64_t N>
void rows_q6_k_i8(const uint8_t* w, int64_t rows, int64_t I, const int8_t* xq, const float* xd,
                  const int32_t* xs16, float* y, int64_t ldy) {
  const int64_t nsb = I / 256, nb = I / 32, n16 = I / 16;
  for (int64_t r = 0; r < rows; ++r) {
    __m256 acc[N];
    float corr[N];
    for (int64_t n = 0; n < N; ++n) acc[n] = _mm256_setzero_ps(), corr[n] = 0.0f;
    for (int64_t sb = 0; sb < nsb; ++sb, w += kQ6_KBytes) {
      const auto* sc = reinterpret_cast<const int8_t*>(w + 192);
      const float d = half_at(w + 208);
      for (int g = 0; g < 2; ++g) {
        const __m256i l0 = load32(w + g * 64), l1 = load32(w + g * 64 + 32);
        const __m256i hb = load32(w + 128 + g * 32);
        for (int k = 0; k < 4; ++k) {
          const __m256i q = q6_k_bytes(l0, l1, hb, k);
          const int sub = g * 8 + k * 2;  // elements 0-15 of the 32: sub; 16-31: sub + 1
          const float ds0 = d * static_cast<float>(sc[sub]), ds1 = d * static_cast<float>(sc[sub + 1]);
          const int64_t b = sb * 8 + g * 4 + k;
          for (int64_t n = 0; n < N; ++n) {
            const float dx = xd[n * nb + b];
            const __m256 scale = _mm256_set_m128(_mm_set1_ps(ds1 * dx), _mm_set1_ps(ds0 * dx));
            acc[n] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(Dot::dot(q, load32(xq + n * I + b * 32))),
                                     scale, acc[n]);
            corr[n] += dx * (ds0 * static_cast<float>(xs16[n * n16 + 2 * b]) +
                             ds1 * static_cast<float>(xs16[n * n16 + 2 * b + 1]));
          }
        }
      }
    }
    for (int64_t n = 0; n < N; ++n) y[n * ldy + r] = V8::sum(acc[n]) - 32.0f * corr[n];
  }
}

// f(std::integral_constant<int64_t, N>{}) for a runtime N in [1, 8].
template <typename Fn>
void with_n(int64_t N, Fn&& f) {
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

// The kernel of `type` (0 Q8_0, 1 Q5_0, 2 Q4_K, 3 Q6_K) for N tokens with policy V.
template <class V>
void rows(int type, const uint8_t* w, int64_t rows_n, int64_t I, const float* x, const float* s16,
          const float* s32, int64_t N, float* y, int64_t ldy) {
  with_n(N, [&](auto n) {
    constexpr int64_t kN = decltype(n)::value;
    switch (type) {
      case 0: return rows_q8_0<V, kN>(w, rows_n, I, x, y, ldy);
      case 1: return rows_q5_0<V, kN>(w, rows_n, I, x, s32, y, ldy);
      case 2: return rows_q4_k<V, kN>(w, rows_n, I, x, s32, y, ldy);
      default: return rows_q6_k<V, kN>(w, rows_n, I, x, s16, y, ldy);
    }
  });
}

// The 8-bit-activation kernel of `type` for N tokens with integer dot policy Dot.
template <class Dot>
void rows_i8(int type, const uint8_t* w, int64_t rows_n, int64_t I, const int8_t* xq,
             const float* xd, const int32_t* xs16, const int32_t* xs32, int64_t N, float* y,
             int64_t ldy) {
  with_n(N, [&](auto n) {
    constexpr int64_t kN = decltype(n)::value;
    switch (type) {
      case 0: return rows_q8_0_i8<Dot, kN>(w, rows_n, I, xq, xd, y, ldy);
      case 1: return rows_q5_0_i8<Dot, kN>(w, rows_n, I, xq, xd, xs32, y, ldy);
      case 2: return rows_q4_k_i8<Dot, kN>(w, rows_n, I, xq, xd, xs32, y, ldy);
      default: return rows_q6_k_i8<Dot, kN>(w, rows_n, I, xq, xd, xs16, y, ldy);
    }
  });
}

}  // namespace qdot
}  // namespace
}  // namespace tuna
