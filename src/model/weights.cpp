// Binding checkpoint tensors to engine slots with shape and dtype checks. See weights.h.
#include "model/weights.h"

#include "core/error.h"
#include "model/families/registry.h"
#include "ops/dequantize.h"

namespace tuna {

const std::string& WeightNames::at(const std::string& slot) const {
  static const std::string none;
  auto it = by_slot.find(slot);
  return it != by_slot.end() ? it->second : none;
}

namespace {

struct Binder {
  const TensorSource& get;
  const std::string& where;
  ModelWeights& out;

  Tensor require(const std::string& name, const Shape& shape) {
    Tensor t = get(name);
    if (!t.defined()) {
      throw_user_error("model", where + ": tensor '" + name + "' is missing",
                       "the weights do not match the config (wrong or incomplete download?)");
    }
    if (t.shape() != shape) {
      throw_user_error("model",
                       where + ": tensor '" + name + "' has shape " + t.shape().to_string() +
                           ", the model's config implies " + shape.to_string(),
                       "the weights do not match the config (config.json or the GGUF metadata)");
    }
    if (!weight_format_supported(t.dtype())) {
      throw_user_error("model",
                       where + ": tensor '" + name + "' is stored as " + dtype_name(t.dtype()),
                       "tuna reads F32, F16 and BF16 safetensors weights");
    }
    out.names.push_back(name);
    return t;
  }
};

}  // namespace

ModelWeights bind_weights(const ModelSpec& s, const WeightNames& n, const TensorSource& get,
                          const std::string& where) {
  ModelWeights w;
  Binder b{get, where, w};
  const int64_t C = s.hidden, V = s.vocab, H = s.n_heads, K = s.n_kv_heads, D = s.head_dim,
                F = s.ffn;
  const bool layer_norm = s.norm == NormType::LAYER;
  w.linear_transposed = n.linear_transposed;

  w.embed = b.require(n.at("embed"), {V, C});
  if (s.learned_positions) w.pos_embed = b.require(n.at("pos_embed"), {s.max_positions, C});
  w.final_norm = b.require(n.at("final_norm"), {C});
  if (layer_norm) w.final_norm_bias = b.require(bias_name(n.at("final_norm")), {C});
  if (s.tied_embeddings) {
    w.lm_head = w.embed;
  } else {
    w.lm_head = b.require(n.at("lm_head"), {V, C});
  }

  for (int64_t i = 0; i < s.n_layers; ++i) {
    auto name = [&](const char* slot) { return with_layer(n.at(slot), i); };
    LayerWeights l;
    l.attn_norm = b.require(name("attn_norm"), {C});
    if (layer_norm) l.attn_norm_bias = b.require(bias_name(name("attn_norm")), {C});
    if (!n.at("qkv").empty()) {
      l.qkv = b.require(name("qkv"), {C, 3 * C});
      if (s.qkv_bias) l.qkv_bias = b.require(bias_name(name("qkv")), {3 * C});
      l.o = b.require(name("o"), {C, C});
    } else {
      l.q = b.require(name("q"), {H * D, C});
      l.k = b.require(name("k"), {K * D, C});
      l.v = b.require(name("v"), {K * D, C});
      l.o = b.require(name("o"), {C, H * D});
      if (s.qkv_bias) {
        l.q_bias = b.require(bias_name(name("q")), {H * D});
        l.k_bias = b.require(bias_name(name("k")), {K * D});
        l.v_bias = b.require(bias_name(name("v")), {K * D});
      }
    }
    if (s.o_bias) l.o_bias = b.require(bias_name(name("o")), {C});
    if (s.qk_norm) {
      l.q_norm = b.require(name("q_norm"), {D});
      l.k_norm = b.require(name("k_norm"), {D});
    }
    if (s.sandwich_norm) l.post_attn_norm = b.require(name("post_attn_norm"), {C});
    l.ffn_norm = b.require(name("ffn_norm"), {C});
    if (layer_norm) l.ffn_norm_bias = b.require(bias_name(name("ffn_norm")), {C});
    if (s.sandwich_norm) l.post_ffn_norm = b.require(name("post_ffn_norm"), {C});
    if (s.gated_mlp) {
      l.gate = b.require(name("gate"), {F, C});
      l.up = b.require(name("up"), {F, C});
      l.down = b.require(name("down"), {C, F});
      if (s.mlp_bias) {
        l.gate_bias = b.require(bias_name(name("gate")), {F});
        l.up_bias = b.require(bias_name(name("up")), {F});
        l.down_bias = b.require(bias_name(name("down")), {C});
      }
    } else {
      l.up = b.require(name("up"), {C, F});
      l.down = b.require(name("down"), {F, C});
      l.up_bias = b.require(bias_name(name("up")), {F});
      l.down_bias = b.require(bias_name(name("down")), {C});
    }
    w.layers.push_back(std::move(l));
  }
  return w;
}

}  // namespace tuna
