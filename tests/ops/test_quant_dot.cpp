// Quantized row dots (ops/quant_dot.h) on the random GGUF blocks of tests/golden/gguf/blocks:
// each dot against the same dot in double over gguf-py's dequantized values (the peer's numbers),
// the AVX2 kernels against the scalar reference, a token's result independent of the batch it is
// in, and linear_forward taking the quantized path for few tokens.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "io/gguf_test_util.h"
#include "ops/linear.h"
#include "ops/quant_dot.h"

namespace tuna {
namespace {

struct Golden {
  DType type;
  std::string raw;
  std::vector<float> values;  // gguf-py's dequantization
};

Golden golden(const char* name) {
  Golden g;
  EXPECT_TRUE(dtype_from_name(name, &g.type));
  const std::string dir = gguf_test::golden_dir() + "/blocks/";
  g.raw = gguf_test::read_file(dir + name + ".bin");
  const std::string f = gguf_test::read_file(dir + name + ".f32");
  g.values.resize(f.size() / 4);
  std::memcpy(g.values.data(), f.data(), f.size());
  return g;
}

std::vector<float> random_x(int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<float> x(static_cast<size_t>(n));
  for (float& v : x) v = u(rng);
  return x;
}

const QuantDotIsa kIsas[] = {QuantDotIsa::SCALAR, QuantDotIsa::AVX2, QuantDotIsa::AVX512};

class QuantDot : public ::testing::TestWithParam<const char*> {};

TEST_P(QuantDot, MatchesTheDotOfGgufPyValuesAndTheScalarReference) {
  const Golden g = golden(GetParam());
  constexpr int64_t I = 512, N = 3;
  const int64_t rows = static_cast<int64_t>(g.values.size()) / I;
  ASSERT_GE(rows, 2);
  ASSERT_EQ(dtype_nbytes(g.type, rows * I), g.raw.size());
  const std::vector<float> x = random_x(N * I, 7);
  const ActSums sums = act_sums(x.data(), N, I);
  const auto* w = reinterpret_cast<const uint8_t*>(g.raw.data());
  std::vector<std::vector<float>> got;  // per available kernel
  for (QuantDotIsa isa : kIsas) {
    if (!quant_dot_isa_available(isa)) continue;
    got.emplace_back(static_cast<size_t>(N * rows));
    quant_dot_rows_isa(isa, g.type, w, rows, I, x.data(), sums, N, got.back().data(), rows);
  }
  ASSERT_GE(got.size(), 1u);
  int checked = 0;
  for (int64_t r = 0; r < rows; ++r) {
    double mag = 0.0;
    bool finite = true;
    for (int64_t i = 0; i < I; ++i) finite = finite && std::isfinite(g.values[r * I + i]);
    if (!finite) continue;  // the goldens' deliberate inf/NaN scale blocks
    for (int64_t n = 0; n < N; ++n) {
      double ref = 0.0;
      mag = 0.0;
      for (int64_t i = 0; i < I; ++i) {
        ref += static_cast<double>(g.values[r * I + i]) * x[n * I + i];
        mag += std::fabs(static_cast<double>(g.values[r * I + i]) * x[n * I + i]);
      }
      // F32 accumulation over 512 terms (and the factored-out scales): a few ulps of the
      // magnitude summed, far below any change of a weight (a weight is at least one ulp of d).
      const double tol = 2e-5 * mag + 1e-30;
      const size_t at = static_cast<size_t>(n * rows + r);
      for (size_t k = 0; k < got.size(); ++k)
        EXPECT_NEAR(got[k][at], ref, tol)
            << GetParam() << " kernel " << k << " row " << r << " token " << n;
      ++checked;
    }
  }
  EXPECT_GE(checked, N * rows / 2) << "most golden rows are finite";
}

TEST_P(QuantDot, ATokensResultDoesNotDependOnItsBatch) {
  const Golden g = golden(GetParam());
  constexpr int64_t I = 256, N = kQuantDotMaxN;
  const int64_t rows = static_cast<int64_t>(g.values.size()) / I;
  const std::vector<float> x = random_x(N * I, 11);
  const auto* w = reinterpret_cast<const uint8_t*>(g.raw.data());
  for (QuantDotIsa isa : kIsas) {
    if (!quant_dot_isa_available(isa)) continue;
    std::vector<float> all(static_cast<size_t>(N * rows));
    quant_dot_rows_isa(isa, g.type, w, rows, I, x.data(), act_sums(x.data(), N, I), N, all.data(),
                       rows);
    for (int64_t n = 0; n < N; ++n) {
      std::vector<float> one(static_cast<size_t>(rows));
      const float* xn = x.data() + n * I;
      quant_dot_rows_isa(isa, g.type, w, rows, I, xn, act_sums(xn, 1, I), 1, one.data(), rows);
      for (int64_t r = 0; r < rows; ++r) {
        const float a = one[static_cast<size_t>(r)], b = all[static_cast<size_t>(n * rows + r)];
        if (std::isnan(a) && std::isnan(b)) continue;
        EXPECT_EQ(std::memcmp(&a, &b, 4), 0) << GetParam() << " " << quant_dot_isa_name(isa)
                                              << " token " << n << " row " << r;
      }
    }
  }
}

// 8-bit activations: every kernel gives the scalar reference's integer block dots (up to the
// order of F32 additions), and the result is the exact dot of gguf-py's weights with the rounded
// activations (dequantized) — so the only numerics change is the activations' rounding, whose
// effect on the true dot stays within what 8-bit rounding allows.
TEST_P(QuantDot, EightBitActivationsAreTheDotWithRoundedActivations) {
  const Golden g = golden(GetParam());
  constexpr int64_t I = 512, N = 3;
  const int64_t rows = static_cast<int64_t>(g.values.size()) / I;
  const std::vector<float> x = random_x(N * I, 5);
  const ActQ8 a = quantize_act_q8(x.data(), N, I);
  // The activations as the kernels see them.
  std::vector<float> xr(x.size());
  for (int64_t i = 0; i < N * I; ++i)
    xr[static_cast<size_t>(i)] = a.d[static_cast<size_t>(i / 32)] * a.q[static_cast<size_t>(i)];
  const auto* w = reinterpret_cast<const uint8_t*>(g.raw.data());
  int kernels = 0;
  for (QuantDotIsa isa : kIsas) {
    if (!quant_dot_isa_available(isa)) continue;
    ++kernels;
    std::vector<float> y(static_cast<size_t>(N * rows));
    quant_dot_rows_q8act(isa, g.type, w, rows, I, a, 0, N, y.data(), rows);
    for (int64_t r = 0; r < rows; ++r) {
      bool finite = true;
      for (int64_t i = 0; i < I; ++i) finite = finite && std::isfinite(g.values[r * I + i]);
      if (!finite) continue;
      for (int64_t n = 0; n < N; ++n) {
        double rounded = 0.0, exact = 0.0, mag = 0.0;
        for (int64_t i = 0; i < I; ++i) {
          const double wv = g.values[r * I + i];
          rounded += wv * xr[n * I + i];
          exact += wv * x[n * I + i];
          mag += std::fabs(wv * x[n * I + i]);
        }
        const float got = y[static_cast<size_t>(n * rows + r)];
        EXPECT_NEAR(got, rounded, 3e-5 * mag + 1e-30)
            << GetParam() << " " << quant_dot_isa_name(isa) << " row " << r << " token " << n;
        // Rounding to 8 bits moves each activation by at most half a step (max|x|/254 per 32).
        EXPECT_NEAR(got, exact, 0.01 * mag + 1e-30) << GetParam() << " row " << r;
      }
    }
  }
  EXPECT_GE(kernels, 2);  // the scalar reference and at least AVX2
}

// Tokens in lanes: every kernel gives the scalar reference's bits, a token's result is the same
// whatever else shares the call, and the result is the dot with the rounded activations.
TEST_P(QuantDot, LaneKernelsAgreeBitwiseAndAreTheDotWithRoundedActivations) {
  const Golden g = golden(GetParam());
  constexpr int64_t I = 512;
  const int64_t rows = static_cast<int64_t>(g.values.size()) / I;
  const auto* w = reinterpret_cast<const uint8_t*>(g.raw.data());
  for (int64_t N : {int64_t{3}, int64_t{8}}) {
    const std::vector<float> x = random_x(N * I, 13 + static_cast<uint32_t>(N));
    const ActQ8 a = quantize_act_q8(x.data(), N, I);
    const ActQ8Lanes lanes = act_q8_lanes(a, 0, N);
    std::vector<std::vector<float>> got;
    std::vector<QuantDotIsa> isas;
    for (QuantDotIsa isa : kIsas) {
      if (!quant_dot_isa_available(isa)) continue;
      isas.push_back(isa);
      got.emplace_back(static_cast<size_t>(N * rows));
      quant_dot_rows_lanes(isa, g.type, w, rows, I, lanes, got.back().data(), rows);
    }
    ASSERT_GE(got.size(), 2u);  // the scalar reference and at least AVX2
    auto same = [](float p, float q) {
      return (std::isnan(p) && std::isnan(q)) || std::memcmp(&p, &q, 4) == 0;
    };
    for (size_t k = 1; k < got.size(); ++k)
      for (size_t i = 0; i < got[0].size(); ++i)
        EXPECT_TRUE(same(got[k][i], got[0][i]))
            << GetParam() << " " << quant_dot_isa_name(isas[k]) << " N " << N << " at " << i
            << ": " << got[k][i] << " vs scalar " << got[0][i];
    // Token 1 alone (its own call) gives the same bits as in the batch.
    std::vector<float> one(static_cast<size_t>(rows));
    quant_dot_rows_lanes(g.type, w, rows, I, act_q8_lanes(a, 1, 1), one.data(), rows);
    for (int64_t r = 0; r < rows; ++r)
      EXPECT_TRUE(same(one[static_cast<size_t>(r)], got.back()[static_cast<size_t>(rows + r)]))
          << GetParam() << " row " << r;
    for (int64_t r = 0; r < rows; ++r) {
      bool finite = true;
      for (int64_t i = 0; i < I; ++i) finite = finite && std::isfinite(g.values[r * I + i]);
      if (!finite) continue;
      for (int64_t n = 0; n < N; ++n) {
        double rounded = 0.0, mag = 0.0;
        for (int64_t i = 0; i < I; ++i) {
          const double xr = a.d[static_cast<size_t>((n * I + i) / 32)] * a.q[static_cast<size_t>(n * I + i)];
          rounded += g.values[r * I + i] * xr;
          mag += std::fabs(g.values[r * I + i] * xr);
        }
        EXPECT_NEAR(got[0][static_cast<size_t>(n * rows + r)], rounded, 3e-5 * mag + 1e-30)
            << GetParam() << " N " << N << " row " << r << " token " << n;
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Types, QuantDot, ::testing::Values("Q8_0", "Q5_0", "Q4_K", "Q6_K"));

// The activations' rounding: d = max|x| / 127 per 32, q = x·(1/d) to nearest-even, and the
// sums over each 16 and 32 (the vectorised code against the definition).
TEST(QuantDotActivations, RoundToNearestEvenWithOneScalePer32) {
  constexpr int64_t N = 3, I = 96;
  std::vector<float> x = random_x(N * I, 17);
  for (int i = 0; i < 32; ++i) x[static_cast<size_t>(32 + i)] = 0.0f;  // an all-zero block
  x[70] = 1.0f;            // the block's max: d = 1/127
  x[71] = 2.5f / 127.0f;   // 2.5 steps: rounds to 2 (even)
  x[72] = -3.5f / 127.0f;  // −3.5 steps: rounds to −4 (even)
  const ActQ8 a = quantize_act_q8(x.data(), N, I);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t b = 0; b < I / 32; ++b) {
      const float* xb = x.data() + n * I + b * 32;
      float amax = 0.0f;
      for (int i = 0; i < 32; ++i) amax = std::max(amax, std::fabs(xb[i]));
      const float d = amax / 127.0f, id = d > 0.0f ? 1.0f / d : 0.0f;
      ASSERT_EQ(a.d[static_cast<size_t>(n * (I / 32) + b)], d);
      int32_t s[2] = {0, 0};
      for (int i = 0; i < 32; ++i) {
        const int q = static_cast<int>(std::nearbyint(xb[i] * id));
        EXPECT_EQ(a.q[static_cast<size_t>(n * I + b * 32 + i)], q) << n << " " << b << " " << i;
        s[i / 16] += q;
      }
      EXPECT_EQ(a.s16[static_cast<size_t>(n * (I / 16) + 2 * b)], s[0]);
      EXPECT_EQ(a.s16[static_cast<size_t>(n * (I / 16) + 2 * b + 1)], s[1]);
      EXPECT_EQ(a.s32[static_cast<size_t>(n * (I / 32) + b)], s[0] + s[1]);
    }
  EXPECT_EQ(a.q[71], 2);
  EXPECT_EQ(a.q[72], -4);
}

// linear_forward with a Q4_K weight: the quantized path (few tokens) and the tiled dequantize +
// SGEMM path (many tokens) agree, and both match the double dot of gguf-py's values.
TEST(QuantDotLinear, FewAndManyTokensAgree) {
  const Golden g = golden("Q4_K");
  constexpr int64_t I = 512;
  const int64_t O = static_cast<int64_t>(g.values.size()) / I;
  Tensor w = Tensor::empty({O, I}, DType::Q4_K);
  ASSERT_EQ(w.nbytes(), g.raw.size());
  std::memcpy(w.raw_mut(), g.raw.data(), g.raw.size());
  for (int64_t N : {int64_t{1}, int64_t{4}, int64_t{12}}) {
    const std::vector<float> xs = random_x(N * I, 3);
    Tensor x = Tensor::from_f32({N, I}, xs);
    Tensor y = Tensor::empty({N, O}, DType::F32);
    linear_forward(x, w, Tensor(), y);
    const float* py = y.data<float>();
    for (int64_t n = 0; n < N; ++n)
      for (int64_t o = 0; o < O; ++o) {
        double ref = 0.0, mag = 0.0;
        bool finite = true;
        for (int64_t i = 0; i < I; ++i) {
          const double v = static_cast<double>(g.values[o * I + i]) * xs[n * I + i];
          finite = finite && std::isfinite(v);
          ref += v;
          mag += std::fabs(v);
        }
        if (!finite) continue;
        EXPECT_NEAR(py[n * O + o], ref, 2e-5 * mag) << "N " << N << " row " << o;
      }
  }
}

}  // namespace
}  // namespace tuna
