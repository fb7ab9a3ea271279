// Incremental decoding with a KV cache: the prompt is prefilled once, then each new token runs
// the decoder stack over that token alone, attending to the cached keys/values of every earlier
// position. Gives the logits Model::forward gives on the whole sequence (same masking, sliding
// windows included: the cache keeps every position and masks as the full forward does; RoPE
// positions continue): the one decoder block (model/block.h) runs with this cache as its attention
// hook. One unpadded sequence, CPU F32. Sampling lives in infer/sampling.h.
#pragma once

#include <cstdint>
#include <vector>

#include "model/block.h"
#include "model/lora_adapter.h"
#include "model/model.h"

namespace tuna {

class KvDecoder {
 public:
  // `weights`: the model's own when null, else e.g. a copy with an adapter merged (same shapes).
  // `adapters`: LoRA adapters applied on the fly (unmerged), or null. Both must outlive the
  // decoder.
  explicit KvDecoder(const Model& model, const ModelWeights* weights = nullptr,
                     const std::vector<LoraAdapter>* adapters = nullptr);

  // Runs `ids` at positions length() .. length() + n − 1, appending their keys/values to the
  // cache; returns the logits of every fed token: [n, V] F32 (final soft-capping applied).
  Tensor feed(const std::vector<int32_t>& ids);
  // As feed(), returning the final-norm hidden states [n, C] instead of logits.
  Tensor feed_hidden(const std::vector<int32_t>& ids);
  // feed() and keep the last row only: next-token logits [V].
  std::vector<float> next_logits(const std::vector<int32_t>& ids);

  int64_t length() const { return cache_.length; }
  // One pass for several sequences at once (batched decoding): decoders[i], each a different
  // sequence over the same model and weights — each with its own LoRA adapters applied on the
  // fly, or none (one base pass for all rows, then each sequence's low-rank path on its own
  // rows, the same calls as alone) — is fed ids[i] (at least one id); returns
  // the next-token logits after each one's last id: [n, V]. Every row goes through the same
  // arithmetic as when its decoder is fed alone with next_logits (row-wise ops; attention per
  // sequence; linear layers on at most 8 rows use per-row dots), so a sequence's logits do not
  // depend on the others in the pass as long as the pass has at most kQuantDotMaxN (8) rows.
  static Tensor next_logits_batch(const std::vector<KvDecoder*>& decoders,
                                  const std::vector<std::vector<int32_t>>& ids);
  void reset();  // forget the cache (length 0)
  // Keeps the first n ≤ length() positions: the cache then holds exactly what feeding those n
  // ids from scratch gives (a causal model's keys/values of a prefix do not depend on what
  // follows), so a new sequence sharing them continues from position n.
  // Returns the length kept: n, or 0 (the cache emptied) when a sliding-window layer has already
  // dropped positions the query at n would see.
  int64_t truncate(int64_t n);
  // Bytes the cache holds (allocated), for reports.
  int64_t cache_bytes() const;

 private:
  // The block's attention hook: per layer the keys and values of every position so far.
  struct Cache final : KvCache {
    const ModelSpec* spec = nullptr;
    int64_t length = 0;  // positions cached before the pass in flight
    // Per layer: [length − first, K, D] F32, row-major: positions first .. length − 1. Sliding-
    // window layers drop the positions no later query sees (first > 0); the others keep all.
    std::vector<std::vector<float>> keys, values;
    std::vector<int64_t> first;
    void attend(int64_t layer, const Tensor& q, const Tensor& k, const Tensor& v,
                Tensor& attn) override;
  };
  // The positions of `n` new ids after those cached (a user error past learned positions).
  std::vector<int32_t> new_positions(int64_t n) const;
  // Runs the stack over `ids` at `positions` with `cache` as the attention hook.
  // `rows`: per-row adapters (batched decoding) instead of this decoder's own.
  Tensor run_stack(KvCache& cache, const std::vector<int32_t>& ids,
                   const std::vector<int32_t>& positions,
                   const std::vector<RowAdapters>* rows = nullptr) const;

  const ModelSpec& spec_;
  const ModelWeights& weights_;
  LayerAdapters adapters_;  // empty: none
  Cache cache_;
};

}  // namespace tuna
