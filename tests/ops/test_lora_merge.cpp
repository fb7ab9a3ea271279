// lora_merge_delta / lora_merge_apply through their dispatcher: delta = s·B·A against a double
// reference in both layouts; merge and unmerge with PEFT's rounding for F32, F16 and BF16 bases.
#include <gtest/gtest.h>

#include <vector>

#include "core/error.h"
#include "ops/lora_merge.h"
#include "ops_test_util.h"

namespace {

using tuna::DType;
using tuna::Tensor;

class LoraMergeTest : public tuna_test::OpTest {};
INSTANTIATE_TEST_SUITE_P(Ops, LoraMergeTest,
                         testing::ValuesIn(tuna_test::op_cases(
                             {tuna::Device::CPU}, {DType::F32, DType::F16, DType::BF16})),
                         tuna_test::op_case_name);

TEST_P(LoraMergeTest, DeltaIsScaledBTimesA) {
  const int64_t R = 4, in = 9, out = 7;
  const float s = 0.75f;
  const std::vector<float> a = tuna_test::random_values(R * in, 1),
                           b = tuna_test::random_values(out * R, 2);
  for (const bool transposed : {false, true}) {
    Tensor delta =
        transposed ? Tensor::empty({in, out}, DType::F32) : Tensor::empty({out, in}, DType::F32);
    OP_CALL(tuna::lora_merge_delta, Tensor::from_f32({R, in}, a), Tensor::from_f32({out, R}, b), s,
            transposed, delta);
    const std::vector<float> got = delta.to_f32_vector();
    for (int64_t o = 0; o < out; ++o) {
      for (int64_t i = 0; i < in; ++i) {
        double want = 0.0;
        for (int64_t k = 0; k < R; ++k) want += static_cast<double>(b[o * R + k]) * a[k * in + i];
        want *= s;
        const float g = transposed ? got[i * out + o] : got[o * in + i];
        EXPECT_NEAR(g, want, 1e-6) << o << ", " << i << (transposed ? " transposed" : "");
      }
    }
  }
}

TEST_P(LoraMergeTest, MergeAndUnmergeRoundLikePeft) {
  const DType dt = dtype();
  const int64_t rows = 6, cols = 10;
  const std::vector<float> w = tuna_test::grid_values(rows * cols, 3);  // exact in every dtype
  const std::vector<float> d = tuna_test::random_values(rows * cols, 4, -0.1f, 0.1f);
  Tensor merged = Tensor::empty({rows, cols}, dt), unmerged = Tensor::empty({rows, cols}, dt);
  OP_CALL(tuna::lora_merge_apply, Tensor::from_f32({rows, cols}, w),
          Tensor::from_f32({rows, cols}, d), 1.0f, merged);
  OP_CALL(tuna::lora_merge_apply, Tensor::from_f32({rows, cols}, w),
          Tensor::from_f32({rows, cols}, d), -1.0f, unmerged);
  const std::vector<float> m = merged.to_f32_vector(), u = unmerged.to_f32_vector();
  for (int64_t i = 0; i < rows * cols; ++i) {
    // merge rounds once after the F32 add; unmerge rounds the delta first, then the difference.
    EXPECT_EQ(m[i], tuna::round_to_dtype(dt, w[i] + d[i])) << i;
    EXPECT_EQ(u[i], tuna::round_to_dtype(dt, w[i] - tuna::round_to_dtype(dt, d[i]))) << i;
  }
}

TEST_P(LoraMergeTest, ShapeErrors) {
  Tensor a = Tensor::zeros({2, 5}, DType::F32), b = Tensor::zeros({3, 2}, DType::F32);
  Tensor wrong = Tensor::empty({5, 3}, DType::F32);  // [in, out] without transposed
  EXPECT_THROW(OP_CALL(tuna::lora_merge_delta, a, b, 1.0f, false, wrong), tuna::Error);
  Tensor w = Tensor::zeros({3, 5}, DType::F32), out_q = Tensor::empty({3, 5}, DType::I32);
  EXPECT_THROW(OP_CALL(tuna::lora_merge_apply, w, w, 1.0f, out_q), tuna::Error);
  Tensor out = Tensor::empty({3, 5}, DType::F32);
  EXPECT_THROW(OP_CALL(tuna::lora_merge_apply, w, w, 0.5f, out), tuna::Error);
}

}  // namespace
