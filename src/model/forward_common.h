// Pieces shared by the stack drivers around the block (scoring in transformer.cpp, training in
// train_step.cpp, decoding in infer/kv_decoder.cpp) and the block itself (block.cpp): batch
// checks, default positions, the key-padding mask, RoPE tables per layer, attention parameters
// and the LM head's logits (head_logits; element-wise helpers come from ops/elementwise.h).
// Nothing here allocates beyond what it returns.
#pragma once

#include <vector>

#include "core/tensor.h"
#include "io/model_spec.h"
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
// LM head (+ final soft-capping) over hidden [N, C] -> logits [N, V] F32.
Tensor head_logits(const ModelSpec& s, const ModelWeights& w, const Tensor& hidden);

}  // namespace tuna
