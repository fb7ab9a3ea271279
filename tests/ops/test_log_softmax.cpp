// log_softmax_lse through its dispatcher against a straightforward double-precision reference,
// including rows with large logits (the max shift) and a vocabulary of one.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <tuple>
#include <vector>

#include "core/error.h"
#include "ops/log_softmax.h"
#include "ops_test_util.h"

namespace {

using tuna::DType;
using tuna::Tensor;

std::vector<double> ref_lse(const std::vector<float>& z, int64_t N, int64_t V) {
  std::vector<double> lse(static_cast<size_t>(N));
  for (int64_t n = 0; n < N; ++n) {
    double m = z[n * V];
    for (int64_t i = 1; i < V; ++i) m = std::max(m, static_cast<double>(z[n * V + i]));
    double s = 0.0;
    for (int64_t i = 0; i < V; ++i) s += std::exp(z[n * V + i] - m);
    lse[static_cast<size_t>(n)] = m + std::log(s);
  }
  return lse;
}

class LogSoftmaxTest : public tuna_test::OpTest {};
INSTANTIATE_TEST_SUITE_P(
    Ops, LogSoftmaxTest,
    testing::ValuesIn(tuna_test::op_cases({tuna::Device::CPU, tuna::Device::CUDA}, {DType::F32})),
    tuna_test::op_case_name);

TEST_P(LogSoftmaxTest, MatchesDoubleReference) {
  const std::vector<std::tuple<int64_t, int64_t, float>> shapes = {
      {3, 1000, 5.0f}, {2, 4099, 80.0f}, {4, 1, 1.0f}, {1, 300, 1e4f}};  // N, V, logit range
  for (const auto& [N, V, scale] : shapes) {
    const std::vector<float> z = tuna_test::random_values(N * V, 7, -scale, scale);
    const std::vector<double> got = OP_CALL(tuna::log_softmax_lse, Tensor::from_f32({N, V}, z));
    const std::vector<double> want = ref_lse(z, N, V);
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < got.size(); ++i)
      EXPECT_NEAR(got[i], want[i], 1e-12 * std::fabs(want[i]) + 1e-12) << "N " << N << " V " << V;
  }
}

TEST_P(LogSoftmaxTest, LogProbabilitiesSumToOne) {
  const int64_t N = 2, V = 50;
  const std::vector<float> z = tuna_test::random_values(N * V, 8, -4, 4);
  const std::vector<double> lse = OP_CALL(tuna::log_softmax_lse, Tensor::from_f32({N, V}, z));
  for (int64_t n = 0; n < N; ++n) {
    double p = 0.0;
    for (int64_t i = 0; i < V; ++i) p += std::exp(z[n * V + i] - lse[static_cast<size_t>(n)]);
    EXPECT_NEAR(p, 1.0, 1e-12);
  }
}

TEST_P(LogSoftmaxTest, ShapeErrors) {
  EXPECT_THROW(OP_CALL(tuna::log_softmax_lse, Tensor::zeros({4}, DType::F32)), tuna::Error);
  EXPECT_THROW(OP_CALL(tuna::log_softmax_lse, Tensor::zeros({2, 0}, DType::F32)), tuna::Error);
  EXPECT_THROW(OP_CALL(tuna::log_softmax_lse, Tensor::zeros({2, 3}, DType::I32)), tuna::Error);
}

}  // namespace
