// RoPE: inv_freq (default, linear, llama3 vs a literal double port of transformers'
// _compute_llama3_parameters), cos/sin tables, and the half-split rotation on [N, H, D].
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "core/error.h"
#include "ops/rope.h"
#include "ops_test_util.h"

namespace {

using tuna::RopeConfig;
using tuna::RopeScalingType;
using tuna::Tensor;

std::vector<double> ref_default_inv_freq(double theta, int64_t dim) {
  std::vector<double> inv;
  for (int64_t i = 0; i < dim; i += 2)
    inv.push_back(1.0 / std::pow(theta, static_cast<double>(i) / static_cast<double>(dim)));
  return inv;
}

// transformers.modeling_rope_utils._compute_llama3_parameters, line by line, in double.
std::vector<double> ref_llama3_inv_freq(double theta, int64_t dim, double factor, double low_ff,
                                        double high_ff, double old_context_len) {
  std::vector<double> inv_freq = ref_default_inv_freq(theta, dim);
  const double low_freq_wavelen = old_context_len / low_ff;
  const double high_freq_wavelen = old_context_len / high_ff;
  std::vector<double> out;
  for (double f : inv_freq) {
    const double wavelen = 2 * M_PI / f;
    double inv_freq_llama = wavelen > low_freq_wavelen ? f / factor : f;
    const double smooth_factor = (old_context_len / wavelen - low_ff) / (high_ff - low_ff);
    const double smoothed =
        (1 - smooth_factor) * inv_freq_llama / factor + smooth_factor * inv_freq_llama;
    const bool is_medium = !(wavelen < high_freq_wavelen) && !(wavelen > low_freq_wavelen);
    out.push_back(is_medium ? smoothed : inv_freq_llama);
  }
  return out;
}

RopeConfig config(int64_t dim, float theta = 10000.0f) {
  RopeConfig c;
  c.dim = dim;
  c.theta = theta;
  return c;
}

class RopeOp : public tuna_test::OpTest {};
INSTANTIATE_TEST_SUITE_P(Ops, RopeOp,
                         testing::ValuesIn(tuna_test::op_cases({tuna::Device::CPU},
                                                               {tuna::DType::F32})),
                         tuna_test::op_case_name);

TEST_P(RopeOp, DefaultInvFreqLiterals) {
  std::vector<float> inv = tuna::rope_inv_freq(config(4));
  ASSERT_EQ(inv.size(), 2u);
  EXPECT_EQ(inv[0], 1.0f);
  EXPECT_FLOAT_EQ(inv[1], 0.01f);  // 1 / 10000^(2/4)
}

TEST_P(RopeOp, DefaultInvFreqMatchesFormula) {
  for (float theta : {10000.0f, 500000.0f, 1000000.0f}) {
    for (int64_t dim : {8, 64, 128, 256}) {
      std::vector<float> inv = tuna::rope_inv_freq(config(dim, theta));
      tuna_test::expect_near_vec(inv, ref_default_inv_freq(theta, dim), 1e-6, 0.0, nullptr,
                                 "theta " + std::to_string(theta) + " dim " + std::to_string(dim));
    }
  }
}

TEST_P(RopeOp, LinearScalingDividesByFactor) {
  RopeConfig c = config(64);
  std::vector<float> base = tuna::rope_inv_freq(c);
  c.scaling = RopeScalingType::LINEAR;
  c.factor = 4.0f;
  std::vector<float> scaled = tuna::rope_inv_freq(c);
  ASSERT_EQ(scaled.size(), base.size());
  for (size_t i = 0; i < base.size(); ++i) EXPECT_EQ(scaled[i], base[i] / 4.0f) << i;
}

TEST_P(RopeOp, Llama3ScalingBuckets) {
  // dim 16, theta 1e4: wavelens 2π·10^(i/2) = 6.28, 19.9, 62.8, ... against high 32/4 = 8 and
  // low 32/1 = 32: frequency 0 is high (kept), 1 is medium (smoothed), 2..7 are low (÷ 8).
  RopeConfig c = config(16);
  std::vector<float> base = tuna::rope_inv_freq(c);
  c.scaling = RopeScalingType::LLAMA3;
  c.factor = 8.0f;
  c.low_freq_factor = 1.0f;
  c.high_freq_factor = 4.0f;
  c.original_max_position = 32;
  std::vector<float> got = tuna::rope_inv_freq(c);
  std::vector<double> want = ref_llama3_inv_freq(10000.0, 16, 8.0, 1.0, 4.0, 32.0);
  ASSERT_EQ(got.size(), 8u);
  tuna_test::expect_near_vec(got, want, 1e-6, 0.0, nullptr, "llama3");
  EXPECT_EQ(got[0], base[0]);                 // high frequency: untouched
  EXPECT_GT(got[1], base[1] / 8.0f * 1.01f);  // medium: strictly between
  EXPECT_LT(got[1], base[1] * 0.99f);
  // smooth = (32 / (2π·√10) − 1) / 3; smoothed = f·((1 − smooth)/8 + smooth)
  const double s = (32.0 / (2 * M_PI * std::sqrt(10.0)) - 1.0) / 3.0;
  EXPECT_NEAR(got[1], (1.0 / std::sqrt(10.0)) * ((1 - s) / 8 + s), 1e-7);
  for (size_t i = 2; i < 8; ++i) EXPECT_FLOAT_EQ(got[i], base[i] / 8.0f) << i;
}

TEST_P(RopeOp, Llama3ScalingRealisticConfig) {
  // Llama 3.1: theta 500000, dim 128, factor 8, low 1, high 4, original 8192
  RopeConfig c = config(128, 500000.0f);
  c.scaling = RopeScalingType::LLAMA3;
  c.factor = 8.0f;
  c.original_max_position = 8192;
  tuna_test::expect_near_vec(tuna::rope_inv_freq(c),
                             ref_llama3_inv_freq(500000.0, 128, 8.0, 1.0, 4.0, 8192.0), 1e-6, 0.0,
                             nullptr, "llama3.1");
}

TEST_P(RopeOp, TablesMatchCosSin) {
  RopeConfig c = config(8);
  std::vector<int32_t> positions = {0, 1, 5, 37, 1000};
  tuna::RopeTables t = tuna::rope_tables(c, positions);
  std::vector<float> inv = tuna::rope_inv_freq(c);
  ASSERT_EQ(t.half, 4);
  ASSERT_EQ(t.cos.size(), positions.size() * 4);
  ASSERT_EQ(t.sin.size(), positions.size() * 4);
  for (size_t p = 0; p < positions.size(); ++p) {
    for (size_t i = 0; i < 4; ++i) {
      // the angle is an F32 product (as transformers computes freqs in F32)
      const double angle = static_cast<float>(static_cast<float>(positions[p]) * inv[i]);
      EXPECT_NEAR(t.cos[p * 4 + i], std::cos(angle), 1e-6) << p << "," << i;
      EXPECT_NEAR(t.sin[p * 4 + i], std::sin(angle), 1e-6) << p << "," << i;
    }
  }
  EXPECT_EQ(t.cos[0], 1.0f);
  EXPECT_EQ(t.sin[0], 0.0f);
}

TEST_P(RopeOp, RotationHandChecked) {
  // dim 4, theta 1e4: inv = [1, 0.01]; position 1 rotates pair (0, 2) by 1 rad, (1, 3) by 0.01
  tuna::RopeTables t = tuna::rope_tables(config(4), {1});
  Tensor x = Tensor::from_f32({1, 2, 4}, {1, 0, 0, 0, 0, 2, 1, 3});
  OP_CALL(tuna::rope_forward, x, t, std::vector<int32_t>{0});
  std::vector<float> v = x.to_f32_vector();
  EXPECT_NEAR(v[0], std::cos(1.0), 1e-6);
  EXPECT_NEAR(v[1], 0.0, 1e-7);
  EXPECT_NEAR(v[2], std::sin(1.0), 1e-6);
  EXPECT_NEAR(v[3], 0.0, 1e-7);
  // head 1: a = (0, 2), b = (1, 3): out_i = a·cos − b·sin, out_{i+2} = b·cos + a·sin
  EXPECT_NEAR(v[4], -std::sin(1.0), 1e-6);
  EXPECT_NEAR(v[5], 2 * std::cos(0.01) - 3 * std::sin(0.01), 1e-6);
  EXPECT_NEAR(v[6], std::cos(1.0), 1e-6);
  EXPECT_NEAR(v[7], 3 * std::cos(0.01) + 2 * std::sin(0.01), 1e-6);
}

TEST_P(RopeOp, PositionZeroIsIdentity) {
  const int64_t N = 3, H = 2, D = 16;
  std::vector<float> x = tuna_test::random_values(N * H * D, 1, -5.0f, 5.0f);
  Tensor t = Tensor::from_f32({N, H, D}, x);
  OP_CALL(tuna::rope_forward, t, tuna::rope_tables(config(D), {0}), std::vector<int32_t>{0, 0, 0});
  EXPECT_EQ(t.to_f32_vector(), x);
}

TEST_P(RopeOp, RandomRotationMatchesReferenceAndPreservesPairNorms) {
  const int64_t N = 4, H = 3, D = 32, half = D / 2;
  const std::vector<int32_t> positions = {7, 0, 123, 4096};
  const std::vector<int32_t> rows = {2, 3, 0, 2};  // token n uses table row rows[n]
  tuna::RopeTables t = tuna::rope_tables(config(D, 500000.0f), positions);
  std::vector<float> x = tuna_test::random_values(N * H * D, 2, -3.0f, 3.0f);
  Tensor xt = Tensor::from_f32({N, H, D}, x);
  OP_CALL(tuna::rope_forward, xt, t, rows);
  std::vector<float> got = xt.to_f32_vector();
  std::vector<double> want(x.size());
  for (int64_t n = 0; n < N; ++n) {
    for (int64_t h = 0; h < H; ++h) {
      for (int64_t i = 0; i < half; ++i) {
        const size_t base = static_cast<size_t>((n * H + h) * D);
        const double c = t.cos[rows[n] * half + i], s = t.sin[rows[n] * half + i];
        const double a = x[base + i], b = x[base + i + half];
        want[base + i] = a * c - b * s;
        want[base + i + half] = b * c + a * s;
        const double before = a * a + b * b;
        const double after = static_cast<double>(got[base + i]) * got[base + i] +
                             static_cast<double>(got[base + i + half]) * got[base + i + half];
        EXPECT_NEAR(after, before, 1e-5 * before + 1e-6) << n << "," << h << "," << i;
      }
    }
  }
  std::vector<double> scale(x.size(), 4.0);  // |a|·|c| + |b|·|s| <= 2·3
  tuna_test::expect_near_vec(got, want, 1e-6, 0.0, &scale, "rope");
}

TEST_P(RopeOp, ArgumentErrors) {
  EXPECT_THROW(tuna::rope_inv_freq(config(7)), tuna::Error);
  EXPECT_THROW(tuna::rope_inv_freq(config(0)), tuna::Error);
  tuna::RopeTables t = tuna::rope_tables(config(8), {0, 1});
  Tensor x = Tensor::zeros({2, 1, 8}, tuna::DType::F32);
  EXPECT_THROW(OP_CALL(tuna::rope_forward, x, t, std::vector<int32_t>{0}),
               tuna::Error);  // one row per token
  EXPECT_THROW(OP_CALL(tuna::rope_forward, x, t, std::vector<int32_t>{0, 2}),
               tuna::Error);  // row past the table
  EXPECT_THROW(OP_CALL(tuna::rope_forward, x, t, std::vector<int32_t>{0, -1}), tuna::Error);
  Tensor wrong_d = Tensor::zeros({2, 1, 6}, tuna::DType::F32);
  EXPECT_THROW(OP_CALL(tuna::rope_forward, wrong_d, t, std::vector<int32_t>{0, 1}), tuna::Error);
  EXPECT_NO_THROW(OP_CALL(tuna::rope_forward, x, t, std::vector<int32_t>{1, 1}));
}

TEST_P(RopeOp, InterleavedRotatesAdjacentPairs) {
  // llama.cpp layout: pair (2i, 2i+1) rotates by frequency i. dim 4, position 1: inv = [1, 0.01]
  tuna::RopeTables t = tuna::rope_tables(config(4), {1});
  Tensor x = Tensor::from_f32({1, 1, 4}, {1, 0, 2, 3});
  OP_CALL(tuna::rope_forward, x, t, std::vector<int32_t>{0}, /*interleaved=*/true);
  std::vector<float> v = x.to_f32_vector();
  EXPECT_NEAR(v[0], std::cos(1.0), 1e-6);
  EXPECT_NEAR(v[1], std::sin(1.0), 1e-6);
  EXPECT_NEAR(v[2], 2 * std::cos(0.01) - 3 * std::sin(0.01), 1e-6);
  EXPECT_NEAR(v[3], 3 * std::cos(0.01) + 2 * std::sin(0.01), 1e-6);
}

TEST_P(RopeOp, InterleavedEqualsHalfSplitOnPermutedLayout) {
  // Moving element 2i to i and 2i+1 to i + D/2 turns the interleaved rotation into the
  // half-split one.
  const int64_t N = 3, H = 2, D = 16, half = D / 2;
  tuna::RopeTables t = tuna::rope_tables(config(D), {0, 9, 300});
  std::vector<float> x = tuna_test::random_values(N * H * D, 4, -2.0f, 2.0f);
  std::vector<float> perm(x.size());
  for (int64_t r = 0; r < N * H; ++r)
    for (int64_t i = 0; i < half; ++i) {
      perm[r * D + i] = x[r * D + 2 * i];
      perm[r * D + i + half] = x[r * D + 2 * i + 1];
    }
  Tensor a = Tensor::from_f32({N, H, D}, x), b = Tensor::from_f32({N, H, D}, perm);
  OP_CALL(tuna::rope_forward, a, t, std::vector<int32_t>{2, 0, 1}, /*interleaved=*/true);
  OP_CALL(tuna::rope_forward, b, t, std::vector<int32_t>{2, 0, 1});
  std::vector<float> va = a.to_f32_vector(), vb = b.to_f32_vector();
  for (int64_t r = 0; r < N * H; ++r)
    for (int64_t i = 0; i < half; ++i) {
      EXPECT_EQ(va[r * D + 2 * i], vb[r * D + i]) << r << "," << i;
      EXPECT_EQ(va[r * D + 2 * i + 1], vb[r * D + i + half]) << r << "," << i;
    }
}

}  // namespace
