// bitsandbytes' 8-bit AdamW op (ops/adamw_8bit.h) through its dispatcher: bit-identical to the
// per-tensor update the optimizer ran before the op existed (its loops are restated here as the
// reference) on 8-bit (U8 + absmax) and F32 state of mixed sizes, with and without weight
// decay; independent of the thread count; argument checks. Parameterised over the devices with
// a kernel (the CPU today). The bitsandbytes goldens run through the optimizer
// (tests/train/test_optimizer_8bit.cpp).
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "core/threads.h"
#include "ops/adamw_8bit.h"
#include "ops/ops_test_util.h"
#include "ops/quant_blockwise8.h"

namespace tuna {
namespace {

using tuna_test::same_bits;

// One parameter tensor with its state, as host vectors (q1/q2/absmax used for 8-bit state,
// m/v for F32 state).
struct TensorState {
  bool eight_bit = true;
  bool decays = true;
  std::vector<float> p, g, m, v, absmax1, absmax2;
  std::vector<uint8_t> q1, q2;
};

// 8-bit: one element, part of a block, one block, one and a bit, 16 blocks (serial), more than
// 16 blocks with a partial last one (parallel). F32: sizes bitsandbytes keeps in F32.
struct SizeCase {
  int64_t n;
  bool eight_bit;
};
const SizeCase kSizes[] = {{1, true},    {255, true},   {256, true}, {257, true},
                           {4096, true}, {5393, true},  {1, false},  {7, false},
                           {300, false}, {4095, false}, {0, false}};

std::vector<TensorState> zero_states() {
  std::vector<TensorState> ts;
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  for (size_t i = 0; i < std::size(kSizes); ++i) {
    const int64_t n = kSizes[i].n;
    TensorState t;
    t.eight_bit = kSizes[i].eight_bit;
    t.decays = i % 3 != 1;
    for (int64_t j = 0; j < n; ++j) t.p.push_back(u(rng));
    t.g.assign(n, 0.0f);
    if (t.eight_bit) {
      t.q1.assign(n, 0);
      t.q2.assign(n, 0);
      t.absmax1.assign(blockwise_n_blocks(n, kBnbOptimBlocksize), 0.0f);
      t.absmax2 = t.absmax1;
    } else {
      t.m.assign(n, 0.0f);
      t.v.assign(n, 0.0f);
    }
    ts.push_back(t);
  }
  return ts;
}

// The optimizer's 8-bit AdamW step before the op (train/optimizer_8bit.cpp at 57c8602). Tests
// build without -ffp-contract=off: volatile products keep `a·b + c` from fusing where the
// library (built with it) rounds the product first.
struct Coeffs8bit {
  float beta1, one_minus_beta1, beta2, one_minus_beta2, bc2_sqrt, eps, neg_step_size;
  bool decays;
  float decay;
};
struct Coeffs32bit {
  float beta1, one_minus_beta1, beta2, one_minus_beta2, eps_scaled, step_size;
  bool decays;
  float decay;
};

void previous_block_8bit(const Coeffs8bit& k, float* p, const float* g, uint8_t* q1, uint8_t* q2,
                         float* absmax1, float* absmax2, int64_t block, int64_t i0, int64_t i1) {
  const std::array<float, 256>& code1 = dynamic_map_pristine(DynamicMap::SIGNED);
  const std::array<float, 256>& code2 = dynamic_map_pristine(DynamicMap::UNSIGNED);
  float m[kBnbOptimBlocksize], v[kBnbOptimBlocksize];
  float max1 = 0.0f, max2 = 0.0f;
  for (int64_t j = i0; j < i1; ++j) {
    const int64_t l = j - i0;
    const float gj = g[j];
    float mj = code1[q1[j]] * absmax1[block];
    float vj = code2[q2[j]] * absmax2[block];
    mj = std::fma(gj, k.one_minus_beta1, mj * k.beta1);
    vj = std::fma(k.one_minus_beta2 * gj, gj, vj * k.beta2);
    const float denom = std::sqrt(vj) / k.bc2_sqrt + k.eps;
    float pj = p[j];
    if (k.decays) {
      const volatile float decayed = pj * k.decay;
      pj = decayed;
    }
    p[j] = pj + (k.neg_step_size * mj) / denom;
    m[l] = mj;
    v[l] = vj;
    max1 = std::max(max1, std::fabs(mj));
    max2 = std::max(max2, std::fabs(vj));
  }
  if (max1 == 0.0f) max1 = 1.0f;
  if (max2 == 0.0f) max2 = 1.0f;
  absmax1[block] = max1;
  absmax2[block] = max2;
  for (int64_t j = i0; j < i1; ++j) {
    q1[j] = nearest_dynamic_code(code1, m[j - i0] / max1);
    q2[j] = nearest_dynamic_code(code2, v[j - i0] / max2);
  }
}

void previous_32bit(const Coeffs32bit& k, float* p, const float* g, float* m, float* v, int64_t n) {
  for (int64_t j = 0; j < n; ++j) {
    const float gj = g[j];
    const volatile float m_beta = m[j] * k.beta1, g_beta = gj * k.one_minus_beta1;
    const float mj = m_beta + g_beta;
    const volatile float v_beta = v[j] * k.beta2, g_sq = (gj * k.one_minus_beta2) * gj;
    const float vj = v_beta + g_sq;
    const float denom = std::sqrt(vj) + k.eps_scaled;
    const volatile float pj = k.decays ? p[j] * k.decay : p[j];
    const volatile float delta = (mj / denom) * k.step_size;
    p[j] = pj + delta;
    m[j] = mj;
    v[j] = vj;
  }
}

void previous_step(std::vector<TensorState>& ts, double lr, double beta1, double beta2, double eps,
                   double weight_decay, int64_t steps) {
  const double step = static_cast<double>(steps);
  const double correction1 = 1.0 - std::pow(beta1, step);
  const double bias_correction2 = 1.0 - std::pow(beta2, step);
  const double correction2 = std::sqrt(bias_correction2);
  Coeffs8bit k8;
  k8.beta1 = static_cast<float>(beta1);
  k8.one_minus_beta1 = static_cast<float>(1.0 - beta1);
  k8.beta2 = static_cast<float>(beta2);
  k8.one_minus_beta2 = static_cast<float>(1.0 - beta2);
  k8.bc2_sqrt = static_cast<float>(correction2);
  k8.eps = static_cast<float>(eps);
  k8.neg_step_size = static_cast<float>(-lr / correction1);
  Coeffs32bit k32;
  k32.beta1 = k8.beta1;
  k32.one_minus_beta1 = k8.one_minus_beta1;
  k32.beta2 = k8.beta2;
  k32.one_minus_beta2 = k8.one_minus_beta2;
  k32.eps_scaled = static_cast<float>(eps * correction2);
  k32.step_size = static_cast<float>(-lr * correction2 / correction1);
  for (TensorState& t : ts) {
    const double wd = t.decays ? weight_decay : 0.0;
    k8.decays = k32.decays = wd > 0.0;
    k8.decay = k32.decay = static_cast<float>(1.0 - lr * wd);
    const int64_t n = static_cast<int64_t>(t.p.size());
    if (!t.eight_bit) {
      previous_32bit(k32, t.p.data(), t.g.data(), t.m.data(), t.v.data(), n);
      continue;
    }
    const int64_t blocks = blockwise_n_blocks(n, kBnbOptimBlocksize);
    for (int64_t b = 0; b < blocks; ++b)
      previous_block_8bit(k8, t.p.data(), t.g.data(), t.q1.data(), t.q2.data(), t.absmax1.data(),
                          t.absmax2.data(), b, b * kBnbOptimBlocksize,
                          std::min(n, (b + 1) * kBnbOptimBlocksize));
  }
}

Tensor u8_tensor(const std::vector<uint8_t>& v) {
  Tensor t = Tensor::empty({static_cast<int64_t>(v.size())}, DType::U8);
  if (!v.empty()) std::memcpy(t.raw_mut(), v.data(), v.size());
  return t;
}

std::vector<uint8_t> u8_vector(const Tensor& t) {
  const uint8_t* p = t.data<uint8_t>();
  return std::vector<uint8_t>(p, p + t.numel());
}

class Adamw8bitOp : public tuna_test::OpTest {
 protected:
  // Runs the op on the case's device over one tensor's host vectors.
  static void run(TensorState& t, const Adamw8bitHyper& h) {
    const Shape n{static_cast<int64_t>(t.p.size())};
    Tensor p = Tensor::from_f32(n, t.p), g = Tensor::from_f32(n, t.g);
    if (t.eight_bit) {
      Tensor q1 = u8_tensor(t.q1), q2 = u8_tensor(t.q2);
      const Shape blocks{static_cast<int64_t>(t.absmax1.size())};
      Tensor a1 = Tensor::from_f32(blocks, t.absmax1), a2 = Tensor::from_f32(blocks, t.absmax2);
      OP_CALL(adamw_8bit_update, p, g, q1, q2, a1, a2, h);
      t.q1 = u8_vector(q1);
      t.q2 = u8_vector(q2);
      t.absmax1 = a1.to_f32_vector();
      t.absmax2 = a2.to_f32_vector();
    } else {
      Tensor m = Tensor::from_f32(n, t.m), v = Tensor::from_f32(n, t.v), none1, none2;
      OP_CALL(adamw_8bit_update, p, g, m, v, none1, none2, h);
      t.m = m.to_f32_vector();
      t.v = v.to_f32_vector();
    }
    t.p = p.to_f32_vector();
  }
};

void expect_same(const std::vector<TensorState>& a, const std::vector<TensorState>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    SCOPED_TRACE(testing::Message() << "tensor " << i << " of " << a[i].p.size());
    EXPECT_TRUE(same_bits(a[i].p, b[i].p));
    EXPECT_TRUE(same_bits(a[i].m, b[i].m));
    EXPECT_TRUE(same_bits(a[i].v, b[i].v));
    EXPECT_TRUE(same_bits(a[i].q1, b[i].q1));
    EXPECT_TRUE(same_bits(a[i].q2, b[i].q2));
    EXPECT_TRUE(same_bits(a[i].absmax1, b[i].absmax1));
    EXPECT_TRUE(same_bits(a[i].absmax2, b[i].absmax2));
  }
}

void set_grads(std::vector<TensorState>& a, std::vector<TensorState>& b, int64_t step) {
  for (size_t i = 0; i < a.size(); ++i)
    for (size_t k = 0; k < a[i].g.size(); ++k)
      a[i].g[k] = b[i].g[k] = 0.05f * std::sin(0.7f * static_cast<float>(k * step + i));
}

TEST_P(Adamw8bitOp, BitIdenticalToThePreviousPerTensorUpdate) {
  for (const double weight_decay : {0.0, 0.1}) {
    SCOPED_TRACE(weight_decay);
    std::vector<TensorState> op = zero_states(), ref = op;
    const double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
    for (int64_t step = 1; step <= 4; ++step) {
      const double lr = 1e-3 * static_cast<double>(step);
      set_grads(op, ref, step);
      for (TensorState& t : op)
        run(t, {lr, beta1, beta2, eps, t.decays ? weight_decay : 0.0, step});
      previous_step(ref, lr, beta1, beta2, eps, weight_decay, step);
    }
    expect_same(op, ref);
  }
}

TEST_P(Adamw8bitOp, ThreadCountDoesNotChangeBits) {
  const int saved = num_threads();
  std::vector<std::vector<TensorState>> results;
  for (int threads : {1, 2, 3}) {
    set_num_threads(threads);
    std::vector<TensorState> ts = zero_states(), unused = ts;
    for (int64_t step = 1; step <= 2; ++step) {
      set_grads(ts, unused, step);
      for (TensorState& t : ts) run(t, {1e-2, 0.9, 0.999, 1e-8, 0.01, step});
    }
    results.push_back(ts);
  }
  set_num_threads(saved);
  for (size_t i = 1; i < results.size(); ++i) expect_same(results[i], results[0]);
}

TEST_P(Adamw8bitOp, ChecksShapesAndDtypes) {
  const int64_t n = 300;  // two blocks
  Tensor p = Tensor::zeros({n}, DType::F32), g = Tensor::zeros({n}, DType::F32);
  Tensor q1 = Tensor::zeros({n}, DType::U8), q2 = Tensor::zeros({n}, DType::U8);
  Tensor a1 = Tensor::zeros({2}, DType::F32), a2 = Tensor::zeros({2}, DType::F32);
  Tensor m = Tensor::zeros({n}, DType::F32), v = Tensor::zeros({n}, DType::F32), none;
  const Adamw8bitHyper h{1e-3};
  OP_CALL(adamw_8bit_update, p, g, q1, q2, a1, a2, h);
  OP_CALL(adamw_8bit_update, p, g, m, v, none, none, h);
  // Mixed state dtypes, missing absmax, absmax with F32 state, wrong block count.
  EXPECT_ANY_THROW(OP_CALL(adamw_8bit_update, p, g, q1, v, a1, a2, h));
  EXPECT_ANY_THROW(OP_CALL(adamw_8bit_update, p, g, q1, q2, none, a2, h));
  EXPECT_ANY_THROW(OP_CALL(adamw_8bit_update, p, g, m, v, a1, a2, h));
  Tensor a3 = Tensor::zeros({3}, DType::F32);
  EXPECT_ANY_THROW(OP_CALL(adamw_8bit_update, p, g, q1, q2, a1, a3, h));
  // Shapes: grad or state of another length, a 2-D param, an F16 state, step 0.
  Tensor g_short = Tensor::zeros({n - 1}, DType::F32), q_short = Tensor::zeros({n - 1}, DType::U8);
  EXPECT_ANY_THROW(OP_CALL(adamw_8bit_update, p, g_short, q1, q2, a1, a2, h));
  EXPECT_ANY_THROW(OP_CALL(adamw_8bit_update, p, g, q1, q_short, a1, a2, h));
  Tensor p2 = Tensor::zeros({2, n / 2}, DType::F32);
  EXPECT_ANY_THROW(OP_CALL(adamw_8bit_update, p2, g, q1, q2, a1, a2, h));
  Tensor h1 = Tensor::zeros({n}, DType::F16), h2 = Tensor::zeros({n}, DType::F16);
  EXPECT_ANY_THROW(OP_CALL(adamw_8bit_update, p, g, h1, h2, none, none, h));
  EXPECT_ANY_THROW(OP_CALL(adamw_8bit_update, p, g, q1, q2, a1, a2,
                           Adamw8bitHyper{1e-3, 0.9, 0.999, 1e-8, 0.0, 0}));
}

INSTANTIATE_TEST_SUITE_P(Ops, Adamw8bitOp,
                         testing::ValuesIn(tuna_test::op_cases({Device::CPU}, {DType::U8})),
                         tuna_test::op_case_name);

}  // namespace
}  // namespace tuna
