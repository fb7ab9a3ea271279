// Backward of the element-wise and row-wise ops: RoPE (default / linear / llama3 frequencies,
// half-split and interleaved), activations and gated MLP products (SiLU·up, GELU-tanh·up, plain
// GELU), soft-capping, and the embedding scatter-add (repeated ids, Gemma's scale) — against
// central finite differences (tolerances: grad_check_util.h), with deliberately wrong variants
// that must fail and 1-vs-2-thread bit-identity.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "grad_check_util.h"
#include "ops/activation.h"
#include "ops/embedding.h"
#include "ops/rope.h"
#include "ops_test_util.h"

namespace {

using tuna::Activation;
using tuna::DType;
using tuna::Tensor;
using tuna_test::fd_relative_error;
using tuna_test::kGradTol;
using tuna_test::random_tensor;
using tuna_test::random_values;

class RopeBackwardOp : public tuna_test::OpTest {};
INSTANTIATE_TEST_SUITE_P(Ops, RopeBackwardOp,
                         testing::ValuesIn(tuna_test::op_cases({tuna::Device::CPU},
                                                               {tuna::DType::F32})),
                         tuna_test::op_case_name);

TEST_P(RopeBackwardOp, InverseRotationMatchesFiniteDifferences) {
  const int64_t N = 6, H = 3, D = 16;
  std::vector<tuna::RopeConfig> configs(3);
  configs[0].dim = configs[1].dim = configs[2].dim = D;
  configs[1].scaling = tuna::RopeScalingType::LINEAR;
  configs[1].factor = 4.0f;
  configs[2].scaling = tuna::RopeScalingType::LLAMA3;
  configs[2].factor = 8.0f;
  configs[2].original_max_position = 64;
  configs[2].theta = 500000.0f;
  const std::vector<int32_t> positions = {0, 3, 17, 40, 100, 511};
  std::vector<int32_t> rows = {5, 0, 2, 2, 1, 4};
  for (const tuna::RopeConfig& cfg : configs) {
    const tuna::RopeTables tables = tuna::rope_tables(cfg, positions);
    for (bool interleaved : {false, true}) {
      Tensor x = random_tensor({N, H, D}, 1), y = Tensor::empty({N, H, D}, DType::F32);
      std::vector<float> r = random_values(N * H * D, 2);
      auto loss = [&] {
        std::copy_n(x.data<float>(), x.numel(), y.data_mut<float>());
        OP_CALL(tuna::rope_forward, y, tables, rows, interleaved);
        return tuna_test::weighted_sum(y, r);
      };
      Tensor dx = Tensor::from_f32({N, H, D}, r);
      OP_CALL(tuna::rope_backward, dx, tables, rows, interleaved);
      EXPECT_LT(fd_relative_error(loss, x.data_mut<float>(), x.numel(), dx.to_f32_vector()),
                kGradTol);
      // Deliberately wrong: rotating forward instead of back.
      Tensor wrong = Tensor::from_f32({N, H, D}, r);
      OP_CALL(tuna::rope_forward, wrong, tables, rows, interleaved);
      EXPECT_GT(fd_relative_error(loss, x.data_mut<float>(), x.numel(), wrong.to_f32_vector()),
                0.1);
    }
  }
}

class ActivationBackwardOp : public tuna_test::OpTest {};
INSTANTIATE_TEST_SUITE_P(Ops, ActivationBackwardOp,
                         testing::ValuesIn(tuna_test::op_cases({tuna::Device::CPU},
                                                               {tuna::DType::F32})),
                         tuna_test::op_case_name);

TEST_P(ActivationBackwardOp, MatchesFiniteDifferences) {
  const int64_t N = 4, F = 40;
  for (Activation act : {Activation::SILU, Activation::GELU_TANH, Activation::GELU_ERF}) {
    Tensor gate = random_tensor({N, F}, 3, -4.0f, 4.0f), up = random_tensor({N, F}, 4, -2.0f, 2.0f);
    std::vector<float> r = random_values(N * F, 5);
    Tensor dy = Tensor::from_f32({N, F}, r), y = Tensor::empty({N, F}, DType::F32);
    // plain activation (GPT-2's MLP)
    auto plain = [&] {
      OP_CALL(tuna::activation_forward, gate, act, y);
      return tuna_test::weighted_sum(y, r);
    };
    Tensor dx = Tensor::empty({N, F}, DType::F32);
    OP_CALL(tuna::activation_backward, gate, dy, act, dx);
    EXPECT_LT(fd_relative_error(plain, gate.data_mut<float>(), N * F, dx.to_f32_vector()),
              kGradTol);
    // gated: act(gate) · up (Llama's SiLU·up, Gemma's GELU-tanh·up)
    auto gated = [&] {
      OP_CALL(tuna::gated_activation_forward, gate, up, act, y);
      return tuna_test::weighted_sum(y, r);
    };
    Tensor dgate = Tensor::empty({N, F}, DType::F32), dup = Tensor::empty({N, F}, DType::F32);
    OP_CALL(tuna::gated_activation_backward, gate, up, dy, act, dgate, dup);
    EXPECT_LT(fd_relative_error(gated, gate.data_mut<float>(), N * F, dgate.to_f32_vector()),
              kGradTol);
    EXPECT_LT(fd_relative_error(gated, up.data_mut<float>(), N * F, dup.to_f32_vector()), kGradTol);
    // in place on dy (dgate aliasing dy) gives the same values
    Tensor dy2 = Tensor::from_f32({N, F}, r);
    OP_CALL(tuna::gated_activation_backward, gate, up, dy2, act, dy2, dup);
    EXPECT_EQ(dy2.to_f32_vector(), dgate.to_f32_vector());
  }
  // Deliberately wrong: SiLU's derivative for a GELU-tanh forward.
  Tensor x = random_tensor({N, F}, 6, -3.0f, 3.0f), y = Tensor::empty({N, F}, DType::F32);
  std::vector<float> r = random_values(N * F, 7);
  Tensor dx = Tensor::empty({N, F}, DType::F32);
  OP_CALL(tuna::activation_backward, x, Tensor::from_f32({N, F}, r), Activation::SILU, dx);
  auto gelu = [&] {
    OP_CALL(tuna::activation_forward, x, Activation::GELU_TANH, y);
    return tuna_test::weighted_sum(y, r);
  };
  EXPECT_GT(fd_relative_error(gelu, x.data_mut<float>(), N * F, dx.to_f32_vector()), 0.05);
}

TEST_P(ActivationBackwardOp, SoftcapMatchesFiniteDifferences) {
  const int64_t n = 64;
  Tensor x = random_tensor({n}, 8, -60.0f, 60.0f), y = Tensor::empty({n}, DType::F32);
  std::vector<float> r = random_values(n, 9);
  auto loss = [&] {
    std::copy_n(x.data<float>(), n, y.data_mut<float>());
    OP_CALL(tuna::softcap_forward, y, 30.0f);
    return tuna_test::weighted_sum(y, r);
  };
  loss();
  Tensor dx = Tensor::empty({n}, DType::F32);
  OP_CALL(tuna::softcap_backward, y, Tensor::from_f32({n}, r), 30.0f, dx);
  EXPECT_LT(fd_relative_error(loss, x.data_mut<float>(), n, dx.to_f32_vector()), kGradTol);
}

class EmbeddingBackwardOp : public tuna_test::OpTest {};
INSTANTIATE_TEST_SUITE_P(Ops, EmbeddingBackwardOp,
                         testing::ValuesIn(tuna_test::op_cases({tuna::Device::CPU},
                                                               {tuna::DType::F32})),
                         tuna_test::op_case_name);

TEST_P(EmbeddingBackwardOp, ScatterAddMatchesFiniteDifferences) {
  const int64_t V = 11, C = 48;
  const std::vector<int32_t> ids = {3, 7, 3, 0, 10, 3, 7};  // repeats sum
  const int64_t N = static_cast<int64_t>(ids.size());
  // Gemma: sqrt(hidden) rounded to the weight dtype (BF16 here), as embedding_scale() does.
  const float scale = tuna::bf16_to_f32(tuna::f32_to_bf16(std::sqrt(48.0f)));
  EXPECT_NE(scale, std::sqrt(48.0f));
  Tensor table = random_tensor({V, C}, 10), y = Tensor::empty({N, C}, DType::F32);
  std::vector<float> r = random_values(N * C, 11);
  auto loss = [&] {
    OP_CALL(tuna::embedding_forward, table, ids, scale, y);
    return tuna_test::weighted_sum(y, r);
  };
  Tensor dtable = Tensor::zeros({V, C}, DType::F32);
  OP_CALL(tuna::embedding_backward, ids, Tensor::from_f32({N, C}, r), scale, dtable);
  EXPECT_LT(fd_relative_error(loss, table.data_mut<float>(), V * C, dtable.to_f32_vector(),
                              tuna_test::kFdStep, V * C),
            kGradTol);
  // Row 3 got three contributions, row 1 none.
  EXPECT_FLOAT_EQ(dtable.data<float>()[3 * C + 1],
                  scale * (r[0 * C + 1] + r[2 * C + 1]) + scale * r[5 * C + 1]);
  EXPECT_EQ(dtable.data<float>()[1 * C + 5], 0.0f);
  // Deliberately wrong: the unscaled gradient.
  Tensor unscaled = Tensor::zeros({V, C}, DType::F32);
  OP_CALL(tuna::embedding_backward, ids, Tensor::from_f32({N, C}, r), 1.0f, unscaled);
  EXPECT_GT(fd_relative_error(loss, table.data_mut<float>(), V * C, unscaled.to_f32_vector()), 0.5);
}

class PointwiseBackwardOp : public tuna_test::OpTest {};
INSTANTIATE_TEST_SUITE_P(Ops, PointwiseBackwardOp,
                         testing::ValuesIn(tuna_test::op_cases({tuna::Device::CPU},
                                                               {tuna::DType::F32})),
                         tuna_test::op_case_name);

TEST_P(PointwiseBackwardOp, ThreadCountInvariant) {
  const int64_t N = 500, C = 300, V = 37;
  std::vector<int32_t> ids(N);
  for (int64_t n = 0; n < N; ++n) ids[static_cast<size_t>(n)] = static_cast<int32_t>((n * 7) % V);
  Tensor dy = random_tensor({N, C}, 12), gate = random_tensor({N, C}, 13),
         up = random_tensor({N, C}, 14);
  tuna::RopeConfig cfg;
  cfg.dim = 20;
  std::vector<int32_t> pos(static_cast<size_t>(N));
  for (int64_t n = 0; n < N; ++n) pos[static_cast<size_t>(n)] = static_cast<int32_t>(n);
  const tuna::RopeTables tables = tuna::rope_tables(cfg, pos);
  tuna_test::expect_thread_invariant([&] {
    Tensor dtable = Tensor::zeros({V, C}, DType::F32);
    OP_CALL(tuna::embedding_backward, ids, dy, 0.5f, dtable);
    Tensor dg = Tensor::empty({N, C}, DType::F32), du = Tensor::empty({N, C}, DType::F32);
    OP_CALL(tuna::gated_activation_backward, gate, up, dy, Activation::GELU_TANH, dg, du);
    Tensor dr = dy.copy().reshape({N, 15, 20});
    OP_CALL(tuna::rope_backward, dr, tables, pos, false);
    return std::vector<std::vector<float>>{dtable.to_f32_vector(), dg.to_f32_vector(),
                                           du.to_f32_vector(), dr.to_f32_vector()};
  });
}

}  // namespace
