// forward_backward: one micro-batch through the whole model for training. Embeddings (Gemma's
// scale, GPT-2's learned positions) → L blocks (block.cpp) → final norm → fused
// chunked LM head + cross-entropy (never [N×V] logits), then the backward in reverse, with
// optional gradient checkpointing. Memory: per block the tensors listed in BlockActs (or only
// the block input when checkpointing), plus one block's worth of scratch.
#include "model/train_step.h"

#include <algorithm>
#include <string>

#include "core/error.h"
#include "model/block.h"
#include "ops/cross_entropy.h"
#include "ops/embedding.h"

namespace tuna {

namespace {

void check_train_batch(const ModelSpec& s, const TrainBatch& tb, Batch& batch) {
  batch.B = tb.B;
  batch.T = tb.T;
  batch.ids = tb.ids;
  batch.mask = tb.attention_mask;
  batch.positions = tb.position_ids;
  validate_batch(s, batch);
  if (tb.labels.size() != tb.ids.size())
    throw_user_error("train",
                     "labels size " + std::to_string(tb.labels.size()) + " does not match the " +
                         std::to_string(tb.ids.size()) + " ids",
                     "labels are input ids with −100 where no loss is wanted");
}

// Packed rows: segment_start [B, T] = the index of the token where each token's sample starts
// (the last position_id 0 at or before it), undefined when the batch has no position_ids. Each
// sample must count 0, 1, 2, … from its start (what TRL's collator builds from seq_lengths).
Tensor segment_starts(const TrainBatch& tb) {
  if (tb.position_ids.empty()) return Tensor();
  Tensor seg = Tensor::empty({tb.B, tb.T}, DType::I32);
  int32_t* out = seg.data_mut<int32_t>();
  for (int64_t b = 0; b < tb.B; ++b) {
    int32_t start = 0;
    for (int64_t t = 0; t < tb.T; ++t) {
      const size_t i = static_cast<size_t>(b * tb.T + t);
      if (tb.position_ids[i] == 0) start = static_cast<int32_t>(t);
      if (tb.position_ids[i] != t - start)
        throw_user_error("train",
                         "position_ids of row " + std::to_string(b) + " read " +
                             std::to_string(tb.position_ids[i]) + " at token " + std::to_string(t) +
                             " where its sample (starting at token " + std::to_string(start) +
                             ") is at " + std::to_string(t - start),
                         "packed rows count 0, 1, 2, … within each sample and restart at 0");
      out[i] = start;
    }
  }
  return seg;
}

Tensor* trainable(Tensor& t) {
  return t.defined() ? &t : nullptr;
}

}  // namespace

uint64_t lora_dropout_stream(uint64_t step, uint64_t micro, int64_t layer, LoraTarget target) {
  TUNA_ASSERT(step < (uint64_t{1} << 36) && micro < 4096 && layer >= 0 && layer < 4096,
              "dropout stream fields out of range");
  return (step << 28) | (micro << 16) | (static_cast<uint64_t>(layer) << 4) |
         static_cast<uint64_t>(target);
}

StepResult forward_backward(const Model& model, const ModelWeights& weights,
                            std::vector<LoraAdapter>* adapters, ModelWeights* grads,
                            const TrainBatch& tb, const StepOptions& opt) {
  const ModelSpec& s = model.spec();
  Batch batch;
  check_train_batch(s, tb, batch);
  const int64_t B = tb.B, T = tb.T, N = B * T, C = s.hidden, L = s.n_layers;
  TUNA_ASSERT(static_cast<int64_t>(weights.layers.size()) == L, "weights have L layers");
  TUNA_ASSERT(grads == nullptr || static_cast<int64_t>(grads->layers.size()) == L,
              "gradients have L layers");
  const std::vector<int32_t> positions = batch_positions(batch);

  BlockContext c;
  c.spec = &s;
  c.wiring = model_wiring(s);
  c.weights = &weights;
  c.grads = opt.backward ? grads : nullptr;
  c.B = B;
  c.T = T;
  c.N = N;
  c.key_valid = key_valid_mask(batch);
  c.segment_start = segment_starts(tb);
  c.rope = build_rope(s, positions);
  const LayerAdapters adapter_table = layer_adapter_table(s, weights, adapters, AdapterUse::TRAIN);
  c.adapters = &adapter_table;
  c.keep = true;
  c.seed = opt.seed;
  c.step = opt.step;
  c.micro = opt.micro;
  c.dropout = opt.backward;

  // Every kept activation lives in one workspace sized by the step's plan: with checkpointing
  // (and in evaluation) each block keeps only its output, the rest of a block's region is reused.
  const bool drop = opt.gradient_checkpointing || !opt.backward;
  std::vector<int64_t> rank_sums(static_cast<size_t>(L), 0);
  for (int64_t li = 0; li < L; ++li)
    for (const LoraAdapter* ad : adapter_table[static_cast<size_t>(li)])
      if (ad != nullptr) rank_sums[static_cast<size_t>(li)] += ad->r;
  const ActivationPlan plan = step_activation_plan(s, c.wiring, rank_sums, drop);
  ActivationWorkspace local;
  ActivationWorkspace& ws = opt.workspace != nullptr ? *opt.workspace : local;
  ws.reserve(plan.total_floats() * N, plan.carves);
  c.workspace = &ws;

  // x: [N, C] embeddings (· sqrt(C) for Gemma, + learned positions for GPT-2)
  Tensor x = ws.take(N, C);
  embed_forward(c.wiring, weights, tb.ids, positions, x);

  // Per block: its activations, or only its input (x_in) with checkpointing.
  std::vector<BlockActs> acts(static_cast<size_t>(L));
  for (int64_t li = 0; li < L; ++li) {
    BlockActs& a = acts[static_cast<size_t>(li)];
    a.x_in = x;
    const int64_t block_start = ws.mark();
    block_forward(c, li, a, x);  // carves x (the block output) first, at block_start
    if (drop) {
      Tensor keep = a.x_in;  // the block input is all a checkpointed block keeps
      a = BlockActs{};
      a.x_in = keep;
      ws.rewind(ActivationWorkspace::end_of_carve(block_start, N * C));  // keep x only
    }
  }
  Tensor hidden = Tensor::empty({B, T, C}, DType::F32);  // final-normed [B, T, C]
  Tensor hidden2 = hidden.reshape({N, C});
  apply_norm(c.wiring, x, weights.final_norm, weights.final_norm_bias, hidden2);

  Tensor labels = Tensor::empty({B, T}, DType::I32);
  std::copy(tb.labels.begin(), tb.labels.end(), labels.data_mut<int32_t>());
  Tensor* d_head = nullptr;  // the LM head's gradient: the embedding's when tied
  if (c.grads != nullptr) d_head = trainable(s.tied_embeddings ? grads->embed : grads->lm_head);
  Tensor d_hidden = opt.backward ? Tensor::empty({B, T, C}, DType::F32) : Tensor();
  const LmHeadLossResult loss =
      lm_head_cross_entropy(hidden, weights.lm_head, labels, s.final_softcap, opt.grad_scale,
                            opt.backward ? &d_hidden : nullptr, d_head);
  StepResult result{loss.loss_sum, loss.n_counted, loss.n_correct};
  if (!opt.backward) return result;

  // ---- backward ----
  Tensor dx = Tensor::empty({N, C}, DType::F32);  // ∂loss/∂(residual stream), [N, C]
  apply_norm_backward(c.wiring, x, weights.final_norm, d_hidden.reshape({N, C}), dx,
                      c.grads ? trainable(c.grads->final_norm) : nullptr,
                      c.grads ? trainable(c.grads->final_norm_bias) : nullptr);
  Tensor d_in = Tensor::empty({N, C}, DType::F32);
  for (int64_t li = L - 1; li >= 0; --li) {
    BlockActs& a = acts[static_cast<size_t>(li)];
    const int64_t recompute_start = ws.mark();
    if (opt.gradient_checkpointing) {
      Tensor unused;
      block_forward(c, li, a, unused);  // same ops, same dropout streams: identical activations
    }
    block_backward(c, li, a, dx, d_in);
    a = BlockActs{};
    ws.rewind(recompute_start);
    std::swap(dx, d_in);
  }
  if (c.grads != nullptr && c.grads->embed.defined())
    embedding_backward(tb.ids, dx, c.wiring.embed_scale, c.grads->embed,
                       c.wiring.embed_padding_idx);
  if (c.grads != nullptr && c.grads->pos_embed.defined())
    embedding_backward(positions, dx, 1.0f, c.grads->pos_embed, -1);
  return result;
}

}  // namespace tuna
