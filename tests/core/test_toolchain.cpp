// Canary for the compiler and flags the tests are built with: GCC 12.2 with AVX-512 enabled
// (-march=native on an AVX-512 host) turns a 256-bit constant {a, a, 0, 0} into a broadcast.
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

namespace {

// Element-wise against scalars: an expected vector built from a literal would be miscompiled
// the same way and compare equal.
template <typename T>
void expect_low_a_high_zero(const std::vector<T>& v, size_t half, T a) {
  ASSERT_EQ(v.size(), 2 * half);
  for (size_t i = 0; i < half; ++i) EXPECT_EQ(v[i], a) << i;
  for (size_t i = half; i < 2 * half; ++i) EXPECT_EQ(v[i], T(0)) << i;
}

TEST(Toolchain, VectorConstantsWithZeroUpperHalfSurvive) {
  const std::vector<int64_t> i64 = {7, 7, 0, 0};
  expect_low_a_high_zero<int64_t>(i64, 2, 7);
  const std::vector<double> f64 = {2.5, 2.5, 0, 0};
  expect_low_a_high_zero<double>(f64, 2, 2.5);
  const std::vector<float> f32 = {1, 1, 1, 1, 0, 0, 0, 0};
  expect_low_a_high_zero<float>(f32, 4, 1.0f);
  const std::vector<int32_t> i32 = {1, 1, 1, 1, 0, 0, 0, 0};
  expect_low_a_high_zero<int32_t>(i32, 4, 1);
}

}  // namespace
