// attention_forward on CPU against a double reference and hand-made cases: causal softmax,
// GQA, sliding window, key padding, soft-capping order, and fully masked rows.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "core/error.h"
#include "ops/attention.h"
#include "ops_test_util.h"

namespace {

using tuna::AttentionParams;
using tuna::DType;
using tuna::Tensor;

struct Dims {
  int64_t B, T, H, K, D;
};

// Double reference: q [B,T,H,D], k/v [B,T,K,D], valid [B,T] (empty = all valid).
std::vector<double> ref_attention(const Dims& d, const std::vector<float>& q,
                                  const std::vector<float>& k, const std::vector<float>& v,
                                  const std::vector<int32_t>& valid, const AttentionParams& p) {
  std::vector<double> out(static_cast<size_t>(d.B * d.T * d.H * d.D), 0.0);
  for (int64_t b = 0; b < d.B; ++b) {
    for (int64_t h = 0; h < d.H; ++h) {
      const int64_t kh = h / (d.H / d.K);
      for (int64_t i = 0; i < d.T; ++i) {
        std::vector<double> s(d.T, 0.0);
        std::vector<bool> vis(d.T, false);
        double mx = -INFINITY;
        for (int64_t j = 0; j < d.T; ++j) {
          vis[j] = j <= i && (p.window == 0 || j > i - p.window) &&
                   (valid.empty() || valid[b * d.T + j] != 0);
          if (!vis[j]) continue;
          double dot = 0;
          for (int64_t e = 0; e < d.D; ++e)
            dot += static_cast<double>(q[((b * d.T + i) * d.H + h) * d.D + e]) *
                   k[((b * d.T + j) * d.K + kh) * d.D + e];
          dot *= p.scale;
          if (p.softcap > 0) dot = std::tanh(dot / p.softcap) * p.softcap;
          s[j] = dot;
          mx = std::max(mx, dot);
        }
        double sum = 0;
        for (int64_t j = 0; j < d.T; ++j) sum += vis[j] ? std::exp(s[j] - mx) : 0.0;
        for (int64_t j = 0; j < d.T; ++j) {
          if (!vis[j]) continue;
          const double w = std::exp(s[j] - mx) / sum;
          for (int64_t e = 0; e < d.D; ++e)
            out[((b * d.T + i) * d.H + h) * d.D + e] += w * v[((b * d.T + j) * d.K + kh) * d.D + e];
        }
      }
    }
  }
  return out;
}

std::vector<float> run(const Dims& d, const std::vector<float>& q, const std::vector<float>& k,
                       const std::vector<float>& v, const std::vector<int32_t>& valid,
                       const AttentionParams& p) {
  Tensor tq = Tensor::from_f32({d.B, d.T, d.H, d.D}, q);
  Tensor tk = Tensor::from_f32({d.B, d.T, d.K, d.D}, k);
  Tensor tv = Tensor::from_f32({d.B, d.T, d.K, d.D}, v);
  Tensor tvalid;
  if (!valid.empty()) {
    tvalid = Tensor::empty({d.B, d.T}, DType::I32);
    std::copy(valid.begin(), valid.end(), tvalid.data_mut<int32_t>());
  }
  Tensor out = Tensor::empty({d.B, d.T, d.H, d.D}, DType::F32);
  std::fill(out.data_mut<float>(), out.data_mut<float>() + out.numel(),
            std::numeric_limits<float>::quiet_NaN());
  OP_CALL(tuna::attention_forward, tq, tk, tv, tvalid, p, out);
  return out.to_f32_vector();
}

void check_random(const Dims& d, const AttentionParams& p, const std::vector<int32_t>& valid,
                  uint32_t seed) {
  auto q = tuna_test::random_values(d.B * d.T * d.H * d.D, seed, -2, 2);
  auto k = tuna_test::random_values(d.B * d.T * d.K * d.D, seed + 1, -2, 2);
  auto v = tuna_test::random_values(d.B * d.T * d.K * d.D, seed + 2, -2, 2);
  tuna_test::expect_near_vec(run(d, q, k, v, valid, p), ref_attention(d, q, k, v, valid, p), 1e-5,
                             2e-6, nullptr, "attention");
}

class AttentionOp : public tuna_test::OpTest {};
INSTANTIATE_TEST_SUITE_P(Ops, AttentionOp,
                         testing::ValuesIn(tuna_test::op_cases({tuna::Device::CPU},
                                                               {tuna::DType::F32})),
                         tuna_test::op_case_name);

TEST_P(AttentionOp, CausalSingleHeadHandChecked) {
  // T = 2, D = 1, scale 1: q = [1, 2], k = [0, 1], v = [10, 20]
  // query 0 sees key 0 only -> 10; query 1: scores [0, 2], p = [1, e^2] / (1 + e^2)
  Dims d{1, 2, 1, 1, 1};
  std::vector<float> out = run(d, {1, 2}, {0, 1}, {10, 20}, {}, AttentionParams{});
  const double e2 = std::exp(2.0);
  EXPECT_NEAR(out[0], 10.0, 1e-6);
  EXPECT_NEAR(out[1], (10.0 + 20.0 * e2) / (1.0 + e2), 1e-5);
}

TEST_P(AttentionOp, ScaleIsApplied) {
  AttentionParams p;
  p.scale = 0.5f;  // scores [0, 1] instead of [0, 2]
  std::vector<float> out = run({1, 2, 1, 1, 1}, {1, 2}, {0, 1}, {10, 20}, {}, p);
  const double e1 = std::exp(1.0);
  EXPECT_NEAR(out[1], (10.0 + 20.0 * e1) / (1.0 + e1), 1e-5);
}

TEST_P(AttentionOp, RandomCausalMatchesReference) {
  check_random({2, 9, 3, 3, 16}, AttentionParams{0.25f, 0.0f, 0}, {}, 1);
  check_random({1, 33, 2, 1, 8}, AttentionParams{0.35f, 0.0f, 0}, {}, 4);  // MQA
}

TEST_P(AttentionOp, GqaEqualsRepeatedKvHeads) {
  // H = 4 query heads over K = 2 kv heads: heads 0,1 read kv 0 and heads 2,3 read kv 1.
  const Dims d{2, 6, 4, 2, 8};
  AttentionParams p{0.3f, 0.0f, 0};
  auto q = tuna_test::random_values(d.B * d.T * d.H * d.D, 10, -2, 2);
  auto k = tuna_test::random_values(d.B * d.T * d.K * d.D, 11, -2, 2);
  auto v = tuna_test::random_values(d.B * d.T * d.K * d.D, 12, -2, 2);
  std::vector<float> k4, v4;  // [B, T, 4, D] with kv head h/2 copied into head h
  for (int64_t bt = 0; bt < d.B * d.T; ++bt)
    for (int64_t h = 0; h < 4; ++h)
      for (int64_t e = 0; e < d.D; ++e) {
        k4.push_back(k[(bt * d.K + h / 2) * d.D + e]);
        v4.push_back(v[(bt * d.K + h / 2) * d.D + e]);
      }
  std::vector<float> gqa = run(d, q, k, v, {}, p);
  std::vector<float> mha = run({d.B, d.T, 4, 4, d.D}, q, k4, v4, {}, p);
  ASSERT_EQ(gqa.size(), mha.size());
  for (size_t i = 0; i < gqa.size(); ++i) EXPECT_NEAR(gqa[i], mha[i], 1e-6) << i;
  tuna_test::expect_near_vec(gqa, ref_attention(d, q, k, v, {}, p), 1e-5, 2e-6, nullptr, "gqa");
}

// With q = 0 every visible key gets the same weight, so the output is the mean of the visible
// values; v_j = [j, 2^j] identifies the visible set exactly.
std::vector<float> uniform_run(int64_t T, const AttentionParams& p,
                               const std::vector<int32_t>& valid) {
  std::vector<float> v;
  for (int64_t j = 0; j < T; ++j) {
    v.push_back(static_cast<float>(j));
    v.push_back(std::ldexp(1.0f, static_cast<int>(j)));
  }
  return run({1, T, 1, 1, 2}, std::vector<float>(T * 2, 0.0f), tuna_test::random_values(T * 2, 3),
             v, valid, p);
}

double mean_of(const std::vector<int64_t>& js, bool pow2) {
  double s = 0;
  for (int64_t j : js) s += pow2 ? std::ldexp(1.0, static_cast<int>(j)) : static_cast<double>(j);
  return s / static_cast<double>(js.size());
}

TEST_P(AttentionOp, SlidingWindowSeesExactlyTheLastWKeys) {
  const int64_t T = 7;
  for (int64_t w : {1, 2, 3, 7, 10}) {
    AttentionParams p;
    p.window = w;
    std::vector<float> out = uniform_run(T, p, {});
    for (int64_t i = 0; i < T; ++i) {
      std::vector<int64_t> js;  // i − w < j <= i
      for (int64_t j = std::max<int64_t>(0, i - w + 1); j <= i; ++j) js.push_back(j);
      EXPECT_NEAR(out[i * 2], mean_of(js, false), 1e-5) << "w " << w << " i " << i;
      EXPECT_NEAR(out[i * 2 + 1], mean_of(js, true), 1e-5 * mean_of(js, true))
          << "w " << w << " i " << i;
    }
  }
}

TEST_P(AttentionOp, SlidingWindowRandomMatchesReference) {
  check_random({2, 12, 4, 2, 8}, AttentionParams{0.35f, 0.0f, 4}, {}, 20);
}

TEST_P(AttentionOp, KeyPaddingExcludesKeys) {
  const int64_t T = 6;
  const std::vector<int32_t> valid = {0, 1, 1, 0, 1, 1};  // keys 0 and 3 are padding
  std::vector<float> out = uniform_run(T, AttentionParams{}, valid);
  // query 0 sees no valid key: zeros
  EXPECT_EQ(out[0], 0.0f);
  EXPECT_EQ(out[1], 0.0f);
  const std::vector<std::vector<int64_t>> visible = {{},     {1},       {1, 2},
                                                     {1, 2}, {1, 2, 4}, {1, 2, 4, 5}};
  for (int64_t i = 1; i < T; ++i) {
    EXPECT_NEAR(out[i * 2], mean_of(visible[i], false), 1e-5) << i;
    EXPECT_NEAR(out[i * 2 + 1], mean_of(visible[i], true), 1e-5 * mean_of(visible[i], true)) << i;
  }
}

TEST_P(AttentionOp, KeyPaddingPerBatchRandomMatchesReference) {
  // batch 0 left-padded, batch 1 right-padded, combined with a window and GQA
  const std::vector<int32_t> valid = {0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0};
  check_random({2, 9, 4, 2, 8}, AttentionParams{0.35f, 0.0f, 0}, valid, 30);
  check_random({2, 9, 4, 2, 8}, AttentionParams{0.35f, 0.0f, 3}, valid, 40);
}

TEST_P(AttentionOp, SoftcapAppliesTanhBeforeSoftmax) {
  // D = 1, q = [1, 1], k = [0, 40], v = [0, 1], cap 5: query 1 scores [0, 40] become
  // [0, 5·tanh(8)]; without the cap the weight on key 1 would be ~1.
  AttentionParams p;
  p.softcap = 5.0f;
  std::vector<float> out = run({1, 2, 1, 1, 1}, {1, 1}, {0, 40}, {0, 1}, {}, p);
  const double c = 5.0 * std::tanh(8.0);
  EXPECT_NEAR(out[1], std::exp(c) / (1.0 + std::exp(c)), 1e-6);
  EXPECT_NEAR(out[0], 0.0, 1e-7);
  // capped scores of masked keys stay masked
  p.window = 1;
  out = run({1, 2, 1, 1, 1}, {1, 1}, {0, 40}, {0, 1}, {}, p);
  EXPECT_NEAR(out[1], 1.0, 1e-6);
}

TEST_P(AttentionOp, SoftcapRandomMatchesReference) {
  check_random({1, 10, 2, 2, 16}, AttentionParams{1.0f, 3.0f, 0}, {}, 50);
  check_random({2, 10, 4, 1, 16}, AttentionParams{0.8f, 2.0f, 3},
               {1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1}, 60);
}

TEST_P(AttentionOp, FullyMaskedBatchReturnsZeros) {
  const Dims d{2, 4, 2, 1, 4};
  auto q = tuna_test::random_values(d.B * d.T * d.H * d.D, 70);
  auto k = tuna_test::random_values(d.B * d.T * d.K * d.D, 71);
  auto v = tuna_test::random_values(d.B * d.T * d.K * d.D, 72);
  const std::vector<int32_t> valid = {1, 1, 1, 1, 0, 0, 0, 0};
  std::vector<float> out = run(d, q, k, v, valid, AttentionParams{0.5f, 0.0f, 0});
  for (int64_t i = d.T * d.H * d.D; i < 2 * d.T * d.H * d.D; ++i) EXPECT_EQ(out[i], 0.0f) << i;
  tuna_test::expect_near_vec(out, ref_attention(d, q, k, v, valid, AttentionParams{0.5f, 0.0f, 0}),
                             1e-5, 2e-6, nullptr, "masked");
}

TEST_P(AttentionOp, ArgumentErrors) {
  Tensor q = Tensor::zeros({1, 4, 3, 8}, DType::F32);
  Tensor k = Tensor::zeros({1, 4, 2, 8}, DType::F32);  // 3 heads over 2 kv heads
  Tensor out = Tensor::zeros({1, 4, 3, 8}, DType::F32);
  EXPECT_THROW(OP_CALL(tuna::attention_forward, q, k, k, Tensor(), AttentionParams{}, out),
               tuna::Error);
  Tensor k1 = Tensor::zeros({1, 4, 1, 8}, DType::F32);
  Tensor bad_valid = Tensor::zeros({1, 4}, DType::F32);
  EXPECT_THROW(OP_CALL(tuna::attention_forward, q, k1, k1, bad_valid, AttentionParams{}, out),
               tuna::Error);
  AttentionParams neg;
  neg.window = -1;
  EXPECT_THROW(OP_CALL(tuna::attention_forward, q, k1, k1, Tensor(), neg, out), tuna::Error);
  EXPECT_NO_THROW(OP_CALL(tuna::attention_forward, q, k1, k1, Tensor(), AttentionParams{}, out));
}

}  // namespace
