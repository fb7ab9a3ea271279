// ops/vector_math.h against the C library: exp_lanes within 2 ulp of std::exp over its range,
// tanh_lanes within 3 ulp of std::tanh (small arguments included: soft-capping needs relative
// accuracy there), the special values, exp_shifted_sum's outputs and sum, max_of, and that a
// value gives the same bits in every lane and in a padded tail.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "ops/vector_math.h"

namespace {

using tuna::cpu::Lanes;

double ulps(float got, float want) {
  const float a = std::fabs(want);
  const double ulp =
      static_cast<double>(std::nextafter(a, std::numeric_limits<float>::infinity())) - a;
  return std::fabs(static_cast<double>(got) - want) / ulp;
}

float lane0(Lanes v) {
  return v[0];
}

TEST(VectorMath, ExpWithinTwoUlp) {
  double worst = 0.0;
  for (int64_t k = 0; k <= 2000000; ++k) {
    const float x = -87.0f + 175.0f * static_cast<float>(k) / 2000000.0f;
    worst = std::max(worst, ulps(lane0(tuna::cpu::exp_lanes(Lanes{} + x)), std::exp(x)));
  }
  for (float x = -1e-3f; x < 1e-3f; x += 3.7e-7f)
    worst = std::max(worst, ulps(lane0(tuna::cpu::exp_lanes(Lanes{} + x)), std::exp(x)));
  EXPECT_LE(worst, 2.0);
}

TEST(VectorMath, ExpSpecialValues) {
  const float inf = std::numeric_limits<float>::infinity();
  EXPECT_EQ(lane0(tuna::cpu::exp_lanes(Lanes{})), 1.0f);
  EXPECT_EQ(lane0(tuna::cpu::exp_lanes(Lanes{} - inf)), 0.0f);
  EXPECT_EQ(lane0(tuna::cpu::exp_lanes(Lanes{} - 100.0f)), 0.0f);
  EXPECT_EQ(lane0(tuna::cpu::exp_lanes(Lanes{} + 100.0f)), inf);
  EXPECT_EQ(lane0(tuna::cpu::exp_lanes(Lanes{} + inf)), inf);
  EXPECT_TRUE(std::isnan(lane0(tuna::cpu::exp_lanes(Lanes{} + std::nanf("")))));
}

TEST(VectorMath, TanhWithinThreeUlp) {
  double worst = 0.0;
  for (int64_t k = -2000000; k <= 2000000; ++k) {
    float x = static_cast<float>(k) * 1e-5f;
    if (k % 2 != 0) x = std::ldexp(x, -12);  // tiny arguments: tanh(x) ≈ x, relative accuracy
    if (x == 0.0f) continue;
    worst = std::max(worst, ulps(lane0(tuna::cpu::tanh_lanes(Lanes{} + x)), std::tanh(x)));
  }
  EXPECT_LE(worst, 3.0);
  const float inf = std::numeric_limits<float>::infinity();
  EXPECT_EQ(lane0(tuna::cpu::tanh_lanes(Lanes{} + inf)), 1.0f);
  EXPECT_EQ(lane0(tuna::cpu::tanh_lanes(Lanes{} - inf)), -1.0f);
  EXPECT_EQ(lane0(tuna::cpu::tanh_lanes(Lanes{} + 30.0f)), 1.0f);
  EXPECT_TRUE(std::isnan(lane0(tuna::cpu::tanh_lanes(Lanes{} + std::nanf("")))));
}

TEST(VectorMath, ExpShiftedSumAndTails) {
  for (int64_t n : {1, 7, 8, 9, 100, 1003}) {
    std::vector<float> z(static_cast<size_t>(n)), out(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) z[static_cast<size_t>(i)] = std::sin(0.37f * i) * 20.0f;
    const float shift = tuna::cpu::max_of(z.data(), n);
    float want_max = z[0];
    for (float v : z) want_max = std::max(want_max, v);
    EXPECT_EQ(shift, want_max) << n;
    const float s = tuna::cpu::exp_shifted_sum(z.data(), n, shift, out.data());
    double want = 0.0;
    for (int64_t i = 0; i < n; ++i) {
      const float e = out[static_cast<size_t>(i)];
      // The same bits as one full vector of this value (lane position and tails do not matter).
      EXPECT_EQ(e, lane0(tuna::cpu::exp_lanes(Lanes{} + (z[static_cast<size_t>(i)] - shift))));
      EXPECT_LE(ulps(e, std::exp(z[static_cast<size_t>(i)] - shift)), 2.0);
      want += e;
    }
    EXPECT_NEAR(s, want, 1e-6 * want) << n;
  }
}

TEST(VectorMath, MapLanesInPlace) {
  std::vector<float> x = {-3.0f, -0.5f, 0.0f, 0.25f, 1.0f, 2.0f, 4.0f, 8.0f, 9.5f, -7.0f, 0.01f};
  std::vector<float> y = x;
  tuna::cpu::map_lanes(y.data(), static_cast<int64_t>(y.size()), y.data(),
                       [](Lanes v) { return tuna::cpu::tanh_lanes(v); });
  for (size_t i = 0; i < x.size(); ++i) EXPECT_LE(ulps(y[i], std::tanh(x[i])), 3.0) << x[i];
}

}  // namespace
