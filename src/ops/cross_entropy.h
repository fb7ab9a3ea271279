// Fused, chunked LM head + cross-entropy for training: logits = hidden · Wᵀ (optionally
// soft-capped, Gemma 2), loss = −log softmax(logits)[label], summed over counted tokens, with
// dHidden and (trainable head) dW — without ever materialising [tokens × vocab] logits (Gemma's
// vocab is 262,144). Only tokens with a label reach the head (no logits for −100 positions).
// Logits are computed once per step: a frozen head streams the vocabulary in tiles with an
// online log-sum-exp and a rescaled dHidden accumulator (≈ 16 MiB of logits, one weight tile,
// three [chunk × C] buffers); a trained head keeps [chunk × V] logits (≈ 256 MiB) per chunk.
//
// Label shift: the op shifts, as HF's ForCausalLMLoss does. `labels` are aligned with the
// inputs (HF's `labels`: input ids with −100 where no loss is wanted); position t of a sequence
// is scored against labels[t + 1] of the same sequence, and the last position has no target.
#pragma once

#include <cstdint>

#include "core/tensor.h"

namespace tuna {

constexpr int32_t kIgnoreIndex = -100;

struct LmHeadLossResult {
  double loss_sum = 0.0;  // Σ over counted tokens of −log p(label), natural log, unscaled
  int64_t n_counted = 0;  // tokens with a label != −100 after the shift
  int64_t n_correct = 0;  // counted tokens whose argmax logit (first on ties) is the label
};

// Tokens counted by the loss: labels[b, t] != −100 for t ≥ 1. Sum it over every micro-batch
// of an optimizer step to get the normaliser (so accumulation equals one big batch).
// labels: [B, T] or [T] I32.
int64_t count_loss_tokens(const Tensor& labels);

// hidden: [B, T, C] or [T, C] F32 (final-normed hidden states)   w: [V, C] any weight format
// labels: [B, T] or [T] I32 (unshifted, −100 ignored; others must be in [0, V))
// final_softcap: logits ← tanh(logits / cap) · cap when > 0
// grad_scale: gradients are those of grad_scale · loss_sum; pass 1 / (count_loss_tokens summed
//   over the whole accumulated batch) for HF's mean-over-tokens loss.
// d_hidden: shaped like hidden, F32, written (zero rows for uncounted positions); nullptr: none
// d_w: [V, C] F32, added into (+=); nullptr: the head is frozen. Needs w in F32.
LmHeadLossResult lm_head_cross_entropy(const Tensor& hidden, const Tensor& w, const Tensor& labels,
                                       float final_softcap, float grad_scale, Tensor* d_hidden,
                                       Tensor* d_w);

// Bytes of scratch lm_head_cross_entropy allocates for `tokens` counted tokens (at most) with a
// [vocab, hidden] head, frozen or trained (d_w given): what the training memory estimate counts.
int64_t lm_head_loss_scratch_bytes(int64_t tokens, int64_t vocab, int64_t hidden,
                                   bool head_trained);

namespace cpu {
int64_t count_loss_tokens(const Tensor& labels);
int64_t lm_head_loss_scratch_bytes(int64_t tokens, int64_t vocab, int64_t hidden,
                                   bool head_trained);
LmHeadLossResult lm_head_cross_entropy(const Tensor& hidden, const Tensor& w, const Tensor& labels,
                                       float final_softcap, float grad_scale, Tensor* d_hidden,
                                       Tensor* d_w);
}  // namespace cpu

}  // namespace tuna
