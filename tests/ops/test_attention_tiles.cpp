// Attention over sequences longer than one query tile (128 rows): causal, sliding window and
// padding, against a naive double-precision reference, so tile boundaries are exercised.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "ops/attention.h"
#include "ops_test_util.h"

namespace tuna {
namespace {

void check(int64_t B, int64_t T, int64_t H, int64_t K, int64_t D, int64_t window, bool padded) {
  std::mt19937 rng(static_cast<unsigned>(T * 31 + window));
  std::normal_distribution<float> dist(0.0f, 1.0f);
  auto fill = [&](Tensor& t) {
    for (int64_t i = 0; i < t.numel(); ++i) t.data_mut<float>()[i] = dist(rng);
  };
  Tensor q = Tensor::empty({B, T, H, D}, DType::F32), k = Tensor::empty({B, T, K, D}, DType::F32),
         v = Tensor::empty({B, T, K, D}, DType::F32), out = Tensor::empty({B, T, H, D}, DType::F32);
  fill(q), fill(k), fill(v);
  Tensor valid;
  if (padded) {
    valid = Tensor::empty({B, T}, DType::I32);
    for (int64_t b = 0; b < B; ++b)
      for (int64_t t = 0; t < T; ++t) valid.data_mut<int32_t>()[b * T + t] = t < T - 37 * b ? 1 : 0;
  }
  AttentionParams p;
  p.scale = 0.3f;
  p.window = window;
  OP_CALL(tuna::attention_forward, q, k, v, valid, p, out);
  double worst = 0.0;
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < H; ++h)
      for (int64_t i = 0; i < T; ++i) {
        const int64_t kh = h / (H / K);
        std::vector<double> w(static_cast<size_t>(T), 0.0);
        double mx = -1e300, sum = 0.0;
        bool any = false;
        for (int64_t j = 0; j <= i; ++j) {
          if (window > 0 && j <= i - window) continue;
          if (padded && valid.data<int32_t>()[b * T + j] == 0) continue;
          double s = 0.0;
          for (int64_t d = 0; d < D; ++d)
            s += static_cast<double>(q.data<float>()[((b * T + i) * H + h) * D + d]) *
                 k.data<float>()[((b * T + j) * K + kh) * D + d];
          w[static_cast<size_t>(j)] = s * 0.3;
          mx = std::max(mx, s * 0.3);
          any = true;
        }
        for (int64_t j = 0; j <= i && any; ++j) {
          const bool vis = !(window > 0 && j <= i - window) &&
                           !(padded && valid.data<int32_t>()[b * T + j] == 0);
          w[static_cast<size_t>(j)] = vis ? std::exp(w[static_cast<size_t>(j)] - mx) : 0.0;
          sum += w[static_cast<size_t>(j)];
        }
        for (int64_t d = 0; d < D; ++d) {
          double ref = 0.0;
          for (int64_t j = 0; j <= i && any; ++j)
            ref +=
                w[static_cast<size_t>(j)] / sum * v.data<float>()[((b * T + j) * K + kh) * D + d];
          worst =
              std::max(worst, std::fabs(ref - out.data<float>()[((b * T + i) * H + h) * D + d]));
        }
      }
  EXPECT_LT(worst, 2e-5) << "T=" << T << " window=" << window << " padded=" << padded;
}

class AttentionTilesOp : public tuna_test::OpTest {};
INSTANTIATE_TEST_SUITE_P(Ops, AttentionTilesOp,
                         testing::ValuesIn(tuna_test::op_cases({tuna::Device::CPU},
                                                               {tuna::DType::F32})),
                         tuna_test::op_case_name);

TEST_P(AttentionTilesOp, CausalAcrossSeveralTiles) {
  check(1, 300, 2, 1, 8, 0, false);
}
TEST_P(AttentionTilesOp, SlidingWindowAcrossTileBoundaries) {
  check(1, 300, 4, 2, 8, 50, false);
}
TEST_P(AttentionTilesOp, WindowLongerThanATile) {
  check(2, 290, 2, 2, 4, 200, true);
}
TEST_P(AttentionTilesOp, PaddedBatch) {
  check(2, 260, 2, 1, 8, 0, true);
}

}  // namespace
}  // namespace tuna
