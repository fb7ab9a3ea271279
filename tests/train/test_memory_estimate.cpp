// The training memory estimate: the per-token activation term mirrors what the Gemma 3 270M
// forward keeps (10,552 floats per token and layer with r=8 on seven linears), checkpointing
// keeps far less, a trained LM head adds its [chunk × vocab] logits, and /proc/meminfo is read.
// bench_train_step compares it with measured peaks (docs/training.md "Memory").
#include <gtest/gtest.h>

#include <filesystem>

#include "model/model.h"
#include "ops/cross_entropy.h"
#include "train/memory_estimate.h"

namespace tuna {
namespace {

TEST(MemoryEstimate, Gemma3ActivationsAndCheckpointing) {
  const std::string gguf = std::string(TUNA_GOLDEN_DIR) + "/../../models/gemma-3-270m-q4_k_m.gguf";
  ASSERT_TRUE(std::filesystem::exists(gguf)) << "run scripts/setup.sh";
  Model m = Model::load(gguf);
  EXPECT_EQ(activation_bytes_per_token_layer(m.spec(), 7 * 8), 10552 * 4);
  std::vector<LoraAdapter> adapters(7 * 18);
  for (size_t i = 0; i < adapters.size(); ++i) {
    adapters[i].layer = static_cast<int>(i / 7);
    adapters[i].r = 8;
    adapters[i].a = Tensor::zeros({8, 640}, DType::F32);
    adapters[i].b = Tensor::zeros({640, 8}, DType::F32);
  }
  MemoryEstimate full = estimate_training_memory(m, adapters, 1024, false, 8.0);
  MemoryEstimate ckpt = estimate_training_memory(m, adapters, 1024, true, 8.0);
  EXPECT_EQ(full.activations, int64_t{1024} * 18 * 10552 * 4);
  EXPECT_LT(ckpt.activations * 4, full.activations);
  EXPECT_EQ(full.weights, m.weight_bytes());
  EXPECT_NE(full.describe().find("activations"), std::string::npos);
  EXPECT_GT(available_memory_bytes(), int64_t{1} << 26);
  // The loss scratch as the LM-head op sizes it: a frozen head streams ≈ 16 MiB logit tiles
  // (plus one dequantized weight tile); a trained head (full fine-tuning) keeps 256 rows ×
  // 262,144 logits = 256 MiB, which the estimate must count.
  const int64_t V = m.spec().vocab, C = m.spec().hidden;
  EXPECT_EQ(lm_head_loss_scratch_bytes(1024, V, C, false),
            4 * (3 * 1024 * C + 4194304 + (4194304 / C) * C));
  EXPECT_EQ(lm_head_loss_scratch_bytes(1024, V, C, true), 4 * (2 * 256 * C + 256 * V));
  MemoryEstimate trained = estimate_training_memory(m, adapters, 1024, false, 8.0, 0, true);
  EXPECT_EQ(trained.scratch - full.scratch, lm_head_loss_scratch_bytes(1024, V, C, true) -
                                                lm_head_loss_scratch_bytes(1024, V, C, false));
  EXPECT_GT(trained.scratch - full.scratch, int64_t{200} << 20);  // 256 MiB logits − ≈ 34 MiB
}

}  // namespace
}  // namespace tuna
