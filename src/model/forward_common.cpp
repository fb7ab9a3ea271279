// Shared forward pieces (see forward_common.h): used by the scoring, decoding and training
// drivers so all read batches, positions, masks and RoPE the same way.
#include "model/forward_common.h"

#include <algorithm>
#include <map>
#include <string>
#include <tuple>

#include "core/error.h"
#include "core/log.h"

namespace tuna {

void validate_batch(const ModelSpec& s, const Batch& batch) {
  const size_t n = static_cast<size_t>(batch.B * batch.T);
  if (batch.B <= 0 || batch.T <= 0 || batch.ids.size() != n)
    throw_user_error("forward", "batch of " + std::to_string(batch.ids.size()) +
                                    " ids is not B×T = " + std::to_string(batch.B) + "×" +
                                    std::to_string(batch.T));
  if (!batch.mask.empty() && batch.mask.size() != n)
    throw_user_error("forward", "attention mask size does not match the ids");
  if (!batch.positions.empty() && batch.positions.size() != n)
    throw_user_error("forward", "position ids size does not match the ids");
  if (s.learned_positions) {
    for (int32_t p : batch.positions)
      if (p >= s.max_positions)
        throw_user_error("forward",
                         "position " + std::to_string(p) + " exceeds the model's " +
                             std::to_string(s.max_positions) + " learned positions",
                         "score shorter sequences");
    if (batch.positions.empty() && batch.T > s.max_positions)
      throw_user_error("forward",
                       std::to_string(batch.T) + " tokens exceed the model's " +
                           std::to_string(s.max_positions) + " learned positions",
                       "score shorter sequences");
  }
}

std::vector<int32_t> batch_positions(const Batch& batch) {
  if (!batch.positions.empty()) return batch.positions;
  std::vector<int32_t> positions(static_cast<size_t>(batch.B * batch.T));
  for (int64_t b = 0; b < batch.B; ++b)
    for (int64_t t = 0; t < batch.T; ++t)
      positions[static_cast<size_t>(b * batch.T + t)] = static_cast<int32_t>(t);
  return positions;
}

Tensor key_valid_mask(const Batch& batch) {
  if (batch.mask.empty()) return Tensor();
  Tensor key_valid = Tensor::empty({batch.B, batch.T}, DType::I32);
  std::copy(batch.mask.begin(), batch.mask.end(), key_valid.data_mut<int32_t>());
  return key_valid;
}

RopeSet build_rope(const ModelSpec& s, const std::vector<int32_t>& positions) {
  RopeSet set;
  if (s.learned_positions) return set;
  set.rows = positions;
  int32_t max_pos = 0;
  for (int32_t p : positions) {
    if (p < 0) throw_user_error("forward", "negative position id " + std::to_string(p));
    max_pos = std::max(max_pos, p);
  }
  if (max_pos >= s.max_positions)
    log_warn(
        "position {} is beyond the model's context length ({}); results are out of distribution",
        max_pos, s.max_positions);
  std::vector<int32_t> all(static_cast<size_t>(max_pos) + 1);
  for (size_t i = 0; i < all.size(); ++i) all[i] = static_cast<int32_t>(i);
  using RopeKey = std::tuple<float, int64_t, int, float, float, float, int64_t>;
  std::map<RopeKey, size_t> seen;
  for (const LayerSpec& l : s.layers) {
    const RopeConfig& r = l.rope;
    const RopeKey key{r.theta,
                      r.dim,
                      static_cast<int>(r.scaling),
                      r.factor,
                      r.low_freq_factor,
                      r.high_freq_factor,
                      r.original_max_position};
    auto it = seen.find(key);
    if (it == seen.end()) {
      it = seen.emplace(key, set.tables.size()).first;
      set.tables.push_back(rope_tables(r, all));
    }
    set.layer_table.push_back(it->second);
  }
  return set;
}

AttentionParams layer_attention_params(const ModelSpec& s, int64_t layer) {
  const LayerSpec& ls = s.layers[static_cast<size_t>(layer)];
  AttentionParams ap;
  ap.scale = s.attn_scale;
  ap.softcap = s.attn_softcap;
  ap.window = ls.sliding ? ls.window : 0;
  return ap;
}

}  // namespace tuna
