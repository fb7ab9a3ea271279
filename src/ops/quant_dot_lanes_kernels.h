// The 8-bit-activation kernels for several tokens at once (quant_dot.h: quant_dot_rows_lanes):
// one 32-bit lane per token. The activations come interleaved (ActQ8Lanes: each group of four
// int8s of token n in lane n), so one integer dot instruction with four weight quants broadcast
// to every lane advances all eight tokens by four elements; a block's integer sums then meet
// their scales in one convert and one multiply-add for all tokens, where the per-token kernels
// (quant_dot_kernels.h) pay those per token. Integer sums are exact, so the AVX2 (maddubs) and
// VNNI versions give the same bits, and the scalar reference in quant_dot.cpp repeats the
// float operations lane by lane (the tests compare bitwise).
//
// Included by quant_dot.cpp (AVX2) and quant_dot_avx512.cpp (VNNI, 256-bit): internal linkage,
// no project header, as quant_dot_kernels.h (whose helpers it uses).
#pragma once

#include "ops/quant_dot_kernels.h"

namespace tuna {
namespace {  // NOLINT(google-build-namespaces): internal linkage on purpose (quant_dot_kernels.h)
namespace qdot {

// Integer dot policies with accumulation: acc + Σ over each lane's four u8·s8 products.
struct LanesMaddubs {  // AVX2; pair sums must stay within int16 (weights ≤ 128 · |x| ≤ 127)
  static constexpr bool kVnni = false;
  static __m256i acc(__m256i acc, __m256i a_u8, __m256i b_s8) {
    return _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(a_u8, b_s8),
                                                   _mm256_set1_epi16(1)));
  }
};
#if defined(__AVX512VNNI__) && defined(__AVX512VL__)
struct LanesVnni {  // AVX-512 VNNI on 256-bit registers: no int16 step, no saturation
  static constexpr bool kVnni = true;
  static __m256i acc(__m256i acc, __m256i a_u8, __m256i b_s8) {
    return _mm256_dpbusd_epi32(acc, a_u8, b_s8);
  }
};
#endif

// Four bytes at p in every 32-bit lane.
inline __m256i bcast4(const uint8_t* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return _mm256_set1_epi32(v);
}

// acc + Σ over G groups of four: quants u[4k..4k+3] (u8, the same for every token) · the
// tokens' activations xg[k·32 + 4n ..] (lane n).
template <class Dot, int G>
inline __m256i idot_lanes(__m256i acc, const uint8_t* u, const int8_t* xg) {
  for (int k = 0; k < G; ++k) acc = Dot::acc(acc, bcast4(u + 4 * k), load32(xg + 32 * k));
  return acc;
}

// −(v << s): an integer offset correction (−c·Σq with c = 2^s) for every lane.
inline __m256i neg_shl(const int32_t* v, int s) {
  return _mm256_sub_epi32(_mm256_setzero_si256(),
                          _mm256_slli_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(v)), s));
}

// The lanes' results of row r: y[n·ldy + r], n < N.
inline void store_lanes(__m256 acc, int64_t N, float* y, int64_t ldy) {
  alignas(32) float t[8];
  _mm256_store_ps(t, acc);
  for (int64_t n = 0; n < N; ++n) y[n * ldy] = t[n];
}

// Interleaved activations (see ActQ8Lanes): xq [I/4][8][4], xd [I/32][8], xds32 [I/32][8],
// xs16 [I/16][8], xs32 [I/32][8].

// Q8_0: x = d·q with q signed. VNNI: (q + 128) as u8 and −128·Σx folded into the integer sum;
// AVX2: |q| as u8 and the sign moved onto the activations.
template <class Dot>
void lanes_q8_0(const uint8_t* w, int64_t rows, int64_t I, const int8_t* xq, const float* xd,
                const int32_t* xs32, int64_t N, float* y, int64_t ldy) {
  const int64_t nb = I / 32;
  alignas(32) uint8_t u[32], s[32];
  for (int64_t r = 0; r < rows; ++r) {
    __m256 acc = _mm256_setzero_ps();
    for (int64_t b = 0; b < nb; ++b, w += kQ8_0Bytes) {
      const __m256i q = load32(w + 2);
      const int8_t* xb = xq + b * 256;
      __m256i isum;
      if constexpr (Dot::kVnni) {
        _mm256_store_si256(reinterpret_cast<__m256i*>(u), _mm256_xor_si256(q, _mm256_set1_epi8(-128)));
        isum = idot_lanes<Dot, 8>(neg_shl(xs32 + b * 8, 7), u, xb);
      } else {
        _mm256_store_si256(reinterpret_cast<__m256i*>(u), _mm256_sign_epi8(q, q));
        _mm256_store_si256(reinterpret_cast<__m256i*>(s), q);
        isum = _mm256_setzero_si256();
        for (int k = 0; k < 8; ++k)
          isum = Dot::acc(isum, bcast4(u + 4 * k), _mm256_sign_epi8(load32(xb + 32 * k), bcast4(s + 4 * k)));
      }
      const __m256 scale = _mm256_mul_ps(_mm256_set1_ps(half_at(w)), _mm256_loadu_ps(xd + b * 8));
      acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum), scale, acc);
    }
    store_lanes(acc, N, y + r, ldy);
  }
}

// Q5_0: x = d·(q − 16), the −16·Σx folded into the integer sum.
template <class Dot>
void lanes_q5_0(const uint8_t* w, int64_t rows, int64_t I, const int8_t* xq, const float* xd,
                const int32_t* xs32, int64_t N, float* y, int64_t ldy) {
  const int64_t nb = I / 32;
  alignas(32) uint8_t u[32];
  for (int64_t r = 0; r < rows; ++r) {
    __m256 acc = _mm256_setzero_ps();
    for (int64_t b = 0; b < nb; ++b, w += kQ5_0Bytes) {
      _mm256_store_si256(reinterpret_cast<__m256i*>(u), q5_0_bytes(w));
      const __m256i isum = idot_lanes<Dot, 8>(neg_shl(xs32 + b * 8, 4), u, xq + b * 256);
      const __m256 scale = _mm256_mul_ps(_mm256_set1_ps(half_at(w)), _mm256_loadu_ps(xd + b * 8));
      acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum), scale, acc);
    }
    store_lanes(acc, N, y + r, ldy);
  }
}

// Q4_K: sub-block j of 32: x = (d·sc_j)·q − dmin·m_j; the min term from each token's d·Σq.
template <class Dot>
void lanes_q4_k(const uint8_t* w, int64_t rows, int64_t I, const int8_t* xq, const float* xd,
                const float* xds32, int64_t N, float* y, int64_t ldy) {
  const int64_t nsb = I / 256;
  const __m256i low4 = _mm256_set1_epi8(0x0F);
  alignas(32) uint8_t u[64];
  for (int64_t r = 0; r < rows; ++r) {
    __m256 acc = _mm256_setzero_ps();
    for (int64_t sb = 0; sb < nsb; ++sb, w += kQ4_KBytes) {
      const float d = half_at(w), dmin = half_at(w + 2);
      for (int c = 0; c < 4; ++c) {
        const __m256i q = load32(w + 16 + c * 32);
        _mm256_store_si256(reinterpret_cast<__m256i*>(u), _mm256_and_si256(q, low4));
        _mm256_store_si256(reinterpret_cast<__m256i*>(u + 32),
                           _mm256_and_si256(_mm256_srli_epi16(q, 4), low4));
        for (int h = 0; h < 2; ++h) {
          const int sub = 2 * c + h;
          const int64_t b = sb * 8 + sub;
          uint8_t sc, m;
          q4k_scale_min(w + 4, sub, &sc, &m);
          const __m256i isum = idot_lanes<Dot, 8>(_mm256_setzero_si256(), u + 32 * h, xq + b * 256);
          const __m256 scale =
              _mm256_mul_ps(_mm256_set1_ps(d * static_cast<float>(sc)), _mm256_loadu_ps(xd + b * 8));
          acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum), scale, acc);
          acc = _mm256_fnmadd_ps(_mm256_set1_ps(dmin * static_cast<float>(m)),
                                 _mm256_loadu_ps(xds32 + b * 8), acc);
        }
      }
    }
    store_lanes(acc, N, y + r, ldy);
  }
}

// Q6_K: sub-block j of 16: x = (d·sc_j)·(q − 32), the −32·Σx folded into each integer sum.
template <class Dot>
void lanes_q6_k(const uint8_t* w, int64_t rows, int64_t I, const int8_t* xq, const float* xd,
                const int32_t* xs16, int64_t N, float* y, int64_t ldy) {
  const int64_t nsb = I / 256;
  alignas(32) uint8_t u[32];
  for (int64_t r = 0; r < rows; ++r) {
    __m256 acc = _mm256_setzero_ps();
    for (int64_t sb = 0; sb < nsb; ++sb, w += kQ6_KBytes) {
      const auto* sc = reinterpret_cast<const int8_t*>(w + 192);
      const float d = half_at(w + 208);
      for (int g = 0; g < 2; ++g) {
        const __m256i l0 = load32(w + g * 64), l1 = load32(w + g * 64 + 32);
        const __m256i hb = load32(w + 128 + g * 32);
        for (int k = 0; k < 4; ++k) {
          _mm256_store_si256(reinterpret_cast<__m256i*>(u), q6_k_bytes(l0, l1, hb, k));
          const int64_t b = sb * 8 + g * 4 + k;
          const __m256 dx = _mm256_loadu_ps(xd + b * 8);
          for (int h = 0; h < 2; ++h) {
            const int sub = g * 8 + k * 2 + h;
            const __m256i isum = idot_lanes<Dot, 4>(neg_shl(xs16 + (2 * b + h) * 8, 5), u + 16 * h,
                                                    xq + b * 256 + h * 128);
            const __m256 scale = _mm256_mul_ps(_mm256_set1_ps(d * static_cast<float>(sc[sub])), dx);
            acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum), scale, acc);
          }
        }
      }
    }
    store_lanes(acc, N, y + r, ldy);
  }
}

// The kernel of `type` (0 Q8_0, 1 Q5_0, 2 Q4_K, 3 Q6_K) with integer dot policy Dot.
template <class Dot>
void rows_lanes(int type, const uint8_t* w, int64_t rows_n, int64_t I, const int8_t* xq,
                const float* xd, const float* xds32, const int32_t* xs16, const int32_t* xs32,
                int64_t N, float* y, int64_t ldy) {
  switch (type) {
    case 0: return lanes_q8_0<Dot>(w, rows_n, I, xq, xd, xs32, N, y, ldy);
    case 1: return lanes_q5_0<Dot>(w, rows_n, I, xq, xd, xs32, N, y, ldy);
    case 2: return lanes_q4_k<Dot>(w, rows_n, I, xq, xd, xds32, N, y, ldy);
    default: return lanes_q6_k<Dot>(w, rows_n, I, xq, xd, xs16, N, y, ldy);
  }
}

}  // namespace qdot
}  // namespace
}  // namespace tuna
