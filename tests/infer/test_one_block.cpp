// One block, three drivers: on every tiny golden model the training forward's loss equals the
// scoring forward's log-probabilities (padded batch, no adapters) and the KV decoder's fed in
// chunks (LoRA adapters applied unmerged through the one adapter table), and the family wiring
// derived from the spec agrees with the weights the loader bound.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "infer/kv_decoder.h"
#include "lora/config.h"
#include "lora/targets.h"
#include "model/block.h"
#include "model/model.h"
#include "model/train_step.h"

namespace tuna {
namespace {

const std::string kModels = std::string(TUNA_GOLDEN_DIR) + "/models";

// Σ over t of −log softmax(logits[t])[ids[t + 1]] for rows whose next token counts, in double.
double next_token_nll(const float* logits, int64_t V, const std::vector<int32_t>& ids,
                      const std::vector<int32_t>& counted, int64_t t0, int64_t t1) {
  double sum = 0.0;
  for (int64_t t = t0; t + 1 < t1; ++t) {
    if (counted[static_cast<size_t>(t + 1)] == 0) continue;
    const float* row = logits + (t - t0) * V;
    const double max = *std::max_element(row, row + V);
    double z = 0.0;
    for (int64_t v = 0; v < V; ++v) z += std::exp(static_cast<double>(row[v]) - max);
    sum += max + std::log(z) - row[ids[static_cast<size_t>(t + 1)]];
  }
  return sum;
}

// Deterministic ids in [1, V).
std::vector<int32_t> test_ids(int64_t n, int64_t vocab, int64_t salt) {
  std::vector<int32_t> ids;
  for (int64_t i = 0; i < n; ++i)
    ids.push_back(static_cast<int32_t>(1 + (i * 37 + 11 + salt) % (vocab - 1)));
  return ids;
}

class OneBlock : public ::testing::TestWithParam<std::string> {};

// Scoring (Model::forward over a right-padded [2, T] batch) and training (forward_backward
// without backward) give the same loss.
TEST_P(OneBlock, TrainingLossEqualsScoringLogProbs) {
  const Model model = Model::load(kModels + "/" + GetParam());
  const int64_t T = std::min<int64_t>(16, model.spec().max_positions), V = model.spec().vocab;
  std::vector<int32_t> ids = test_ids(T, V, 0), row2 = test_ids(T, V, 5);
  ids.insert(ids.end(), row2.begin(), row2.end());
  std::vector<int32_t> mask(static_cast<size_t>(2 * T), 1);
  for (int64_t t = T - 4; t < T; ++t) mask[static_cast<size_t>(T + t)] = 0;  // row 2 padded

  Batch batch;
  batch.B = 2;
  batch.T = T;
  batch.ids = ids;
  batch.mask = mask;
  const Tensor logits = model.forward(batch);  // [2, T, V]
  double scored = 0.0;
  for (int64_t b = 0; b < 2; ++b) {
    const std::vector<int32_t> row(ids.begin() + b * T, ids.begin() + (b + 1) * T);
    const std::vector<int32_t> counted(mask.begin() + b * T, mask.begin() + (b + 1) * T);
    scored += next_token_nll(logits.data<float>() + b * T * V, V, row, counted, 0, T);
  }

  TrainBatch tb;
  tb.B = 2;
  tb.T = T;
  tb.ids = ids;
  tb.attention_mask = mask;
  tb.labels = ids;
  for (size_t i = 0; i < mask.size(); ++i)
    if (mask[i] == 0) tb.labels[i] = -100;
  StepOptions eval;
  eval.backward = false;
  const StepResult trained = forward_backward(model, model.weights(), nullptr, nullptr, tb, eval);
  EXPECT_EQ(trained.n_counted, 2 * (T - 1) - 4);
  EXPECT_NEAR(trained.loss_sum, scored, 1e-5 * std::fabs(scored)) << GetParam();
}

// KV-cached decoding (a prefill of 5, a chunk of 3, then single tokens) and training give the
// same loss with LoRA adapters on every linear, applied on the fly by both.
TEST_P(OneBlock, TrainingLossEqualsDecodingLogProbsWithAdapters) {
  const Model model = Model::load(kModels + "/" + GetParam());
  const int64_t T = std::min<int64_t>(16, model.spec().max_positions), V = model.spec().vocab;
  LoraSet lora = create_lora(
      model, lora_config_from_json({{"r", 4},
                                    {"lora_alpha", 8},
                                    {"lora_dropout", 0.1},  // off: training without backward
                                    {"target_modules", "all-linear"}},
                                   "test"));
  for (size_t i = 0; i < lora.adapters.size(); ++i) {
    Tensor& b = lora.adapters[i].b;
    for (int64_t e = 0; e < b.numel(); ++e)
      b.data_mut<float>()[e] = 0.05f * std::sin(static_cast<float>(3 * e + 7 * i));
  }
  const std::vector<int32_t> ids = test_ids(T, V, 3);
  const std::vector<int32_t> counted(ids.size(), 1);

  KvDecoder dec(model, nullptr, &lora.adapters);
  double decoded = 0.0;
  for (int64_t t = 0; t < T;) {
    const int64_t n = std::min<int64_t>(T - t, t == 0 ? 5 : (t == 5 ? 3 : 1));
    const Tensor got = dec.feed(std::vector<int32_t>(ids.begin() + t, ids.begin() + t + n));
    // The last fed row predicts the next chunk's first token: score rows [t, t + n) against ids.
    decoded += next_token_nll(got.data<float>(), V, ids, counted, t, std::min(T, t + n + 1));
    t += n;
  }

  std::vector<LoraAdapter> adapters;
  for (const LoraAdapter& a : lora.adapters)
    if (a.layer >= 0) adapters.push_back(a);
  TrainBatch tb;
  tb.T = T;
  tb.ids = ids;
  tb.labels = ids;
  StepOptions eval;
  eval.backward = false;
  const StepResult trained = forward_backward(model, model.weights(), &adapters, nullptr, tb, eval);
  StepOptions eval_base = eval;
  const StepResult base = forward_backward(model, model.weights(), nullptr, nullptr, tb, eval_base);
  EXPECT_GT(std::fabs(trained.loss_sum - base.loss_sum), 1e-4) << "the adapters had no effect";
  EXPECT_NEAR(trained.loss_sum, decoded, 1e-5 * std::fabs(decoded)) << GetParam();
}

// The wiring the block reads is derived from the spec alone; it must agree with the weights the
// family's loader bound (the block asserts the same per layer).
TEST_P(OneBlock, WiringAgreesWithTheLoadedWeights) {
  const Model model = Model::load(kModels + "/" + GetParam());
  const ModelWiring wr = model_wiring(model.spec());
  for (const LayerWeights& lw : model.weights().layers) {
    EXPECT_EQ(wr.fused_qkv, lw.qkv.defined());
    EXPECT_EQ(!wr.fused_qkv, lw.q.defined() && lw.k.defined() && lw.v.defined());
    EXPECT_EQ(wr.qk_norm, lw.q_norm.defined() && lw.k_norm.defined());
    EXPECT_EQ(wr.sandwich_norm, lw.post_attn_norm.defined() && lw.post_ffn_norm.defined());
    EXPECT_EQ(wr.gated_mlp, lw.gate.defined());
  }
  EXPECT_EQ(wr.learned_positions, model.weights().pos_embed.defined());
}

INSTANTIATE_TEST_SUITE_P(Families, OneBlock,
                         ::testing::Values("gemma3", "gemma3_bf16", "gemma2", "llama",
                                           "llama_linear_tied", "mistral", "qwen2", "qwen3", "gpt2",
                                           "exaone"));

}  // namespace
}  // namespace tuna
