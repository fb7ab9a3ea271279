// The gradient-norm op (ops/grad_norm.h) through its dispatcher: torch's total norm (per-tensor
// F32 norms, then their norm) within float rounding of a double reference, bit-identical to the
// per-tensor reduction clipping ran before the op (restated here), the same whether the tensors
// are one flat buffer or called one by one, independent of the thread count; and the clipping
// multiply. Parameterised over the devices with a kernel (the CPU today).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "core/threads.h"
#include "ops/grad_norm.h"
#include "ops/ops_test_util.h"

namespace tuna {
namespace {

const std::vector<int64_t> kSizes = {5, 4096, 0, 4097, 12289, 1, 30000};

std::vector<float> random_grads(uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.0f, 0.3f);
  int64_t n = 0;
  for (int64_t k : kSizes) n += k;
  std::vector<float> g(static_cast<size_t>(n));
  for (float& x : g) x = d(rng);
  return g;
}

// train/grad_clip.cpp's grad_total_norm before the op (at 5b2ef23), over the same segments.
// Tests build without -ffp-contract=off: the volatile square keeps `sum + x·x` from fusing.
float previous_total_norm(const std::vector<float>& g) {
  std::vector<double> per_tensor;
  int64_t offset = 0;
  for (int64_t n : kSizes) {
    double sq = 0.0;
    for (int64_t b = 0; b < n; b += 4096) {
      double sum = 0.0;
      for (int64_t j = b; j < std::min(n, b + 4096); ++j) {
        const double x = g[offset + j];
        const volatile double square = x * x;
        sum += square;
      }
      sq += sum;
    }
    per_tensor.push_back(sq);
    offset += n;
  }
  double total = 0.0;
  for (double sq : per_tensor) {
    const double norm = static_cast<float>(std::sqrt(sq));
    total += norm * norm;
  }
  return static_cast<float>(std::sqrt(total));
}

class GradNormOp : public tuna_test::OpTest {};

TEST_P(GradNormOp, TorchTotalNormOfTheFlatBuffer) {
  const std::vector<float> g = random_grads(3);
  const Tensor flat = Tensor::from_f32({static_cast<int64_t>(g.size())}, g);
  const float norm = OP_CALL(grad_norm, flat, std::span<const int64_t>(kSizes));
  EXPECT_EQ(norm, previous_total_norm(g));
  double total = 0.0;
  int64_t offset = 0;
  for (int64_t n : kSizes) {
    double sq = 0.0;
    for (int64_t j = 0; j < n; ++j) sq += static_cast<double>(g[offset + j]) * g[offset + j];
    total += sq;
    offset += n;
  }
  EXPECT_NEAR(norm, std::sqrt(total), 2e-7 * std::sqrt(total));
}

TEST_P(GradNormOp, FlatEqualsTensorByTensorAndAnyThreadCount) {
  const std::vector<float> g = random_grads(9);
  const Tensor flat = Tensor::from_f32({static_cast<int64_t>(g.size())}, g);
  std::vector<double> whole(kSizes.size()), one_by_one(kSizes.size());
  grad_sum_squares(flat, kSizes, whole);
  int64_t offset = 0;
  for (size_t i = 0; i < kSizes.size(); ++i) {
    grad_sum_squares(flat.view_at(offset, {kSizes[i]}), std::span(kSizes).subspan(i, 1),
                     std::span(one_by_one).subspan(i, 1));
    offset += kSizes[i];
  }
  EXPECT_EQ(whole, one_by_one);
  EXPECT_EQ(whole[2], 0.0);  // an empty tensor
  const int saved = num_threads();
  for (int threads : {1, 3}) {
    set_num_threads(threads);
    std::vector<double> again(kSizes.size());
    grad_sum_squares(flat, kSizes, again);
    EXPECT_EQ(again, whole) << threads << " threads";
  }
  set_num_threads(saved);
}

TEST_P(GradNormOp, ScaleMultipliesInPlaceAndPassesNaN) {
  std::vector<float> g = random_grads(4);
  g[17] = std::nanf("");
  Tensor flat = Tensor::from_f32({static_cast<int64_t>(g.size())}, g);
  OP_CALL(grad_scale, flat, 0.25f);
  const std::vector<float> got = flat.to_f32_vector();
  for (size_t j = 0; j < g.size(); ++j)
    if (j != 17) {
      ASSERT_EQ(got[j], g[j] * 0.25f) << j;
    }
  EXPECT_TRUE(std::isnan(got[17]));
}

TEST_P(GradNormOp, ChecksShapesAndSegments) {
  const Tensor flat = Tensor::zeros({10}, DType::F32);
  const std::vector<int64_t> nine = {4, 5}, ten = {4, 6};
  EXPECT_ANY_THROW(grad_norm(flat, nine));
  EXPECT_ANY_THROW(grad_norm(Tensor::zeros({2, 5}, DType::F32), ten));
  EXPECT_EQ(grad_norm(flat, ten), 0.0f);
}

INSTANTIATE_TEST_SUITE_P(Ops, GradNormOp,
                         testing::ValuesIn(tuna_test::op_cases({Device::CPU}, {DType::F32})),
                         tuna_test::op_case_name);

}  // namespace
}  // namespace tuna
