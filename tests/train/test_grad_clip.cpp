// clip_grad_norm: torch's formula, and a reduction order that depends on shapes only (the same
// bits with 1 and 2 OpenMP threads). The torch comparison itself runs in test_optimizer.cpp on
// the trajectory goldens.
#include <gtest/gtest.h>

#include <cmath>

#include "core/threads.h"
#include "train/grad_clip.h"

namespace {

using tuna::Tensor;
using tuna::TrainableParam;

std::vector<TrainableParam> big_grads() {
  std::vector<TrainableParam> ps;
  uint32_t x = 12345;
  for (int64_t n : {70001, 4096, 3, 123457}) {
    TrainableParam p;
    p.name = std::string("p").append(std::to_string(n));
    p.param = Tensor::zeros({n}, tuna::DType::F32);
    p.grad = Tensor::empty({n}, tuna::DType::F32);
    float* g = p.grad.data_mut<float>();
    for (int64_t i = 0; i < n; ++i) {
      x = x * 1664525u + 1013904223u;
      g[i] = (static_cast<float>(x >> 8) / 16777216.0f - 0.5f) * (i % 97 == 0 ? 100.0f : 1.0f);
    }
    ps.push_back(p);
  }
  return ps;
}

TEST(GradClip, SameBitsForOneAndTwoThreads) {
  const int saved = tuna::num_threads();
  std::vector<std::vector<float>> results;
  std::vector<float> norms;
  for (int threads : {1, 2}) {
    tuna::set_num_threads(threads);
    std::vector<TrainableParam> ps = big_grads();
    norms.push_back(tuna::clip_grad_norm(ps, 1.0));
    std::vector<float> all;
    for (const TrainableParam& p : ps) {
      const std::vector<float> g = p.grad.to_f32_vector();
      all.insert(all.end(), g.begin(), g.end());
    }
    results.push_back(all);
  }
  tuna::set_num_threads(saved);
  EXPECT_EQ(norms[0], norms[1]);
  EXPECT_TRUE(results[0] == results[1]);
}

TEST(GradClip, TorchFormula) {
  std::vector<TrainableParam> ps = big_grads();
  double sum = 0;
  for (const TrainableParam& p : ps)
    for (float g : p.grad.to_f32_vector()) sum += static_cast<double>(g) * g;
  const float expected = static_cast<float>(std::sqrt(sum));
  const std::vector<float> before = ps[2].grad.to_f32_vector();
  const float norm = tuna::clip_grad_norm(ps, 2.0);
  EXPECT_NEAR(norm, expected, 1e-6 * expected);
  const float coef = 2.0f / (norm + 1e-6f);
  const std::vector<float> after = ps[2].grad.to_f32_vector();
  for (size_t i = 0; i < after.size(); ++i) EXPECT_EQ(after[i], before[i] * coef);
  // Below the threshold the coefficient clamps to 1: gradients unchanged, norm still returned.
  std::vector<TrainableParam> small = big_grads();
  const std::vector<float> orig = small[0].grad.to_f32_vector();
  EXPECT_EQ(tuna::clip_grad_norm(small, 1e9), norm);
  EXPECT_EQ(small[0].grad.to_f32_vector(), orig);
  // max_grad_norm 0 (disabled) only measures.
  EXPECT_EQ(tuna::clip_grad_norm(small, 0.0), norm);
  EXPECT_EQ(small[0].grad.to_f32_vector(), orig);
}

TEST(GradClip, NonFiniteNormPropagates) {
  std::vector<TrainableParam> ps = big_grads();
  ps[1].grad.data_mut<float>()[5] = NAN;
  EXPECT_TRUE(std::isnan(tuna::clip_grad_norm(ps, 1.0)));
  EXPECT_TRUE(std::isnan(ps[0].grad.data<float>()[0]));
}

}  // namespace
