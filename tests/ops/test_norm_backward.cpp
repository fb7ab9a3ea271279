// rms_norm_backward (Llama and Gemma kinds) and layer_norm_backward against central finite
// differences of the forwards (tolerances: grad_check_util.h), a deliberately wrong variant
// that must fail, and bit-identical results with 1 and 2 threads.
#include <gtest/gtest.h>

#include <vector>

#include "grad_check_util.h"
#include "ops/norm.h"
#include "ops_test_util.h"

namespace {

using tuna::DType;
using tuna::RmsNormKind;
using tuna::Tensor;
using tuna_test::fd_relative_error;
using tuna_test::kGradTol;
using tuna_test::random_values;

constexpr int64_t N = 5, C = 24;

struct NormCase {
  Tensor x, w, b, r;
  std::vector<float> rv;
  NormCase() {
    x = Tensor::from_f32({N, C}, random_values(N * C, 1, -2.0f, 2.0f));
    w = Tensor::from_f32({C}, random_values(C, 2, 0.5f, 1.5f));
    b = Tensor::from_f32({C}, random_values(C, 3));
    rv = random_values(N * C, 4);
    r = Tensor::from_f32({N, C}, rv);
  }
};

class NormBackwardOp : public tuna_test::OpTest {};
INSTANTIATE_TEST_SUITE_P(Ops, NormBackwardOp,
                         testing::ValuesIn(tuna_test::op_cases({tuna::Device::CPU},
                                                               {tuna::DType::F32})),
                         tuna_test::op_case_name);

TEST_P(NormBackwardOp, RmsNormMatchesFiniteDifferences) {
  for (RmsNormKind kind : {RmsNormKind::LLAMA, RmsNormKind::GEMMA}) {
    NormCase t;
    Tensor y = Tensor::empty({N, C}, DType::F32);
    auto loss = [&] {
      OP_CALL(tuna::rms_norm_forward, t.x, t.w, 1e-6f, kind, y);
      return tuna_test::weighted_sum(y, t.rv);
    };
    Tensor dx = Tensor::empty({N, C}, DType::F32), dw = Tensor::zeros({C}, DType::F32);
    OP_CALL(tuna::rms_norm_backward, t.x, t.w, 1e-6f, kind, t.r, dx, &dw);
    const double ex = fd_relative_error(loss, t.x.data_mut<float>(), N * C, dx.to_f32_vector());
    const double ew = fd_relative_error(loss, t.w.data_mut<float>(), C, dw.to_f32_vector());
    EXPECT_LT(ex, kGradTol) << "dx, kind " << static_cast<int>(kind);
    EXPECT_LT(ew, kGradTol) << "dw, kind " << static_cast<int>(kind);
    // Deliberately wrong: the other kind's dx (g = w instead of 1 + w, or the reverse).
    const RmsNormKind other = kind == RmsNormKind::LLAMA ? RmsNormKind::GEMMA : RmsNormKind::LLAMA;
    OP_CALL(tuna::rms_norm_backward, t.x, t.w, 1e-6f, other, t.r, dx, nullptr);
    EXPECT_GT(fd_relative_error(loss, t.x.data_mut<float>(), N * C, dx.to_f32_vector()),
              20 * kGradTol);
  }
}

TEST_P(NormBackwardOp, LayerNormMatchesFiniteDifferences) {
  NormCase t;
  Tensor y = Tensor::empty({N, C}, DType::F32);
  auto loss = [&] {
    OP_CALL(tuna::layer_norm_forward, t.x, t.w, t.b, 1e-5f, y);
    return tuna_test::weighted_sum(y, t.rv);
  };
  Tensor dx = Tensor::empty({N, C}, DType::F32), dw = Tensor::zeros({C}, DType::F32),
         db = Tensor::zeros({C}, DType::F32);
  OP_CALL(tuna::layer_norm_backward, t.x, t.w, 1e-5f, t.r, dx, &dw, &db);
  EXPECT_LT(fd_relative_error(loss, t.x.data_mut<float>(), N * C, dx.to_f32_vector()), kGradTol);
  EXPECT_LT(fd_relative_error(loss, t.w.data_mut<float>(), C, dw.to_f32_vector()), kGradTol);
  EXPECT_LT(fd_relative_error(loss, t.b.data_mut<float>(), C, db.to_f32_vector()), kGradTol);
  // Parameter gradients accumulate: a second call doubles them.
  std::vector<float> once = dw.to_f32_vector();
  OP_CALL(tuna::layer_norm_backward, t.x, t.w, 1e-5f, t.r, dx, &dw, nullptr);
  EXPECT_FLOAT_EQ(dw.to_f32_vector()[3], 2 * once[3]);
}

TEST_P(NormBackwardOp, HalfPrecisionWeightsGiveF32Gradients) {
  NormCase t;
  std::vector<float> wv = tuna_test::grid_values(C, 9);
  Tensor w16 = tuna_test::make_weight({C}, DType::BF16, wv), w32 = Tensor::from_f32({C}, wv);
  Tensor dx16 = Tensor::empty({N, C}, DType::F32), dx32 = Tensor::empty({N, C}, DType::F32);
  OP_CALL(tuna::rms_norm_backward, t.x, w16, 1e-6f, RmsNormKind::GEMMA, t.r, dx16, nullptr);
  OP_CALL(tuna::rms_norm_backward, t.x, w32, 1e-6f, RmsNormKind::GEMMA, t.r, dx32, nullptr);
  EXPECT_EQ(dx16.to_f32_vector(), dx32.to_f32_vector());
}

TEST_P(NormBackwardOp, ThreadCountInvariant) {
  const int64_t NN = 300, CC = 200;  // several column blocks and row chunks
  Tensor x = Tensor::from_f32({NN, CC}, random_values(NN * CC, 5, -2.0f, 2.0f));
  Tensor w = Tensor::from_f32({CC}, random_values(CC, 6));
  Tensor r = Tensor::from_f32({NN, CC}, random_values(NN * CC, 7));
  tuna_test::expect_thread_invariant([&] {
    Tensor dx = Tensor::empty({NN, CC}, DType::F32), dw = Tensor::zeros({CC}, DType::F32),
           dx2 = Tensor::empty({NN, CC}, DType::F32), dw2 = Tensor::zeros({CC}, DType::F32),
           db2 = Tensor::zeros({CC}, DType::F32);
    OP_CALL(tuna::rms_norm_backward, x, w, 1e-6f, RmsNormKind::LLAMA, r, dx, &dw);
    OP_CALL(tuna::layer_norm_backward, x, w, 1e-5f, r, dx2, &dw2, &db2);
    return std::vector<std::vector<float>>{dx.to_f32_vector(), dw.to_f32_vector(),
                                           dx2.to_f32_vector(), dw2.to_f32_vector(),
                                           db2.to_f32_vector()};
  });
}

}  // namespace
