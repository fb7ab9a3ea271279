// The GPT-2 family (GPT2LMHeadModel): LayerNorm (an nn.LayerNorm: no weight decay), learned
// positions, fused c_attn, Conv1D linears stored [in, out] (used transposed, never copied),
// gelu_new. Checkpoint names come with or without "transformer." (Hub files lack it; newer
// save_pretrained writes it); transformers' modules (PEFT keys) always have it. No GGUF form.
#include <cmath>

#include "model/families/family.h"

namespace tuna {

namespace {

void read_gpt2_config(const ConfigReader& c, ModelSpec& s) {
  s.hidden = c.integer("n_embd");
  s.n_layers = c.integer("n_layer");
  s.n_heads = c.integer("n_head");
  if (s.hidden % s.n_heads != 0)
    c.fail("n_head", "must divide n_embd (" + std::to_string(s.hidden) + ")");
  s.n_kv_heads = s.n_heads;
  s.head_dim = s.hidden / s.n_heads;
  s.ffn = c.integer_or("n_inner", 4 * s.hidden);
  s.vocab = c.integer("vocab_size");
  s.max_positions = c.integer_or("n_positions", 1024);
  s.norm = NormType::LAYER;
  s.norm_eps = static_cast<float>(c.number_or("layer_norm_epsilon", 1e-5));
  s.activation =
      parse_activation(c, "activation_function", c.string_or("activation_function", "gelu_new"));
  s.gated_mlp = false;
  s.qkv_bias = s.o_bias = s.mlp_bias = true;
  s.learned_positions = true;
  s.tied_embeddings = c.boolean_or("tie_word_embeddings", true);
  if (c.boolean_or("scale_attn_by_inverse_layer_idx", false))
    c.fail("scale_attn_by_inverse_layer_idx", "is true, which tuna does not support yet");
  s.attn_scale = c.boolean_or("scale_attn_weights", true)
                     ? static_cast<float>(1.0 / std::sqrt(static_cast<double>(s.head_dim)))
                     : 1.0f;
  for (int64_t i = 0; i < s.n_layers; ++i) s.layers.push_back(LayerSpec{});
}

std::string gpt2_hf_name(const std::string& name, const ModelSpec&, const HasTensor* has) {
  const std::string root = "transformer.";
  if (has == nullptr || (*has)(root + "wte.weight") || name.rfind(root, 0) != 0) return name;
  return name.substr(root.size());
}

}  // namespace

const ModelFamily& gpt2_family() {
  static const ModelFamily family = [] {
    ModelFamily f;
    f.name = "gpt2";
    f.variants = {variant(Family::GPT2, "GPT2LMHeadModel", "gpt2", "", "gpt2")};
    const std::string L = "transformer.h.{}.";
    using T = LoraTarget;
    f.slots = {
        weight_row("embed", "transformer.wte.weight", ""),
        weight_row("pos_embed", "transformer.wpe.weight", ""),
        weight_row("final_norm", "transformer.ln_f.weight", "", true),
        weight_row("lm_head", "lm_head.weight", ""),
        weight_row("attn_norm", L + "ln_1.weight", "", true),
        linear_row("qkv", L + "attn.c_attn.weight", "", L + "attn.c_attn", T::QKV, true),
        linear_row("o", L + "attn.c_proj.weight", "", L + "attn.c_proj", T::O),
        weight_row("ffn_norm", L + "ln_2.weight", "", true),
        linear_row("up", L + "mlp.c_fc.weight", "", L + "mlp.c_fc", T::UP),
        linear_row("down", L + "mlp.c_proj.weight", "", L + "mlp.c_proj", T::DOWN),
    };
    f.linear_transposed = true;
    f.embedding_padding_idx = false;
    // GPT2Config defaults its three *_pdrop to 0.1.
    f.dropout_keys = {{"resid_pdrop", 0.1},
                      {"embd_pdrop", 0.1},
                      {"attn_pdrop", 0.1},
                      {"attention_dropout", 0.0},
                      {"embed_dropout", 0.0}};
    f.read_hf_config = read_gpt2_config;
    f.hf_name = gpt2_hf_name;
    return f;
  }();
  return family;
}

}  // namespace tuna
