// The activation plan stated once in model/block.h (block_kept_floats_per_token) against what
// block_forward really keeps: on every tiny golden model, with LoRA adapters of different ranks
// on every linear of a block, the kept BlockActs hold exactly that many F32 values per token
// (so the training memory estimate, which counts with it, counts what the block allocates).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "model/block.h"
#include "model/model.h"

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

class BlockPlan : public ::testing::TestWithParam<std::string> {};

TEST_P(BlockPlan, KeptActivationsMatchThePlan) {
  const Model model = Model::load(kModels + "/" + GetParam());
  const ModelSpec& s = model.spec();
  const ModelWeights& w = model.weights();
  const ModelWiring wr = model_wiring(s);
  const int64_t T = 8, layer = 0;

  // An adapter of rank 2 + target on every linear layer 0 has.
  std::vector<LoraAdapter> adapters;
  int64_t rank_sum = 0;
  for (LoraTarget t : {LoraTarget::Q, LoraTarget::K, LoraTarget::V, LoraTarget::O, LoraTarget::GATE,
                       LoraTarget::UP, LoraTarget::DOWN, LoraTarget::QKV}) {
    const Tensor* base = linear_slots(w.layers[static_cast<size_t>(layer)], t).first;
    if (!base->defined()) continue;
    LoraAdapter a;
    a.layer = static_cast<int>(layer);
    a.target = t;
    a.module = "layer0." + std::to_string(static_cast<int>(t));
    a.r = 2 + static_cast<int64_t>(t);
    a.in = w.linear_transposed ? base->dim(0) : base->dim(1);
    a.out = w.linear_transposed ? base->dim(1) : base->dim(0);
    a.a = Tensor::zeros({a.r, a.in}, DType::F32);
    a.b = Tensor::zeros({a.out, a.r}, DType::F32);
    rank_sum += a.r;
    adapters.push_back(std::move(a));
  }
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

INSTANTIATE_TEST_SUITE_P(Families, BlockPlan,
                         ::testing::Values("gemma3", "gemma3_bf16", "gemma2", "llama",
                                           "llama_linear_tied", "mistral", "qwen2", "qwen3", "gpt2",
                                           "exaone"));

}  // namespace
}  // namespace tuna
