// The multi-tensor SGD op (ops/sgd.h) through its dispatcher: bit-identical to the per-tensor
// update the optimizer ran before the op existed (its loop is restated here as the reference)
// with and without momentum, dampening, Nesterov and weight decay; independent of the thread
// count; argument checks. Parameterised over the devices with an SGD kernel (the CPU today).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "core/threads.h"
#include "ops/ops_test_util.h"
#include "ops/sgd.h"

namespace tuna {
namespace {

using tuna_test::same_bits;

// Mixed sizes: tiny, one chunk, several chunks, empty.
const std::vector<int64_t> kSizes = {1, 7, 8, 100, 0, 16384 + 5, 40000, 3, 16384};

struct FlatState {
  std::vector<SgdSegment> segments;
  std::vector<float> p, g, buf;
};

FlatState random_state(uint32_t seed, bool with_buffer) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  FlatState s;
  for (size_t i = 0; i < kSizes.size(); ++i) s.segments.push_back({kSizes[i], i % 3 != 1, false});
  int64_t n = 0;
  for (int64_t k : kSizes) n += k;
  for (int64_t j = 0; j < n; ++j) {
    s.p.push_back(u(rng));
    s.g.push_back(0.1f * u(rng));
    if (with_buffer) s.buf.push_back(0.0f);
  }
  return s;
}

// The optimizer's SGD step before the op (train/optimizer.cpp at 57c8602), one tensor at a
// time; `first` per tensor is its segment's momentum_fresh.
void previous_per_tensor_step(FlatState& s, const SgdHyper& h) {
  const float momentum = static_cast<float>(h.momentum);
  const float one_minus_dampening = static_cast<float>(1 - h.dampening);
  const float neg_lr = static_cast<float>(-h.lr);
  int64_t offset = 0;
  for (const SgdSegment& seg : s.segments) {
    const double wd = seg.decays ? h.weight_decay : 0.0;
    const float wd_f = static_cast<float>(wd);
    float* p = s.p.data() + offset;
    const float* g = s.g.data() + offset;
    float* buf = h.momentum != 0 ? s.buf.data() + offset : nullptr;
    const bool first = seg.momentum_fresh;
    for (int64_t j = 0; j < seg.numel; ++j) {
      float d = g[j];
      if (wd != 0) d = std::fma(p[j], wd_f, d);
      if (buf != nullptr) {
        buf[j] = first ? d : std::fma(d, one_minus_dampening, buf[j] * momentum);
        d = h.nesterov ? std::fma(buf[j], momentum, d) : buf[j];
      }
      p[j] = std::fma(d, neg_lr, p[j]);
    }
    offset += seg.numel;
  }
}

class SgdOp : public tuna_test::OpTest {
 protected:
  // Runs the op on the case's device over host vectors.
  static void run(FlatState& s, const SgdHyper& h) {
    const Shape n{static_cast<int64_t>(s.p.size())};
    Tensor p = Tensor::from_f32(n, s.p), g = Tensor::from_f32(n, s.g);
    Tensor buf = h.momentum != 0 ? Tensor::from_f32(n, s.buf) : Tensor();
    OP_CALL(sgd_update, p, g, buf, std::span<const SgdSegment>(s.segments), h);
    s.p = p.to_f32_vector();
    if (buf.defined()) s.buf = buf.to_f32_vector();
  }
};

struct Variant {
  double momentum, dampening, weight_decay;
  bool nesterov;
};

TEST_P(SgdOp, BitIdenticalToThePreviousPerTensorUpdate) {
  const Variant variants[] = {{0.0, 0.0, 0.0, false}, {0.0, 0.0, 0.01, false},
                              {0.9, 0.0, 0.0, false}, {0.9, 0.1, 0.05, false},
                              {0.8, 0.0, 0.01, true}, {0.5, 0.25, 1e-50, true}};
  for (const Variant& var : variants) {
    SCOPED_TRACE(testing::Message() << "momentum " << var.momentum << " dampening " << var.dampening
                                    << " wd " << var.weight_decay << " nesterov " << var.nesterov);
    FlatState op = random_state(7, var.momentum != 0), ref = op;
    for (int step = 1; step <= 4; ++step) {
      const SgdHyper h{1e-2 / step, var.momentum, var.dampening, var.weight_decay, var.nesterov};
      for (size_t k = 0; k < op.g.size(); ++k)
        op.g[k] = ref.g[k] = 0.05f * std::sin(0.7f * static_cast<float>(k * step));
      // Step 1: every buffer fresh; step 2: every other one (a resumed run with some state);
      // then none.
      for (size_t i = 0; i < op.segments.size(); ++i)
        op.segments[i].momentum_fresh = ref.segments[i].momentum_fresh =
            var.momentum != 0 && (step == 1 || (step == 2 && i % 2 == 0));
      run(op, h);
      previous_per_tensor_step(ref, h);
    }
    EXPECT_TRUE(same_bits(op.p, ref.p));
    EXPECT_TRUE(same_bits(op.buf, ref.buf));
  }
}

TEST_P(SgdOp, MatchesDoublePrecisionSgd) {
  FlatState s = random_state(11, true);
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> u(-0.1f, 0.1f);
  for (float& b : s.buf) b = u(rng);
  const FlatState before = s;
  const SgdHyper h{2e-2, 0.9, 0.1, 0.05, true};
  run(s, h);
  int64_t offset = 0, bad_p = 0, bad_b = 0;
  for (const SgdSegment& seg : s.segments) {
    for (int64_t j = offset; j < offset + seg.numel; ++j) {
      double d = before.g[j];
      if (seg.decays) d += h.weight_decay * before.p[j];
      const double b = h.momentum * before.buf[j] + (1 - h.dampening) * d;
      d += h.momentum * b;
      const double p = before.p[j] - h.lr * d;
      // A few float roundings of the terms' magnitudes.
      const double scale_b = std::fabs(h.momentum * before.buf[j]) + std::fabs(d);
      bad_b += std::fabs(s.buf[j] - b) > 1e-6 * scale_b;
      bad_p += std::fabs(s.p[j] - p) > 2.5e-7 * std::fabs(p) + 1e-6 * std::fabs(h.lr * d);
    }
    offset += seg.numel;
  }
  EXPECT_EQ(bad_b, 0);
  EXPECT_EQ(bad_p, 0);
}

TEST_P(SgdOp, ThreadCountDoesNotChangeBits) {
  const int saved = num_threads();
  std::vector<FlatState> results;
  for (int threads : {1, 2, 3}) {
    set_num_threads(threads);
    FlatState s = random_state(5, true);
    run(s, {1e-2, 0.9, 0.0, 0.01, false});
    results.push_back(s);
  }
  set_num_threads(saved);
  for (size_t i = 1; i < results.size(); ++i) {
    EXPECT_TRUE(same_bits(results[i].p, results[0].p));
    EXPECT_TRUE(same_bits(results[i].buf, results[0].buf));
  }
}

TEST_P(SgdOp, ChecksShapesAndSegments) {
  Tensor p = Tensor::zeros({10}, DType::F32), g = Tensor::zeros({10}, DType::F32);
  Tensor buf = Tensor::zeros({9}, DType::F32), none;
  const std::vector<SgdSegment> ten = {{4, true, false}, {6, false, true}}, nine = {{9}};
  const SgdHyper plain{0.1}, heavy{0.1, 0.9};
  EXPECT_ANY_THROW(OP_CALL(sgd_update, p, g, buf, std::span<const SgdSegment>(ten), heavy));
  buf = Tensor::zeros({10}, DType::F32);
  EXPECT_ANY_THROW(OP_CALL(sgd_update, p, g, buf, std::span<const SgdSegment>(nine), heavy));
  EXPECT_ANY_THROW(OP_CALL(sgd_update, p, g, none, std::span<const SgdSegment>(ten), heavy));
  EXPECT_ANY_THROW(OP_CALL(sgd_update, p, g, buf, std::span<const SgdSegment>(ten), plain));
  Tensor p2 = Tensor::zeros({2, 5}, DType::F32);
  EXPECT_ANY_THROW(OP_CALL(sgd_update, p2, g, buf, std::span<const SgdSegment>(ten), heavy));
  Tensor g16 = Tensor::zeros({10}, DType::F16);
  EXPECT_ANY_THROW(OP_CALL(sgd_update, p, g16, none, std::span<const SgdSegment>(ten), plain));
  OP_CALL(sgd_update, p, g, buf, std::span<const SgdSegment>(ten), heavy);
  OP_CALL(sgd_update, p, g, none, std::span<const SgdSegment>(ten), plain);
}

INSTANTIATE_TEST_SUITE_P(Ops, SgdOp,
                         testing::ValuesIn(tuna_test::op_cases({Device::CPU}, {DType::F32})),
                         tuna_test::op_case_name);

}  // namespace
}  // namespace tuna
