// config.json parsing into ModelSpec. Defaults are the transformers config classes' defaults
// (configuration_<model>.py) for keys a config may omit; keys without a sane default are
// required and their absence is a user error naming the file and key.
#include "io/hf_config.h"

#include <cmath>
#include <cstdio>
#include <fstream>
#include <string_view>

#include "core/error.h"

namespace tuna {

using nlohmann::json;

const std::vector<std::string>& supported_architectures() {
  static const std::vector<std::string> archs = {"LlamaForCausalLM",
                                                 "MistralForCausalLM",
                                                 "Qwen2ForCausalLM",
                                                 "Qwen3ForCausalLM",
                                                 "Gemma2ForCausalLM",
                                                 "Gemma3ForCausalLM",
                                                 "Gemma3ForConditionalGeneration",
                                                 "GPT2LMHeadModel",
                                                 "ExaoneForCausalLM"};
  return archs;
}

namespace {

// A string field, or `dflt` when absent, null or not a string (never throws).
std::string str_or(const json& j, const char* key, const std::string& dflt) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : dflt;
}

// Typed access to a config object with errors that name the file and key.
struct ConfigReader {
  const json& j;
  std::string source;

  bool has(const char* key) const { return j.contains(key) && !j.at(key).is_null(); }
  bool is_null(const char* key) const { return j.contains(key) && j.at(key).is_null(); }
  // A number that HF reads as "off" when it is null, and as `dflt` when the key is absent.
  double number_null_off(const char* key, double dflt) const {
    return is_null(key) ? 0.0 : number_or(key, dflt);
  }

  [[noreturn]] void fail(const std::string& key, const std::string& what) const {
    throw_user_error("config", source + ": key '" + key + "' " + what,
                     "fix config.json (compare with the model's original config on the Hub)");
  }
  int64_t integer(const char* key) const {
    if (!has(key)) fail(key, "is missing");
    const json& v = j.at(key);
    if (!v.is_number_integer()) fail(key, "must be an integer, got " + v.dump());
    int64_t x = v.get<int64_t>();
    if (x <= 0) fail(key, "must be positive, got " + v.dump());
    return x;
  }
  int64_t integer_or(const char* key, int64_t dflt) const { return has(key) ? integer(key) : dflt; }
  double number(const char* key) const {
    if (!has(key)) fail(key, "is missing");
    const json& v = j.at(key);
    if (!v.is_number()) fail(key, "must be a number, got " + v.dump());
    return v.get<double>();
  }
  double number_or(const char* key, double dflt) const { return has(key) ? number(key) : dflt; }
  bool boolean_or(const char* key, bool dflt) const {
    if (!has(key)) return dflt;
    const json& v = j.at(key);
    if (!v.is_boolean()) fail(key, "must be true or false, got " + v.dump());
    return v.get<bool>();
  }
  std::string string_or(const char* key, const std::string& dflt) const {
    if (!has(key)) return dflt;
    const json& v = j.at(key);
    if (!v.is_string()) fail(key, "must be a string, got " + v.dump());
    return v.get<std::string>();
  }
};

Activation parse_activation(const ConfigReader& c, const char* key, const std::string& name) {
  if (name == "silu" || name == "swish") return Activation::SILU;
  if (name == "gelu_pytorch_tanh" || name == "gelu_new") return Activation::GELU_TANH;
  if (name == "gelu") return Activation::GELU_ERF;
  c.fail(key, "names activation '" + name +
                  "', which tuna does not support (supported: silu, "
                  "gelu_pytorch_tanh, gelu_new, gelu)");
}

// rope_scaling / rope_parameters object → RopeConfig (theta set by the caller unless present).
RopeConfig parse_rope(const ConfigReader& c, const char* key, const json* obj, float theta,
                      int64_t dim) {
  RopeConfig r;
  r.theta = theta;
  r.dim = dim;
  if (obj == nullptr || obj->is_null()) return r;
  if (!obj->is_object()) c.fail(key, "must be an object or null");
  if (obj->contains("rope_theta")) {
    if (!obj->at("rope_theta").is_number())
      c.fail(std::string(key) + ".rope_theta", "must be a number");
    r.theta = obj->at("rope_theta").get<float>();
  }
  std::string type = str_or(*obj, "rope_type", str_or(*obj, "type", "default"));
  auto num = [&](const char* k, double d) {
    if (!obj->contains(k) || obj->at(k).is_null()) return d;
    if (!obj->at(k).is_number()) c.fail(std::string(key) + "." + k, "must be a number");
    return obj->at(k).get<double>();
  };
  if (type == "default") {
    r.scaling = RopeScalingType::NONE;
  } else if (type == "linear") {
    r.scaling = RopeScalingType::LINEAR;
    r.factor = static_cast<float>(num("factor", 1.0));
  } else if (type == "llama3") {
    r.scaling = RopeScalingType::LLAMA3;
    r.factor = static_cast<float>(num("factor", 8.0));
    r.low_freq_factor = static_cast<float>(num("low_freq_factor", 1.0));
    r.high_freq_factor = static_cast<float>(num("high_freq_factor", 4.0));
    r.original_max_position = static_cast<int64_t>(num("original_max_position_embeddings", 8192));
  } else {
    c.fail(key, "has rope_type '" + type +
                    "', which tuna does not support yet (supported: "
                    "default, linear, llama3)");
  }
  if (r.factor <= 0.0f) c.fail(key, "has a non-positive factor");
  return r;
}

// Layer kinds from `layer_types` when present (list of "sliding_attention"/"full_attention").
bool read_layer_types(const ConfigReader& c, int64_t n_layers, std::vector<bool>* sliding) {
  if (!c.has("layer_types")) return false;
  const json& lt = c.j.at("layer_types");
  if (!lt.is_array() || static_cast<int64_t>(lt.size()) != n_layers)
    c.fail("layer_types", "must list one entry per layer (" + std::to_string(n_layers) + ")");
  sliding->assign(static_cast<size_t>(n_layers), false);
  for (size_t i = 0; i < lt.size(); ++i) {
    std::string t = lt[i].is_string() ? lt[i].get<std::string>() : "";
    if (t == "sliding_attention")
      (*sliding)[i] = true;
    else if (t != "full_attention")
      c.fail("layer_types", "entry " + std::to_string(i) + " is '" + lt[i].dump() + "'");
  }
  return true;
}

void read_special_ids(const ConfigReader& c, ModelSpec& s) {
  auto id_or = [&](const char* k) -> int64_t {
    return c.has(k) && c.j.at(k).is_number_integer() ? c.j.at(k).get<int64_t>() : -1;
  };
  s.bos_id = id_or("bos_token_id");
  s.pad_id = id_or("pad_token_id");
  if (c.has("eos_token_id")) {
    const json& e = c.j.at("eos_token_id");
    if (e.is_number_integer())
      s.eos_ids.push_back(e.get<int64_t>());
    else if (e.is_array())
      for (const auto& x : e)
        if (x.is_number_integer()) s.eos_ids.push_back(x.get<int64_t>());
  }
}

// Llama, Mistral, Qwen2, Qwen3 and EXAONE 3.0: RMSNorm (w·x̂), SiLU-gated MLP, RoPE.
void parse_llama_like(const ConfigReader& c, ModelSpec& s) {
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

  const json* rope_obj = nullptr;
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

// Gemma 2 and Gemma 3 (text): (1+w) RMSNorm, sandwich norms, GELU(tanh)-gated MLP, scaled
// embeddings, query_pre_attn_scalar, sliding/global layer pattern.
void parse_gemma(const ConfigReader& c, ModelSpec& s) {
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
    const json& rp = c.j.at("rope_parameters");
    global =
        parse_rope(c, "rope_parameters.full_attention", &rp.at("full_attention"), 1e6f, s.head_dim);
    local = rp.contains("sliding_attention")
                ? parse_rope(c, "rope_parameters.sliding_attention", &rp.at("sliding_attention"),
                             1e4f, s.head_dim)
                : global;
  } else {
    float theta = static_cast<float>(c.number_or("rope_theta", gemma3 ? 1e6 : 1e4));
    const json* scaling = c.has("rope_scaling") ? &c.j.at("rope_scaling") : nullptr;
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

void parse_gpt2(const ConfigReader& c, ModelSpec& s) {
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

}  // namespace

ModelSpec parse_hf_config(const json& config, const std::string& source) {
  if (!config.is_object()) throw_user_error("config", source + " is not a JSON object");
  std::string arch;
  if (config.contains("architectures") && config["architectures"].is_array() &&
      !config["architectures"].empty() && config["architectures"][0].is_string()) {
    arch = config["architectures"][0].get<std::string>();
  }
  const std::string model_type = str_or(config, "model_type", "");
  if (arch.empty()) {
    // No architectures list: infer the causal-LM class from model_type.
    static const std::pair<const char*, const char*> by_type[] = {
        {"llama", "LlamaForCausalLM"},
        {"mistral", "MistralForCausalLM"},
        {"qwen2", "Qwen2ForCausalLM"},
        {"qwen3", "Qwen3ForCausalLM"},
        {"gemma2", "Gemma2ForCausalLM"},
        {"gemma3_text", "Gemma3ForCausalLM"},
        {"gemma3", "Gemma3ForConditionalGeneration"},
        {"gpt2", "GPT2LMHeadModel"},
        {"exaone", "ExaoneForCausalLM"}};
    for (const auto& [t, a] : by_type)
      if (model_type == t) arch = a;
  }
  std::string supported;
  for (const auto& a : supported_architectures()) supported += (supported.empty() ? "" : ", ") + a;
  ModelSpec s;
  s.architecture = arch;
  s.model_type = model_type;
  s.source = source;
  s.torch_dtype = str_or(config, "torch_dtype", str_or(config, "dtype", ""));
  const json* body = &config;
  if (arch == "LlamaForCausalLM")
    s.family = Family::LLAMA;
  else if (arch == "MistralForCausalLM")
    s.family = Family::MISTRAL;
  else if (arch == "Qwen2ForCausalLM")
    s.family = Family::QWEN2;
  else if (arch == "Qwen3ForCausalLM")
    s.family = Family::QWEN3;
  else if (arch == "Gemma2ForCausalLM")
    s.family = Family::GEMMA2;
  else if (arch == "Gemma3ForCausalLM")
    s.family = Family::GEMMA3;
  else if (arch == "Gemma3ForConditionalGeneration") {
    s.family = Family::GEMMA3;
    if (!config.contains("text_config") || !config["text_config"].is_object())
      throw_user_error("config",
                       source + ": Gemma3ForConditionalGeneration without a text_config object",
                       "fix config.json");
    body = &config["text_config"];
    s.weight_prefix = "language_model.";
  } else if (arch == "GPT2LMHeadModel")
    s.family = Family::GPT2;
  else if (arch == "ExaoneForCausalLM")
    s.family = Family::EXAONE;
  else {
    throw_user_error(
        "config",
        source + ": architecture '" + (arch.empty() ? model_type : arch) + "' is not supported",
        "supported architectures: " + supported);
  }
  ConfigReader c{*body, source + (body != &config ? " (text_config)" : "")};
  switch (s.family) {
    case Family::GEMMA2:
    case Family::GEMMA3:
      parse_gemma(c, s);
      break;
    case Family::GPT2:
      parse_gpt2(c, s);
      break;
    default:
      parse_llama_like(c, s);
      break;
  }
  if (body != &config && config.contains("tie_word_embeddings") &&
      config["tie_word_embeddings"].is_boolean())
    s.tied_embeddings = config["tie_word_embeddings"].get<bool>();
  read_special_ids(ConfigReader{config, source}, s);
  if (s.eos_ids.empty() && body != &config) read_special_ids(c, s);
  // Dropout inside the base model (active under model.train() in transformers): recorded so
  // training can say it is not applied.
  // GPT2Config defaults its three *_pdrop to 0.1; the others default to 0.
  const bool gpt2 = s.family == Family::GPT2;
  for (const char* key :
       {"resid_pdrop", "embd_pdrop", "attn_pdrop", "attention_dropout", "embed_dropout"}) {
    const bool pdrop = std::string_view(key).ends_with("_pdrop");
    const double p = c.number_or(key, gpt2 && pdrop ? 0.1 : 0.0);
    if (!(p > 0.0) || (pdrop && !gpt2)) continue;
    char buf[64];
    std::snprintf(buf, sizeof buf, "%s%s %g", s.base_dropout.empty() ? "" : ", ", key, p);
    s.base_dropout += buf;
  }
  if (s.n_heads % s.n_kv_heads != 0)
    c.fail("num_key_value_heads", "must divide num_attention_heads");
  if (!s.learned_positions && s.head_dim % 2 != 0) c.fail("head_dim", "must be even for RoPE");
  return s;
}

ModelSpec read_hf_config(const std::string& path) {
  std::ifstream in(path);
  if (!in)
    throw_user_error("config", "cannot read " + path,
                     "check that the model directory has config.json");
  json j;
  try {
    j = json::parse(in);
  } catch (const json::exception& e) {
    throw_user_error("config", path + " is not valid JSON: " + e.what(),
                     "fix or re-download config.json");
  }
  return parse_hf_config(j, path);
}

}  // namespace tuna
