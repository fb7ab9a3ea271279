// cpu::gemm_bf16 against its definition (operands rounded to BF16 to nearest even, products summed
// in F32): every transpose combination and edge shape within F32 summation error of the double
// reference, single products exact (the rounding itself, ties and denormals included), the same
// bits for 1 and 2 threads and for any sub-block of C, and Bf16MatmulScope's switching.
#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "ops/gemm_bf16.h"
#include "ops_test_util.h"

namespace {

using tuna::cpu::gemm_bf16;
using tuna::cpu::gemm_bf16_reference;
using tuna_test::random_values;

struct Case {
  bool ta, tb;
  int64_t M, N, K;
  float alpha, beta;
};

// Operands stored as the transposes say; C [M, N] with ldc = N + 3 (a gap the product must not
// touch).
struct Problem {
  Case c;
  int64_t lda, ldb, ldc;
  std::vector<float> A, B, C;
  explicit Problem(const Case& cs, uint32_t seed) : c(cs) {
    lda = (cs.ta ? cs.M : cs.K) + 1;
    ldb = (cs.tb ? cs.K : cs.N) + 2;
    ldc = cs.N + 3;
    A = random_values(static_cast<size_t>((cs.ta ? cs.K : cs.M) * lda), seed);
    B = random_values(static_cast<size_t>((cs.tb ? cs.N : cs.K) * ldb), seed + 1);
    C = random_values(static_cast<size_t>(cs.M * ldc), seed + 2);
  }
  std::vector<float> run(bool reference) const {
    std::vector<float> out = C;
    auto* f = reference ? &gemm_bf16_reference : &gemm_bf16;
    f(c.ta, c.tb, c.M, c.N, c.K, c.alpha, A.data(), lda, B.data(), ldb, c.beta, out.data(), ldc);
    return out;
  }
  // Σ_k |a_ik · b_kj| (the scale of F32 summation error for C[i, j]).
  double magnitude(int64_t i, int64_t j) const {
    double s = 0.0;
    for (int64_t k = 0; k < c.K; ++k) {
      const float a = c.ta ? A[k * lda + i] : A[i * lda + k];
      const float b = c.tb ? B[j * ldb + k] : B[k * ldb + j];
      s += std::fabs(static_cast<double>(a) * b);
    }
    return s;
  }
};

#define SKIP_WITHOUT_BF16() \
  if (!tuna::bf16_matmul_available()) GTEST_SKIP() << "no AVX512-BF16 on this CPU"

TEST(GemmBf16, MatchesDefinitionForEveryLayoutAndEdgeShape) {
  SKIP_WITHOUT_BF16();
  const int64_t ms[] = {1, 11, 12, 13, 97, 200};
  const int64_t ns[] = {1, 17, 32, 33, 300};
  const int64_t ks[] = {1, 2, 3, 31, 256, 257, 640};
  uint32_t seed = 1;
  int checked = 0;
  for (int t = 0; t < 4; ++t)
    for (int64_t M : ms)
      for (int64_t N : ns)
        for (int64_t K : ks) {
          if (M * N * K > 4'000'000 && (M != 200 || K != 640)) continue;
          const float alpha = (seed % 3 == 0) ? 0.5f : 1.0f;
          const float beta = (seed % 4 == 0) ? 0.0f : (seed % 4 == 1 ? 1.0f : -0.25f);
          const Problem p({(t & 1) != 0, (t & 2) != 0, M, N, K, alpha, beta}, seed++);
          const std::vector<float> got = p.run(false), want = p.run(true);
          for (int64_t i = 0; i < M; ++i) {
            for (int64_t j = 0; j < N; ++j) {
              const size_t at = static_cast<size_t>(i * p.ldc + j);
              // K F32 additions (plus the alpha/beta step) each off by at most half an ulp.
              const double tol =
                  (K + 4) * std::ldexp(1.0, -24) *
                      (std::fabs(alpha) * p.magnitude(i, j) + std::fabs(beta * p.C[at])) +
                  1e-30;
              ASSERT_NEAR(got[at], want[at], tol)
                  << "ta " << (t & 1) << " tb " << (t >> 1) << " M " << M << " N " << N << " K "
                  << K << " at " << i << "," << j;
            }
            for (int64_t j = N; j < p.ldc && i * p.ldc + j < static_cast<int64_t>(got.size()); ++j)
              ASSERT_EQ(got[static_cast<size_t>(i * p.ldc + j)],
                        p.C[static_cast<size_t>(i * p.ldc + j)])
                  << "wrote past column N";
          }
          ++checked;
        }
  EXPECT_GT(checked, 400);
}

// Operands larger than one chunk of op(B) (2,048 k × 1,024 columns) in both directions, and fewer
// row blocks than threads (the column ranges split).
TEST(GemmBf16, MatchesDefinitionAcrossChunks) {
  SKIP_WITHOUT_BF16();
  for (int t = 0; t < 2; ++t) {
    const Problem p({t == 1, t == 0, 30, 1100, 4200, 1.0f, 1.0f}, 900 + t);
    const std::vector<float> got = p.run(false), want = p.run(true);
    for (int64_t i = 0; i < 30; ++i)
      for (int64_t j = 0; j < 1100; ++j) {
        const size_t at = static_cast<size_t>(i * p.ldc + j);
        const double tol =
            (4200 + 4) * std::ldexp(1.0, -24) * (p.magnitude(i, j) + std::fabs(p.C[at]));
        ASSERT_NEAR(got[at], want[at], tol) << i << "," << j;
      }
  }
}

// One product per element (K = 1): exact in F32, so any rounding difference shows. Values on and
// next to BF16 ties, denormals (to zero) and signs.
TEST(GemmBf16, RoundsOperandsToNearestEven) {
  SKIP_WITHOUT_BF16();
  std::vector<float> a;
  auto from_bits = [](uint32_t u) {
    float f;
    std::memcpy(&f, &u, 4);
    return f;
  };
  for (uint32_t hi : {0x3F80u, 0x3F81u, 0xBF80u, 0x4049u, 0x7F00u})
    for (uint32_t lo : {0x0000u, 0x7FFFu, 0x8000u, 0x8001u, 0xFFFFu})
      a.push_back(from_bits((hi << 16) | lo));
  a.push_back(from_bits(0x00400000u));  // a denormal: becomes zero
  a.push_back(1e-3f);
  const int64_t M = static_cast<int64_t>(a.size());
  const std::vector<float> b = {1.0f, -3.0f, 0.0078125f};
  const int64_t N = static_cast<int64_t>(b.size());
  std::vector<float> got(static_cast<size_t>(M * N)), want(got.size());
  gemm_bf16(false, false, M, N, 1, 1.0f, a.data(), 1, b.data(), N, 0.0f, got.data(), N);
  gemm_bf16_reference(false, false, M, N, 1, 1.0f, a.data(), 1, b.data(), N, 0.0f, want.data(), N);
  for (size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i], want[i]) << "element " << i;
  // Spot checks of the definition itself: 1 + 2⁻⁸ (a tie) rounds to 1 (even), 1 + 2⁻⁸ + 2⁻²³
  // rounds up to 1 + 2⁻⁷.
  EXPECT_EQ(got[static_cast<size_t>(2 * N)], 1.0f);
  EXPECT_EQ(got[static_cast<size_t>(3 * N)], 1.0078125f);
  EXPECT_EQ(got[static_cast<size_t>(25 * N)], 0.0f);
}

TEST(GemmBf16, SameBitsForAnyThreadCountAndAnyBlockOfC) {
  SKIP_WITHOUT_BF16();
  const Problem p({false, true, 150, 700, 900, 1.0f, 1.0f}, 77);
  const int saved = omp_get_max_threads();
  omp_set_num_threads(1);
  const std::vector<float> one = p.run(false);
  omp_set_num_threads(2);
  const std::vector<float> two = p.run(false);
  omp_set_num_threads(saved);
  ASSERT_EQ(one.size(), two.size());
  EXPECT_EQ(std::memcmp(one.data(), two.data(), one.size() * sizeof(float)), 0);
  // Rows 5..60 and columns 40..333 alone (different groups and panels) give the same bits.
  std::vector<float> part = p.C;
  const int64_t i0 = 5, j0 = 40;
  gemm_bf16(false, true, 55, 293, 900, 1.0f, p.A.data() + i0 * p.lda, p.lda,
            p.B.data() + j0 * p.ldb, p.ldb, 1.0f, part.data() + i0 * p.ldc + j0, p.ldc);
  for (int64_t i = i0; i < i0 + 55; ++i)
    for (int64_t j = j0; j < j0 + 293; ++j)
      ASSERT_EQ(part[static_cast<size_t>(i * p.ldc + j)], one[static_cast<size_t>(i * p.ldc + j)])
          << i << "," << j;
}

// Attention calls gemm_bf16 inside its own parallel region: reserving first gives every thread of
// the team its scratch, so the nested calls neither allocate (held bytes unchanged) nor change
// bits.
TEST(GemmBf16, ReservedScratchKeepsNestedCallsFromAllocating) {
  SKIP_WITHOUT_BF16();
  const Problem p({false, true, 40, 300, 500, 1.0f, 0.0f}, 5);
  const std::vector<float> outside = p.run(false);
  const int threads = 2;
  tuna::reserve_bf16_gemm_scratch_per_thread(threads);
  std::vector<int64_t> before(threads), after(threads);
  std::vector<std::vector<float>> inside(threads, p.C);
#pragma omp parallel num_threads(threads)
  {
    const int t = omp_get_thread_num();
    before[t] = tuna::bf16_gemm_scratch_held_bytes();
    gemm_bf16(false, true, 40, 300, 500, 1.0f, p.A.data(), p.lda, p.B.data(), p.ldb, 0.0f,
              inside[t].data(), p.ldc);
    after[t] = tuna::bf16_gemm_scratch_held_bytes();
  }
  for (int t = 0; t < threads; ++t) {
    EXPECT_GE(before[t], tuna::bf16_gemm_scratch_bytes(1)) << "thread " << t;
    EXPECT_EQ(after[t], before[t]) << "thread " << t;
    EXPECT_EQ(std::memcmp(inside[t].data(), outside.data(), outside.size() * sizeof(float)), 0);
  }
}

TEST(GemmBf16, ScopeTurnsItOnOnlyWhereAvailableAndRestores) {
  EXPECT_FALSE(tuna::bf16_matmuls());
  {
    const tuna::Bf16MatmulScope on(true);
    EXPECT_EQ(tuna::bf16_matmuls(), tuna::bf16_matmul_available());
    {
      const tuna::Bf16MatmulScope off(false);
      EXPECT_FALSE(tuna::bf16_matmuls());
    }
    EXPECT_EQ(tuna::bf16_matmuls(), tuna::bf16_matmul_available());
  }
  EXPECT_FALSE(tuna::bf16_matmuls());
}

}  // namespace
