// The Llama family: LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM, Qwen3ForCausalLM
// (model.layers.N.self_attn.*, mlp.{gate,up,down}_proj; GGUF llama, qwen2, qwen3) and EXAONE 3.0,
// a Llama with GPT-style names (transformer.h.N.attn.attention.*, mlp.c_fc_0 = gate,
// c_fc_1 = up, c_proj = down) read by the same config reader. RMSNorm w·x̂, SiLU-gated MLP, RoPE.
// Wiring is the one pre-norm block (model/block.cpp); the table is family.h's.
#include <cmath>

#include "model/families/family.h"

namespace tuna {

namespace {

using ojson = nlohmann::ordered_json;

// Llama, Mistral, Qwen2, Qwen3 and EXAONE 3.0 config.json.
void read_llama_config(const ConfigReader& c, ModelSpec& s) {
  const bool exaone = s.family == Family::EXAONE;
  s.hidden = c.integer("hidden_size");
  s.n_layers = c.integer(exaone && c.has("num_layers") ? "num_layers" : "num_hidden_layers");
  s.n_heads = c.integer("num_attention_heads");
  s.n_kv_heads = c.integer_or("num_key_value_heads", s.n_heads);
  if (!c.has("head_dim") && s.hidden % s.n_heads != 0)
    c.fail("num_attention_heads", "must divide hidden_size when head_dim is not given");
  s.head_dim = c.integer_or("head_dim", s.hidden / s.n_heads);
  s.ffn = c.integer("intermediate_size");
  s.vocab = c.integer("vocab_size");
  s.max_positions = c.integer_or("max_position_embeddings", 2048);
  s.norm = NormType::RMS;
  s.norm_eps = static_cast<float>(exaone ? c.number_or("layer_norm_epsilon", 1e-5)
                                         : c.number_or("rms_norm_eps", 1e-6));
  const char* act_key = exaone ? "activation_function" : "hidden_act";
  s.activation = parse_activation(c, act_key, c.string_or(act_key, "silu"));
  s.gated_mlp = true;
  s.tied_embeddings = c.boolean_or("tie_word_embeddings", false);
  if (s.family == Family::LLAMA) {
    s.qkv_bias = s.o_bias = c.boolean_or("attention_bias", false);
    s.mlp_bias = c.boolean_or("mlp_bias", false);
  } else if (s.family == Family::QWEN2) {
    s.qkv_bias = true;
  } else if (s.family == Family::QWEN3) {
    s.qkv_bias = s.o_bias = c.boolean_or("attention_bias", false);
    s.qk_norm = true;
  }
  s.attn_scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(s.head_dim)));

  const nlohmann::json* rope_obj = nullptr;
  const char* rope_key = "rope_scaling";
  if (c.has("rope_parameters")) {
    rope_obj = &c.j.at("rope_parameters");
    rope_key = "rope_parameters";
  } else if (c.has("rope_scaling")) {
    rope_obj = &c.j.at("rope_scaling");
  }
  float theta = static_cast<float>(c.number_or("rope_theta", 10000.0));
  RopeConfig rope = parse_rope(c, rope_key, rope_obj, theta, s.head_dim);

  // Sliding windows: Mistral applies its window to every layer; Qwen2 only with
  // use_sliding_window, from max_window_layers on; an explicit layer_types wins.
  std::vector<bool> sliding(static_cast<size_t>(s.n_layers), false);
  int64_t window = 0;
  if (s.family == Family::MISTRAL && !c.is_null("sliding_window")) {
    window = c.integer_or("sliding_window", 4096);  // MistralConfig's default; null: no window
    sliding.assign(sliding.size(), true);
  } else if (s.family == Family::QWEN2 || s.family == Family::QWEN3) {
    if (c.boolean_or("use_sliding_window", false) && c.has("sliding_window")) {
      window = c.integer("sliding_window");
      int64_t first = c.integer_or("max_window_layers", 28);  // Qwen2Config's default
      for (int64_t i = first; i < s.n_layers; ++i) sliding[static_cast<size_t>(i)] = true;
    }
  }
  if (window > 0) read_layer_types(c, s.n_layers, &sliding);  // an explicit layer_types wins
  for (int64_t i = 0; i < s.n_layers; ++i) {
    LayerSpec l;
    l.sliding = window > 0 && sliding[static_cast<size_t>(i)];
    l.window = l.sliding ? window : 0;
    l.rope = rope;
    s.layers.push_back(l);
  }
}

// GGUF llama, qwen2, qwen3: biases and q/k norms are seen from the tensors present.
void read_llama_gguf(const GgufKeys& k, ModelSpec& s) {
  const RopeConfig rope = gguf_rope(k, s, 1e4);
  s.norm = NormType::RMS;
  s.activation = Activation::SILU;
  s.qkv_bias = k.f.find_tensor("blk.0.attn_q.bias") != nullptr;
  s.o_bias = k.f.find_tensor("blk.0.attn_output.bias") != nullptr;
  s.qk_norm = k.f.find_tensor("blk.0.attn_q_norm.weight") != nullptr;
  // llama.cpp's converter permutes llama q/k rows for its interleaved ("NORM") RoPE; rotating
  // adjacent pairs on those rows is exactly HF's half-split rotation on the original rows.
  s.rope_interleaved = s.family == Family::LLAMA;
  const int64_t window = k.int_or("attention.sliding_window", 0);
  for (int64_t i = 0; i < s.n_layers; ++i) {
    LayerSpec l;
    l.sliding = window > 0;
    l.window = window;
    l.rope = rope;
    s.layers.push_back(l);
  }
}

// config.json for a GGUF llama / qwen2 / qwen3 base, as transformers 4.57's config classes read.
void write_llama_config(const ModelSpec& s, ojson& c, const RefuseConfig& refuse) {
  const RopeConfig global = s.layers.empty() ? RopeConfig{} : s.layers.back().rope;
  for (const LayerSpec& l : s.layers)
    if (l.sliding) refuse("a sliding window on " + s.model_type);
  c["model_type"] = s.model_type;
  c["hidden_act"] = "silu";
  c["rope_theta"] = hf_float_json(global.theta);
  c["rope_scaling"] = hf_rope_scaling_json(global);
  if (s.family == Family::LLAMA) {
    if (s.qkv_bias != s.o_bias) refuse("llama with biases on only some attention projections");
    c["attention_bias"] = s.qkv_bias;
    c["mlp_bias"] = false;
  } else if (s.family == Family::QWEN2) {
    if (!s.qkv_bias || s.o_bias) refuse("qwen2 without q/k/v biases");
    c["use_sliding_window"] = false;
    c["sliding_window"] = nullptr;
  } else {
    c["attention_bias"] = s.qkv_bias;
    c["use_sliding_window"] = false;
    c["sliding_window"] = nullptr;
  }
}

}  // namespace

const ModelFamily& llama_family() {
  static const ModelFamily family = [] {
    ModelFamily f;
    f.name = "llama";
    f.variants = {
        variant(Family::LLAMA, "LlamaForCausalLM", "llama", "llama", "llama"),
        variant(Family::MISTRAL, "MistralForCausalLM", "mistral", "", "mistral"),
        variant(Family::QWEN2, "Qwen2ForCausalLM", "qwen2", "qwen2", "qwen2"),
        variant(Family::QWEN3, "Qwen3ForCausalLM", "qwen3", "qwen3", "qwen3"),
    };
    const std::string L = "model.layers.{}.";
    using T = LoraTarget;
    f.slots = {
        weight_row("embed", "model.embed_tokens.weight", "token_embd.weight"),
        weight_row("final_norm", "model.norm.weight", "output_norm.weight"),
        weight_row("lm_head", "lm_head.weight", "output.weight"),
        weight_row("attn_norm", L + "input_layernorm.weight", "blk.{}.attn_norm.weight"),
        linear_row("q", L + "self_attn.q_proj.weight", "blk.{}.attn_q.weight",
                   L + "self_attn.q_proj", T::Q, true, RopeRows::Q_HEADS),
        linear_row("k", L + "self_attn.k_proj.weight", "blk.{}.attn_k.weight",
                   L + "self_attn.k_proj", T::K, false, RopeRows::KV_HEADS),
        linear_row("v", L + "self_attn.v_proj.weight", "blk.{}.attn_v.weight",
                   L + "self_attn.v_proj", T::V, true),
        linear_row("o", L + "self_attn.o_proj.weight", "blk.{}.attn_output.weight",
                   L + "self_attn.o_proj", T::O),
        weight_row("q_norm", L + "self_attn.q_norm.weight", "blk.{}.attn_q_norm.weight"),
        weight_row("k_norm", L + "self_attn.k_norm.weight", "blk.{}.attn_k_norm.weight"),
        weight_row("ffn_norm", L + "post_attention_layernorm.weight", "blk.{}.ffn_norm.weight"),
        linear_row("gate", L + "mlp.gate_proj.weight", "blk.{}.ffn_gate.weight",
                   L + "mlp.gate_proj", T::GATE),
        linear_row("up", L + "mlp.up_proj.weight", "blk.{}.ffn_up.weight", L + "mlp.up_proj",
                   T::UP),
        linear_row("down", L + "mlp.down_proj.weight", "blk.{}.ffn_down.weight",
                   L + "mlp.down_proj", T::DOWN),
    };
    f.dropout_keys = {{"attention_dropout", 0.0}, {"embed_dropout", 0.0}};
    f.read_hf_config = read_llama_config;
    f.read_gguf = read_llama_gguf;
    f.write_hf_config = write_llama_config;
    return f;
  }();
  return family;
}

// EXAONE 3.0 (remote code: no transformers module, no PEFT default targets; its ln_1/ln_2/ln_f
// are a plain nn.Module, so the HF Trainer decays them).
const ModelFamily& exaone_family() {
  static const ModelFamily family = [] {
    ModelFamily f;
    f.name = "exaone";
    FamilyVariant v = variant(Family::EXAONE, "ExaoneForCausalLM", "exaone", "", "");
    v.peft_default_targets = false;
    f.variants = {v};
    const std::string L = "transformer.h.{}.";
    using T = LoraTarget;
    f.slots = {
        weight_row("embed", "transformer.wte.weight", ""),
        weight_row("final_norm", "transformer.ln_f.weight", ""),
        weight_row("lm_head", "lm_head.weight", ""),
        weight_row("attn_norm", L + "ln_1.weight", ""),
        linear_row("q", L + "attn.attention.q_proj.weight", "", L + "attn.attention.q_proj", T::Q),
        linear_row("k", L + "attn.attention.k_proj.weight", "", L + "attn.attention.k_proj", T::K),
        linear_row("v", L + "attn.attention.v_proj.weight", "", L + "attn.attention.v_proj", T::V),
        linear_row("o", L + "attn.attention.out_proj.weight", "", L + "attn.attention.out_proj",
                   T::O),
        weight_row("ffn_norm", L + "ln_2.weight", ""),
        linear_row("gate", L + "mlp.c_fc_0.weight", "", L + "mlp.c_fc_0", T::GATE),
        linear_row("up", L + "mlp.c_fc_1.weight", "", L + "mlp.c_fc_1", T::UP),
        linear_row("down", L + "mlp.c_proj.weight", "", L + "mlp.c_proj", T::DOWN),
    };
    f.dropout_keys = {{"attention_dropout", 0.0}, {"embed_dropout", 0.0}};
    f.read_hf_config = read_llama_config;
    return f;
  }();
  return family;
}

}  // namespace tuna
