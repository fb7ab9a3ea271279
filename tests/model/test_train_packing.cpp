// Packed micro-batches (TrainBatch::position_ids) against the same samples run unpacked: for
// every tiny golden family, the loss and every gradient (LoRA on every projection and every base
// weight) of samples packed into rows — positions restarting at each sample, first label −100 as
// TRL's collator sets it — equal the sum over the samples run one per micro-batch with the same
// normaliser. A packed row without position_ids (attention and positions running across the
// samples) must not: that is what the test exists to catch.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>

#include "core/error.h"
#include "model/train_test_util.h"

namespace tuna {
namespace {

using namespace tuna_test;

struct Sample {
  std::vector<int32_t> ids, labels;
};

// The real tokens of a golden row, optionally cut to its first `n`.
Sample sample_of(const TrainBatch& b, int64_t row, size_t n = SIZE_MAX) {
  Sample s;
  for (int64_t t = 0; t < b.T; ++t) {
    const auto i = static_cast<size_t>(row * b.T + t);
    if (b.attention_mask[i] == 0 || s.ids.size() == n) break;
    s.ids.push_back(b.ids[i]);
    s.labels.push_back(b.labels[i]);
  }
  return s;
}

TrainBatch unpacked(const Sample& s) {
  TrainBatch b;
  b.B = 1;
  b.T = static_cast<int64_t>(s.ids.size());
  b.ids = s.ids;
  b.attention_mask.assign(s.ids.size(), 1);
  b.labels = s.labels;
  return b;
}

// rows[r] = the samples packed into row r; right-padded (pad id 0, label −100, position 0).
TrainBatch packed(const std::vector<std::vector<Sample>>& rows, bool with_positions = true) {
  TrainBatch b;
  b.B = static_cast<int64_t>(rows.size());
  for (const auto& row : rows) {
    int64_t n = 0;
    for (const Sample& s : row) n += static_cast<int64_t>(s.ids.size());
    b.T = std::max(b.T, n);
  }
  for (const auto& row : rows) {
    int64_t n = 0;
    for (const Sample& s : row) {
      for (size_t t = 0; t < s.ids.size(); ++t, ++n) {
        b.ids.push_back(s.ids[t]);
        b.attention_mask.push_back(1);
        b.labels.push_back(t == 0 ? -100 : s.labels[t]);  // labels[position_ids == 0] = -100
        b.position_ids.push_back(static_cast<int32_t>(t));
      }
    }
    for (; n < b.T; ++n) {
      b.ids.push_back(0);
      b.attention_mask.push_back(0);
      b.labels.push_back(-100);
      b.position_ids.push_back(0);
    }
  }
  if (!with_positions) b.position_ids.clear();
  return b;
}

struct Totals {
  double loss = 0;
  int64_t counted = 0;
  std::vector<std::vector<float>> grads;
};

class TrainPacking : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    model_ = std::make_unique<Model>(Model::load(kGoldenModels + "/" + GetParam()));
    SafetensorsFile f = SafetensorsFile::open(kTrainGolden + "/" + GetParam() + ".safetensors");
    batch_ = golden_batch(f);
    ads_ = golden_adapters(GetParam(), f);
    grads_ = make_weight_gradients(model_->spec(), model_->weights());
    master_ = make_master_weights(model_->spec(), model_->weights(), grads_);
  }
  void zero() {
    zero_weight_gradients(grads_);
    for (LoraAdapter& a : ads_) {
      std::memset(a.grad_a.raw_mut(), 0, a.grad_a.nbytes());
      std::memset(a.grad_b.raw_mut(), 0, a.grad_b.nbytes());
    }
  }
  // Forward/backward of every batch into the same (zeroed) gradients.
  Totals run(const std::vector<TrainBatch>& batches, float scale) {
    zero();
    Totals r;
    StepOptions o;
    o.grad_scale = scale;
    for (const TrainBatch& b : batches) {
      const StepResult s = forward_backward(*model_, master_, &ads_, &grads_, b, o);
      r.loss += s.loss_sum;
      r.counted += s.n_counted;
    }
    r.grads = all_gradients(ads_, &grads_);
    return r;
  }

  std::unique_ptr<Model> model_;
  TrainBatch batch_;
  std::vector<LoraAdapter> ads_;
  ModelWeights grads_, master_;
};

TEST_P(TrainPacking, PackedEqualsSamplesRunSeparately) {
  // Four samples: both golden rows, and shorter cuts of them (uneven lengths, a 1-token sample).
  const std::vector<Sample> s = {sample_of(batch_, 0), sample_of(batch_, 1),
                                 sample_of(batch_, 1, 9), sample_of(batch_, 0, 1),
                                 sample_of(batch_, 0, 17)};
  std::vector<TrainBatch> singles;
  for (const Sample& x : s) singles.push_back(unpacked(x));
  // Row 0 holds three samples, row 1 two and is padded (the golden's sliding windows are shorter
  // than the rows, so windows are counted within a sample here).
  const TrainBatch pk = packed({{s[0], s[2], s[3]}, {s[1], s[4]}});
  int64_t items = 0;
  for (const TrainBatch& b : singles) items += loss_tokens(b);
  const float scale = 1.0f / static_cast<float>(items);

  const Totals want = run(singles, scale);
  const Totals got = run({pk}, scale);
  EXPECT_EQ(got.counted, want.counted);
  EXPECT_EQ(loss_tokens(pk), want.counted);  // num_items_in_batch of packed data = scored tokens
  double worst = 0.0;
  ASSERT_EQ(got.grads.size(), want.grads.size());
  for (size_t k = 0; k < got.grads.size(); ++k)
    worst = std::max(worst, rel_diff(got.grads[k].data(), want.grads[k].data(),
                                     static_cast<int64_t>(want.grads[k].size())));
  std::printf(
      "  %s packed [2, %lld] vs 5 separate samples: loss %.9g vs %.9g, worst grad rel %.2g\n",
      GetParam().c_str(), static_cast<long long>(pk.T), got.loss, want.loss, worst);
  EXPECT_NEAR(got.loss, want.loss, 1e-5 * want.loss);
  EXPECT_LE(worst, 1e-5);

  // The broken variant: the same packed row without position_ids lets samples see each other.
  const Totals leaky = run({packed({{s[0], s[2], s[3]}, {s[1], s[4]}}, false)}, scale);
  EXPECT_GT(std::fabs(leaky.loss - want.loss), 1e-3 * want.loss)
      << "packing without positions should change the loss";
}

TEST_P(TrainPacking, BadPositionIdsAreAUserError) {
  TrainBatch pk = packed({{sample_of(batch_, 0), sample_of(batch_, 1)}});
  pk.position_ids[3] = 7;  // a sample must count 0, 1, 2, ...
  StepOptions o;
  EXPECT_THROW(forward_backward(*model_, master_, &ads_, &grads_, pk, o), Error);
}

INSTANTIATE_TEST_SUITE_P(Families, TrainPacking,
                         ::testing::Values("llama", "llama_linear_tied", "mistral", "qwen2",
                                           "qwen3", "gemma2", "gemma3", "gpt2"));

}  // namespace
}  // namespace tuna
