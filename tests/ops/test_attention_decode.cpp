// attention_decode_forward through its dispatcher against attention_forward on the same
// sequence: a prefill then one token at a time (and in uneven chunks), with GQA, a sliding
// window and soft-capping. The two kernels sum in different orders, so they agree to rounding.
#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "core/error.h"
#include "ops/attention.h"
#include "ops_test_util.h"

namespace {

using tuna::AttentionParams;
using tuna::DType;
using tuna::Tensor;

class AttentionDecodeTest : public tuna_test::OpTest {};
INSTANTIATE_TEST_SUITE_P(Ops, AttentionDecodeTest,
                         testing::ValuesIn(tuna_test::op_cases({tuna::Device::CPU}, {DType::F32})),
                         tuna_test::op_case_name);

// Decodes T tokens in chunks of `chunks` sizes (summing to T) and compares every output row
// with the full causal forward over the whole sequence.
// With `trim`, the cache passed holds only the positions the chunk's queries can see (from
// p0 − window + 1 on), as a sliding-window KV cache keeps them (`first` > 0).
void check_decode_matches_forward(int64_t H, int64_t K, int64_t D,
                                  const std::vector<int64_t>& chunks, const AttentionParams& p,
                                  uint32_t seed, bool trim = false) {
  int64_t T = 0;
  for (int64_t c : chunks) T += c;
  const std::vector<float> q = tuna_test::random_values(T * H * D, seed, -2, 2);
  const std::vector<float> k = tuna_test::random_values(T * K * D, seed + 1, -2, 2);
  const std::vector<float> v = tuna_test::random_values(T * K * D, seed + 2, -2, 2);
  Tensor full = Tensor::empty({1, T, H, D}, DType::F32);
  OP_CALL(tuna::attention_forward, Tensor::from_f32({1, T, H, D}, q),
          Tensor::from_f32({1, T, K, D}, k), Tensor::from_f32({1, T, K, D}, v), Tensor(), p, full);
  const std::vector<float> want = full.to_f32_vector();

  int64_t p0 = 0;
  for (int64_t n : chunks) {
    const int64_t S = p0 + n;  // the cache holds every position up to the chunk's last
    const std::vector<float> qn(q.begin() + p0 * H * D, q.begin() + S * H * D);
    const int64_t first = trim ? std::max<int64_t>(0, p0 - p.window + 1) : 0;
    const std::vector<float> kc(k.begin() + first * K * D, k.begin() + S * K * D);
    const std::vector<float> vc(v.begin() + first * K * D, v.begin() + S * K * D);
    Tensor out = Tensor::empty({n, H, D}, DType::F32);
    OP_CALL(tuna::attention_decode_forward, Tensor::from_f32({n, H, D}, qn),
            Tensor::from_f32({S - first, K, D}, kc), Tensor::from_f32({S - first, K, D}, vc), p0,
            p, out, first);
    const std::vector<float> got = out.to_f32_vector();
    for (int64_t i = 0; i < n * H * D; ++i)
      ASSERT_NEAR(got[i], want[p0 * H * D + i], 2e-6f) << "chunk at " << p0 << " element " << i;
    p0 = S;
  }
}

TEST_P(AttentionDecodeTest, PrefillThenTokensMatchFullForward) {
  AttentionParams p;
  p.scale = 0.25f;
  check_decode_matches_forward(4, 2, 16, {7, 1, 1, 1, 1, 1}, p, 10);
}

TEST_P(AttentionDecodeTest, UnevenChunksWithWindowAndSoftcap) {
  AttentionParams p;
  p.scale = 0.125f;
  p.window = 5;
  p.softcap = 2.0f;
  check_decode_matches_forward(6, 3, 8, {4, 3, 1, 9, 1, 2}, p, 20);
}

TEST_P(AttentionDecodeTest, WindowCacheWithoutTheDroppedPositions) {
  AttentionParams p;
  p.scale = 0.125f;
  p.window = 5;
  p.softcap = 2.0f;
  check_decode_matches_forward(6, 3, 8, {4, 3, 1, 9, 1, 2, 1, 1}, p, 40, /*trim=*/true);
}

TEST_P(AttentionDecodeTest, MultiQueryOneShot) {
  AttentionParams p;
  p.scale = 0.3f;
  check_decode_matches_forward(4, 1, 32, {13}, p, 30);
}

TEST_P(AttentionDecodeTest, ShapeErrors) {
  const AttentionParams p;
  Tensor q = Tensor::zeros({2, 4, 8}, DType::F32), out = Tensor::zeros({2, 4, 8}, DType::F32);
  Tensor kv = Tensor::zeros({5, 2, 8}, DType::F32);
  EXPECT_NO_THROW(OP_CALL(tuna::attention_decode_forward, q, kv, kv, 3, p, out));
  EXPECT_THROW(OP_CALL(tuna::attention_decode_forward, q, kv, kv, 2, p, out), tuna::Error);
  Tensor kv3 = Tensor::zeros({5, 3, 8}, DType::F32);  // H = 4 is not a multiple of K = 3
  EXPECT_THROW(OP_CALL(tuna::attention_decode_forward, q, kv3, kv3, 3, p, out), tuna::Error);
  Tensor out_wrong = Tensor::zeros({2, 4, 4}, DType::F32);
  EXPECT_THROW(OP_CALL(tuna::attention_decode_forward, q, kv, kv, 3, p, out_wrong), tuna::Error);
  // A cache starting after position 0 is only for a window that no longer sees those positions.
  Tensor kv4 = Tensor::zeros({4, 2, 8}, DType::F32);
  EXPECT_THROW(OP_CALL(tuna::attention_decode_forward, q, kv4, kv4, 3, p, out, 1), tuna::Error);
  AttentionParams w2 = p;
  w2.window = 2;
  EXPECT_NO_THROW(OP_CALL(tuna::attention_decode_forward, q, kv4, kv4, 3, w2, out, 1));
}

}  // namespace
