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

#include <utility>

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

// A block's 32 quants as two registers holding bytes 0-15 (lo) and 16-31 (hi) in both 128-bit
// halves: dword k of the block in every lane is then one in-lane shuffle (no store and reload).
struct Halves {
  __m256i lo, hi;
};
inline Halves halves(__m256i q) {
  return {_mm256_permute2x128_si256(q, q, 0x00), _mm256_permute2x128_si256(q, q, 0x11)};
}

// acc + Σ over the 32 elements of a block: quants u (u8, the same for every token) · the
// tokens' interleaved activations xb (lane n: token n). Two chains (groups 0-3 and 4-7): the
// integer dots' latency, not the loads, bounds this otherwise (four chains, or two rows sharing
// the activation loads, measured slower).
template <class Dot>
inline __m256i block_lanes(__m256i acc, const Halves& u, const int8_t* xb) {
  __m256i a = acc, b = _mm256_setzero_si256();
  a = Dot::acc(a, _mm256_shuffle_epi32(u.lo, 0x00), load32(xb));
  b = Dot::acc(b, _mm256_shuffle_epi32(u.hi, 0x00), load32(xb + 128));
  a = Dot::acc(a, _mm256_shuffle_epi32(u.lo, 0x55), load32(xb + 32));
  b = Dot::acc(b, _mm256_shuffle_epi32(u.hi, 0x55), load32(xb + 160));
  a = Dot::acc(a, _mm256_shuffle_epi32(u.lo, 0xAA), load32(xb + 64));
  b = Dot::acc(b, _mm256_shuffle_epi32(u.hi, 0xAA), load32(xb + 192));
  a = Dot::acc(a, _mm256_shuffle_epi32(u.lo, 0xFF), load32(xb + 96));
  b = Dot::acc(b, _mm256_shuffle_epi32(u.hi, 0xFF), load32(xb + 224));
  return _mm256_add_epi32(a, b);
}
// The same with the sign of signed quants q moved onto the activations (AVX2's Q8_0: maddubs
// takes |q| as u8); sg holds q itself.
template <class Dot>
inline __m256i block_lanes_signed(const Halves& u, const Halves& sg, const int8_t* xb) {
  __m256i a = _mm256_setzero_si256(), b = _mm256_setzero_si256();
  auto step = [&](__m256i& s, const __m256i& uu, const __m256i& ss, const int8_t* x) {
    s = Dot::acc(s, uu, _mm256_sign_epi8(load32(x), ss));
  };
  step(a, _mm256_shuffle_epi32(u.lo, 0x00), _mm256_shuffle_epi32(sg.lo, 0x00), xb);
  step(b, _mm256_shuffle_epi32(u.hi, 0x00), _mm256_shuffle_epi32(sg.hi, 0x00), xb + 128);
  step(a, _mm256_shuffle_epi32(u.lo, 0x55), _mm256_shuffle_epi32(sg.lo, 0x55), xb + 32);
  step(b, _mm256_shuffle_epi32(u.hi, 0x55), _mm256_shuffle_epi32(sg.hi, 0x55), xb + 160);
  step(a, _mm256_shuffle_epi32(u.lo, 0xAA), _mm256_shuffle_epi32(sg.lo, 0xAA), xb + 64);
  step(b, _mm256_shuffle_epi32(u.hi, 0xAA), _mm256_shuffle_epi32(sg.hi, 0xAA), xb + 192);
  step(a, _mm256_shuffle_epi32(u.lo, 0xFF), _mm256_shuffle_epi32(sg.lo, 0xFF), xb + 96);
  step(b, _mm256_shuffle_epi32(u.hi, 0xFF), _mm256_shuffle_epi32(sg.hi, 0xFF), xb + 224);
  return _mm256_add_epi32(a, b);
}

// One 32-element block of Q8_0 (kQ8) or Q5_0 at w: its integer sums for every token.
template <class Dot, bool kQ8>
inline __m256i isum_32(const uint8_t* w, const int8_t* xb, const int32_t* xs32b) {
  if constexpr (!kQ8) {
    return block_lanes<Dot>(neg_shl(xs32b, 4), halves(q5_0_bytes(w)), xb);
  } else if constexpr (Dot::kVnni) {
    // Groups 0-3 broadcast from memory (load ports), 4-7 shuffled from a register (shuffle
    // ports): neither kind of port alone bounds the loop.
    const __m256i flip = _mm256_set1_epi8(-128);
    const __m256i hi = _mm256_xor_si256(
        _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w + 18))), flip);
    auto lo = [&](int k) {
      int32_t v;
      std::memcpy(&v, w + 2 + 4 * k, 4);
      return _mm256_xor_si256(_mm256_set1_epi32(v), flip);
    };
    __m256i a = neg_shl(xs32b, 7), b = _mm256_setzero_si256();
    a = Dot::acc(a, lo(0), load32(xb));
    b = Dot::acc(b, _mm256_shuffle_epi32(hi, 0x00), load32(xb + 128));
    a = Dot::acc(a, lo(1), load32(xb + 32));
    b = Dot::acc(b, _mm256_shuffle_epi32(hi, 0x55), load32(xb + 160));
    a = Dot::acc(a, lo(2), load32(xb + 64));
    b = Dot::acc(b, _mm256_shuffle_epi32(hi, 0xAA), load32(xb + 192));
    a = Dot::acc(a, lo(3), load32(xb + 96));
    b = Dot::acc(b, _mm256_shuffle_epi32(hi, 0xFF), load32(xb + 224));
    return _mm256_add_epi32(a, b);
  } else {
    const __m256i q = load32(w + 2);
    return block_lanes_signed<Dot>(halves(_mm256_sign_epi8(q, q)), halves(q), xb);
  }
}

// How far ahead of the block being read the weights are prefetched (the hardware prefetcher
// alone falls behind at this kernel's pace; 2 and 4 KiB measured alike, both faster than none).
constexpr int64_t kPrefetchBytes = 4096;

// Q8_0 and Q5_0 (32-element blocks with one scale). Q8_0: x = d·q with q signed — VNNI takes
// (q + 128) as u8 with −128·Σx folded into the integer sum, AVX2 takes |q| with the sign moved
// onto the activations. Q5_0: x = d·(q − 16), −16·Σx folded into the integer sum. One row at a
// time (pairs of rows sharing the activation loads measured slower).
template <class Dot, bool kQ8>
void lanes_32(const uint8_t* w, int64_t rows, int64_t I, const int8_t* xq, const float* xd,
              const int32_t* xs32, int64_t N, float* y, int64_t ldy) {
  constexpr int64_t kBytes = kQ8 ? kQ8_0Bytes : kQ5_0Bytes;
  const int64_t nb = I / 32;
  for (int64_t r = 0; r < rows; ++r) {
    __m256 acc = _mm256_setzero_ps();
    for (int64_t b = 0; b < nb; ++b, w += kBytes) {
      _mm_prefetch(reinterpret_cast<const char*>(w) + kPrefetchBytes, _MM_HINT_T0);
      const __m256i isum = isum_32<Dot, kQ8>(w, xq + b * 256, xs32 + b * 8);
      const __m256 scale = _mm256_mul_ps(_mm256_set1_ps(half_at(w)), _mm256_loadu_ps(xd + b * 8));
      acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum), scale, acc);
    }
    store_lanes(acc, N, y + r, ldy);
  }
}

// acc + Σ over 16 elements: the quants in `dup` (bytes of the 16 in both 128-bit halves) · the
// tokens' activations at xh (two chains, as block_lanes).
template <class Dot>
inline __m256i half_lanes(__m256i acc, __m256i dup, const int8_t* xh) {
  __m256i a = acc, b = _mm256_setzero_si256();
  a = Dot::acc(a, _mm256_shuffle_epi32(dup, 0x00), load32(xh));
  b = Dot::acc(b, _mm256_shuffle_epi32(dup, 0x55), load32(xh + 32));
  a = Dot::acc(a, _mm256_shuffle_epi32(dup, 0xAA), load32(xh + 64));
  b = Dot::acc(b, _mm256_shuffle_epi32(dup, 0xFF), load32(xh + 96));
  return _mm256_add_epi32(a, b);
}

// Q4_K: sub-block j of 32: x = (d·sc_j)·q − dmin·m_j; the min term from each token's d·Σq.
template <class Dot>
void lanes_q4_k(const uint8_t* w, int64_t rows, int64_t I, const int8_t* xq, const float* xd,
                const float* xds32, int64_t N, float* y, int64_t ldy) {
  const int64_t nsb = I / 256;
  for (int64_t r = 0; r < rows; ++r) {
    __m256 acc = _mm256_setzero_ps();
    for (int64_t sb = 0; sb < nsb; ++sb, w += kQ4_KBytes) {
      for (int64_t at = 0; at < kQ4_KBytes; at += 64)
        _mm_prefetch(reinterpret_cast<const char*>(w) + kPrefetchBytes + at, _MM_HINT_T0);
      const float d = half_at(w), dmin = half_at(w + 2);
      for (int c = 0; c < 4; ++c) {
        __m256i nib[2];
        q4_k_nibbles(w, c, nib);
        for (int h = 0; h < 2; ++h) {
          const int sub = 2 * c + h;
          const int64_t b = sb * 8 + sub;
          uint8_t sc, m;
          q4k_scale_min(w + 4, sub, &sc, &m);
          const __m256i isum = block_lanes<Dot>(_mm256_setzero_si256(), halves(nib[h]), xq + b * 256);
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
  for (int64_t r = 0; r < rows; ++r) {
    __m256 acc = _mm256_setzero_ps();
    for (int64_t sb = 0; sb < nsb; ++sb, w += kQ6_KBytes) {
      for (int64_t at = 0; at < kQ6_KBytes; at += 64)
        _mm_prefetch(reinterpret_cast<const char*>(w) + kPrefetchBytes + at, _MM_HINT_T0);
      const auto* sc = reinterpret_cast<const int8_t*>(w + 192);
      const float d = half_at(w + 208);
      for (int g = 0; g < 2; ++g) {
        const __m256i l0 = load32(w + g * 64), l1 = load32(w + g * 64 + 32);
        const __m256i hb = load32(w + 128 + g * 32);
        for (int k = 0; k < 4; ++k) {
          const Halves u = halves(q6_k_bytes(l0, l1, hb, k));
          const int64_t b = sb * 8 + g * 4 + k;
          const __m256 dx = _mm256_loadu_ps(xd + b * 8);
          for (int h = 0; h < 2; ++h) {
            const int sub = g * 8 + k * 2 + h;
            const __m256i isum = half_lanes<Dot>(neg_shl(xs16 + (2 * b + h) * 8, 5),
                                                 h == 0 ? u.lo : u.hi, xq + b * 256 + h * 128);
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
    case 0: return lanes_32<Dot, true>(w, rows_n, I, xq, xd, xs32, N, y, ldy);
    case 1: return lanes_32<Dot, false>(w, rows_n, I, xq, xd, xs32, N, y, ldy);
    case 2: return lanes_q4_k<Dot>(w, rows_n, I, xq, xd, xds32, N, y, ldy);
    default: return lanes_q6_k<Dot>(w, rows_n, I, xq, xd, xs16, N, y, ldy);
  }
}

}  // namespace qdot
}  // namespace
}  // namespace tuna
