// embedding_forward / embedding_add_forward over F32/F16/BF16 tables: row lookup, scaling,
// position tables, and the user errors for ids outside the table.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/error.h"
#include "ops/embedding.h"
#include "ops_test_util.h"

namespace {

using tuna::DType;
using tuna::Tensor;
using tuna_test::make_weight;

class EmbeddingTest : public tuna_test::OpTest {
 protected:
  // table [4, 3]: row r = [r, r + 0.5, -r]
  Tensor table() {
    std::vector<float> v;
    for (int r = 0; r < 4; ++r) {
      v.push_back(static_cast<float>(r));
      v.push_back(static_cast<float>(r) + 0.5f);
      v.push_back(-static_cast<float>(r));
    }
    return make_weight({4, 3}, dtype(), v);
  }
};

TEST_P(EmbeddingTest, LooksUpRows) {
  Tensor out = Tensor::empty({4, 3}, DType::F32);
  OP_CALL(tuna::embedding_forward, table(), std::vector<int32_t>{2, 0, 3, 2}, 1.0f, out);
  EXPECT_EQ(out.to_f32_vector(),
            (std::vector<float>{2, 2.5f, -2, 0, 0.5f, 0, 3, 3.5f, -3, 2, 2.5f, -2}));
}

TEST_P(EmbeddingTest, ScalesRows) {
  Tensor out = Tensor::empty({2, 3}, DType::F32);
  OP_CALL(tuna::embedding_forward, table(), std::vector<int32_t>{1, 3}, 2.5f, out);
  EXPECT_EQ(out.to_f32_vector(), (std::vector<float>{2.5f, 3.75f, -2.5f, 7.5f, 8.75f, -7.5f}));
}

TEST_P(EmbeddingTest, LargerRandomTable) {
  const int64_t V = 50, C = 24;
  std::vector<float> v = tuna_test::grid_values(V * C, 9);
  Tensor t = make_weight({V, C}, dtype(), v);
  const std::vector<int32_t> ids = {49, 0, 17, 17, 3, 48, 25};
  Tensor out = Tensor::empty({static_cast<int64_t>(ids.size()), C}, DType::F32);
  const float scale = 0.75f;
  OP_CALL(tuna::embedding_forward, t, ids, scale, out);
  std::vector<float> got = out.to_f32_vector();
  for (size_t n = 0; n < ids.size(); ++n)
    for (int64_t c = 0; c < C; ++c)
      EXPECT_EQ(got[n * C + c], v[ids[n] * C + c] * scale) << n << "," << c;
}

TEST_P(EmbeddingTest, AddAddsPositionRows) {
  Tensor out = Tensor::from_f32({3, 3}, {1, 1, 1, 10, 10, 10, 0, 0, 0});
  OP_CALL(tuna::embedding_add_forward, table(), std::vector<int32_t>{0, 1, 3}, out);
  EXPECT_EQ(out.to_f32_vector(), (std::vector<float>{1, 1.5f, 1, 11, 11.5f, 9, 3, 3.5f, -3}));
}

TEST_P(EmbeddingTest, OutOfRangeIdIsAUserErrorNamingIdAndPosition) {
  Tensor out = Tensor::empty({3, 3}, DType::F32);
  try {
    OP_CALL(tuna::embedding_forward, table(), std::vector<int32_t>{1, 2, 4}, 1.0f, out);
    FAIL() << "expected a tuna::Error";
  } catch (const tuna::Error& e) {
    const std::string w = e.what();
    EXPECT_EQ(e.exit_status(), 2);
    EXPECT_EQ(e.component(), "embedding");
    EXPECT_NE(w.find("token id 4"), std::string::npos) << w;
    EXPECT_NE(w.find("position 2"), std::string::npos) << w;
    EXPECT_NE(w.find("size 4"), std::string::npos) << w;
    EXPECT_FALSE(e.hint().empty());
  }
  try {
    OP_CALL(tuna::embedding_forward, table(), std::vector<int32_t>{-1, 0, 0}, 1.0f, out);
    FAIL() << "expected a tuna::Error";
  } catch (const tuna::Error& e) {
    EXPECT_EQ(e.exit_status(), 2);
    EXPECT_NE(std::string(e.what()).find("-1 at position 0"), std::string::npos) << e.what();
  }
}

TEST_P(EmbeddingTest, OutOfRangePositionIsAUserError) {
  Tensor out = Tensor::zeros({2, 3}, DType::F32);
  try {
    OP_CALL(tuna::embedding_add_forward, table(), std::vector<int32_t>{3, 7}, out);
    FAIL() << "expected a tuna::Error";
  } catch (const tuna::Error& e) {
    EXPECT_EQ(e.exit_status(), 2);
    EXPECT_NE(std::string(e.what()).find("position 7 at position 1"), std::string::npos)
        << e.what();
  }
  EXPECT_EQ(out.to_f32_vector(), std::vector<float>(6, 0.0f));  // untouched
}

INSTANTIATE_TEST_SUITE_P(WeightDTypes, EmbeddingTest,
                         testing::ValuesIn(tuna_test::op_cases(
                             {tuna::Device::CPU}, {DType::F32, DType::F16, DType::BF16})),
                         tuna_test::op_case_name);

class EmbeddingOp : public tuna_test::OpTest {};
INSTANTIATE_TEST_SUITE_P(Ops, EmbeddingOp,
                         testing::ValuesIn(tuna_test::op_cases({tuna::Device::CPU},
                                                               {tuna::DType::F32})),
                         tuna_test::op_case_name);

TEST_P(EmbeddingOp, UnsupportedTableDTypeIsAUserError) {
  Tensor t = Tensor::zeros({4, 3}, DType::I32);
  Tensor out = Tensor::empty({1, 3}, DType::F32);
  try {
    OP_CALL(tuna::embedding_forward, t, std::vector<int32_t>{0}, 1.0f, out);
    FAIL() << "expected a tuna::Error";
  } catch (const tuna::Error& e) {
    EXPECT_EQ(e.exit_status(), 2);
  }
}

TEST_P(EmbeddingOp, ShapeErrors) {
  Tensor t = Tensor::zeros({4, 3}, DType::F32);
  Tensor wrong_rows = Tensor::empty({3, 3}, DType::F32);
  Tensor wrong_cols = Tensor::empty({2, 2}, DType::F32);
  EXPECT_THROW(OP_CALL(tuna::embedding_forward, t, std::vector<int32_t>{0, 1}, 1.0f, wrong_rows),
               tuna::Error);
  EXPECT_THROW(OP_CALL(tuna::embedding_forward, t, std::vector<int32_t>{0, 1}, 1.0f, wrong_cols),
               tuna::Error);
  EXPECT_THROW(OP_CALL(tuna::embedding_add_forward, t, std::vector<int32_t>{0, 1}, wrong_rows),
               tuna::Error);
  Tensor empty_out = Tensor::empty({0, 3}, DType::F32);
  EXPECT_NO_THROW(OP_CALL(tuna::embedding_forward, t, std::vector<int32_t>{}, 1.0f, empty_out));
}

}  // namespace
