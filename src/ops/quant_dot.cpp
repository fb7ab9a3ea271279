// Quantized-weight row dots with F32 activations (see quant_dot.h): AVX2 + FMA kernels and the
// scalar reference, block layouts as in quant_gguf.h.
#include "ops/quant_dot.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>

#include "core/error.h"
#include "ops/quant_dot_avx512.h"
#include "ops/quant_gguf.h"

#if defined(__AVX2__) && defined(__FMA__) && defined(__F16C__)
#include "ops/quant_dot_kernels.h"
#include "ops/quant_dot_lanes_kernels.h"
#define TUNA_QUANT_DOT_AVX2 1
#endif

namespace tuna {

namespace {

// Q4_K's eight (scale, min) pairs.
inline void q4k_scales(const uint8_t* s, uint8_t sc[8], uint8_t m[8]) {
  for (int j = 0; j < 8; ++j) gguf_scale_min_k4(s, j, sc + j, m + j);
}

// ---- scalar reference ------------------------------------------------------------------------

// A Q5_0 block's 32 quants (0..31), element order.
void q5_0_quants(const uint8_t* w, int* q) {
  const uint32_t qh = gguf_load_u32(w + 2);
  for (int j = 0; j < 16; ++j) {
    q[j] = (w[6 + j] & 0x0F) | static_cast<int>(((qh >> j) & 1u) << 4);
    q[j + 16] = (w[6 + j] >> 4) | static_cast<int>(((qh >> (j + 16)) & 1u) << 4);
  }
}

// A Q6_K super-block's quants (0..63) of elements a·128 + k·32 + [0, 32).
void q6_k_quants(const uint8_t* w, int a, int k, int* q) {
  for (int l = 0; l < 32; ++l)
    q[l] = ((w[a * 64 + (k % 2) * 32 + l] >> (4 * (k / 2))) & 0x0F) |
           (((w[128 + a * 32 + l] >> (2 * k)) & 3) << 4);
}

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
        q5_0_quants(w, q);
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
        const auto* sc = reinterpret_cast<const int8_t*>(w + 192);
        const float d = gguf_load_f16(w + 208);
        for (int a = 0; a < 2; ++a)
          for (int k = 0; k < 4; ++k) {
            q6_k_quants(w, a, k, q);
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
// AVX-512 F/BW/VL and VNNI: quant_dot_avx512.cpp is compiled with all four.
bool cpu_has_avx512() {
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni");
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

// ---- 8-bit activations ----------------------------------------------------------------------------

namespace {

// One block of 32 activations: q = x·(1/d) rounded to nearest-even with d = max|x| / 127, and
// the sums of q over each half. Returns d.
float quantize_block_q8(const float* xb, int8_t* qb, int32_t s[2]) {
#ifdef TUNA_QUANT_DOT_AVX2
  // The same values as the scalar code: cvtps rounds to nearest-even (the default rounding mode
  // nearbyint uses); |x·(1/d)| ≤ 127 up to rounding and the packs saturate.
  __m256 v[4], m = _mm256_setzero_ps();
  const __m256 sign = _mm256_set1_ps(-0.0f);
  for (int k = 0; k < 4; ++k) {
    v[k] = _mm256_loadu_ps(xb + 8 * k);
    m = _mm256_max_ps(m, _mm256_andnot_ps(sign, v[k]));
  }
  __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
  m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
  m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
  const float d = _mm_cvtss_f32(m4) / 127.0f, id = d > 0.0f ? 1.0f / d : 0.0f;
  __m256i qi[4];
  for (int k = 0; k < 4; ++k) qi[k] = _mm256_cvtps_epi32(_mm256_mul_ps(v[k], _mm256_set1_ps(id)));
  // The packs work per 128-bit half: dwords come out as q0[0:4] q1[0:4] q2[0:4] q3[0:4]
  // q0[4:8] ...; the permutation puts them back in element order.
  __m256i q8 = _mm256_packs_epi16(_mm256_packs_epi32(qi[0], qi[1]), _mm256_packs_epi32(qi[2], qi[3]));
  q8 = _mm256_permutevar8x32_epi32(q8, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
  q8 = _mm256_max_epi8(q8, _mm256_set1_epi8(-127));
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(qb), q8);
  // Σq per 16: bytes widened to int16, pairs summed by madd, then hadd: [lo0 lo1 hi0 hi1 |
  // lo2 lo3 hi2 hi3] (lo: elements 0-15, hi: 16-31).
  const __m256i ones = _mm256_set1_epi16(1);
  const __m256i lo = _mm256_madd_epi16(_mm256_cvtepi8_epi16(_mm256_castsi256_si128(q8)), ones);
  const __m256i hi = _mm256_madd_epi16(_mm256_cvtepi8_epi16(_mm256_extracti128_si256(q8, 1)), ones);
  alignas(32) int32_t t[8];
  _mm256_store_si256(reinterpret_cast<__m256i*>(t), _mm256_hadd_epi32(lo, hi));
  s[0] = t[0] + t[1] + t[4] + t[5];
  s[1] = t[2] + t[3] + t[6] + t[7];
  return d;
#else
  float amax = 0.0f;
  for (int i = 0; i < 32; ++i) amax = std::max(amax, std::fabs(xb[i]));
  const float d = amax / 127.0f, id = d > 0.0f ? 1.0f / d : 0.0f;
  s[0] = s[1] = 0;
  for (int i = 0; i < 32; ++i) {
    const float v = std::nearbyint(xb[i] * id);
    qb[i] = static_cast<int8_t>(std::clamp(v, -127.0f, 127.0f));
    s[i / 16] += qb[i];
  }
  return d;
#endif
}

}  // namespace

ActQ8 quantize_act_q8(const float* x, int64_t N, int64_t I) {
  TUNA_ASSERT(I % 32 == 0, "quantize_act_q8: I not a multiple of 32");
  ActQ8 a;
  a.N = N;
  a.I = I;
  a.q.resize(static_cast<size_t>(N * I));
  a.d.resize(static_cast<size_t>(N * (I / 32)));
  a.s16.resize(static_cast<size_t>(N * (I / 16)));
  a.s32.resize(static_cast<size_t>(N * (I / 32)));
  for (int64_t n = 0; n < N; ++n)
    for (int64_t b = 0; b < I / 32; ++b) {
      int32_t s[2];
      const size_t at = static_cast<size_t>(n * (I / 32) + b);
      a.d[at] = quantize_block_q8(x + n * I + b * 32, a.q.data() + n * I + b * 32, s);
      a.s16[2 * at] = s[0];
      a.s16[2 * at + 1] = s[1];
      a.s32[at] = s[0] + s[1];
    }
  return a;
}

namespace {
thread_local bool t_int8_activations = false;
}  // namespace

bool int8_activations() {
  return t_int8_activations;
}

Int8ActivationScope::Int8ActivationScope(bool on) : previous_(t_int8_activations) {
  t_int8_activations = on;
}

Int8ActivationScope::~Int8ActivationScope() {
  t_int8_activations = previous_;
}

namespace {

// Scalar reference of one row and token: integer block dots, combined in F32 in block order.
float row_q8act_scalar(DType t, const uint8_t* w, int64_t I, const int8_t* xq, const float* xd,
                       const int32_t* s16, const int32_t* s32) {
  float acc = 0.0f, corr = 0.0f;
  auto idot = [&](const int* q, int64_t at, int n) {
    int32_t s = 0;
    for (int i = 0; i < n; ++i) s += q[i] * xq[at + i];
    return static_cast<float>(s);
  };
  int q[256];
  switch (t) {
    case DType::Q8_0:
      for (int64_t b = 0; b < I / 32; ++b, w += sizeof(BlockQ8_0)) {
        for (int i = 0; i < 32; ++i) q[i] = static_cast<int8_t>(w[2 + i]);
        acc += gguf_load_f16(w) * xd[b] * idot(q, b * 32, 32);
      }
      return acc;
    case DType::Q5_0:
      for (int64_t b = 0; b < I / 32; ++b, w += sizeof(BlockQ5_0)) {
        const float s = gguf_load_f16(w) * xd[b];
        q5_0_quants(w, q);
        acc += s * idot(q, b * 32, 32);
        corr += s * static_cast<float>(s32[b]);
      }
      return acc - 16.0f * corr;
    case DType::Q4_K:
      for (int64_t sb = 0; sb < I / 256; ++sb, w += sizeof(BlockQ4_K)) {
        const float d = gguf_load_f16(w), dmin = gguf_load_f16(w + 2);
        uint8_t sc[8], m[8];
        q4k_scales(w + 4, sc, m);
        for (int c = 0; c < 4; ++c)
          for (int h = 0; h < 2; ++h) {
            for (int l = 0; l < 32; ++l)
              q[l] = h == 0 ? (w[16 + c * 32 + l] & 0x0F) : (w[16 + c * 32 + l] >> 4);
            const int sub = 2 * c + h;
            const int64_t b = sb * 8 + sub;
            acc += d * static_cast<float>(sc[sub]) * xd[b] * idot(q, b * 32, 32);
            corr += dmin * static_cast<float>(m[sub]) * xd[b] * static_cast<float>(s32[b]);
          }
      }
      return acc - corr;
    case DType::Q6_K:
      for (int64_t sb = 0; sb < I / 256; ++sb, w += sizeof(BlockQ6_K)) {
        const auto* sc = reinterpret_cast<const int8_t*>(w + 192);
        const float d = gguf_load_f16(w + 208);
        for (int a = 0; a < 2; ++a)
          for (int k = 0; k < 4; ++k) {
            q6_k_quants(w, a, k, q);
            const int64_t b = sb * 8 + a * 4 + k;
            for (int h = 0; h < 2; ++h) {
              const float ds = d * static_cast<float>(sc[a * 8 + k * 2 + h]) * xd[b];
              acc += ds * idot(q + 16 * h, b * 32 + 16 * h, 16);
              corr += ds * static_cast<float>(s16[2 * b + h]);
            }
          }
      }
      return acc - 32.0f * corr;
    default:
      throw_internal_error("quant_dot", std::string("no 8-bit row dot for ") + dtype_name(t));
  }
}

}  // namespace

void quant_dot_rows_q8act(QuantDotIsa isa, DType t, const uint8_t* w, int64_t rows, int64_t I,
                          const ActQ8& a, int64_t n0, int64_t N, float* y, int64_t ldy) {
  check_args(t, I, N);
  TUNA_ASSERT(a.I == I && n0 >= 0 && n0 + N <= a.N, "quant_dot_q8act: activations");
  TUNA_ASSERT(quant_dot_isa_available(isa), "quant_dot_q8act: ISA not available on this CPU");
  const int8_t* xq = a.q.data() + n0 * I;
  const float* xd = a.d.data() + n0 * (I / 32);
  const int32_t* s16 = a.s16.data() + n0 * (I / 16);
  const int32_t* s32 = a.s32.data() + n0 * (I / 32);
#ifdef TUNA_QUANT_DOT_AVX2
  if (isa == QuantDotIsa::AVX512)
    return quant_dot_rows_vnni(kernel_type(t), w, rows, I, xq, xd, s16, s32, N, y, ldy);
  if (isa == QuantDotIsa::AVX2)
    return qdot::rows_i8<qdot::DotMaddubs>(kernel_type(t), w, rows, I, xq, xd, s16, s32, N, y,
                                           ldy);
#endif
  const size_t row_bytes = dtype_nbytes(t, I);
  for (int64_t r = 0; r < rows; ++r, w += row_bytes)
    for (int64_t n = 0; n < N; ++n)
      y[n * ldy + r] = row_q8act_scalar(t, w, I, xq + n * I, xd + n * (I / 32), s16 + n * (I / 16),
                                        s32 + n * (I / 32));
}

void quant_dot_rows_q8act(DType t, const uint8_t* w, int64_t rows, int64_t I, const ActQ8& a,
                          int64_t n0, int64_t N, float* y, int64_t ldy) {
  quant_dot_rows_q8act(quant_dot_isa(), t, w, rows, I, a, n0, N, y, ldy);
}

// ---- 8-bit activations, tokens in lanes ------------------------------------------------------------

ActQ8Lanes act_q8_lanes(const ActQ8& a, int64_t n0, int64_t N) {
  TUNA_ASSERT(N >= 1 && N <= 8 && n0 >= 0 && n0 + N <= a.N, "act_q8_lanes: tokens");
  const int64_t I = a.I;
  ActQ8Lanes l;
  l.N = N;
  l.I = I;
  l.q.assign(static_cast<size_t>(I * 8), 0);
  l.d.assign(static_cast<size_t>(I / 32 * 8), 0.0f);
  l.ds32.assign(l.d.size(), 0.0f);
  l.s32.assign(l.d.size(), 0);
  l.s16.assign(static_cast<size_t>(I / 16 * 8), 0);
  for (int64_t n = 0; n < N; ++n) {
    const int64_t t = n0 + n;
    for (int64_t g = 0; g < I / 4; ++g)
      std::memcpy(&l.q[static_cast<size_t>((g * 8 + n) * 4)], &a.q[static_cast<size_t>(t * I + g * 4)], 4);
    for (int64_t b = 0; b < I / 32; ++b) {
      const size_t at = static_cast<size_t>(b * 8 + n), from = static_cast<size_t>(t * (I / 32) + b);
      l.d[at] = a.d[from];
      l.s32[at] = a.s32[from];
      l.ds32[at] = a.d[from] * static_cast<float>(a.s32[from]);
    }
    for (int64_t b = 0; b < I / 16; ++b)
      l.s16[static_cast<size_t>(b * 8 + n)] = a.s16[static_cast<size_t>(t * (I / 16) + b)];
  }
  return l;
}

namespace {

// Scalar reference of the lane kernels: token n's integer block sums and, in the same order,
// the same float operations as one lane of quant_dot_lanes_kernels.h (std::fma where they fuse).
float row_lanes_scalar(DType t, const uint8_t* w, int64_t I, const ActQ8Lanes& a, int64_t n) {
  auto x = [&](int64_t i) {  // token n's int8 at element i
    return static_cast<int32_t>(a.q[static_cast<size_t>(((i / 4) * 8 + n) * 4 + i % 4)]);
  };
  auto lane = [&](const auto& v, int64_t b) { return v[static_cast<size_t>(b * 8 + n)]; };
  auto idot = [&](const int* q, int64_t at, int len) {
    int32_t s = 0;
    for (int i = 0; i < len; ++i) s += q[i] * x(at + i);
    return static_cast<float>(s);
  };
  float acc = 0.0f;
  int q[256];
  switch (t) {
    case DType::Q8_0:
      for (int64_t b = 0; b < I / 32; ++b, w += sizeof(BlockQ8_0)) {
        for (int i = 0; i < 32; ++i) q[i] = static_cast<int8_t>(w[2 + i]);
        acc = std::fma(idot(q, b * 32, 32), gguf_load_f16(w) * lane(a.d, b), acc);
      }
      return acc;
    case DType::Q5_0:
      for (int64_t b = 0; b < I / 32; ++b, w += sizeof(BlockQ5_0)) {
        q5_0_quants(w, q);
        for (int i = 0; i < 32; ++i) q[i] -= 16;
        acc = std::fma(idot(q, b * 32, 32), gguf_load_f16(w) * lane(a.d, b), acc);
      }
      return acc;
    case DType::Q4_K:
      for (int64_t sb = 0; sb < I / 256; ++sb, w += sizeof(BlockQ4_K)) {
        const float d = gguf_load_f16(w), dmin = gguf_load_f16(w + 2);
        uint8_t sc[8], m[8];
        q4k_scales(w + 4, sc, m);
        for (int sub = 0; sub < 8; ++sub) {
          const int c = sub / 2, h = sub % 2;
          for (int l = 0; l < 32; ++l) q[l] = (w[16 + c * 32 + l] >> (4 * h)) & 0x0F;
          const int64_t b = sb * 8 + sub;
          acc = std::fma(idot(q, b * 32, 32), (d * static_cast<float>(sc[sub])) * lane(a.d, b), acc);
          acc = std::fma(-(dmin * static_cast<float>(m[sub])), lane(a.ds32, b), acc);
        }
      }
      return acc;
    case DType::Q6_K:
      for (int64_t sb = 0; sb < I / 256; ++sb, w += sizeof(BlockQ6_K)) {
        const auto* sc = reinterpret_cast<const int8_t*>(w + 192);
        const float d = gguf_load_f16(w + 208);
        for (int g = 0; g < 2; ++g)
          for (int k = 0; k < 4; ++k) {
            q6_k_quants(w, g, k, q);
            for (int i = 0; i < 32; ++i) q[i] -= 32;
            const int64_t b = sb * 8 + g * 4 + k;
            for (int h = 0; h < 2; ++h) {
              const float ds = d * static_cast<float>(sc[g * 8 + k * 2 + h]);
              acc = std::fma(idot(q + 16 * h, b * 32 + 16 * h, 16), ds * lane(a.d, b), acc);
            }
          }
      }
      return acc;
    default:
      throw_internal_error("quant_dot", std::string("no lane kernel for ") + dtype_name(t));
  }
}

}  // namespace

void quant_dot_rows_lanes(QuantDotIsa isa, DType t, const uint8_t* w, int64_t rows, int64_t I,
                          const ActQ8Lanes& a, float* y, int64_t ldy) {
  check_args(t, I, a.N);
  TUNA_ASSERT(a.I == I, "quant_dot_lanes: activations");
  TUNA_ASSERT(quant_dot_isa_available(isa), "quant_dot_lanes: ISA not available on this CPU");
#ifdef TUNA_QUANT_DOT_AVX2
  if (isa == QuantDotIsa::AVX512)
    return quant_dot_rows_lanes_vnni(kernel_type(t), w, rows, I, a.q.data(), a.d.data(),
                                     a.ds32.data(), a.s16.data(), a.s32.data(), a.N, y, ldy);
  if (isa == QuantDotIsa::AVX2)
    return qdot::rows_lanes<qdot::LanesMaddubs>(kernel_type(t), w, rows, I, a.q.data(), a.d.data(),
                                                a.ds32.data(), a.s16.data(), a.s32.data(), a.N,
                                                y, ldy);
#endif
  const size_t row_bytes = dtype_nbytes(t, I);
  for (int64_t r = 0; r < rows; ++r, w += row_bytes)
    for (int64_t n = 0; n < a.N; ++n) y[n * ldy + r] = row_lanes_scalar(t, w, I, a, n);
}

void quant_dot_rows_lanes(DType t, const uint8_t* w, int64_t rows, int64_t I, const ActQ8Lanes& a,
                          float* y, int64_t ldy) {
  quant_dot_rows_lanes(quant_dot_isa(), t, w, rows, I, a, y, ldy);
}

}  // namespace tuna
