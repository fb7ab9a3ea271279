// The Gemma family: Gemma2ForCausalLM, Gemma3ForCausalLM (GGUF gemma3) and the text model of
// Gemma3ForConditionalGeneration. (1+w) RMSNorm, sandwich norms (post_attention and
// pre/post_feedforward), GELU(tanh)-gated MLP, scaled embeddings, query_pre_attn_scalar,
// sliding/global layers; Gemma 3 adds q/k norms. Multimodal checkpoints keep the text model under
// "language_model.model." (original Hub layout) or "model.language_model." (transformers ≥ 4.52);
// both are probed, and transformers names it "model.language_model." in memory (PEFT keys).
#include <cmath>

#include "model/families/family.h"

namespace tuna {

namespace {

using ojson = nlohmann::ordered_json;

void read_gemma_config(const ConfigReader& c, ModelSpec& s) {
  const bool gemma3 = s.family == Family::GEMMA3;
  // Defaults of Gemma3TextConfig / Gemma2Config (multimodal text_configs list only a few keys).
  s.hidden = c.integer_or("hidden_size", 2304);
  s.n_layers = c.integer_or("num_hidden_layers", 26);
  s.n_heads = c.integer_or("num_attention_heads", 8);
  s.n_kv_heads = c.integer_or("num_key_value_heads", 4);
  s.head_dim = c.integer_or("head_dim", 256);
  s.ffn = c.integer_or("intermediate_size", 9216);
  s.vocab = c.integer_or("vocab_size", gemma3 ? 262208 : 256000);
  s.max_positions = c.integer_or("max_position_embeddings", gemma3 ? 131072 : 8192);
  if (c.boolean_or("use_bidirectional_attention", false))
    c.fail("use_bidirectional_attention",
           "is true (non-causal attention), which tuna does not support yet");
  s.norm = NormType::RMS_GEMMA;
  s.norm_eps = static_cast<float>(c.number_or("rms_norm_eps", 1e-6));
  const char* act_key = c.has("hidden_activation") ? "hidden_activation" : "hidden_act";
  s.activation = parse_activation(c, act_key, c.string_or(act_key, "gelu_pytorch_tanh"));
  s.gated_mlp = true;
  s.sandwich_norm = true;
  s.scale_embeddings = true;
  s.qk_norm = gemma3;
  s.qkv_bias = s.o_bias = c.boolean_or("attention_bias", false);
  s.tied_embeddings = c.boolean_or("tie_word_embeddings", true);
  double qpas = c.number_or("query_pre_attn_scalar", 256.0);
  if (qpas <= 0) c.fail("query_pre_attn_scalar", "must be positive");
  s.attn_scale = static_cast<float>(std::pow(qpas, -0.5));
  // An explicit null switches a feature off (HF tests `is not None`); an absent key takes the
  // config class's default.
  s.attn_softcap =
      static_cast<float>(c.number_null_off("attn_logit_softcapping", gemma3 ? 0.0 : 50.0));
  s.final_softcap =
      static_cast<float>(c.number_null_off("final_logit_softcapping", gemma3 ? 0.0 : 30.0));
  const int64_t window = c.is_null("sliding_window") ? 0 : c.integer_or("sliding_window", 4096);

  std::vector<bool> sliding;
  if (!read_layer_types(c, s.n_layers, &sliding)) {
    sliding.assign(static_cast<size_t>(s.n_layers), false);
    if (gemma3) {
      int64_t pattern =
          c.integer_or("sliding_window_pattern", c.integer_or("_sliding_window_pattern", 6));
      for (int64_t i = 0; i < s.n_layers; ++i)
        sliding[static_cast<size_t>(i)] = ((i + 1) % pattern) != 0;
    } else {
      for (int64_t i = 0; i < s.n_layers; ++i) sliding[static_cast<size_t>(i)] = (i % 2) == 0;
    }
  }

  // RoPE: global layers use rope_theta (+ rope_scaling); Gemma 3's local layers use
  // rope_local_base_freq without scaling. v5 configs: rope_parameters per layer type.
  RopeConfig global, local;
  if (c.has("rope_parameters") && c.j.at("rope_parameters").is_object() &&
      c.j.at("rope_parameters").contains("full_attention")) {
    const nlohmann::json& rp = c.j.at("rope_parameters");
    global =
        parse_rope(c, "rope_parameters.full_attention", &rp.at("full_attention"), 1e6f, s.head_dim);
    local = rp.contains("sliding_attention")
                ? parse_rope(c, "rope_parameters.sliding_attention", &rp.at("sliding_attention"),
                             1e4f, s.head_dim)
                : global;
  } else {
    float theta = static_cast<float>(c.number_or("rope_theta", gemma3 ? 1e6 : 1e4));
    const nlohmann::json* scaling = c.has("rope_scaling") ? &c.j.at("rope_scaling") : nullptr;
    if (c.has("rope_parameters")) scaling = &c.j.at("rope_parameters");
    global = parse_rope(c, "rope_scaling", scaling, theta, s.head_dim);
    if (gemma3) {
      local = parse_rope(c, "rope_local_base_freq", nullptr,
                         static_cast<float>(c.number_or("rope_local_base_freq", 1e4)), s.head_dim);
    } else {
      local = global;
    }
  }
  for (int64_t i = 0; i < s.n_layers; ++i) {
    LayerSpec l;
    l.sliding = window > 0 && sliding[static_cast<size_t>(i)];
    l.window = l.sliding ? window : 0;
    l.rope = sliding[static_cast<size_t>(i)] ? local : global;
    s.layers.push_back(l);
  }
}

// GGUF gemma3 (norm weights stored as 1 + w: gguf_norms_plus_one).
void read_gemma_gguf(const GgufKeys& k, ModelSpec& s) {
  const RopeConfig rope = gguf_rope(k, s, 1e6);
  s.norm = NormType::RMS_GEMMA;
  s.activation = Activation::GELU_TANH;
  s.sandwich_norm = true;
  s.scale_embeddings = true;
  s.qk_norm = true;
  // llama.cpp: 1/sqrt(head_dim), except Gemma 3 27B (62 layers): 1/sqrt(hidden / heads).
  if (s.n_layers == 62)
    s.attn_scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(s.hidden / s.n_heads)));
  s.final_softcap = static_cast<float>(k.float_or("final_logit_softcapping", 0.0));
  const int64_t window = k.int_or("attention.sliding_window", 0);
  const int64_t pattern = k.int_or("attention.sliding_window_pattern", 6);
  RopeConfig local = rope;
  local.scaling = RopeScalingType::NONE;
  local.factor = 1.0f;
  local.theta = static_cast<float>(k.float_or("rope.freq_base_swa", 1e4));
  for (int64_t i = 0; i < s.n_layers; ++i) {
    LayerSpec l;
    l.sliding = window > 0 && pattern > 1 && ((i + 1) % pattern) != 0;
    l.window = l.sliding ? window : 0;
    l.rope = l.sliding ? local : rope;
    s.layers.push_back(l);
  }
}

// config.json (Gemma3ForCausalLM, "gemma3_text") for a GGUF gemma3 base.
void write_gemma_config(const ModelSpec& s, ojson& c, const RefuseConfig&) {
  const RopeConfig global = s.layers.empty() ? RopeConfig{} : s.layers.back().rope;
  c["model_type"] = "gemma3_text";
  c["hidden_activation"] = "gelu_pytorch_tanh";
  // transformers scales by query_pre_attn_scalar^-0.5; the GGUF spec holds the scale itself.
  c["query_pre_attn_scalar"] =
      std::llround(1.0 / (static_cast<double>(s.attn_scale) * static_cast<double>(s.attn_scale)));
  c["attention_bias"] = false;
  c["attn_logit_softcapping"] = nullptr;
  c["final_logit_softcapping"] =
      s.final_softcap > 0 ? hf_float_json(s.final_softcap) : ojson(nullptr);
  int64_t window = 0;
  float local_theta = 10000.0f, global_theta = global.theta;
  ojson types = ojson::array();
  for (const LayerSpec& l : s.layers) {
    types.push_back(l.sliding ? "sliding_attention" : "full_attention");
    if (l.sliding)
      window = l.window, local_theta = l.rope.theta;
    else
      global_theta = l.rope.theta;
  }
  c["sliding_window"] = window > 0 ? ojson(window) : ojson(nullptr);
  c["layer_types"] = types;
  c["rope_theta"] = hf_float_json(global_theta);
  c["rope_local_base_freq"] = hf_float_json(local_theta);
  for (const LayerSpec& l : s.layers)
    if (!l.sliding) c["rope_scaling"] = hf_rope_scaling_json(l.rope);
  if (!c.contains("rope_scaling")) c["rope_scaling"] = nullptr;
  c["use_bidirectional_attention"] = false;
}

// The text model's root in a multimodal checkpoint (probed) or in memory ("model.language_model.").
std::string gemma_hf_name(const std::string& name, const ModelSpec& s, const HasTensor* has) {
  if (s.weight_prefix.empty()) return name;
  if (name == "lm_head.weight")
    return has != nullptr && (*has)("language_model.lm_head.weight")
               ? "language_model.lm_head.weight"
               : name;
  if (name.rfind("model.", 0) != 0) return name;
  std::string root = "model.language_model.";
  if (has != nullptr) {
    root = "model.";
    for (const char* p : {"language_model.model.", "model.language_model.", "model."}) {
      if ((*has)(std::string(p) + "embed_tokens.weight")) {
        root = p;
        break;
      }
    }
  }
  return root + name.substr(6);
}

}  // namespace

const ModelFamily& gemma_family() {
  static const ModelFamily family = [] {
    ModelFamily f;
    f.name = "gemma";
    FamilyVariant conditional =
        variant(Family::GEMMA3, "Gemma3ForConditionalGeneration", "gemma3", "", "gemma3");
    conditional.peft_default_targets = false;
    conditional.text_config = true;
    // SigLIP (post_layernorm also matches the Trainer's name rule).
    conditional.vision_tower = {"vision_tower.",
                                {".q_proj", ".k_proj", ".v_proj", ".out_proj", ".fc1", ".fc2"},
                                {"layer_norm1", "layer_norm2", "post_layernorm"}};
    f.variants = {
        variant(Family::GEMMA2, "Gemma2ForCausalLM", "gemma2", "", "gemma2"),
        variant(Family::GEMMA3, "Gemma3ForCausalLM", "gemma3_text", "gemma3", "gemma3"),
        conditional,
    };
    const std::string L = "model.layers.{}.";
    using T = LoraTarget;
    f.slots = {
        weight_row("embed", "model.embed_tokens.weight", "token_embd.weight"),
        weight_row("final_norm", "model.norm.weight", "output_norm.weight"),
        weight_row("lm_head", "lm_head.weight", "output.weight"),
        weight_row("attn_norm", L + "input_layernorm.weight", "blk.{}.attn_norm.weight"),
        linear_row("q", L + "self_attn.q_proj.weight", "blk.{}.attn_q.weight",
                   L + "self_attn.q_proj", T::Q, true),
        linear_row("k", L + "self_attn.k_proj.weight", "blk.{}.attn_k.weight",
                   L + "self_attn.k_proj", T::K),
        linear_row("v", L + "self_attn.v_proj.weight", "blk.{}.attn_v.weight",
                   L + "self_attn.v_proj", T::V, true),
        linear_row("o", L + "self_attn.o_proj.weight", "blk.{}.attn_output.weight",
                   L + "self_attn.o_proj", T::O),
        weight_row("q_norm", L + "self_attn.q_norm.weight", "blk.{}.attn_q_norm.weight"),
        weight_row("k_norm", L + "self_attn.k_norm.weight", "blk.{}.attn_k_norm.weight"),
        weight_row("post_attn_norm", L + "post_attention_layernorm.weight",
                   "blk.{}.post_attention_norm.weight"),
        weight_row("ffn_norm", L + "pre_feedforward_layernorm.weight", "blk.{}.ffn_norm.weight"),
        weight_row("post_ffn_norm", L + "post_feedforward_layernorm.weight",
                   "blk.{}.post_ffw_norm.weight"),
        linear_row("gate", L + "mlp.gate_proj.weight", "blk.{}.ffn_gate.weight",
                   L + "mlp.gate_proj", T::GATE),
        linear_row("up", L + "mlp.up_proj.weight", "blk.{}.ffn_up.weight", L + "mlp.up_proj",
                   T::UP),
        linear_row("down", L + "mlp.down_proj.weight", "blk.{}.ffn_down.weight",
                   L + "mlp.down_proj", T::DOWN),
    };
    f.dropout_keys = {{"attention_dropout", 0.0}, {"embed_dropout", 0.0}};
    f.read_hf_config = read_gemma_config;
    f.hf_name = gemma_hf_name;
    f.read_gguf = read_gemma_gguf;
    f.gguf_norms_plus_one = true;
    f.write_hf_config = write_gemma_config;
    return f;
  }();
  return family;
}

}  // namespace tuna
