// KvDecoder (see kv_decoder.h): the inference stack (model/block.h stack_hidden) with the cache as
// the block's attention hook, which appends the new keys/values to the per-layer cache and
// attends each new query to the cached positions it may see — causal, inside the layer's sliding
// window, with the forward's scale, soft-capping and F32 softmax. Dimension letters: n new
// tokens, S cached + new positions, H heads, K kv heads, D head dim, V vocab.
#include "infer/kv_decoder.h"

#include <algorithm>
#include <memory>

#include "core/error.h"
#include "model/forward_common.h"
#include "ops/attention.h"

namespace tuna {

void KvDecoder::Cache::attend(int64_t layer, const Tensor& q, const Tensor& k, const Tensor& v,
                              Tensor& attn) {
  const int64_t n = q.dim(0), H = spec->n_heads, K = spec->n_kv_heads, D = spec->head_dim;
  const auto l = static_cast<size_t>(layer);
  std::vector<float>& kc = keys[l];
  std::vector<float>& vc = values[l];
  kc.insert(kc.end(), k.data<float>(), k.data<float>() + n * K * D);
  vc.insert(vc.end(), v.data<float>(), v.data<float>() + n * K * D);
  // Views of the caches: the aliasing shared_ptr owns nothing (the vectors outlive the call).
  const Shape cache_shape{length + n - first[l], K, D};
  const Tensor k_cache =
      Tensor::view({std::shared_ptr<const void>(), kc.data()}, kc.data(), cache_shape, DType::F32);
  const Tensor v_cache =
      Tensor::view({std::shared_ptr<const void>(), vc.data()}, vc.data(), cache_shape, DType::F32);
  Tensor out = attn.reshape({n, H, D});
  const AttentionParams params = layer_attention_params(*spec, layer);
  attention_decode_forward(q.reshape({n, H, D}), k_cache, v_cache, length, params, out, first[l]);
  // A sliding-window layer keeps only what later queries can see: positions from
  // length + n − window + 1 on. The older rows go once there are a window's worth of them
  // (one move per `window` tokens; the cache holds at most 2·window + n positions).
  if (params.window > 0) {
    const int64_t keep_from = length + n - params.window + 1, dead = keep_from - first[l];
    if (dead >= params.window) {
      const auto drop = static_cast<std::ptrdiff_t>(dead * K * D);
      kc.erase(kc.begin(), kc.begin() + drop);
      vc.erase(vc.begin(), vc.begin() + drop);
      first[l] = keep_from;
    }
  }
}

KvDecoder::KvDecoder(const Model& model, const ModelWeights* weights,
                     const std::vector<LoraAdapter>* adapters)
    : spec_(model.spec()), weights_(weights != nullptr ? *weights : model.weights()) {
  // The forward only reads adapters (the backward alone writes their gradients).
  if (adapters != nullptr)
    adapters_ = layer_adapter_table(
        spec_, weights_, const_cast<std::vector<LoraAdapter>*>(adapters), AdapterUse::INFER);
  cache_.spec = &spec_;
  reset();
}

void KvDecoder::reset() {
  cache_.length = 0;
  cache_.keys.assign(static_cast<size_t>(spec_.n_layers), {});
  cache_.values.assign(static_cast<size_t>(spec_.n_layers), {});
  cache_.first.assign(static_cast<size_t>(spec_.n_layers), 0);
}

int64_t KvDecoder::truncate(int64_t n) {
  const int64_t length = cache_.length;
  TUNA_ASSERT(n >= 0 && n <= length, "KvDecoder::truncate: n outside [0, length]");
  if (n == length) return n;
  const int64_t KD = spec_.n_kv_heads * spec_.head_dim;
  for (size_t l = 0; l < cache_.keys.size(); ++l) {
    // A sliding-window layer may have dropped positions the query at n would see.
    const int64_t window = layer_attention_params(spec_, static_cast<int64_t>(l)).window;
    if (cache_.first[l] > 0 && cache_.first[l] > std::max<int64_t>(0, n - window + 1)) {
      reset();
      return 0;
    }
  }
  for (size_t l = 0; l < cache_.keys.size(); ++l) {
    const auto rows = static_cast<size_t>(n - cache_.first[l]);
    cache_.keys[l].resize(rows * static_cast<size_t>(KD));
    cache_.values[l].resize(rows * static_cast<size_t>(KD));
  }
  cache_.length = n;
  return n;
}

int64_t KvDecoder::cache_bytes() const {
  int64_t bytes = 0;
  for (size_t l = 0; l < cache_.keys.size(); ++l)
    bytes += static_cast<int64_t>((cache_.keys[l].capacity() + cache_.values[l].capacity()) * 4);
  return bytes;
}

std::vector<int32_t> KvDecoder::new_positions(int64_t n) const {
  const int64_t p0 = cache_.length;
  if (spec_.learned_positions && p0 + n > spec_.max_positions)
    throw_user_error("generate",
                     std::to_string(p0 + n) + " tokens exceed the model's " +
                         std::to_string(spec_.max_positions) + " learned positions",
                     "use a shorter prompt or fewer `max_new_tokens`");
  std::vector<int32_t> positions(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) positions[static_cast<size_t>(i)] = static_cast<int32_t>(p0 + i);
  return positions;
}

Tensor KvDecoder::run_stack(KvCache& cache, const std::vector<int32_t>& ids,
                            const std::vector<int32_t>& positions,
                            const std::vector<RowAdapters>* rows) const {
  const auto n = static_cast<int64_t>(ids.size());
  BlockContext c;
  c.spec = &spec_;
  c.wiring = model_wiring(spec_);
  c.weights = &weights_;
  c.adapters = adapters_.empty() || rows != nullptr ? nullptr : &adapters_;
  c.row_adapters = rows;
  c.B = 1;
  c.T = n;
  c.N = n;
  c.cache = &cache;
  c.rope = build_rope(spec_, positions);
  c.keep = false;
  return stack_hidden(c, ids, positions);
}

Tensor KvDecoder::feed_hidden(const std::vector<int32_t>& ids) {
  TUNA_ASSERT(!ids.empty(), "KvDecoder::feed: no ids");
  const auto n = static_cast<int64_t>(ids.size());
  Tensor hidden = run_stack(cache_, ids, new_positions(n));
  cache_.length += n;
  return hidden;
}

namespace {

// The hook of a batched pass: rows [begin[i], begin[i + 1]) belong to caches[i].
struct BatchHook final : KvCache {
  std::vector<KvCache*> caches;
  std::vector<int64_t> begin;  // caches.size() + 1 row offsets
  void attend(int64_t layer, const Tensor& q, const Tensor& k, const Tensor& v,
              Tensor& attn) override {
    for (size_t i = 0; i < caches.size(); ++i) {
      const int64_t b = begin[i], e = begin[i + 1];
      Tensor out = attn.slice0(b, e);
      caches[i]->attend(layer, q.slice0(b, e), k.slice0(b, e), v.slice0(b, e), out);
    }
  }
};

}  // namespace

Tensor KvDecoder::next_logits_batch(const std::vector<KvDecoder*>& decoders,
                                    const std::vector<std::vector<int32_t>>& ids) {
  TUNA_ASSERT(!decoders.empty() && decoders.size() == ids.size(),
              "next_logits_batch: one id list per decoder");
  BatchHook hook;
  std::vector<int32_t> all_ids, positions;
  std::vector<RowAdapters> rows;  // each sequence's adapters on its rows
  bool any_adapters = false;
  hook.begin.push_back(0);
  for (size_t i = 0; i < decoders.size(); ++i) {
    TUNA_ASSERT(!ids[i].empty(), "next_logits_batch: no ids");
    TUNA_ASSERT(&decoders[i]->spec_ == &decoders[0]->spec_ &&
                    &decoders[i]->weights_ == &decoders[0]->weights_,
                "next_logits_batch: decoders of different models or weights");
    const std::vector<int32_t> p = decoders[i]->new_positions(static_cast<int64_t>(ids[i].size()));
    all_ids.insert(all_ids.end(), ids[i].begin(), ids[i].end());
    positions.insert(positions.end(), p.begin(), p.end());
    hook.caches.push_back(&decoders[i]->cache_);
    const LayerAdapters* table = decoders[i]->adapters_.empty() ? nullptr : &decoders[i]->adapters_;
    rows.push_back({hook.begin.back(), static_cast<int64_t>(all_ids.size()), table});
    any_adapters = any_adapters || table != nullptr;
    hook.begin.push_back(static_cast<int64_t>(all_ids.size()));
  }
  const Tensor hidden =
      decoders[0]->run_stack(hook, all_ids, positions, any_adapters ? &rows : nullptr);
  for (size_t i = 0; i < decoders.size(); ++i)
    decoders[i]->cache_.length += static_cast<int64_t>(ids[i].size());
  // The last row of each sequence through the LM head: [n, C] → [n, V].
  const int64_t n = static_cast<int64_t>(decoders.size()), C = hidden.dim(1);
  Tensor last = Tensor::empty({n, C}, DType::F32);
  for (int64_t i = 0; i < n; ++i)
    std::copy_n(hidden.data<float>() + (hook.begin[static_cast<size_t>(i) + 1] - 1) * C, C,
                last.data_mut<float>() + i * C);
  return head_logits(decoders[0]->spec_, decoders[0]->weights_, last);
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
