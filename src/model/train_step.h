// The training forward/backward of a whole model (DESIGN.md §2.1): one micro-batch through the
// shared decoder block of every family, keeping what the backward needs, then the hand-written
// backward, producing LoRA adapter gradients and/or base-weight gradients (full fine-tuning,
// modules_to_save, bias training) and the loss through the fused chunked LM head. No optimizer,
// scheduler or accumulation loop here (train/ builds those on forward_backward).
// Dimension letters: B batch, T tokens, N = B·T, C hidden, V vocab, L layers, R LoRA rank.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "model/lora_adapter.h"
#include "model/model.h"
#include "model/weights.h"

namespace tuna {

class ActivationWorkspace;

// A right-padded micro-batch with HF-style labels (aligned with ids; the loss shifts them).
struct TrainBatch {
  int64_t B = 1, T = 0;
  std::vector<int32_t> ids;             // [B·T]
  std::vector<int32_t> attention_mask;  // [B·T] 1 = real token, 0 = padding; empty: all real
  std::vector<int32_t> labels;          // [B·T] token ids, −100 = no loss (kIgnoreIndex)
  // [B·T] or empty (0..T−1 on every row). Packed rows (data/packing.h): each sample counts
  // 0, 1, 2, … from where it starts; a 0 starts a new sample. Positions drive RoPE / GPT-2's
  // learned positions, and attention stays inside each sample (causal, sliding window counted
  // within it) — transformers' padding-free position_ids under flash-attention. Padding may hold
  // any restart (TRL pads with 0).
  std::vector<int32_t> position_ids;
};

struct StepOptions {
  // Gradients are those of grad_scale · Σ token losses: pass 1 / (count_loss_tokens summed over
  // every micro-batch of the optimizer step), so accumulation equals one big batch (HF's
  // num_items_in_batch).
  float grad_scale = 1.0f;
  // Keep only each block's input in the forward; recompute the block inside the backward.
  // Gradients are bit-identical to the run without it.
  bool gradient_checkpointing = false;
  // false: forward and loss only (evaluation; LoRA dropout off, as PEFT in eval mode).
  bool backward = true;
  // LoRA dropout masks are Philox streams keyed by `seed`, distinct per (step, micro, layer,
  // module) — see lora_dropout_stream — so no two masks of a run repeat.
  uint64_t seed = 0;
  uint64_t step = 0;   // optimizer step (< 2^36)
  uint64_t micro = 0;  // micro-batch within the step (< 4096)
  // Where the kept activations live (model/block.h): pass one that outlives the steps so its
  // buffer is allocated once; null: a workspace of this call's own.
  ActivationWorkspace* workspace = nullptr;
};

struct StepResult {
  double loss_sum = 0.0;  // Σ −log p(label) over counted tokens (natural log, unscaled)
  int64_t n_counted = 0;  // tokens whose shifted label is not −100
  int64_t n_correct = 0;  // of those, argmax == label (TRL's mean_token_accuracy numerator)
};

// Runs one micro-batch. `weights`: the model's own weights or an F32 master copy from
// make_master_weights (trainable slots must be F32). `adapters` (nullable): LoRA adapters laid
// on their target linears; grad_a/grad_b are added into (allocated as zeros when undefined).
// `grads` (nullable): a ModelWeights-shaped gradient set; each defined (F32) slot is trainable
// and added into (+=). Tied embeddings: the LM head gradient goes into grads->embed.
// Embedding rows at the config's pad_token_id get no lookup gradient (nn.Embedding(padding_idx)
// as transformers' Llama/Mistral/Qwen/Gemma/EXAONE build it; GPT-2 has none).
StepResult forward_backward(const Model& model, const ModelWeights& weights,
                            std::vector<LoraAdapter>* adapters, ModelWeights* grads,
                            const TrainBatch& batch, const StepOptions& options);

// The Philox stream of one adapter's dropout mask: step (36 bits) | micro (12) | layer (12) |
// target (4). The element counter inside a stream is n·in + i over the linear's input [N, in].
uint64_t lora_dropout_stream(uint64_t step, uint64_t micro, int64_t layer, LoraTarget target);

// ---- trainable base weights ---------------------------------------------------------------------
// Slot names: "embed", "pos_embed", "final_norm", "final_norm_bias", "lm_head", and
// "layers.<i>.<slot>" with <slot> one of attn_norm, attn_norm_bias, q, k, v, o, q_bias, k_bias,
// v_bias, o_bias, qkv, qkv_bias, q_norm, k_norm, post_attn_norm, ffn_norm, ffn_norm_bias,
// post_ffn_norm, gate, up, down, gate_bias, up_bias, down_bias (only slots the model has).
using SlotFilter = std::function<bool(const std::string& slot)>;

// Calls fn(slot name, tensor) for every defined slot of w (the tied lm_head included).
void for_each_weight_slot(ModelWeights& w,
                          const std::function<void(const std::string&, Tensor&)>& fn);
void for_each_weight_slot(const ModelWeights& w,
                          const std::function<void(const std::string&, const Tensor&)>& fn);

// Zero F32 gradients for the slots `trainable` selects (nullptr: every slot — full fine-tuning).
// Tied embeddings are one parameter: "embed" or "lm_head" selects it, and the gradient lives in
// the embed slot only (the lm_head slot stays undefined).
ModelWeights make_weight_gradients(const ModelSpec& spec, const ModelWeights& w,
                                   const SlotFilter& trainable = nullptr);

// F32 master weights for training: a copy of `w` in which every slot with a defined gradient in
// `grads` is an owned F32 copy (the rest stay views of the checkpoint). A tied LM head aliases
// the master embedding (one tensor, trained once).
ModelWeights make_master_weights(const ModelSpec& spec, const ModelWeights& w,
                                 const ModelWeights& grads);

// Sets every defined gradient slot to zero.
void zero_weight_gradients(ModelWeights& grads);

}  // namespace tuna
