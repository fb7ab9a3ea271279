// Pieces shared by the inference forward (transformer.cpp) and the training forward/backward
// (transformer_train.cpp, train_step.cpp): batch checks, default positions, the key-padding
// mask, RoPE tables per layer and the norm dispatch (forward and backward); the element-wise
// helpers come from ops/elementwise.h.
// Internal to model/; nothing here allocates beyond what it returns.
#pragma once

#include <array>
#include <functional>
#include <vector>

#include "core/tensor.h"
#include "io/model_spec.h"
#include "lora/adapter.h"
#include "model/model.h"
#include "ops/attention.h"
#include "ops/elementwise.h"  // add_inplace, add_into, copy_columns, put_columns
#include "ops/norm.h"
#include "ops/rope.h"

namespace tuna {

// Throws a user error when ids/mask/positions do not match B×T or exceed learned positions.
void validate_batch(const ModelSpec& s, const Batch& batch);
// batch.positions, or 0..T-1 on every row (transformers' default): [B·T].
std::vector<int32_t> batch_positions(const Batch& batch);
// [B, T] I32 copy of batch.mask, or undefined when the batch has no mask.
Tensor key_valid_mask(const Batch& batch);

// RoPE cos/sin tables for every position up to the largest used, one per distinct layer config
// (Gemma 3's local and global layers differ). Empty for learned positions (GPT-2).
struct RopeSet {
  std::vector<RopeTables> tables;   // distinct configs
  std::vector<size_t> layer_table;  // [L] index into tables
  std::vector<int32_t> rows;        // [B·T] table row of each token (its position)
  const RopeTables& for_layer(int64_t layer) const {
    return tables[layer_table[static_cast<size_t>(layer)]];
  }
};
RopeSet build_rope(const ModelSpec& s, const std::vector<int32_t>& positions);

// The attention parameters of one layer (scale, soft-cap, sliding window).
AttentionParams layer_attention_params(const ModelSpec& s, int64_t layer);
// The q/k norm kind of the spec's family (Gemma's (1 + w), else Llama's w).
RmsNormKind qk_norm_kind(const ModelSpec& s);

// y = norm(x) with the spec's norm type (b: LayerNorm bias, else ignored). y may alias x.
void apply_norm(const ModelSpec& s, const Tensor& x, const Tensor& w, const Tensor& b, Tensor& y);
// Backward of apply_norm: dx written (must not alias dy); dw/db += (nullptr: frozen).
void apply_norm_backward(const ModelSpec& s, const Tensor& x, const Tensor& w, const Tensor& dy,
                         Tensor& dx, Tensor* dw, Tensor* db);

// One layer's attention inside decoder_hidden: q [N, H·D], k, v [N, K·D] (after q/k norm and
// RoPE) -> attn [N, H·D]. The full forward attends within the batch; generation against its cache.
using AttentionStep = std::function<void(int64_t layer, const Tensor& q, const Tensor& k,
                                         const Tensor& v, Tensor& attn)>;
// adapters[layer][target]: a LoRA adapter applied on the fly on that linear, or nullptr.
using LayerAdapters = std::vector<std::array<const LoraAdapter*, 8>>;
// The LayerAdapters table of `adapters` (those with layer >= 0) for a model of `n_layers`.
LayerAdapters layer_adapter_table(const std::vector<LoraAdapter>& adapters, int64_t n_layers);
// The decoder stack over N = ids.size() tokens at `positions` ([N]): embeddings, L blocks (the
// attention itself delegated to `attend`; LoRA `adapters` applied unmerged when given), final
// norm -> hidden [N, C] F32.
Tensor decoder_hidden(const ModelSpec& s, const ModelWeights& w, const std::vector<int32_t>& ids,
                      const std::vector<int32_t>& positions, const AttentionStep& attend,
                      const LayerAdapters* adapters = nullptr);
// LM head (+ final soft-capping) over hidden [N, C] -> logits [N, V] F32.
Tensor head_logits(const ModelSpec& s, const ModelWeights& w, const Tensor& hidden);

}  // namespace tuna
