// Helpers shared by the op tests: weights in F32/F16/BF16 built from values that every one of
// those formats holds exactly (so double references need no rounding), random inputs, checks.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "core/tensor.h"

namespace tuna_test {

// n values k/64 with |k| <= 128: exact in F32, F16 and BF16.
inline std::vector<float> grid_values(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> k(-128, 128);
  std::vector<float> v(n);
  for (float& x : v) x = static_cast<float>(k(rng)) / 64.0f;
  return v;
}

inline std::vector<float> random_values(size_t n, uint32_t seed, float lo = -1.0f,
                                        float hi = 1.0f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = d(rng);
  return v;
}

// A weight tensor of `dtype` holding `values` exactly (fails the test if one does not fit).
inline tuna::Tensor make_weight(const tuna::Shape& shape, tuna::DType dtype,
                                const std::vector<float>& values) {
  EXPECT_EQ(static_cast<int64_t>(values.size()), shape.numel());
  if (dtype == tuna::DType::F32) return tuna::Tensor::from_f32(shape, values);
  tuna::Tensor t = tuna::Tensor::empty(shape, dtype);
  uint16_t* p = t.data_mut<uint16_t>();
  for (size_t i = 0; i < values.size(); ++i) {
    p[i] = dtype == tuna::DType::F16 ? tuna::f32_to_f16(values[i]) : tuna::f32_to_bf16(values[i]);
    const float back = dtype == tuna::DType::F16 ? tuna::f16_to_f32(p[i]) : tuna::bf16_to_f32(p[i]);
    EXPECT_EQ(back, values[i]) << "value " << values[i] << " is not exact in this dtype";
  }
  return t;
}

inline std::string dtype_param_name(const testing::TestParamInfo<tuna::DType>& info) {
  return tuna::dtype_name(info.param);
}

// |got - want| <= rel·scale + abs, where scale defaults to |want|.
inline void expect_near_vec(const std::vector<float>& got, const std::vector<double>& want,
                            double rel, double abs, const std::vector<double>* scale = nullptr,
                            const std::string& what = "") {
  ASSERT_EQ(got.size(), want.size()) << what;
  int reported = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    const double s = scale ? (*scale)[i] : std::fabs(want[i]);
    const double tol = rel * s + abs;
    if (!(std::fabs(static_cast<double>(got[i]) - want[i]) <= tol) && reported++ < 10) {
      ADD_FAILURE() << what << " [" << i << "] got " << got[i] << " want " << want[i] << " (tol "
                    << tol << ")";
    }
  }
}

}  // namespace tuna_test
