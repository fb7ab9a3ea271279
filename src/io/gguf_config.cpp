// GGUF architecture metadata → ModelSpec for gemma3, llama, qwen2 and qwen3: the same spec
// HF config.json produces for the same model, so loading, forward and `tuna info` are shared.
// Keys and defaults follow llama.cpp's loader (src/llama-model.cpp) and its HF converter.
#include "io/gguf_config.h"

#include <cmath>

#include "core/error.h"

namespace tuna {

namespace {

struct Keys {
  const GgufFile& f;
  std::string arch;

  std::string key(const std::string& k) const { return arch + "." + k; }
  int64_t required_int(const std::string& k) const {
    const std::string full = key(k);
    if (!f.has(full))
      throw_user_error(
          "gguf", f.path() + ": key '" + full + "' is missing",
          "the file is not a complete " + arch + " model (re-convert or re-download it)");
    int64_t v = f.get_int(full);
    if (v <= 0)
      throw_user_error("gguf", f.path() + ": key '" + full + "' must be positive", "fix the file");
    return v;
  }
  int64_t int_or(const std::string& k, int64_t d) const { return f.get_int_or(key(k), d); }
  double float_or(const std::string& k, double d) const { return f.get_float_or(key(k), d); }
};

}  // namespace

const std::vector<std::string>& supported_gguf_architectures() {
  static const std::vector<std::string> archs = {"gemma3", "llama", "qwen2", "qwen3"};
  return archs;
}

ModelSpec spec_from_gguf(const GgufFile& f) {
  const std::string arch = f.get_string_or("general.architecture", "");
  bool supported = false;
  std::string list;
  for (const auto& a : supported_gguf_architectures()) {
    supported |= a == arch;
    list += (list.empty() ? "" : ", ") + a;
  }
  if (!supported)
    throw_user_error("gguf", f.path() + ": architecture '" + arch + "' is not supported",
                     "supported GGUF architectures: " + list);
  Keys k{f, arch};
  ModelSpec s;
  s.source = f.path();
  s.model_type = arch;
  s.hidden = k.required_int("embedding_length");
  s.n_layers = k.required_int("block_count");
  s.ffn = k.required_int("feed_forward_length");
  s.n_heads = k.required_int("attention.head_count");
  s.n_kv_heads = k.int_or("attention.head_count_kv", s.n_heads);
  s.head_dim = k.int_or("attention.key_length", s.hidden / s.n_heads);
  s.max_positions = k.required_int("context_length");
  if (s.n_kv_heads <= 0 || s.n_heads % s.n_kv_heads != 0)
    throw_user_error(
        "gguf",
        f.path() + ": " + arch + ".attention.head_count_kv (" + std::to_string(s.n_kv_heads) +
            ") must be positive and divide head_count (" + std::to_string(s.n_heads) + ")",
        "the file's metadata is inconsistent; re-convert the model");
  if (s.head_dim <= 0 || s.head_dim % 2 != 0)
    throw_user_error(
        "gguf", f.path() + ": " + arch + ".attention.key_length must be a positive even number",
        "the file's metadata is inconsistent; re-convert the model");
  s.norm_eps = static_cast<float>(k.float_or("attention.layer_norm_rms_epsilon", 1e-6));
  const GgufTensorInfo* embd = f.find_tensor("token_embd.weight");
  if (embd == nullptr)
    throw_user_error("gguf", f.path() + ": tensor 'token_embd.weight' is missing",
                     "the file is incomplete");
  s.vocab = embd->shape[0];
  s.tied_embeddings = f.find_tensor("output.weight") == nullptr;
  s.attn_scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(s.head_dim)));
  s.bos_id = f.get_int_or("tokenizer.ggml.bos_token_id", -1);
  s.pad_id = f.get_int_or("tokenizer.ggml.padding_token_id", -1);
  if (f.has("tokenizer.ggml.eos_token_id"))
    s.eos_ids.push_back(f.get_int("tokenizer.ggml.eos_token_id"));

  RopeConfig rope;
  rope.dim = k.int_or("rope.dimension_count", s.head_dim);
  rope.theta = static_cast<float>(k.float_or("rope.freq_base", arch == "gemma3" ? 1e6 : 1e4));
  const std::string scaling = f.get_string_or(k.key("rope.scaling.type"), "none");
  if (scaling == "linear") {
    rope.scaling = RopeScalingType::LINEAR;
    rope.factor = static_cast<float>(k.float_or("rope.scaling.factor", 1.0));
  } else if (scaling != "none") {
    throw_user_error("gguf", f.path() + ": rope scaling '" + scaling + "' is not supported yet",
                     "supported: none, linear (llama3 scaling via rope_freqs is not read yet)");
  }
  if (f.find_tensor("rope_freqs.weight") != nullptr)
    throw_user_error(
        "gguf",
        f.path() + ": llama3 RoPE frequency factors (rope_freqs.weight) are not supported yet",
        "use the Hugging Face checkpoint of this model");
  if (rope.dim != s.head_dim)
    throw_user_error("gguf", f.path() + ": partial rotary dims are not supported",
                     "use a model with rope dim = head dim");

  if (arch == "gemma3") {
    s.architecture = "Gemma3ForCausalLM";
    s.family = Family::GEMMA3;
    s.norm = NormType::RMS_GEMMA;  // the loader subtracts the converter's +1 from norm weights
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
    return s;
  }
  s.architecture = arch == "llama"   ? "LlamaForCausalLM"
                   : arch == "qwen2" ? "Qwen2ForCausalLM"
                                     : "Qwen3ForCausalLM";
  s.family = arch == "llama" ? Family::LLAMA : arch == "qwen2" ? Family::QWEN2 : Family::QWEN3;
  s.norm = NormType::RMS;
  s.activation = Activation::SILU;
  s.qkv_bias = f.find_tensor("blk.0.attn_q.bias") != nullptr;
  s.o_bias = f.find_tensor("blk.0.attn_output.bias") != nullptr;
  s.qk_norm = f.find_tensor("blk.0.attn_q_norm.weight") != nullptr;
  // llama.cpp's converter permutes llama q/k rows for its interleaved ("NORM") RoPE; rotating
  // adjacent pairs on those rows is exactly HF's half-split rotation on the original rows.
  s.rope_interleaved = arch == "llama";
  const int64_t window = k.int_or("attention.sliding_window", 0);
  for (int64_t i = 0; i < s.n_layers; ++i) {
    LayerSpec l;
    l.sliding = window > 0;
    l.window = window;
    l.rope = rope;
    s.layers.push_back(l);
  }
  return s;
}

}  // namespace tuna
