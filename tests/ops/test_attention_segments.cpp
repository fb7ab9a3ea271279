// Attention over packed rows (segment_start): forward and backward of a row holding several
// samples equal those of each sample run alone — causal, sliding window counted within a
// sample, soft-cap, GQA, padding, rows longer than one 128-query tile with samples crossing tile
// edges — and the backward agrees with central finite differences. Dropping segment_start (the
// samples see each other) must change the output.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <utility>
#include <vector>

#include "grad_check_util.h"
#include "ops/attention.h"
#include "ops_test_util.h"

namespace {

using tuna::AttentionParams;
using tuna::DType;
using tuna::Tensor;
using tuna_test::random_tensor;
using tuna_test::random_values;

AttentionParams params(float scale, float softcap, int64_t window) {
  AttentionParams p;
  p.scale = scale;
  p.softcap = softcap;
  p.window = window;
  return p;
}

// segment_start [B, T] of rows cut into samples of the given lengths (the rest: padding, each
// padded token its own sample as TRL's position_ids 0 padding makes it).
Tensor segments(int64_t T, const std::vector<std::vector<int64_t>>& lengths) {
  const auto B = static_cast<int64_t>(lengths.size());
  Tensor s = Tensor::empty({B, T}, DType::I32);
  for (int64_t b = 0; b < B; ++b) {
    int64_t t = 0;
    for (int64_t n : lengths[static_cast<size_t>(b)])
      for (int64_t i = 0; i < n; ++i, ++t)
        s.data_mut<int32_t>()[b * T + t] = static_cast<int32_t>(t - i);
    for (; t < T; ++t) s.data_mut<int32_t>()[b * T + t] = static_cast<int32_t>(t);
  }
  return s;
}

// Rows [t0, t0 + n) of batch row b of x [B, T, X, D] as a [1, n, X, D] tensor.
Tensor slice(const Tensor& x, int64_t b, int64_t t0, int64_t n) {
  const int64_t T = x.dim(1), X = x.dim(2), D = x.dim(3);
  Tensor out = Tensor::empty({1, n, X, D}, DType::F32);
  const float* src = x.data<float>() + (b * T + t0) * X * D;
  std::copy(src, src + n * X * D, out.data_mut<float>());
  return out;
}

double max_rel(const Tensor& got, int64_t b, int64_t t0, const Tensor& want) {
  const int64_t T = got.dim(1), XD = got.dim(2) * got.dim(3), n = want.numel();
  const float* g = got.data<float>() + (b * T + t0) * XD;
  const float* w = want.data<float>();
  double err = 0, ref = 0;
  for (int64_t i = 0; i < n; ++i) {
    err = std::max(err, static_cast<double>(std::fabs(g[i] - w[i])));
    ref = std::max(ref, static_cast<double>(std::fabs(w[i])));
  }
  return ref > 0 ? err / ref : err;
}

struct Variant {
  const char* name;
  int64_t T, H, K, D;
  AttentionParams p;
  std::vector<std::vector<int64_t>> lengths;  // per batch row; the rest is padding
};

class AttentionSegmentsOp : public tuna_test::OpTest {};
INSTANTIATE_TEST_SUITE_P(Ops, AttentionSegmentsOp,
                         testing::ValuesIn(tuna_test::op_cases({tuna::Device::CPU},
                                                               {tuna::DType::F32})),
                         tuna_test::op_case_name);

TEST_P(AttentionSegmentsOp, PackedRowEqualsSamplesRunAlone) {
  const Variant variants[] = {
      {"causal MHA", 20, 2, 2, 8, params(0.35f, 0.0f, 0), {{7, 1, 12}}},
      {"GQA + window 4 + padding", 24, 4, 2, 8, params(0.5f, 0.0f, 4), {{9, 10, 5}, {3, 15}}},
      {"window + soft-cap + MQA across tiles",
       300,
       3,
       1,
       16,
       params(0.3f, 5.0f, 50),
       {{70, 130, 100}, {127, 2, 160}}},
      {"long samples over three tiles", 330, 2, 1, 8, params(0.3f, 0.0f, 0), {{200, 129}}},
  };
  for (const Variant& vt : variants) {
    SCOPED_TRACE(vt.name);
    const auto B = static_cast<int64_t>(vt.lengths.size());
    const int64_t T = vt.T, H = vt.H, K = vt.K, D = vt.D;
    Tensor q = random_tensor({B, T, H, D}, 11, -2.0f, 2.0f);
    Tensor k = random_tensor({B, T, K, D}, 12, -2.0f, 2.0f);
    Tensor v = random_tensor({B, T, K, D}, 13);
    Tensor d_out =
        Tensor::from_f32({B, T, H, D}, random_values(static_cast<size_t>(B * T * H * D), 14));
    Tensor seg = segments(T, vt.lengths);
    Tensor valid = Tensor::empty({B, T}, DType::I32);
    for (int64_t b = 0; b < B; ++b) {
      int64_t n = 0;
      for (int64_t l : vt.lengths[static_cast<size_t>(b)]) n += l;
      for (int64_t t = 0; t < T; ++t) valid.data_mut<int32_t>()[b * T + t] = t < n;
    }
    Tensor out = Tensor::empty({B, T, H, D}, DType::F32);
    Tensor dq = Tensor::empty(q.shape(), DType::F32), dk = Tensor::empty(k.shape(), DType::F32),
           dv = Tensor::empty(k.shape(), DType::F32);
    OP_CALL(tuna::attention_forward, q, k, v, valid, vt.p, out, seg);
    OP_CALL(tuna::attention_backward, q, k, v, valid, vt.p, d_out, dq, dk, dv, seg);
    double worst = 0;
    for (int64_t b = 0; b < B; ++b) {
      int64_t t0 = 0;
      for (int64_t n : vt.lengths[static_cast<size_t>(b)]) {
        Tensor qs = slice(q, b, t0, n), ks = slice(k, b, t0, n), vs = slice(v, b, t0, n);
        Tensor os = Tensor::empty(qs.shape(), DType::F32);
        Tensor dqs = Tensor::empty(qs.shape(), DType::F32),
               dks = Tensor::empty(ks.shape(), DType::F32),
               dvs = Tensor::empty(ks.shape(), DType::F32);
        OP_CALL(tuna::attention_forward, qs, ks, vs, Tensor(), vt.p, os);
        OP_CALL(tuna::attention_backward, qs, ks, vs, Tensor(), vt.p, slice(d_out, b, t0, n), dqs,
                dks, dvs);
        for (auto [got, want] : {std::pair<const Tensor*, const Tensor*>{&out, &os},
                                 {&dq, &dqs},
                                 {&dk, &dks},
                                 {&dv, &dvs}})
          worst = std::max(worst, max_rel(*got, b, t0, *want));
        t0 += n;
      }
    }
    std::printf("  %s: packed vs alone worst rel %.2g\n", vt.name, worst);
    EXPECT_LE(worst, 1e-6);

    // Without segment_start the samples attend to each other: the output changes.
    Tensor leaky = Tensor::empty({B, T, H, D}, DType::F32);
    OP_CALL(tuna::attention_forward, q, k, v, valid, vt.p, leaky);
    EXPECT_GT(tuna_test::max_rel_diff(leaky.to_f32_vector(), out.to_f32_vector()), 1e-2);
  }
}

TEST_P(AttentionSegmentsOp, BackwardMatchesFiniteDifferences) {
  const int64_t B = 2, T = 12, H = 2, K = 1, D = 4;
  const AttentionParams p = params(0.5f, 2.0f, 3);
  Tensor q = random_tensor({B, T, H, D}, 21, -2.0f, 2.0f);
  Tensor k = random_tensor({B, T, K, D}, 22, -2.0f, 2.0f);
  Tensor v = random_tensor({B, T, K, D}, 23);
  const std::vector<float> r = random_values(static_cast<size_t>(B * T * H * D), 24);
  Tensor seg = segments(T, {{5, 7}, {1, 4, 6}});
  Tensor valid = Tensor::empty({B, T}, DType::I32);
  for (int64_t i = 0; i < B * T; ++i) valid.data_mut<int32_t>()[i] = i < 2 * T - 1;  // 1 pad
  Tensor out = Tensor::empty({B, T, H, D}, DType::F32);
  auto loss = [&] {
    OP_CALL(tuna::attention_forward, q, k, v, valid, p, out, seg);
    return tuna_test::weighted_sum(out, r);
  };
  Tensor dq = Tensor::empty(q.shape(), DType::F32), dk = Tensor::empty(k.shape(), DType::F32),
         dv = Tensor::empty(k.shape(), DType::F32);
  OP_CALL(tuna::attention_backward, q, k, v, valid, p, Tensor::from_f32(q.shape(), r), dq, dk, dv,
          seg);
  using tuna_test::fd_relative_error;
  using tuna_test::kGradTol;
  EXPECT_LT(fd_relative_error(loss, q.data_mut<float>(), q.numel(), dq.to_f32_vector()), kGradTol);
  EXPECT_LT(fd_relative_error(loss, k.data_mut<float>(), k.numel(), dk.to_f32_vector()), kGradTol);
  EXPECT_LT(fd_relative_error(loss, v.data_mut<float>(), v.numel(), dv.to_f32_vector()), kGradTol);
}

TEST_P(AttentionSegmentsOp, ThreadCountInvariant) {
  const int64_t B = 2, T = 150, H = 4, K = 2, D = 8;
  Tensor q = random_tensor({B, T, H, D}, 31), k = random_tensor({B, T, K, D}, 32),
         v = random_tensor({B, T, K, D}, 33);
  Tensor d_out = random_tensor({B, T, H, D}, 34);
  Tensor seg = segments(T, {{40, 100, 10}, {149}});
  tuna_test::expect_thread_invariant([&] {
    Tensor dq = Tensor::empty(q.shape(), DType::F32), dk = Tensor::empty(k.shape(), DType::F32),
           dv = Tensor::empty(k.shape(), DType::F32);
    OP_CALL(tuna::attention_backward, q, k, v, Tensor(), params(0.3f, 0.0f, 64), d_out, dq, dk, dv,
            seg);
    return std::vector<std::vector<float>>{dq.to_f32_vector(), dk.to_f32_vector(),
                                           dv.to_f32_vector()};
  });
}

}  // namespace
