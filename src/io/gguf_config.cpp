// Generic GGUF architecture metadata → ModelSpec fields. See gguf_config.h. Keys and defaults
// follow llama.cpp's loader (src/llama-model.cpp) and its HF converter.
#include "io/gguf_config.h"

#include <cmath>

#include "core/error.h"

namespace tuna {

int64_t GgufKeys::required_int(const std::string& k) const {
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

ModelSpec gguf_base_spec(const GgufKeys& k) {
  const GgufFile& f = k.f;
  const std::string& arch = k.arch;
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
  return s;
}

RopeConfig gguf_rope(const GgufKeys& k, const ModelSpec& s, double default_theta) {
  const GgufFile& f = k.f;
  RopeConfig rope;
  rope.dim = k.int_or("rope.dimension_count", s.head_dim);
  rope.theta = static_cast<float>(k.float_or("rope.freq_base", default_theta));
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
  return rope;
}

}  // namespace tuna
