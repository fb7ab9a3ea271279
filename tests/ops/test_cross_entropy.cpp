// lm_head_cross_entropy against a double-precision reference that materialises every logit
// (HF's shift, −100 ignored, optional final soft-cap): loss, counts, argmax accuracy, dHidden and
// dW (trained head) or dHidden alone (frozen head, the one-pass path), including several
// vocabulary tiles, several token chunks and a BF16 head; central finite
// differences (grad_check_util.h); gradient accumulation equal to one big batch; label errors;
// bit-identical results with 1 and 2 threads; an unshifted reference must disagree;
// count_loss_tokens.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "core/error.h"
#include "grad_check_util.h"
#include "ops/cross_entropy.h"
#include "ops_test_util.h"

namespace {

using tuna::DType;
using tuna::Tensor;
using tuna_test::fd_relative_error;
using tuna_test::kGradTol;
using tuna_test::random_tensor;

struct RefLoss {
  double loss = 0.0;
  int64_t counted = 0, correct = 0;
  std::vector<float> dh, dw;
};

// Double-precision reference: full [B·T, V] logits; shift = 1 (HF) or 0 (the wrong variant).
RefLoss reference(const Tensor& hidden, const std::vector<float>& w, int64_t V,
                  const std::vector<int32_t>& labels, int64_t B, int64_t T, float cap,
                  double grad_scale, int shift = 1) {
  const int64_t C = hidden.dim(-1);
  const float* h = hidden.data<float>();
  RefLoss r;
  std::vector<double> dh(static_cast<size_t>(B * T * C), 0.0), dw(static_cast<size_t>(V * C), 0.0);
  std::vector<double> z(static_cast<size_t>(V)), raw(static_cast<size_t>(V));
  for (int64_t b = 0; b < B; ++b)
    for (int64_t t = 0; t + shift < T; ++t) {
      const int32_t y = labels[static_cast<size_t>(b * T + t + shift)];
      if (y == tuna::kIgnoreIndex) continue;
      const float* hr = h + (b * T + t) * C;
      double mx = -1e300;
      int64_t arg = 0;
      for (int64_t v = 0; v < V; ++v) {
        double s = 0.0;
        for (int64_t c = 0; c < C; ++c) s += static_cast<double>(hr[c]) * w[v * C + c];
        raw[v] = s;
        z[v] = cap > 0.0f ? std::tanh(s / cap) * cap : s;
        if (z[v] > mx) mx = z[v], arg = v;
      }
      double sum = 0.0;
      for (int64_t v = 0; v < V; ++v) sum += std::exp(z[v] - mx);
      const double lse = mx + std::log(sum);
      r.loss += lse - z[y];
      r.counted += 1;
      r.correct += arg == y ? 1 : 0;
      for (int64_t v = 0; v < V; ++v) {
        double g = std::exp(z[v] - lse) - (v == y ? 1.0 : 0.0);
        if (cap > 0.0f) g *= 1.0 - (z[v] / cap) * (z[v] / cap);
        g *= grad_scale;
        for (int64_t c = 0; c < C; ++c) {
          dh[static_cast<size_t>((b * T + t) * C + c)] += g * w[v * C + c];
          dw[static_cast<size_t>(v * C + c)] += g * hr[c];
        }
      }
    }
  r.dh.assign(dh.begin(), dh.end());
  r.dw.assign(dw.begin(), dw.end());
  return r;
}

std::vector<int32_t> make_labels(int64_t n, int64_t V, uint32_t seed, int ignore_every) {
  std::vector<int32_t> l(static_cast<size_t>(n));
  std::vector<float> u = tuna_test::random_values(static_cast<size_t>(n), seed, 0.0f, 1.0f);
  for (int64_t i = 0; i < n; ++i)
    l[static_cast<size_t>(i)] = (i % ignore_every == 0)
                                    ? tuna::kIgnoreIndex
                                    : static_cast<int32_t>(u[static_cast<size_t>(i)] * V) % V;
  return l;
}

Tensor label_tensor(const std::vector<int32_t>& l, int64_t B, int64_t T) {
  Tensor t = Tensor::empty({B, T}, DType::I32);
  std::copy(l.begin(), l.end(), t.data_mut<int32_t>());
  return t;
}

struct Shape3 {
  int64_t B, T, C, V;
};

void check_against_reference(const Shape3& s, float cap, DType head_dtype, uint32_t seed) {
  Tensor hidden = random_tensor({s.B, s.T, s.C}, seed, -1.0f, 1.0f);
  std::vector<float> wv = tuna_test::grid_values(static_cast<size_t>(s.V * s.C), seed + 1);
  Tensor w = tuna_test::make_weight({s.V, s.C}, head_dtype, wv);
  const std::vector<int32_t> l = make_labels(s.B * s.T, s.V, seed + 2, 5);
  const Tensor labels = label_tensor(l, s.B, s.T);
  const int64_t n = tuna::count_loss_tokens(labels);
  const double scale = 1.0 / static_cast<double>(n);
  Tensor dh = Tensor::empty(hidden.shape(), DType::F32);
  Tensor dw = Tensor::zeros({s.V, s.C}, DType::F32);
  const bool f32 = head_dtype == DType::F32;
  const tuna::LmHeadLossResult got = OP_CALL(tuna::lm_head_cross_entropy, hidden, w, labels, cap,
                                             static_cast<float>(scale), &dh, f32 ? &dw : nullptr);
  const RefLoss ref = reference(hidden, wv, s.V, l, s.B, s.T, cap, scale);
  EXPECT_EQ(got.n_counted, ref.counted);
  EXPECT_EQ(got.n_counted, n);
  EXPECT_EQ(got.n_correct, ref.correct);
  EXPECT_NEAR(got.loss_sum, ref.loss, 2e-6 * std::fabs(ref.loss));
  // F32 vs double: dHidden sums V products in F32 (SGEMM), a rounding of about √V · 2^-24 of
  // the largest term; 1e-5 for small vocabularies, ≈ 6e-5 at V = 70,000.
  const double dh_tol = 1e-5 + 2e-7 * std::sqrt(static_cast<double>(s.V));
  EXPECT_LT(tuna_test::max_rel_diff(dh.to_f32_vector(), ref.dh), dh_tol) << "dhidden";
  if (f32) {
    EXPECT_LT(tuna_test::max_rel_diff(dw.to_f32_vector(), ref.dw), 1e-5) << "dw";
    // The same F32 head frozen (no dW): the one-pass online path gives the same loss and dH.
    Tensor dh_frozen = Tensor::empty(hidden.shape(), DType::F32);
    const tuna::LmHeadLossResult frozen =
        OP_CALL(tuna::lm_head_cross_entropy, hidden, w, labels, cap, static_cast<float>(scale),
                &dh_frozen, nullptr);
    EXPECT_EQ(frozen.n_correct, ref.correct);
    EXPECT_NEAR(frozen.loss_sum, ref.loss, 2e-6 * std::fabs(ref.loss));
    EXPECT_LT(tuna_test::max_rel_diff(dh_frozen.to_f32_vector(), ref.dh), dh_tol) << "frozen dh";
  }
  // Deliberately wrong: the unshifted loss (position t scored against its own label).
  const RefLoss unshifted = reference(hidden, wv, s.V, l, s.B, s.T, cap, scale, 0);
  EXPECT_GT(tuna_test::max_rel_diff(dh.to_f32_vector(), unshifted.dh), 0.1);
}

class CrossEntropyOp : public tuna_test::OpTest {};
INSTANTIATE_TEST_SUITE_P(Ops, CrossEntropyOp,
                         testing::ValuesIn(tuna_test::op_cases({tuna::Device::CPU},
                                                               {tuna::DType::F32})),
                         tuna_test::op_case_name);

TEST_P(CrossEntropyOp, MatchesReferenceSmall) {
  check_against_reference({2, 9, 16, 50}, 0.0f, DType::F32, 1);
  check_against_reference({2, 9, 16, 50}, 3.0f, DType::F32, 2);  // Gemma 2 final soft-cap
  check_against_reference({2, 9, 16, 50}, 0.0f, DType::BF16, 3);
}

TEST_P(CrossEntropyOp, SeveralVocabularyTiles) {
  // 64 counted tokens × 70,000 vocabulary rows > 2^22 logits: two vocabulary tiles.
  check_against_reference({1, 81, 8, 70000}, 0.0f, DType::F32, 4);
  check_against_reference({1, 81, 8, 70000}, 0.0f, DType::BF16, 5);
}

TEST_P(CrossEntropyOp, SeveralTokenChunks) {
  check_against_reference({2, 1300, 8, 40}, 5.0f, DType::F32, 6);  // > 2048 counted tokens
  check_against_reference({2, 1300, 8, 40}, 0.0f, DType::BF16, 7);
  // Trained head: 999 counted tokens × 70,000 > 2^26 logits, so two [chunk × V] chunks.
  check_against_reference({1, 1250, 4, 70000}, 0.0f, DType::F32, 8);
  check_against_reference({1, 1250, 4, 70000}, 2.0f, DType::F32, 9);
}

TEST_P(CrossEntropyOp, MatchesFiniteDifferences) {
  const int64_t B = 2, T = 6, C = 8, V = 30;
  Tensor hidden = random_tensor({B, T, C}, 7), w = random_tensor({V, C}, 8, -2.0f, 2.0f);
  const Tensor labels = label_tensor(make_labels(B * T, V, 9, 4), B, T);
  for (float cap : {0.0f, 1.5f}) {
    const float scale = 1.0f / static_cast<float>(tuna::count_loss_tokens(labels));
    auto loss = [&] {
      return OP_CALL(tuna::lm_head_cross_entropy, hidden, w, labels, cap, scale, nullptr, nullptr)
                 .loss_sum *
             scale;
    };
    Tensor dh = Tensor::empty(hidden.shape(), DType::F32), dw = Tensor::zeros({V, C}, DType::F32);
    OP_CALL(tuna::lm_head_cross_entropy, hidden, w, labels, cap, scale, &dh, &dw);
    EXPECT_LT(fd_relative_error(loss, hidden.data_mut<float>(), hidden.numel(), dh.to_f32_vector(),
                                1e-2f, 200),
              kGradTol);
    EXPECT_LT(fd_relative_error(loss, w.data_mut<float>(), w.numel(), dw.to_f32_vector()),
              kGradTol);
  }
}

TEST_P(CrossEntropyOp, AccumulationEqualsOneBigBatch) {
  const int64_t T = 10, C = 8, V = 40;
  Tensor hidden = random_tensor({2, T, C}, 10), w = random_tensor({V, C}, 11);
  const std::vector<int32_t> l = make_labels(2 * T, V, 12, 3);
  const Tensor labels = label_tensor(l, 2, T);
  const int64_t n = tuna::count_loss_tokens(labels);
  Tensor dw_big = Tensor::zeros({V, C}, DType::F32), dw_acc = Tensor::zeros({V, C}, DType::F32);
  Tensor dh_big = Tensor::empty({2, T, C}, DType::F32);
  const float scale = 1.0f / static_cast<float>(n);
  const double big =
      OP_CALL(tuna::lm_head_cross_entropy, hidden, w, labels, 0.0f, scale, &dh_big, &dw_big)
          .loss_sum;
  double acc = 0.0;
  int64_t counted = 0;
  for (int64_t b = 0; b < 2; ++b) {  // two micro-batches of one sequence each
    Tensor hb = hidden.slice0(b, b + 1).reshape({T, C});
    const Tensor lb = label_tensor({l.begin() + b * T, l.begin() + (b + 1) * T}, 1, T).reshape({T});
    Tensor dhb = Tensor::empty({T, C}, DType::F32);
    const tuna::LmHeadLossResult r =
        OP_CALL(tuna::lm_head_cross_entropy, hb, w, lb, 0.0f, scale, &dhb, &dw_acc);
    acc += r.loss_sum;
    counted += r.n_counted;
    EXPECT_LT(tuna_test::max_rel_diff(dhb.to_f32_vector(), dh_big.slice0(b, b + 1).to_f32_vector()),
              1e-6);
  }
  EXPECT_EQ(counted, n);
  EXPECT_NEAR(acc, big, 1e-9 * std::fabs(big));
  EXPECT_LT(tuna_test::max_rel_diff(dw_acc.to_f32_vector(), dw_big.to_f32_vector()), 1e-6);
}

TEST_P(CrossEntropyOp, LabelsOutsideTheVocabularyAreUserErrors) {
  Tensor hidden = random_tensor({4, 8}, 13), w = random_tensor({10, 8}, 14);
  Tensor labels = Tensor::empty({4}, DType::I32);
  int32_t* p = labels.data_mut<int32_t>();
  p[0] = 1, p[1] = 10, p[2] = -100, p[3] = 2;
  try {
    OP_CALL(tuna::lm_head_cross_entropy, hidden, w, labels, 0.0f, 1.0f, nullptr, nullptr);
    ADD_FAILURE() << "no error";
  } catch (const tuna::Error& e) {
    EXPECT_EQ(e.kind(), tuna::ErrorKind::USER);
    EXPECT_NE(e.message().find("label 10 at position 1"), std::string::npos) << e.message();
  }
  p[1] = -100, p[2] = -100, p[3] = -100;  // nothing counted: zero loss, zero gradient
  Tensor dh = random_tensor({4, 8}, 15);
  const tuna::LmHeadLossResult r =
      OP_CALL(tuna::lm_head_cross_entropy, hidden, w, labels, 0.0f, 1.0f, &dh, nullptr);
  EXPECT_EQ(r.n_counted, 0);
  EXPECT_EQ(r.loss_sum, 0.0);
  for (float v : dh.to_f32_vector()) EXPECT_EQ(v, 0.0f);
}

// count_loss_tokens through its dispatcher: labels[b, t] != −100 for t ≥ 1 (each sequence's
// first label has no position before it), [B, T] and [T]; labels that are not I32 are rejected.
TEST_P(CrossEntropyOp, CountLossTokens) {
  const std::vector<int32_t> l = {5, -100, 3, 7, 9, 2, -100, -100};
  const Tensor batch = label_tensor(l, 2, 4);  // rows {5, -100, 3, 7}, {9, 2, -100, -100}
  EXPECT_EQ(OP_CALL(tuna::count_loss_tokens, batch), 3);
  const Tensor flat = label_tensor(l, 1, 8).reshape({8});
  EXPECT_EQ(OP_CALL(tuna::count_loss_tokens, flat), 4);
  const Tensor one = label_tensor({4}, 1, 1);
  EXPECT_EQ(OP_CALL(tuna::count_loss_tokens, one), 0);
  EXPECT_ANY_THROW(OP_CALL(tuna::count_loss_tokens, Tensor::zeros({2, 4}, DType::F32)));
  EXPECT_ANY_THROW(OP_CALL(tuna::count_loss_tokens, Tensor::zeros({1, 2, 4}, DType::I32)));
}

TEST_P(CrossEntropyOp, ThreadCountInvariant) {
  const int64_t B = 2, T = 100, C = 24, V = 50000;  // two vocabulary tiles
  Tensor hidden = random_tensor({B, T, C}, 16), w = random_tensor({V, C}, 17);
  const Tensor labels = label_tensor(make_labels(B * T, V, 18, 7), B, T);
  tuna_test::expect_thread_invariant([&] {
    Tensor dh = Tensor::empty({B, T, C}, DType::F32), dw = Tensor::zeros({V, C}, DType::F32);
    const tuna::LmHeadLossResult r =
        OP_CALL(tuna::lm_head_cross_entropy, hidden, w, labels, 30.0f, 0.01f, &dh, &dw);
    return std::vector<std::vector<float>>{
        {static_cast<float>(r.loss_sum)}, dh.to_f32_vector(), dw.to_f32_vector()};
  });
  tuna_test::expect_thread_invariant([&] {  // frozen head: the one-pass online path
    Tensor dh = Tensor::empty({B, T, C}, DType::F32);
    const tuna::LmHeadLossResult r =
        OP_CALL(tuna::lm_head_cross_entropy, hidden, w, labels, 30.0f, 0.01f, &dh, nullptr);
    return std::vector<std::vector<float>>{{static_cast<float>(r.loss_sum)}, dh.to_f32_vector()};
  });
}

}  // namespace
