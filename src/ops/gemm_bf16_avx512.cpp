// BF16 GEMM kernels with AVX512-BF16 (`vcvtne2ps2bf16` to pack, `vdpbf16ps` to multiply): see
// gemm_bf16_avx512.h for the packed layouts. Compiled with -mavx512f/bw/vl/bf16 (src/CMakeLists.txt)
// and called only where the CPU has them (gemm_bf16.cpp). Everything here has internal linkage or
// is declared in gemm_bf16_avx512.h; no standard-library templates are instantiated here, so no
// AVX-512 copy of shared inline code can be linked into the rest of libtuna.
#include "ops/gemm_bf16_avx512.h"

#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512BF16__)
// GCC 12's AVX-512 headers trip -Wmaybe-uninitialized (their _mm512_undefined_* helpers).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

namespace tuna {

namespace {

inline __mmask16 first_lanes(int64_t n) {
  return n >= 16 ? static_cast<__mmask16>(0xFFFF)
         : n <= 0 ? static_cast<__mmask16>(0)
                  : static_cast<__mmask16>((1u << n) - 1u);
}

// 16 pairs (lo[i], hi[i]) of BF16, each a uint32 (lo in the low half).
inline __m512i interleave_pairs(__m512 lo, __m512 hi) {
  const __m512i l = _mm512_cvtepu16_epi32(reinterpret_cast<__m256i>(_mm512_cvtneps_pbh(lo)));
  const __m512i h = _mm512_cvtepu16_epi32(reinterpret_cast<__m256i>(_mm512_cvtneps_pbh(hi)));
  return _mm512_or_si512(l, _mm512_slli_epi32(h, 16));
}

// r[i][j] → r[j][i] for a 16 × 16 block of 32-bit elements.
inline void transpose16(__m512i r[16]) {
  __m512i t[16], u[16];
  for (int i = 0; i < 8; ++i) {
    t[2 * i] = _mm512_unpacklo_epi32(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_epi32(r[2 * i], r[2 * i + 1]);
  }
  for (int i = 0; i < 4; ++i) {
    u[4 * i] = _mm512_unpacklo_epi64(t[4 * i], t[4 * i + 2]);
    u[4 * i + 1] = _mm512_unpackhi_epi64(t[4 * i], t[4 * i + 2]);
    u[4 * i + 2] = _mm512_unpacklo_epi64(t[4 * i + 1], t[4 * i + 3]);
    u[4 * i + 3] = _mm512_unpackhi_epi64(t[4 * i + 1], t[4 * i + 3]);
  }
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 4; ++j) {
      t[8 * i + j] = _mm512_shuffle_i32x4(u[8 * i + j], u[8 * i + 4 + j], 0x88);
      t[8 * i + 4 + j] = _mm512_shuffle_i32x4(u[8 * i + j], u[8 * i + 4 + j], 0xDD);
    }
  for (int j = 0; j < 8; ++j) {
    r[j] = _mm512_shuffle_i32x4(t[j], t[8 + j], 0x88);
    r[8 + j] = _mm512_shuffle_i32x4(t[j], t[8 + j], 0xDD);
  }
}

inline __m512 dp(__m512 acc, __m512i a, __m512i b) {
  return _mm512_dpbf16_ps(acc, reinterpret_cast<__m512bh>(a), reinterpret_cast<__m512bh>(b));
}

}  // namespace

bool gemm_bf16_avx512_built() { return true; }

void bf16_pack(const float* src, int64_t stride_w, int64_t stride_k, int64_t width, int64_t valid,
               int64_t K, uint32_t* out) {
  const int64_t KP = (K + 1) / 2;
  if (stride_k == 1) {
    // Each row/column is contiguous in k: for 16 of them at a time, 32 k become 16 pairs each
    // (one vector per row), transposed so that each vector holds one k pair of the 16.
    for (int64_t w0 = 0; w0 < width; w0 += 16) {
      const __mmask16 store = first_lanes(width - w0);
      for (int64_t k0 = 0; k0 < K; k0 += 32) {
        const int64_t n = K - k0 < 32 ? K - k0 : 32;
        __m512i r[16];
        for (int64_t i = 0; i < 16; ++i) {
          if (w0 + i >= valid) {
            r[i] = _mm512_setzero_si512();
            continue;
          }
          const float* row = src + (w0 + i) * stride_w + k0;
          const __m512 lo = _mm512_maskz_loadu_ps(first_lanes(n), row);
          const __m512 hi = _mm512_maskz_loadu_ps(first_lanes(n - 16), row + 16);
          r[i] = reinterpret_cast<__m512i>(_mm512_cvtne2ps_pbh(hi, lo));
        }
        transpose16(r);
        const int64_t np = (n + 1) / 2;
        uint32_t* o = out + (k0 / 2) * width + w0;
        for (int64_t p = 0; p < np; ++p) _mm512_mask_storeu_epi32(o + p * width, store, r[p]);
      }
    }
    return;
  }
  // stride_w == 1: for each k pair, two rows of the operand give 16 pairs of adjacent w.
  for (int64_t kp = 0; kp < KP; ++kp) {
    const float* r0 = src + (2 * kp) * stride_k;
    const bool has_odd = 2 * kp + 1 < K;
    const float* r1 = r0 + stride_k;
    for (int64_t w0 = 0; w0 < width; w0 += 16) {
      const __mmask16 m = first_lanes(valid - w0);
      const __m512 x = _mm512_maskz_loadu_ps(m, r0 + w0);
      const __m512 y = has_odd ? _mm512_maskz_loadu_ps(m, r1 + w0) : _mm512_setzero_ps();
      _mm512_mask_storeu_epi32(out + kp * width + w0, first_lanes(width - w0),
                               interleave_pairs(x, y));
    }
  }
}

void bf16_micro(const uint32_t* a, const uint32_t* b, int64_t kp0, int64_t kp1, float* c,
                int64_t ldc, int64_t m_valid, int64_t n_valid, float alpha, float beta,
                bool first) {
  static_assert(kBf16MR == 12 && kBf16NR == 32, "the kernel is written for 12 × 32");
  __m512 acc[12][2];
#pragma GCC unroll 12
  for (int i = 0; i < 12; ++i) acc[i][0] = acc[i][1] = _mm512_setzero_ps();
  const uint32_t* pa = a + kp0 * kBf16MR;
  const uint32_t* pb = b + kp0 * kBf16NR;
  for (int64_t kp = kp0; kp < kp1; ++kp, pa += kBf16MR, pb += kBf16NR) {
    const __m512i b0 = _mm512_load_si512(pb);
    const __m512i b1 = _mm512_load_si512(pb + 16);
#pragma GCC unroll 12
    for (int i = 0; i < 12; ++i) {
      const __m512i ai = _mm512_set1_epi32(static_cast<int>(pa[i]));
      acc[i][0] = dp(acc[i][0], ai, b0);
      acc[i][1] = dp(acc[i][1], ai, b1);
    }
  }
  const __mmask16 m0 = first_lanes(n_valid), m1 = first_lanes(n_valid - 16);
  const __m512 va = _mm512_set1_ps(alpha);
  const bool read_c = !first || beta != 0.0f;
  const __m512 vb = _mm512_set1_ps(first ? beta : 1.0f);
#pragma GCC unroll 12
  for (int i = 0; i < 12; ++i) {
    if (i >= m_valid) break;
    float* ci = c + i * ldc;
    __m512 r0 = alpha == 1.0f ? acc[i][0] : _mm512_mul_ps(acc[i][0], va);
    __m512 r1 = alpha == 1.0f ? acc[i][1] : _mm512_mul_ps(acc[i][1], va);
    if (read_c) {
      r0 = _mm512_add_ps(r0, _mm512_mul_ps(_mm512_maskz_loadu_ps(m0, ci), vb));
      r1 = _mm512_add_ps(r1, _mm512_mul_ps(_mm512_maskz_loadu_ps(m1, ci + 16), vb));
    }
    _mm512_mask_storeu_ps(ci, m0, r0);
    _mm512_mask_storeu_ps(ci + 16, m1, r1);
  }
}

}  // namespace tuna
#pragma GCC diagnostic pop

#else  // the compiler could not target AVX512-BF16

namespace tuna {
bool gemm_bf16_avx512_built() { return false; }
void bf16_pack(const float*, int64_t, int64_t, int64_t, int64_t, int64_t, uint32_t*) {}
void bf16_micro(const uint32_t*, const uint32_t*, int64_t, int64_t, float*, int64_t, int64_t,
                int64_t, float, float, bool) {}
}  // namespace tuna

#endif
