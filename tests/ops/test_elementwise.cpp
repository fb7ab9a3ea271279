// Element-wise ops through their dispatcher: the adds against plain F32 sums (bit for bit, one
// rounding each), in place included; copy_columns / put_columns against index arithmetic.
#include <gtest/gtest.h>

#include <vector>

#include "core/error.h"
#include "ops/elementwise.h"
#include "ops_test_util.h"

namespace {

using tuna::DType;
using tuna::Tensor;
using tuna_test::random_values;

class ElementwiseAddTest : public tuna_test::OpTest {};
INSTANTIATE_TEST_SUITE_P(
    Ops, ElementwiseAddTest,
    testing::ValuesIn(tuna_test::op_cases({tuna::Device::CPU, tuna::Device::CUDA}, {DType::F32})),
    tuna_test::op_case_name);

TEST_P(ElementwiseAddTest, AddIntoIsOneF32AddPerElement) {
  const int64_t n = 1000;  // not a multiple of any vector or block width
  const std::vector<float> a = random_values(n, 1, -3, 3), b = random_values(n, 2, -3, 3);
  Tensor out = Tensor::empty({10, 100}, DType::F32);
  OP_CALL(tuna::add_into, Tensor::from_f32({n}, a), Tensor::from_f32({10, 100}, b), out);
  const std::vector<float> got = out.to_f32_vector();
  for (int64_t i = 0; i < n; ++i) ASSERT_EQ(got[i], a[i] + b[i]) << i;
}

TEST_P(ElementwiseAddTest, AddInplaceIsOneF32AddPerElement) {
  const int64_t n = 4097;
  const std::vector<float> x = random_values(n, 3, -3, 3), y = random_values(n, 4, -3, 3);
  Tensor tx = Tensor::from_f32({n}, x);
  OP_CALL(tuna::add_inplace, tx, Tensor::from_f32({n}, y));
  const std::vector<float> got = tx.to_f32_vector();
  for (int64_t i = 0; i < n; ++i) ASSERT_EQ(got[i], x[i] + y[i]) << i;
  OP_CALL(tuna::add_inplace, tx, tx);  // x += x: doubles exactly
  const std::vector<float> twice = tx.to_f32_vector();
  for (int64_t i = 0; i < n; ++i) ASSERT_EQ(twice[i], 2.0f * got[i]) << i;
}

TEST_P(ElementwiseAddTest, EmptyAndMismatchedSizes) {
  Tensor e = Tensor::empty({0}, DType::F32);
  EXPECT_NO_THROW(OP_CALL(tuna::add_inplace, e, Tensor::empty({0}, DType::F32)));
  Tensor x = Tensor::zeros({4}, DType::F32);
  EXPECT_THROW(OP_CALL(tuna::add_inplace, x, Tensor::zeros({5}, DType::F32)), tuna::Error);
  EXPECT_THROW(OP_CALL(tuna::add_into, x, Tensor::zeros({4}, DType::I32), x), tuna::Error);
}

class ColumnsTest : public tuna_test::OpTest {};
INSTANTIATE_TEST_SUITE_P(Ops, ColumnsTest,
                         testing::ValuesIn(tuna_test::op_cases({tuna::Device::CPU}, {DType::F32})),
                         tuna_test::op_case_name);

TEST_P(ColumnsTest, CopyThenPutRoundTrips) {
  const int64_t N = 5, W = 12, c0 = 4, width = 5;
  const std::vector<float> wide = random_values(N * W, 5);
  Tensor narrow = Tensor::empty({N, width}, DType::F32);
  OP_CALL(tuna::copy_columns, Tensor::from_f32({N, W}, wide), c0, narrow);
  const std::vector<float> got = narrow.to_f32_vector();
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < width; ++c) ASSERT_EQ(got[n * width + c], wide[n * W + c0 + c]);
  Tensor back = Tensor::zeros({N, W}, DType::F32);
  OP_CALL(tuna::put_columns, narrow, c0, back);
  const std::vector<float> b = back.to_f32_vector();
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < W; ++c)
      ASSERT_EQ(b[n * W + c], c >= c0 && c < c0 + width ? wide[n * W + c] : 0.0f);
}

TEST_P(ColumnsTest, ColumnsOutsideTheWideTensorFail) {
  Tensor wide = Tensor::zeros({3, 8}, DType::F32), narrow = Tensor::zeros({3, 4}, DType::F32);
  EXPECT_THROW(OP_CALL(tuna::copy_columns, wide, 5, narrow), tuna::Error);
  EXPECT_THROW(OP_CALL(tuna::put_columns, narrow, -1, wide), tuna::Error);
  Tensor rows = Tensor::zeros({2, 4}, DType::F32);
  EXPECT_THROW(OP_CALL(tuna::copy_columns, wide, 0, rows), tuna::Error);
}

}  // namespace
