// The activation plan stated once in model/block.h (block_kept_floats_per_token) against what
// block_forward really keeps: on every tiny golden model, with LoRA adapters of different ranks
// on every linear of a block, the kept BlockActs hold exactly that many F32 values per token
// (so the training memory estimate, which counts with it, counts what the block allocates); and
// a whole training step, with and without gradient checkpointing, carves exactly what
// step_activation_plan sizes its workspace for.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "model/block.h"
#include "model/model.h"
#include "model/train_step.h"

namespace tuna {
namespace {

const std::string kModels = std::string(TUNA_GOLDEN_DIR) + "/models";

int64_t kept_floats(const BlockActs& a) {
  int64_t n = 0;
  for (const Tensor* t : {&a.x_in, &a.q_pre, &a.k_pre, &a.q, &a.k, &a.v, &a.attn, &a.o_out,
                          &a.x_mid, &a.gate, &a.up, &a.down_out, &a.h, &a.qkv, &a.proj, &a.act})
    if (t->defined()) n += t->numel();
  for (const Tensor& xa : a.xa)
    if (xa.defined()) n += xa.numel();
  return n;
}

// An adapter of rank 2 + target on every linear of `layers` layers of w; rank_sums[l] their sum.
std::vector<LoraAdapter> adapters_on_every_linear(const ModelWeights& w, int64_t layers,
                                                  std::vector<int64_t>& rank_sums) {
  std::vector<LoraAdapter> adapters;
  rank_sums.assign(w.layers.size(), 0);
  for (int64_t layer = 0; layer < layers; ++layer)
    for (LoraTarget t : {LoraTarget::Q, LoraTarget::K, LoraTarget::V, LoraTarget::O,
                         LoraTarget::GATE, LoraTarget::UP, LoraTarget::DOWN, LoraTarget::QKV}) {
      const Tensor* base = linear_slots(w.layers[static_cast<size_t>(layer)], t).first;
      if (!base->defined()) continue;
      LoraAdapter a;
      a.layer = static_cast<int>(layer);
      a.target = t;
      a.module = "layer" + std::to_string(layer) + "." + std::to_string(static_cast<int>(t));
      a.r = 2 + static_cast<int64_t>(t);
      a.in = w.linear_transposed ? base->dim(0) : base->dim(1);
      a.out = w.linear_transposed ? base->dim(1) : base->dim(0);
      a.a = Tensor::zeros({a.r, a.in}, DType::F32);
      a.b = Tensor::zeros({a.out, a.r}, DType::F32);
      rank_sums[static_cast<size_t>(layer)] += a.r;
      adapters.push_back(std::move(a));
    }
  return adapters;
}

class BlockPlan : public ::testing::TestWithParam<std::string> {};

TEST_P(BlockPlan, KeptActivationsMatchThePlan) {
  const Model model = Model::load(kModels + "/" + GetParam());
  const ModelSpec& s = model.spec();
  const ModelWeights& w = model.weights();
  const ModelWiring wr = model_wiring(s);
  const int64_t T = 8, layer = 0;

  std::vector<int64_t> rank_sums;
  std::vector<LoraAdapter> adapters = adapters_on_every_linear(w, 1, rank_sums);
  const int64_t rank_sum = rank_sums[0];
  const LayerAdapters table = layer_adapter_table(s, w, &adapters, AdapterUse::TRAIN);

  std::vector<int32_t> ids, positions;
  for (int64_t t = 0; t < T; ++t) {
    ids.push_back(static_cast<int32_t>(1 + t % (s.vocab - 1)));
    positions.push_back(static_cast<int32_t>(t));
  }
  BlockContext c;
  c.spec = &s;
  c.wiring = wr;
  c.weights = &w;
  c.adapters = &table;
  c.B = 1;
  c.T = T;
  c.N = T;
  c.rope = build_rope(s, positions);
  c.keep = true;
  BlockActs acts;
  acts.x_in = Tensor::empty({T, s.hidden}, DType::F32);
  embed_forward(wr, w, ids, positions, acts.x_in);
  Tensor x_out;
  block_forward(c, layer, acts, x_out);

  EXPECT_EQ(kept_floats(acts), block_kept_floats_per_token(s, wr, rank_sum) * T) << GetParam();
  // A plan that forgot a field (here: x_mid) would not match.
  EXPECT_NE(kept_floats(acts), (block_kept_floats_per_token(s, wr, rank_sum) - s.hidden) * T);
}

// A training step (LoRA on every linear of the first layer only: blocks keep different amounts)
// carves its kept activations from one workspace: the most it has in use equals the step's plan
// (up to each carve's 64-byte alignment), with and without checkpointing; in evaluation it stays
// within the plan.
TEST_P(BlockPlan, StepCarvesWhatThePlanSizes) {
  const Model model = Model::load(kModels + "/" + GetParam());
  const ModelSpec& s = model.spec();
  std::vector<int64_t> rank_sums;
  std::vector<LoraAdapter> adapters = adapters_on_every_linear(model.weights(), 1, rank_sums);
  TrainBatch tb;
  tb.B = 2;
  tb.T = std::min<int64_t>(8, s.max_positions);
  for (int64_t i = 0; i < tb.B * tb.T; ++i) tb.ids.push_back(static_cast<int32_t>(1 + i % 7));
  tb.labels = tb.ids;
  const int64_t N = tb.B * tb.T;
  for (int mode = 0; mode < 3; ++mode) {  // plain, gradient checkpointing, evaluation
    StepOptions o;
    o.gradient_checkpointing = mode == 1;
    o.backward = mode != 2;
    ActivationWorkspace ws;
    o.workspace = &ws;
    forward_backward(model, model.weights(), &adapters, nullptr, tb, o);
    const ActivationPlan plan = step_activation_plan(s, model_wiring(s), rank_sums, mode != 0);
    const int64_t planned = plan.total_floats() * N;
    // Evaluation never recomputes a block, so the plan only bounds it.
    if (mode != 2) {
      EXPECT_GE(ws.high_water(), planned) << GetParam() << " mode " << mode;
    }
    EXPECT_LE(ws.high_water(), planned + plan.carves * ActivationWorkspace::kAlignFloats)
        << GetParam() << " mode " << mode;
  }
}

INSTANTIATE_TEST_SUITE_P(Families, BlockPlan,
                         ::testing::Values("gemma3", "gemma3_bf16", "gemma2", "llama",
                                           "llama_linear_tied", "mistral", "qwen2", "qwen3", "gpt2",
                                           "exaone"));

}  // namespace
}  // namespace tuna
