// linear_backward_{input,weight,bias} and lora_linear_{forward,backward} against central finite
// differences (tolerances: grad_check_util.h), dX through F16/BF16/Q8_0 weights (tiles) against
// the dequantized F32 weight, LoRA dropout masks regenerated in backward, deliberately wrong
// variants that must fail, and bit-identical results with 1 and 2 threads.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "core/rng.h"
#include "grad_check_util.h"
#include "ops/dequantize.h"
#include "ops/linear.h"
#include "ops/lora_linear.h"
#include "ops/quant_gguf.h"
#include "ops_test_util.h"

namespace {

using tuna::DType;
using tuna::Tensor;
using tuna_test::fd_relative_error;
using tuna_test::kGradTol;
using tuna_test::random_tensor;
using tuna_test::random_values;

// A Q8_0 weight [rows, cols] (cols a multiple of 32) with random codes and scales.
Tensor q8_0_weight(int64_t rows, int64_t cols, uint32_t seed) {
  Tensor w = Tensor::empty({rows, cols}, DType::Q8_0);
  auto* blocks = static_cast<tuna::BlockQ8_0*>(w.raw_mut());
  std::vector<float> v = random_values(static_cast<size_t>(rows * cols), seed);
  for (int64_t b = 0; b < rows * cols / 32; ++b) {
    blocks[b].d = tuna::f32_to_f16(0.01f + 0.001f * static_cast<float>(b % 7));
    for (int j = 0; j < 32; ++j) blocks[b].qs[j] = static_cast<int8_t>(v[b * 32 + j] * 127.0f);
  }
  return w;
}

Tensor dequantized(const Tensor& w) {
  Tensor f = Tensor::empty(w.shape(), DType::F32);
  tuna::dequantize_rows(w, 0, w.dim(0), f.data_mut<float>());
  return f;
}

class LinearBackwardOp : public tuna_test::OpTest {};
INSTANTIATE_TEST_SUITE_P(Ops, LinearBackwardOp,
                         testing::ValuesIn(tuna_test::op_cases({tuna::Device::CPU},
                                                               {tuna::DType::F32})),
                         tuna_test::op_case_name);

TEST_P(LinearBackwardOp, MatchesFiniteDifferences) {
  const int64_t N = 4, I = 12, O = 10;
  for (bool transposed : {false, true}) {
    Tensor x = random_tensor({N, I}, 1);
    Tensor w = transposed ? random_tensor({I, O}, 2) : random_tensor({O, I}, 2);
    Tensor bias = random_tensor({O}, 3);
    std::vector<float> r = random_values(N * O, 4);
    Tensor dy = Tensor::from_f32({N, O}, r), y = Tensor::empty({N, O}, DType::F32);
    auto loss = [&] {
      OP_CALL(tuna::linear_forward, x, w, bias, y, transposed);
      return tuna_test::weighted_sum(y, r);
    };
    Tensor dx = Tensor::empty({N, I}, DType::F32), dw = Tensor::zeros(w.shape(), DType::F32),
           db = Tensor::zeros({O}, DType::F32);
    OP_CALL(tuna::linear_backward_input, dy, w, dx, transposed);
    OP_CALL(tuna::linear_backward_weight, dy, x, dw, transposed);
    OP_CALL(tuna::linear_backward_bias, dy, db);
    EXPECT_LT(fd_relative_error(loss, x.data_mut<float>(), N * I, dx.to_f32_vector()), kGradTol);
    EXPECT_LT(fd_relative_error(loss, w.data_mut<float>(), w.numel(), dw.to_f32_vector()),
              kGradTol);
    EXPECT_LT(fd_relative_error(loss, bias.data_mut<float>(), O, db.to_f32_vector()), kGradTol);
    // Deliberately wrong: dw 1% too large on one row must fail the tolerance.
    std::vector<float> wrong = dw.to_f32_vector();
    for (int64_t i = 0; i < w.dim(1); ++i) wrong[static_cast<size_t>(i)] *= 1.01f;
    EXPECT_GT(fd_relative_error(loss, w.data_mut<float>(), w.numel(), wrong), kGradTol);
  }
}

TEST_P(LinearBackwardOp, InputGradientThroughStoredFormats) {
  struct Case {
    DType dtype;
    int64_t rows, cols;
  };
  const int64_t big = (tuna::kLinearTileElements / 1024) * 23 / 10;  // 2.3 tiles of rows
  for (const Case& c :
       {Case{DType::F16, 40, 64}, Case{DType::BF16, 40, 64}, Case{DType::Q8_0, 40, 64},
        Case{DType::BF16, big, 1024}, Case{DType::Q8_0, big, 1024}}) {
    for (bool transposed : {false, true}) {
      Tensor w;
      if (c.dtype == DType::Q8_0) {
        w = q8_0_weight(c.rows, c.cols, 7);
      } else {
        w = tuna_test::make_weight({c.rows, c.cols}, c.dtype,
                                   tuna_test::grid_values(c.rows * c.cols, 8));
      }
      const int64_t out = transposed ? c.cols : c.rows, in = transposed ? c.rows : c.cols;
      Tensor dy = random_tensor({3, out}, 9);
      Tensor dx = Tensor::empty({3, in}, DType::F32), ref = Tensor::empty({3, in}, DType::F32);
      OP_CALL(tuna::linear_backward_input, dy, w, dx, transposed);
      OP_CALL(tuna::linear_backward_input, dy, dequantized(w), ref, transposed);
      EXPECT_LT(tuna_test::max_rel_diff(dx.to_f32_vector(), ref.to_f32_vector()), 1e-6)
          << tuna::dtype_name(c.dtype) << " rows " << c.rows << " transposed " << transposed;
      // accumulate adds on top
      OP_CALL(tuna::linear_backward_input, dy, w, dx, transposed, true);
      EXPECT_NEAR(dx.to_f32_vector()[5], 2 * ref.to_f32_vector()[5], 1e-4);
    }
  }
}

struct LoraCase {
  int64_t N = 5, I = 16, O = 12, R = 4;
  Tensor x, w, bias, a, b, xa, y;
  std::vector<float> r;
  tuna::LoraParams p;
  bool transposed = false;
  LoraCase(DType base, bool transposed_, float dropout) : transposed(transposed_) {
    x = random_tensor({N, I}, 11);
    const tuna::Shape ws = transposed ? tuna::Shape{I, O} : tuna::Shape{O, I};
    w = tuna_test::make_weight(ws, base, tuna_test::grid_values(I * O, 12));
    bias = random_tensor({O}, 13);
    a = random_tensor({R, I}, 14);
    b = random_tensor({O, R}, 15);  // non-zero B, so every path carries gradient
    xa = Tensor::empty({N, R}, DType::F32);
    y = Tensor::empty({N, O}, DType::F32);
    r = random_values(N * O, 16);
    p.scale = 2.0f;
    p.dropout = dropout;
    p.seed = 1234;
    p.stream = 77;
  }
  double loss() {
    OP_CALL(tuna::lora_linear_forward, x, w, bias, a, b, p, y, xa, transposed);
    return tuna_test::weighted_sum(y, r);
  }
};

class LoraLinearBackwardOp : public tuna_test::OpTest {};
INSTANTIATE_TEST_SUITE_P(Ops, LoraLinearBackwardOp,
                         testing::ValuesIn(tuna_test::op_cases({tuna::Device::CPU},
                                                               {tuna::DType::F32})),
                         tuna_test::op_case_name);

TEST_P(LoraLinearBackwardOp, MatchesFiniteDifferences) {
  struct Variant {
    DType base;
    bool transposed;
    float dropout;
  };
  for (const Variant& v : {Variant{DType::F32, false, 0.0f}, Variant{DType::BF16, false, 0.3f},
                           Variant{DType::F16, true, 0.1f}}) {
    LoraCase t(v.base, v.transposed, v.dropout);
    auto loss = [&] { return t.loss(); };
    loss();
    Tensor dy = Tensor::from_f32({t.N, t.O}, t.r);
    Tensor dx = Tensor::empty({t.N, t.I}, DType::F32), da = Tensor::zeros(t.a.shape(), DType::F32),
           db = Tensor::zeros(t.b.shape(), DType::F32);
    OP_CALL(tuna::lora_linear_backward, t.x, t.w, t.a, t.b, t.p, t.xa, dy, &dx, da, db,
            v.transposed);
    EXPECT_LT(fd_relative_error(loss, t.x.data_mut<float>(), t.N * t.I, dx.to_f32_vector()),
              kGradTol);
    EXPECT_LT(fd_relative_error(loss, t.a.data_mut<float>(), t.a.numel(), da.to_f32_vector()),
              kGradTol);
    EXPECT_LT(fd_relative_error(loss, t.b.data_mut<float>(), t.b.numel(), db.to_f32_vector()),
              kGradTol);
    // Deliberately wrong: dx of the base path alone (LoRA path dropped) must fail.
    Tensor base_only = Tensor::empty({t.N, t.I}, DType::F32);
    OP_CALL(tuna::linear_backward_input, dy, t.w, base_only, v.transposed);
    EXPECT_GT(fd_relative_error(loss, t.x.data_mut<float>(), t.N * t.I, base_only.to_f32_vector()),
              10 * kGradTol);
  }
}

TEST_P(LoraLinearBackwardOp, DropoutIsInvertedAndReproducible) {
  LoraCase t(DType::F32, false, 0.5f);
  Tensor d1 = Tensor::empty(t.x.shape(), DType::F32), d2 = Tensor::empty(t.x.shape(), DType::F32);
  OP_CALL(tuna::lora_dropout, t.x, t.p, d1);
  OP_CALL(tuna::lora_dropout, t.x, t.p, d2);
  EXPECT_EQ(d1.to_f32_vector(), d2.to_f32_vector());
  int zeros = 0;
  for (int64_t i = 0; i < t.x.numel(); ++i) {
    const float xi = t.x.data<float>()[i], di = d1.data<float>()[i];
    if (di == 0.0f)
      ++zeros;
    else
      EXPECT_EQ(di, xi * 2.0f);
    EXPECT_EQ(di != 0.0f, tuna::philox_uniform(t.p.seed, t.p.stream, i) >= 0.5f);
  }
  EXPECT_GT(zeros, 0);
  EXPECT_LT(zeros, t.x.numel());
  t.p.stream += 1;  // another module / layer / step: another mask
  OP_CALL(tuna::lora_dropout, t.x, t.p, d2);
  EXPECT_NE(d1.to_f32_vector(), d2.to_f32_vector());
}

TEST_P(LinearBackwardOp, ThreadCountInvariant) {
  const int64_t N = 67, I = 130, O = 190, R = 8;
  Tensor x = random_tensor({N, I}, 21), dy = random_tensor({N, O}, 22);
  Tensor w32 = random_tensor({O, I}, 23);
  Tensor w16 = tuna_test::make_weight({O, I}, DType::BF16, tuna_test::grid_values(O * I, 24));
  Tensor a = random_tensor({R, I}, 25), b = random_tensor({O, R}, 26);
  tuna::LoraParams p;
  p.scale = 0.5f;
  p.dropout = 0.1f;
  p.seed = 9;
  tuna_test::expect_thread_invariant([&] {
    Tensor dx = Tensor::empty({N, I}, DType::F32), dw = Tensor::zeros({O, I}, DType::F32),
           db = Tensor::zeros({O}, DType::F32), dx16 = Tensor::empty({N, I}, DType::F32);
    OP_CALL(tuna::linear_backward_input, dy, w32, dx);
    OP_CALL(tuna::linear_backward_weight, dy, x, dw);
    OP_CALL(tuna::linear_backward_bias, dy, db);
    Tensor y = Tensor::empty({N, O}, DType::F32), xa = Tensor::empty({N, R}, DType::F32);
    Tensor da = Tensor::zeros({R, I}, DType::F32), dbb = Tensor::zeros({O, R}, DType::F32);
    OP_CALL(tuna::lora_linear_forward, x, w16, Tensor(), a, b, p, y, xa);
    OP_CALL(tuna::lora_linear_backward, x, w16, a, b, p, xa, dy, &dx16, da, dbb);
    return std::vector<std::vector<float>>{
        dx.to_f32_vector(),   dw.to_f32_vector(), db.to_f32_vector(), y.to_f32_vector(),
        dx16.to_f32_vector(), da.to_f32_vector(), dbb.to_f32_vector()};
  });
}

}  // namespace
