// The optimizer-step loop on a toy model whose loss is a sum over label tokens (so the HF
// normalisation can be checked exactly): accumulation equals one big batch, the normaliser is
// transformers' num_items_in_batch, the schedule and clipping are applied in the Trainer's order.
// The parity with the HF Trainer on real models is tested in tests/model (trainer goldens).
#include <gtest/gtest.h>

#include <cmath>

#include "train/trainer.h"

namespace tuna {
namespace {

// loss_sum = Σ over labelled positions t ≥ 1 of ½ (w[label % 4] − 1)²; grad w[j] += scale · Σ (w[j]
// − 1).
struct Toy {
  Tensor w = Tensor::from_f32({4}, {0.5f, -0.25f, 2.0f, 0.0f});
  Tensor g = Tensor::zeros({4}, DType::F32);
  MicroStats operator()(const MicroBatch& mb, float scale) {
    MicroStats s;
    const int32_t* l = mb.labels.data<int32_t>();
    const int64_t B = mb.labels.shape()[0], T = mb.labels.shape()[1];
    float* gw = g.data_mut<float>();
    const float* wv = w.data<float>();
    for (int64_t b = 0; b < B; ++b)
      for (int64_t t = 1; t < T; ++t) {
        int32_t y = l[b * T + t];
        if (y == -100) continue;
        float d = wv[y % 4] - 1.0f;
        s.loss_sum += 0.5 * d * d;
        s.counted++;
        gw[y % 4] += scale * d;
      }
    return s;
  }
};

std::vector<TrainRow> rows() {
  return {{{5, 6, 7, 8}, {-100, 6, 7, 8}},
          {{1, 2, 3}, {1, 2, 3}},
          {{9, 9, 9, 9, 9}, {-100, -100, 1, 2, 3}},
          {{4, 4}, {-100, 0}}};
}

std::vector<StepLog> run(int64_t bs, int64_t ga, double max_grad_norm = 0.0) {
  Toy toy;
  TrainerArgs a;
  a.per_device_train_batch_size = bs;
  a.gradient_accumulation_steps = ga;
  a.max_steps = 6;
  a.learning_rate = 0.1;
  a.lr_scheduler_type = "cosine";
  a.warmup_steps = 2;
  a.max_grad_norm = max_grad_norm;
  a.optim = "sgd";
  Trainer tr(a, {{"w", toy.w, toy.g, true}},
             [&](const MicroBatch& mb, float scale, int64_t, int) { return toy(mb, scale); });
  return tr.train(rows());
}

TEST(Trainer, AccumulationEqualsOneBigBatch) {
  auto big = run(4, 1), acc = run(2, 2), single = run(1, 4);
  ASSERT_EQ(big.size(), 6u);
  for (size_t i = 0; i < big.size(); ++i) {
    EXPECT_NEAR(big[i].loss, acc[i].loss, 1e-6 * std::abs(big[i].loss)) << i;
    EXPECT_NEAR(big[i].loss, single[i].loss, 1e-6 * std::abs(big[i].loss)) << i;
    EXPECT_NEAR(big[i].grad_norm, acc[i].grad_norm, 1e-6) << i;
    EXPECT_EQ(big[i].num_items_in_batch, 10);  // every label != -100, unshifted (HF 4.57)
  }
  EXPECT_LT(big.back().loss, big.front().loss);  // SGD on a quadratic descends
}

TEST(Trainer, ScheduleAndClippingInHfOrder) {
  auto logs = run(2, 2, 0.01);
  // cosine with 2 warmup steps over 6: lr(0) = 0, lr(1) = 0.05, lr(2) = 0.1.
  EXPECT_DOUBLE_EQ(logs[0].lr_used, 0.0);
  EXPECT_DOUBLE_EQ(logs[1].lr_used, 0.05);
  EXPECT_DOUBLE_EQ(logs[2].lr_used, 0.1);
  EXPECT_DOUBLE_EQ(logs[0].learning_rate, logs[1].lr_used);  // HF logs lr after the step
  // Clipped to 0.01: the step moves w by at most lr · 0.01, so the loss barely moves.
  auto unclipped = run(2, 2, 0.0);
  EXPECT_DOUBLE_EQ(logs[0].grad_norm, unclipped[0].grad_norm);  // measured before clipping
  EXPECT_GT(std::abs(unclipped[3].loss - unclipped[2].loss), std::abs(logs[3].loss - logs[2].loss));
  EXPECT_DOUBLE_EQ(logs[0].epoch, 1.0);  // 2 batches per epoch, 2 per step
  EXPECT_DOUBLE_EQ(logs[1].epoch, 2.0);
}

TEST(Trainer, CollatePadsRight) {
  MicroBatch mb = collate(rows(), 1, 2, 0);
  ASSERT_EQ(mb.input_ids.shape()[1], 5);
  const int32_t* ids = mb.input_ids.data<int32_t>();
  const int32_t* mask = mb.attention_mask.data<int32_t>();
  const int32_t* labels = mb.labels.data<int32_t>();
  EXPECT_EQ(ids[3], 0);
  EXPECT_EQ(mask[3], 0);
  EXPECT_EQ(labels[3], -100);
  EXPECT_EQ(labels[2], 3);
  EXPECT_EQ(mask[5 + 4], 1);
}

}  // namespace
}  // namespace tuna
