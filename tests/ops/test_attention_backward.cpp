// attention_backward against central finite differences of attention_forward (tolerances:
// grad_check_util.h): causal multi-head, GQA, MQA, sliding window, soft-capping, key padding,
// and a sequence longer than one 128-query tile; a deliberately wrong variant (backward without
// the soft-cap) that must fail; bit-identical dQ/dK/dV with 1 and 2 threads; with BF16 products
// (Bf16MatmulScope) within BF16 rounding of F32, different from it, and thread-invariant too.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "grad_check_util.h"
#include "ops/attention.h"
#include "ops/gemm_bf16.h"
#include "ops_test_util.h"

namespace {

using tuna::AttentionParams;
using tuna::DType;
using tuna::Tensor;
using tuna_test::fd_relative_error;
using tuna_test::kGradTol;
using tuna_test::random_tensor;
using tuna_test::random_values;

struct AttnCase {
  int64_t B, T, H, K, D;
  AttentionParams p;
  bool padded = false;
  Tensor q, k, v, valid, out;
  std::vector<float> r;

  AttnCase(int64_t B_, int64_t T_, int64_t H_, int64_t K_, int64_t D_, AttentionParams p_,
           bool padded_)
      : B(B_), T(T_), H(H_), K(K_), D(D_), p(p_), padded(padded_) {
    q = random_tensor({B, T, H, D}, 1, -2.0f, 2.0f);
    k = random_tensor({B, T, K, D}, 2, -2.0f, 2.0f);
    v = random_tensor({B, T, K, D}, 3);
    out = Tensor::empty({B, T, H, D}, DType::F32);
    r = random_values(static_cast<size_t>(B * T * H * D), 4);
    if (padded) {  // sequence b has its last 2·b positions padded
      valid = Tensor::empty({B, T}, DType::I32);
      for (int64_t b = 0; b < B; ++b)
        for (int64_t t = 0; t < T; ++t) valid.data_mut<int32_t>()[b * T + t] = t < T - 2 * b;
    }
  }
  double loss() {
    OP_CALL(tuna::attention_forward, q, k, v, valid, p, out);
    return tuna_test::weighted_sum(out, r);
  }
  struct Grads {
    Tensor dq, dk, dv;
  };
  Grads backward(const AttentionParams& bp) const {
    Grads g{Tensor::empty(q.shape(), DType::F32), Tensor::empty(k.shape(), DType::F32),
            Tensor::empty(k.shape(), DType::F32)};
    OP_CALL(tuna::attention_backward, q, k, v, valid, bp, Tensor::from_f32(q.shape(), r), g.dq,
            g.dk, g.dv);
    return g;
  }
};

AttentionParams params(float scale, float softcap, int64_t window) {
  AttentionParams p;
  p.scale = scale;
  p.softcap = softcap;
  p.window = window;
  return p;
}

class AttentionBackwardOp : public tuna_test::OpTest {};
INSTANTIATE_TEST_SUITE_P(Ops, AttentionBackwardOp,
                         testing::ValuesIn(tuna_test::op_cases({tuna::Device::CPU},
                                                               {tuna::DType::F32})),
                         tuna_test::op_case_name);

TEST_P(AttentionBackwardOp, MatchesFiniteDifferences) {
  struct Variant {
    const char* name;
    int64_t B, T, H, K, D;
    AttentionParams p;
    bool padded;
  };
  const Variant variants[] = {
      {"causal MHA", 1, 7, 2, 2, 8, params(0.35f, 0.0f, 0), false},
      {"GQA", 2, 6, 4, 2, 4, params(0.5f, 0.0f, 0), false},
      {"MQA", 1, 6, 3, 1, 4, params(0.5f, 0.0f, 0), false},
      {"sliding window", 1, 9, 2, 1, 4, params(0.5f, 0.0f, 3), false},
      {"soft-cap", 1, 6, 2, 1, 4, params(1.0f, 2.0f, 0), false},
      {"padding", 2, 6, 2, 2, 4, params(0.5f, 0.0f, 0), true},
      {"window + cap + GQA over two tiles", 1, 140, 2, 1, 4, params(0.5f, 3.0f, 50), false},
  };
  for (const Variant& vt : variants) {
    AttnCase c(vt.B, vt.T, vt.H, vt.K, vt.D, vt.p, vt.padded);
    const AttnCase::Grads g = c.backward(vt.p);
    auto loss = [&] { return c.loss(); };
    EXPECT_LT(fd_relative_error(loss, c.q.data_mut<float>(), c.q.numel(), g.dq.to_f32_vector()),
              kGradTol)
        << vt.name << " dq";
    EXPECT_LT(fd_relative_error(loss, c.k.data_mut<float>(), c.k.numel(), g.dk.to_f32_vector()),
              kGradTol)
        << vt.name << " dk";
    EXPECT_LT(fd_relative_error(loss, c.v.data_mut<float>(), c.v.numel(), g.dv.to_f32_vector()),
              kGradTol)
        << vt.name << " dv";
  }
}

TEST_P(AttentionBackwardOp, WrongVariantFails) {
  // Backward that forgets the soft-cap on a capped forward.
  AttnCase c(1, 6, 2, 1, 4, params(1.0f, 2.0f, 0), false);
  const AttnCase::Grads g = c.backward(params(1.0f, 0.0f, 0));
  auto loss = [&] { return c.loss(); };
  EXPECT_GT(fd_relative_error(loss, c.q.data_mut<float>(), c.q.numel(), g.dq.to_f32_vector()),
            10 * kGradTol);
}

TEST_P(AttentionBackwardOp, ThreadCountInvariant) {
  AttnCase c(2, 150, 4, 2, 16, params(0.25f, 20.0f, 64), true);
  tuna_test::expect_thread_invariant([&] {
    const AttnCase::Grads g = c.backward(c.p);
    return std::vector<std::vector<float>>{g.dq.to_f32_vector(), g.dk.to_f32_vector(),
                                           g.dv.to_f32_vector()};
  });
}

// bf16: true's attention: the tiles' products in BF16 (operands rounded to 8 significant bits)
// move out, dQ, dK, dV by about 2⁻⁸ of their scale, not more; the result is not F32's; and it
// stays bit-identical for 1 and 2 threads.
TEST_P(AttentionBackwardOp, Bf16ProductsStayNearF32AndThreadInvariant) {
  if (!tuna::bf16_matmul_available()) GTEST_SKIP() << "no AVX512-BF16 on this CPU";
  AttnCase c(2, 150, 4, 2, 16, params(0.25f, 20.0f, 64), true);
  auto run = [&] {
    c.loss();
    const AttnCase::Grads g = c.backward(c.p);
    return std::vector<std::vector<float>>{c.out.to_f32_vector(), g.dq.to_f32_vector(),
                                           g.dk.to_f32_vector(), g.dv.to_f32_vector()};
  };
  const std::vector<std::vector<float>> f32 = run();
  const tuna::Bf16MatmulScope on(true);
  const std::vector<std::vector<float>> bf16 = run();
  const char* names[] = {"out", "dq", "dk", "dv"};
  for (size_t t = 0; t < f32.size(); ++t) {
    double scale = 0, worst = 0;
    bool differs = false;
    for (size_t i = 0; i < f32[t].size(); ++i) {
      scale = std::max(scale, static_cast<double>(std::abs(f32[t][i])));
      worst = std::max(worst, static_cast<double>(std::abs(bf16[t][i] - f32[t][i])));
      differs = differs || bf16[t][i] != f32[t][i];
    }
    EXPECT_TRUE(differs) << names[t] << ": the BF16 path was not taken";
    EXPECT_LT(worst, 3e-2 * scale) << names[t];
  }
  tuna_test::expect_thread_invariant(run);
}

}  // namespace
