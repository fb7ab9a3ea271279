// KvDecoder (see generate.h): the shared decoder stack (decoder_hidden) with an attention step
// that appends the new keys/values to the per-layer cache and attends each new query to the
// cached positions it may see — causal, inside the layer's sliding window, with the forward's
// scale, soft-capping and F32 softmax. Dimension letters: n new tokens, S cached + new
// positions, H heads, K kv heads, D head dim, V vocab.
#include "model/generate.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/error.h"
#include "model/forward_common.h"

namespace tuna {

KvDecoder::KvDecoder(const Model& model, const ModelWeights* weights,
                     const std::vector<LoraAdapter>* adapters)
    : spec_(model.spec()), weights_(weights != nullptr ? *weights : model.weights()) {
  if (adapters != nullptr) adapters_ = layer_adapter_table(*adapters, spec_.n_layers);
  reset();
}

void KvDecoder::reset() {
  length_ = 0;
  keys_.assign(static_cast<size_t>(spec_.n_layers), {});
  values_.assign(static_cast<size_t>(spec_.n_layers), {});
}

void KvDecoder::truncate(int64_t n) {
  TUNA_ASSERT(n >= 0 && n <= length_, "KvDecoder::truncate: n outside [0, length]");
  if (n == length_) return;
  for (size_t l = 0; l < keys_.size(); ++l) {
    const size_t per_position = keys_[l].size() / static_cast<size_t>(length_);  // K · D
    keys_[l].resize(per_position * static_cast<size_t>(n));
    values_[l].resize(per_position * static_cast<size_t>(n));
  }
  length_ = n;
}

Tensor KvDecoder::feed_hidden(const std::vector<int32_t>& ids) {
  TUNA_ASSERT(!ids.empty(), "KvDecoder::feed: no ids");
  const int64_t n = static_cast<int64_t>(ids.size()), p0 = length_, H = spec_.n_heads,
                K = spec_.n_kv_heads, D = spec_.head_dim;
  if (spec_.learned_positions && p0 + n > spec_.max_positions)
    throw_user_error("generate",
                     std::to_string(p0 + n) + " tokens exceed the model's " +
                         std::to_string(spec_.max_positions) + " learned positions",
                     "use a shorter prompt or fewer --max-new-tokens");
  std::vector<int32_t> positions(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) positions[static_cast<size_t>(i)] = static_cast<int32_t>(p0 + i);

  Tensor hidden = decoder_hidden(
      spec_, weights_, ids, positions,
      [&](int64_t layer, const Tensor& q, const Tensor& k, const Tensor& v, Tensor& attn) {
        std::vector<float>& kc = keys_[static_cast<size_t>(layer)];
        std::vector<float>& vc = values_[static_cast<size_t>(layer)];
        kc.insert(kc.end(), k.data<float>(), k.data<float>() + n * K * D);
        vc.insert(vc.end(), v.data<float>(), v.data<float>() + n * K * D);
        // Views of the caches: the aliasing shared_ptr owns nothing (the vectors outlive the call).
        const Shape cache_shape{p0 + n, K, D};
        const Tensor k_cache = Tensor::view({std::shared_ptr<const void>(), kc.data()}, kc.data(),
                                            cache_shape, DType::F32);
        const Tensor v_cache = Tensor::view({std::shared_ptr<const void>(), vc.data()}, vc.data(),
                                            cache_shape, DType::F32);
        Tensor out = attn.reshape({n, H, D});
        attention_decode_forward(q.reshape({n, H, D}), k_cache, v_cache, p0,
                                 layer_attention_params(spec_, layer), out);
      },
      adapters_.empty() ? nullptr : &adapters_);
  length_ += n;
  return hidden;
}

Tensor KvDecoder::feed(const std::vector<int32_t>& ids) {
  return head_logits(spec_, weights_, feed_hidden(ids));
}

std::vector<float> KvDecoder::next_logits(const std::vector<int32_t>& ids) {
  // Only the last row goes through the LM head: a prefill never holds [n, V] logits.
  Tensor hidden = feed_hidden(ids);
  const int64_t n = hidden.dim(0);
  return head_logits(spec_, weights_, hidden.slice0(n - 1, n)).to_f32_vector();
}

}  // namespace tuna
