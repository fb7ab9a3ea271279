// The multi-tensor AdamW op (ops/adamw.h) through its dispatcher: bit-identical to the
// per-tensor update the optimizer ran before the op existed (its loop is restated here as the
// reference), within float rounding of a double-precision AdamW, and independent of the thread
// count. Parameterised over the devices with an AdamW kernel (the CPU today).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "core/threads.h"
#include "ops/adamw.h"
#include "ops/ops_test_util.h"

namespace tuna {
namespace {

using tuna_test::same_bits;

// Mixed sizes: below, at and above the 8-lane body, one chunk, several chunks, and empty.
const std::vector<int64_t> kSizes = {1, 7, 8, 9, 100, 0, 16384 + 5, 40000, 3};

struct FlatState {
  std::vector<AdamwSegment> segments;
  std::vector<float> p, g, m, v;
};

FlatState random_state(uint32_t seed, bool fresh) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  FlatState s;
  for (size_t i = 0; i < kSizes.size(); ++i) s.segments.push_back({kSizes[i], i % 3 != 1});
  int64_t n = 0;
  for (int64_t k : kSizes) n += k;
  for (int64_t j = 0; j < n; ++j) {
    s.p.push_back(u(rng));
    s.g.push_back(0.1f * u(rng));
    s.m.push_back(fresh ? 0.0f : 0.01f * u(rng));
    s.v.push_back(fresh ? 0.0f : 1e-4f * std::fabs(u(rng)));
  }
  return s;
}

// The optimizer's AdamW before the op (train/optimizer.cpp at 5b2ef23), one tensor at a time.
void previous_per_tensor_step(FlatState& s, const AdamwHyper& h) {
  const double bias_correction1 = 1 - std::pow(h.beta1, static_cast<double>(h.step));
  const double bias_correction2 = 1 - std::pow(h.beta2, static_cast<double>(h.step));
  const float lerp_weight = static_cast<float>(1 - h.beta1);
  const bool lerp_small = std::fabs(lerp_weight) < 0.5f;
  const float lerp_coeff = lerp_small ? lerp_weight : lerp_weight - 1.0f;
  const float sq_coeff = static_cast<float>(1 - h.beta2), beta2 = static_cast<float>(h.beta2);
  const float bc2_sqrt = static_cast<float>(std::sqrt(bias_correction2));
  const float eps = static_cast<float>(h.eps);
  const float neg_step_size = static_cast<float>(-(h.lr / bias_correction1));
  int64_t offset = 0;
  for (const AdamwSegment& seg : s.segments) {
    const double wd = seg.decays ? h.weight_decay : 0.0;
    const bool decays = wd != 0;
    const float decay = static_cast<float>(1 - h.lr * wd);
    const int64_t body = seg.numel - seg.numel % 8;
    for (int64_t j = offset; j < offset + seg.numel; ++j) {
      const bool tail = j - offset >= body;
      float pj = s.p[j];
      const float gj = s.g[j];
      if (decays) pj = pj * decay;
      const float mj = std::fma(lerp_coeff, gj - s.m[j], lerp_small ? s.m[j] : gj);
      const float vj = tail ? std::fma(s.v[j], beta2, (sq_coeff * gj) * gj)
                            : std::fma(sq_coeff * gj, gj, s.v[j] * beta2);
      const float denom = std::sqrt(vj) / bc2_sqrt + eps;
      s.m[j] = mj;
      s.v[j] = vj;
      s.p[j] = pj + (neg_step_size * mj) / denom;
    }
    offset += seg.numel;
  }
}

class AdamwOp : public tuna_test::OpTest {
 protected:
  // Runs the op on the case's device over host vectors.
  static void run(FlatState& s, const AdamwHyper& h) {
    const Shape n{static_cast<int64_t>(s.p.size())};
    Tensor p = Tensor::from_f32(n, s.p), g = Tensor::from_f32(n, s.g);
    Tensor m = Tensor::from_f32(n, s.m), v = Tensor::from_f32(n, s.v);
    OP_CALL(adamw_update, p, g, m, v, std::span<const AdamwSegment>(s.segments), h);
    s.p = p.to_f32_vector();
    s.m = m.to_f32_vector();
    s.v = v.to_f32_vector();
  }
};

TEST_P(AdamwOp, BitIdenticalToThePreviousPerTensorUpdate) {
  for (const double beta1 : {0.9, 0.3}) {  // lerp from the near end and from the far end
    SCOPED_TRACE(beta1);
    FlatState op = random_state(7, true), ref = op;
    for (int64_t step = 1; step <= 4; ++step) {
      const AdamwHyper h{1e-3 * static_cast<double>(step), beta1, 0.999, 1e-8, 0.1, step};
      for (size_t k = 0; k < op.g.size(); ++k)
        op.g[k] = ref.g[k] = 0.05f * std::sin(0.7f * static_cast<float>(k * step));
      run(op, h);
      previous_per_tensor_step(ref, h);
    }
    EXPECT_TRUE(same_bits(op.p, ref.p));
    EXPECT_TRUE(same_bits(op.m, ref.m));
    EXPECT_TRUE(same_bits(op.v, ref.v));
  }
}

TEST_P(AdamwOp, MatchesDoublePrecisionAdamW) {
  FlatState s = random_state(11, false);
  const FlatState before = s;
  const AdamwHyper h{2e-3, 0.9, 0.95, 1e-6, 0.05, 3};
  run(s, h);
  int64_t offset = 0, bad_m = 0, bad_v = 0, bad_p = 0;
  for (const AdamwSegment& seg : s.segments) {
    for (int64_t j = offset; j < offset + seg.numel; ++j) {
      const double g = before.g[j];
      double p = before.p[j];
      if (seg.decays) p *= 1 - h.lr * h.weight_decay;
      const double m = h.beta1 * before.m[j] + (1 - h.beta1) * g;
      const double v = h.beta2 * before.v[j] + (1 - h.beta2) * g * g;
      const double bc1 = 1 - std::pow(h.beta1, 3.0), bc2 = 1 - std::pow(h.beta2, 3.0);
      p -= h.lr / bc1 * m / (std::sqrt(v) / std::sqrt(bc2) + h.eps);
      // A few float roundings each: of the terms' magnitudes (m: the lerp's ends; p: p·decay,
      // the final sum, and a few ulps of the step itself).
      const double step = std::fabs(p - before.p[j]);
      bad_m += std::fabs(s.m[j] - m) > 3e-7 * (std::fabs(before.m[j]) + std::fabs(g));
      bad_v += std::fabs(s.v[j] - v) > 3e-7 * v;
      bad_p += std::fabs(s.p[j] - p) > 2.5e-7 * std::fabs(p) + 1e-6 * step;
    }
    offset += seg.numel;
  }
  EXPECT_EQ(bad_m, 0);
  EXPECT_EQ(bad_v, 0);
  EXPECT_EQ(bad_p, 0);
}

TEST_P(AdamwOp, ThreadCountDoesNotChangeBits) {
  const int saved = num_threads();
  std::vector<FlatState> results;
  for (int threads : {1, 2, 3}) {
    set_num_threads(threads);
    FlatState s = random_state(5, false);
    run(s, {1e-2, 0.9, 0.999, 1e-8, 0.01, 2});
    results.push_back(s);
  }
  set_num_threads(saved);
  for (size_t i = 1; i < results.size(); ++i) {
    EXPECT_TRUE(same_bits(results[i].p, results[0].p));
    EXPECT_TRUE(same_bits(results[i].v, results[0].v));
  }
}

TEST_P(AdamwOp, ChecksShapesAndSegments) {
  Tensor p = Tensor::zeros({10}, DType::F32), g = Tensor::zeros({10}, DType::F32);
  Tensor m = Tensor::zeros({10}, DType::F32), v = Tensor::zeros({9}, DType::F32);
  const std::vector<AdamwSegment> ten = {{4, true}, {6, false}}, nine = {{9, true}};
  EXPECT_ANY_THROW(adamw_update(p, g, m, v, ten, {}));
  v = Tensor::zeros({10}, DType::F32);
  EXPECT_ANY_THROW(adamw_update(p, g, m, v, nine, {}));
  Tensor p2 = Tensor::zeros({2, 5}, DType::F32);
  EXPECT_ANY_THROW(adamw_update(p2, g, m, v, ten, {}));
  adamw_update(p, g, m, v, ten, {});
}

INSTANTIATE_TEST_SUITE_P(Ops, AdamwOp,
                         testing::ValuesIn(tuna_test::op_cases({Device::CPU}, {DType::F32})),
                         tuna_test::op_case_name);

}  // namespace
}  // namespace tuna
