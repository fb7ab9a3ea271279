// linear_forward on CPU over F32/F16/BF16 weights against a double reference: bias, Conv1D
// (transposed) layout, weights that split into several dequant tiles, and argument errors.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <memory>
#include <vector>

#include "core/error.h"
#include "ops/linear.h"
#include "ops_test_util.h"

namespace {

using tuna::DType;
using tuna::Tensor;
using tuna_test::grid_values;
using tuna_test::make_weight;
using tuna_test::random_values;

// y[n,o] = sum_i x[n,i]·W[o,i] + b[o]  (W[i,o] when transposed); also returns sum |terms|.
void reference(const std::vector<float>& x, const std::vector<float>& w,
               const std::vector<float>* b, int64_t N, int64_t I, int64_t O, bool transposed,
               std::vector<double>* y, std::vector<double>* scale) {
  y->assign(static_cast<size_t>(N * O), 0.0);
  scale->assign(static_cast<size_t>(N * O), 0.0);
  for (int64_t n = 0; n < N; ++n) {
    for (int64_t o = 0; o < O; ++o) {
      double acc = b ? (*b)[static_cast<size_t>(o)] : 0.0, mag = std::fabs(acc);
      for (int64_t i = 0; i < I; ++i) {
        const double wv =
            transposed ? w[static_cast<size_t>(i * O + o)] : w[static_cast<size_t>(o * I + i)];
        const double t = static_cast<double>(x[static_cast<size_t>(n * I + i)]) * wv;
        acc += t;
        mag += std::fabs(t);
      }
      (*y)[static_cast<size_t>(n * O + o)] = acc;
      (*scale)[static_cast<size_t>(n * O + o)] = mag;
    }
  }
}

class LinearTest : public tuna_test::OpTest {
 protected:
  // Runs linear_forward on random inputs and compares with the reference.
  void check(int64_t N, int64_t I, int64_t O, bool with_bias, bool transposed, uint32_t seed) {
    const DType dt = dtype();
    std::vector<float> x = random_values(static_cast<size_t>(N * I), seed);
    std::vector<float> w = grid_values(static_cast<size_t>(I * O), seed + 1);
    std::vector<float> b = grid_values(static_cast<size_t>(O), seed + 2);
    Tensor tx = Tensor::from_f32({N, I}, x);
    Tensor tw = make_weight(transposed ? tuna::Shape{I, O} : tuna::Shape{O, I}, dt, w);
    Tensor tb = with_bias ? make_weight({O}, dt, b) : Tensor();
    Tensor ty = Tensor::empty({N, O}, DType::F32);
    float* py = ty.data_mut<float>();
    for (int64_t i = 0; i < N * O; ++i) py[i] = std::numeric_limits<float>::quiet_NaN();
    OP_CALL(tuna::linear_forward, tx, tw, tb, ty, transposed);
    std::vector<double> want, scale;
    reference(x, w, with_bias ? &b : nullptr, N, I, O, transposed, &want, &scale);
    tuna_test::expect_near_vec(ty.to_f32_vector(), want, 1e-5, 1e-6, &scale, "linear");
  }
};

TEST_P(LinearTest, HandCheckedWithBias) {
  // x = [[1, 2], [3, 4]], W = [[1, 0], [0, 1], [1, 1]] (out 3, in 2), b = [0.5, -1, 2]
  const DType dt = dtype();
  Tensor x = Tensor::from_f32({2, 2}, {1, 2, 3, 4});
  Tensor w = make_weight({3, 2}, dt, {1, 0, 0, 1, 1, 1});
  Tensor b = make_weight({3}, dt, {0.5f, -1, 2});
  Tensor y = Tensor::empty({2, 3}, DType::F32);
  OP_CALL(tuna::linear_forward, x, w, b, y);
  EXPECT_EQ(y.to_f32_vector(), (std::vector<float>{1.5f, 1, 5, 3.5f, 3, 9}));
  OP_CALL(tuna::linear_forward, x, w, Tensor(), y);
  EXPECT_EQ(y.to_f32_vector(), (std::vector<float>{1, 2, 3, 3, 4, 7}));
}

TEST_P(LinearTest, HandCheckedTransposedConv1D) {
  // Conv1D stores W as [in 2, out 3]: y = x · W
  const DType dt = dtype();
  Tensor x = Tensor::from_f32({1, 2}, {2, -1});
  Tensor w = make_weight({2, 3}, dt, {1, 2, 3, 0.5f, 0.25f, -1});
  Tensor b = make_weight({3}, dt, {0, 0, 0.5f});
  Tensor y = Tensor::empty({1, 3}, DType::F32);
  OP_CALL(tuna::linear_forward, x, w, b, y, /*transposed=*/true);
  EXPECT_EQ(y.to_f32_vector(), (std::vector<float>{1.5f, 3.75f, 7.5f}));
}

TEST_P(LinearTest, RandomNoBias) {
  check(7, 33, 19, false, false, 10);
}
TEST_P(LinearTest, RandomWithBias) {
  check(7, 33, 19, true, false, 20);
}
TEST_P(LinearTest, RandomTransposed) {
  check(5, 17, 29, true, true, 30);
}
// One row (decoding) takes the row-dot / row-axpy path instead of SGEMM.
TEST_P(LinearTest, SingleRowInput) {
  check(1, 64, 48, true, false, 35);
}
TEST_P(LinearTest, SingleRowTransposed) {
  check(1, 37, 600, true, true, 36);
}

// Shapes below are derived from the tile size (kLinearTileElements = 2^20 elements).
constexpr int64_t kTile = tuna::kLinearTileElements;

// [2.3 tiles of rows, 1000] weight: tiles of r, r, 0.3r rows (r = 2^20 / 1000).
TEST_P(LinearTest, WeightSplitIntoSeveralTiles) {
  check(5, 1000, (kTile / 1000) * 23 / 10, true, false, 40);
}
// Transposed [in = 2.3 tiles of rows, out 1000]: the K-split path accumulates three products.
TEST_P(LinearTest, TransposedWeightSplitIntoSeveralTiles) {
  check(5, (kTile / 1000) * 23 / 10, 1000, true, true, 50);
}
// The same with one row: the row paths over several tiles (the transposed one accumulates).
TEST_P(LinearTest, SingleRowSeveralTiles) {
  check(1, 1000, (kTile / 1000) * 23 / 10, true, false, 41);
}
TEST_P(LinearTest, SingleRowTransposedSeveralTiles) {
  check(1, (kTile / 1000) * 23 / 10, 1000, true, true, 51);
}
// Rows wider than a tile: one row per tile, both layouts.
TEST_P(LinearTest, RowsWiderThanATile) {
  check(2, kTile + 3000, 3, true, false, 60);
}
TEST_P(LinearTest, TransposedRowsWiderThanATile) {
  check(2, 3, kTile + 3000, false, true, 70);
}
// Tile size divides the rows exactly: 2^20 / 512 rows per tile, two full tiles.
TEST_P(LinearTest, ExactTileMultiple) {
  check(3, 512, 2 * (kTile / 512), false, false, 80);
}
TEST_P(LinearTest, TransposedExactTileMultiple) {
  check(3, 2 * (kTile / 512), 512, true, true, 90);
}

TEST_P(LinearTest, ReadOnlyViewsAsInputs) {
  // Weights usually view a mapped file; x may be a row slice of a bigger activation buffer.
  const DType dt = dtype();
  const int64_t N = 4, I = 8, O = 6;
  std::vector<float> xall = random_values(static_cast<size_t>(2 * N * I), 5);
  std::vector<float> w = grid_values(static_cast<size_t>(O * I), 6);
  Tensor owned = make_weight({O, I}, dt, w);
  auto keep = std::make_shared<Tensor>(owned);
  Tensor wv = Tensor::view(std::shared_ptr<const void>(keep, keep->raw()), keep->raw(), {O, I}, dt);
  Tensor x = Tensor::from_f32({2 * N, I}, xall).slice0(N, 2 * N);
  Tensor y = Tensor::empty({N, O}, DType::F32);
  OP_CALL(tuna::linear_forward, x, wv, Tensor(), y);
  std::vector<float> xs(xall.begin() + N * I, xall.end());
  std::vector<double> want, scale;
  reference(xs, w, nullptr, N, I, O, false, &want, &scale);
  tuna_test::expect_near_vec(y.to_f32_vector(), want, 1e-5, 1e-6, &scale, "view");
}

INSTANTIATE_TEST_SUITE_P(WeightDTypes, LinearTest,
                         testing::ValuesIn(tuna_test::op_cases(
                             {tuna::Device::CPU}, {DType::F32, DType::F16, DType::BF16})),
                         tuna_test::op_case_name);

class LinearOp : public tuna_test::OpTest {};
INSTANTIATE_TEST_SUITE_P(Ops, LinearOp,
                         testing::ValuesIn(tuna_test::op_cases({tuna::Device::CPU},
                                                               {tuna::DType::F32})),
                         tuna_test::op_case_name);

TEST_P(LinearOp, EmptyBatchIsANoOp) {
  Tensor x = Tensor::empty({0, 4}, DType::F32);
  Tensor w = Tensor::from_f32({3, 4}, std::vector<float>(12, 1.0f));
  Tensor y = Tensor::empty({0, 3}, DType::F32);
  EXPECT_NO_THROW(OP_CALL(tuna::linear_forward, x, w, Tensor(), y));
}

TEST_P(LinearOp, UnsupportedWeightDTypeIsAUserError) {
  Tensor x = Tensor::from_f32({1, 2}, {1, 2});
  Tensor w = Tensor::zeros({3, 2}, DType::I32);
  Tensor y = Tensor::empty({1, 3}, DType::F32);
  try {
    OP_CALL(tuna::linear_forward, x, w, Tensor(), y);
    FAIL() << "expected a tuna::Error";
  } catch (const tuna::Error& e) {
    EXPECT_EQ(e.exit_status(), 2);
    EXPECT_NE(std::string(e.what()).find("I32"), std::string::npos) << e.what();
  }
}

TEST_P(LinearOp, ShapeMismatchesAreInternalErrors) {
  Tensor x = Tensor::from_f32({2, 3}, std::vector<float>(6, 1.0f));
  Tensor w = Tensor::from_f32({4, 3}, std::vector<float>(12, 1.0f));
  Tensor y = Tensor::empty({2, 4}, DType::F32);
  Tensor bad_y = Tensor::empty({2, 3}, DType::F32);
  Tensor bad_b = Tensor::from_f32({3}, {1, 2, 3});
  EXPECT_THROW(OP_CALL(tuna::linear_forward, x, w, Tensor(), bad_y), tuna::Error);
  EXPECT_THROW(OP_CALL(tuna::linear_forward, x, w, bad_b, y), tuna::Error);
  EXPECT_THROW(OP_CALL(tuna::linear_forward, x, w, Tensor(), y, /*transposed=*/true), tuna::Error);
  Tensor xh = Tensor::zeros({2, 3}, DType::F16);
  EXPECT_THROW(OP_CALL(tuna::linear_forward, xh, w, Tensor(), y), tuna::Error);
  try {
    OP_CALL(tuna::linear_forward, x, w, Tensor(), bad_y);
  } catch (const tuna::Error& e) {
    EXPECT_EQ(e.exit_status(), 70);
  }
}

}  // namespace
