// rms_norm_forward (Llama w·x̂ and Gemma (1+w)·x̂) and layer_norm_forward over F32/F16/BF16
// weights against double references, including in-place use (y aliasing x).
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "core/error.h"
#include "ops/norm.h"
#include "ops_test_util.h"

namespace {

using tuna::DType;
using tuna::RmsNormKind;
using tuna::Tensor;
using tuna_test::grid_values;
using tuna_test::make_weight;
using tuna_test::random_values;

std::vector<double> ref_rms(const std::vector<float>& x, const std::vector<float>& w, int64_t N,
                            int64_t C, double eps, bool gemma) {
  std::vector<double> y(x.size());
  for (int64_t n = 0; n < N; ++n) {
    double ss = 0;
    for (int64_t c = 0; c < C; ++c) ss += static_cast<double>(x[n * C + c]) * x[n * C + c];
    const double r = 1.0 / std::sqrt(ss / static_cast<double>(C) + eps);
    for (int64_t c = 0; c < C; ++c) {
      const double g = gemma ? 1.0 + w[c] : w[c];
      y[n * C + c] = g * x[n * C + c] * r;
    }
  }
  return y;
}

std::vector<double> ref_ln(const std::vector<float>& x, const std::vector<float>& w,
                           const std::vector<float>* b, int64_t N, int64_t C, double eps) {
  std::vector<double> y(x.size());
  for (int64_t n = 0; n < N; ++n) {
    double mean = 0, var = 0;
    for (int64_t c = 0; c < C; ++c) mean += x[n * C + c];
    mean /= static_cast<double>(C);
    for (int64_t c = 0; c < C; ++c) var += (x[n * C + c] - mean) * (x[n * C + c] - mean);
    var /= static_cast<double>(C);  // biased, as torch's layer_norm
    const double r = 1.0 / std::sqrt(var + eps);
    for (int64_t c = 0; c < C; ++c)
      y[n * C + c] = (x[n * C + c] - mean) * r * w[c] + (b ? (*b)[c] : 0.0);
  }
  return y;
}

class NormTest : public tuna_test::OpTest {};

TEST_P(NormTest, RmsNormHandChecked) {
  // row [3, 4]: mean square 12.5, rms = 3.5355339; x̂ = [0.8485281, 1.1313708]
  Tensor x = Tensor::from_f32({1, 2}, {3, 4});
  Tensor w = make_weight({2}, dtype(), {1, 0.5f});
  Tensor y = Tensor::empty({1, 2}, DType::F32);
  OP_CALL(tuna::rms_norm_forward, x, w, 0.0f, RmsNormKind::LLAMA, y);
  std::vector<float> v = y.to_f32_vector();
  EXPECT_NEAR(v[0], 0.848528137, 1e-6);
  EXPECT_NEAR(v[1], 0.565685425, 1e-6);
  OP_CALL(tuna::rms_norm_forward, x, w, 0.0f, RmsNormKind::GEMMA, y);  // scales 2 and 1.5
  v = y.to_f32_vector();
  EXPECT_NEAR(v[0], 1.697056275, 2e-6);
  EXPECT_NEAR(v[1], 1.697056275, 2e-6);
}

TEST_P(NormTest, RmsNormLlamaRandom) {
  const int64_t N = 6, C = 96;
  std::vector<float> x = random_values(N * C, 1, -3.0f, 3.0f);
  std::vector<float> w = grid_values(C, 2);
  Tensor y = Tensor::empty({N, C}, DType::F32);
  OP_CALL(tuna::rms_norm_forward, Tensor::from_f32({N, C}, x), make_weight({C}, dtype(), w), 1e-6f,
          RmsNormKind::LLAMA, y);
  tuna_test::expect_near_vec(y.to_f32_vector(), ref_rms(x, w, N, C, 1e-6, false), 1e-5, 1e-6);
}

TEST_P(NormTest, RmsNormGemmaUsesOnePlusWeight) {
  const int64_t N = 5, C = 64;
  std::vector<float> x = random_values(N * C, 3, -2.0f, 2.0f);
  std::vector<float> w = grid_values(C, 4);
  Tensor y = Tensor::empty({N, C}, DType::F32);
  OP_CALL(tuna::rms_norm_forward, Tensor::from_f32({N, C}, x), make_weight({C}, dtype(), w), 1e-6f,
          RmsNormKind::GEMMA, y);
  tuna_test::expect_near_vec(y.to_f32_vector(), ref_rms(x, w, N, C, 1e-6, true), 1e-5, 1e-6);
}

TEST_P(NormTest, RmsNormEpsMatters) {
  // tiny activations: eps dominates the denominator
  const int64_t N = 2, C = 8;
  std::vector<float> x = random_values(N * C, 5, -1e-3f, 1e-3f);
  std::vector<float> w = grid_values(C, 6);
  Tensor y = Tensor::empty({N, C}, DType::F32);
  OP_CALL(tuna::rms_norm_forward, Tensor::from_f32({N, C}, x), make_weight({C}, dtype(), w), 1e-2f,
          RmsNormKind::LLAMA, y);
  // eps is a float 0.01 inside the kernel; use exactly that value in the reference
  tuna_test::expect_near_vec(y.to_f32_vector(),
                             ref_rms(x, w, N, C, static_cast<double>(1e-2f), false), 1e-5, 1e-9);
}

TEST_P(NormTest, RmsNormInPlace) {
  const int64_t N = 4, C = 32;
  std::vector<float> x = random_values(N * C, 7, -2.0f, 2.0f);
  std::vector<float> w = grid_values(C, 8);
  Tensor wt = make_weight({C}, dtype(), w);
  for (RmsNormKind kind : {RmsNormKind::LLAMA, RmsNormKind::GEMMA}) {
    Tensor t = Tensor::from_f32({N, C}, x);
    OP_CALL(tuna::rms_norm_forward, t, wt, 1e-5f, kind, t);
    tuna_test::expect_near_vec(
        t.to_f32_vector(),
        ref_rms(x, w, N, C, static_cast<double>(1e-5f), kind == RmsNormKind::GEMMA), 1e-5, 1e-6);
  }
}

TEST_P(NormTest, LayerNormHandChecked) {
  // row [1, 2, 3, 4]: mean 2.5, var 1.25; x̂ = [-1.3416408, -0.4472136, 0.4472136, 1.3416408]
  Tensor x = Tensor::from_f32({1, 4}, {1, 2, 3, 4});
  Tensor w = make_weight({4}, dtype(), {1, 2, 0.5f, -1});
  Tensor b = make_weight({4}, dtype(), {0, 1, 0, 0.25f});
  Tensor y = Tensor::empty({1, 4}, DType::F32);
  OP_CALL(tuna::layer_norm_forward, x, w, b, 0.0f, y);
  std::vector<float> v = y.to_f32_vector();
  EXPECT_NEAR(v[0], -1.341640786, 2e-6);
  EXPECT_NEAR(v[1], 1.0 - 0.894427191, 2e-6);
  EXPECT_NEAR(v[2], 0.223606798, 2e-6);
  EXPECT_NEAR(v[3], -1.341640786 + 0.25, 2e-6);
}

TEST_P(NormTest, LayerNormRandomWithAndWithoutBias) {
  const int64_t N = 7, C = 80;
  std::vector<float> x = random_values(N * C, 9, -4.0f, 6.0f);  // non-zero mean
  std::vector<float> w = grid_values(C, 10), b = grid_values(C, 11);
  Tensor tw = make_weight({C}, dtype(), w), tb = make_weight({C}, dtype(), b);
  Tensor y = Tensor::empty({N, C}, DType::F32);
  OP_CALL(tuna::layer_norm_forward, Tensor::from_f32({N, C}, x), tw, tb, 1e-5f, y);
  const double eps = static_cast<double>(1e-5f);
  tuna_test::expect_near_vec(y.to_f32_vector(), ref_ln(x, w, &b, N, C, eps), 1e-5, 2e-6);
  OP_CALL(tuna::layer_norm_forward, Tensor::from_f32({N, C}, x), tw, Tensor(), 1e-5f, y);
  tuna_test::expect_near_vec(y.to_f32_vector(), ref_ln(x, w, nullptr, N, C, eps), 1e-5, 2e-6);
}

TEST_P(NormTest, LayerNormInPlace) {
  const int64_t N = 3, C = 48;
  std::vector<float> x = random_values(N * C, 12, -1.0f, 3.0f);
  std::vector<float> w = grid_values(C, 13), b = grid_values(C, 14);
  Tensor t = Tensor::from_f32({N, C}, x);
  OP_CALL(tuna::layer_norm_forward, t, make_weight({C}, dtype(), w), make_weight({C}, dtype(), b),
          1e-5f, t);
  tuna_test::expect_near_vec(t.to_f32_vector(), ref_ln(x, w, &b, N, C, static_cast<double>(1e-5f)),
                             1e-5, 2e-6);
}

INSTANTIATE_TEST_SUITE_P(WeightDTypes, NormTest,
                         testing::ValuesIn(tuna_test::op_cases(
                             {tuna::Device::CPU}, {DType::F32, DType::F16, DType::BF16})),
                         tuna_test::op_case_name);

class NormOp : public tuna_test::OpTest {};
INSTANTIATE_TEST_SUITE_P(Ops, NormOp,
                         testing::ValuesIn(tuna_test::op_cases({tuna::Device::CPU},
                                                               {tuna::DType::F32})),
                         tuna_test::op_case_name);

TEST_P(NormOp, ArgumentErrors) {
  Tensor x = Tensor::from_f32({2, 4}, std::vector<float>(8, 1.0f));
  Tensor y = Tensor::empty({2, 4}, DType::F32);
  Tensor w3 = Tensor::from_f32({3}, {1, 1, 1});
  Tensor w4 = Tensor::from_f32({4}, {1, 1, 1, 1});
  Tensor bad_y = Tensor::empty({4, 2}, DType::F32);
  EXPECT_THROW(OP_CALL(tuna::rms_norm_forward, x, w3, 1e-6f, RmsNormKind::LLAMA, y), tuna::Error);
  EXPECT_THROW(OP_CALL(tuna::rms_norm_forward, x, w4, 1e-6f, RmsNormKind::LLAMA, bad_y),
               tuna::Error);
  EXPECT_THROW(OP_CALL(tuna::layer_norm_forward, x, w4, w3, 1e-5f, y), tuna::Error);
  EXPECT_THROW(OP_CALL(tuna::layer_norm_forward, x, w3, Tensor(), 1e-5f, y), tuna::Error);
}

}  // namespace
