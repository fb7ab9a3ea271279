// Hugging Face model directories written from a loaded model's (trained) weights. See
// save_hf_model.h.
#include "model/save_hf_model.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <system_error>

#include "core/error.h"
#include "core/file_io.h"
#include "io/gguf.h"
#include "io/safetensors.h"
#include "model/model.h"
#include "model/train_step.h"
#include "ops/dequantize.h"

namespace tuna {

namespace {

namespace fs = std::filesystem;
using ojson = nlohmann::ordered_json;

std::string with_layer(const std::string& tmpl, const std::string& layer) {
  std::string s = tmpl;
  const size_t at = s.find("{}");
  if (at != std::string::npos) s.replace(at, 2, layer);
  return s;
}

std::string bias_of(const std::string& weight_name) {
  const std::string suffix = ".weight";
  if (weight_name.size() > suffix.size() &&
      weight_name.compare(weight_name.size() - suffix.size(), suffix.size(), suffix) == 0)
    return weight_name.substr(0, weight_name.size() - suffix.size()) + ".bias";
  return weight_name + ".bias";
}

// The checkpoint-name template of a slot (without "layers.<i>.").
std::string slot_template(const WeightNames& n, const std::string& slot) {
  const std::string b = "_bias";
  if (slot.size() > b.size() && slot.compare(slot.size() - b.size(), b.size(), b) == 0)
    return bias_of(slot_template(n, slot.substr(0, slot.size() - b.size())));
  if (slot == "embed") return n.embed;
  if (slot == "pos_embed") return n.pos_embed;
  if (slot == "final_norm") return n.final_norm;
  if (slot == "lm_head") return n.lm_head;
  if (slot == "attn_norm") return n.attn_norm;
  if (slot == "q") return n.q;
  if (slot == "k") return n.k;
  if (slot == "v") return n.v;
  if (slot == "o") return n.o;
  if (slot == "qkv") return n.qkv;
  if (slot == "q_norm") return n.q_norm;
  if (slot == "k_norm") return n.k_norm;
  if (slot == "post_attn_norm") return n.post_attn_norm;
  if (slot == "ffn_norm") return n.ffn_norm;
  if (slot == "post_ffn_norm") return n.post_ffn_norm;
  if (slot == "gate") return n.gate;
  if (slot == "up") return n.up;
  if (slot == "down") return n.down;
  TUNA_ASSERT(false, "unknown weight slot " + slot);
  return {};
}

Tensor to_owned_f32(const Tensor& t) {
  if (t.dtype() == DType::F32) return t;
  if (t.dtype() == DType::F16 || t.dtype() == DType::BF16) return t.to_f32();
  Tensor out = Tensor::empty(t.shape(), DType::F32);
  dequantize_rows(t, 0, t.dim(0), out.data_mut<float>());
  return out;
}

// Heads of a q/k slot whose rows llama.cpp permuted (GGUF llama base), else 0.
int64_t permuted_heads(const Model& model, const std::string& slot) {
  if (!model.spec().rope_interleaved || model.gguf() == nullptr) return 0;
  auto is = [&](const char* s) {
    const std::string suffix = std::string(".") + s;
    return slot.size() > suffix.size() &&
           slot.compare(slot.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  if (is("q") || is("q_bias")) return model.spec().n_heads;
  if (is("k") || is("k_bias")) return model.spec().n_kv_heads;
  return 0;
}

ojson eos_json(const ModelSpec& s) {
  if (s.eos_ids.empty()) return nullptr;
  if (s.eos_ids.size() == 1) return s.eos_ids[0];
  return s.eos_ids;
}

ojson id_json(int64_t id) {
  return id >= 0 ? ojson(id) : ojson(nullptr);
}

// A float GGUF value as the decimal a Hugging Face config holds (1e-06, not the widened double
// 9.999999974752427e-07): the shortest text that reads back as the same float, as a double.
ojson float_json(float v) {
  char buf[32];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  if (ec != std::errc()) return static_cast<double>(v);
  return std::strtod(std::string(buf, end).c_str(), nullptr);
}

ojson rope_scaling_json(const RopeConfig& r) {
  if (r.scaling == RopeScalingType::LINEAR)
    return ojson{{"factor", float_json(r.factor)}, {"rope_type", "linear"}};
  return nullptr;
}

// config.json from a GGUF base's spec, with the fields transformers 4.57's config classes read.
ojson config_from_gguf_spec(const ModelSpec& s, const std::string& where, DType dtype) {
  auto refuse = [&](const std::string& what) {
    throw_user_error("model", where + ": cannot write a transformers config.json (" + what + ")",
                     "use the model's Hugging Face checkpoint as the base for full fine-tuning");
  };
  ojson c;
  c["architectures"] = ojson::array({s.architecture});
  c["vocab_size"] = s.vocab;
  c["hidden_size"] = s.hidden;
  c["intermediate_size"] = s.ffn;
  c["num_hidden_layers"] = s.n_layers;
  c["num_attention_heads"] = s.n_heads;
  c["num_key_value_heads"] = s.n_kv_heads;
  c["head_dim"] = s.head_dim;
  c["max_position_embeddings"] = s.max_positions;
  c["rms_norm_eps"] = float_json(s.norm_eps);
  c["tie_word_embeddings"] = s.tied_embeddings;
  c["bos_token_id"] = id_json(s.bos_id);
  c["eos_token_id"] = eos_json(s);
  c["pad_token_id"] = id_json(s.pad_id);
  c["torch_dtype"] = torch_dtype_name(dtype);
  const RopeConfig& global = s.layers.empty() ? RopeConfig{} : s.layers.back().rope;
  if (s.family == Family::GEMMA3) {
    c["model_type"] = "gemma3_text";
    c["hidden_activation"] = "gelu_pytorch_tanh";
    // transformers scales by query_pre_attn_scalar^-0.5; the GGUF spec holds the scale itself.
    c["query_pre_attn_scalar"] =
        std::llround(1.0 / (static_cast<double>(s.attn_scale) * static_cast<double>(s.attn_scale)));
    c["attention_bias"] = false;
    c["attn_logit_softcapping"] = nullptr;
    c["final_logit_softcapping"] =
        s.final_softcap > 0 ? float_json(s.final_softcap) : ojson(nullptr);
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
    c["rope_theta"] = float_json(global_theta);
    c["rope_local_base_freq"] = float_json(local_theta);
    for (const LayerSpec& l : s.layers)
      if (!l.sliding) c["rope_scaling"] = rope_scaling_json(l.rope);
    if (!c.contains("rope_scaling")) c["rope_scaling"] = nullptr;
    c["use_bidirectional_attention"] = false;
    return c;
  }
  for (const LayerSpec& l : s.layers)
    if (l.sliding) refuse("a sliding window on " + s.model_type);
  c["model_type"] = s.model_type;
  c["hidden_act"] = "silu";
  c["rope_theta"] = float_json(global.theta);
  c["rope_scaling"] = rope_scaling_json(global);
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
  return c;
}

void write_json(const fs::path& path, const ojson& j) {
  const std::string text = j.dump(2) + "\n";
  write_file_atomic("model", path.string(),
                    [&](const WriteBytes& sink) { sink(text.data(), text.size()); });
}

}  // namespace

Tensor permute_rope_rows(const Tensor& rows, int64_t heads, bool to_hf) {
  const int64_t n = rows.dim(0), cols = rows.ndim() == 2 ? rows.dim(1) : 1, D = n / heads,
                half = D / 2;
  TUNA_ASSERT(n % heads == 0 && D % 2 == 0, "rope permutation needs heads · even head dim rows");
  Tensor out = Tensor::empty(rows.shape(), DType::F32);
  const float* src = rows.data<float>();
  float* dst = out.data_mut<float>();
  for (int64_t h = 0; h < heads; ++h)
    for (int64_t s = 0; s < 2; ++s)
      for (int64_t j = 0; j < half; ++j) {
        const int64_t hf = h * D + s * half + j, gguf = h * D + j * 2 + s;
        const int64_t from = to_hf ? gguf : hf, to = to_hf ? hf : gguf;
        std::copy(src + from * cols, src + (from + 1) * cols, dst + to * cols);
      }
  return out;
}

std::vector<std::pair<std::string, std::string>> hf_slot_names(const Model& model) {
  const ModelSpec& spec = model.spec();
  const std::vector<std::string>& bound = model.weights().names;
  const std::set<std::string> names(bound.begin(), bound.end());
  // A GGUF base takes the plain names of its architecture's transformers class.
  auto has = [&](const std::string& n) { return model.gguf() == nullptr && names.count(n) > 0; };
  const WeightNames wn = hf_weight_names(spec, has);
  std::vector<std::pair<std::string, std::string>> out;
  for_each_weight_slot(model.weights(), [&](const std::string& slot, const Tensor&) {
    if (spec.tied_embeddings && slot == "lm_head") return;
    if (slot.rfind("layers.", 0) == 0) {
      const size_t dot = slot.find('.', 7);
      out.emplace_back(
          slot, with_layer(slot_template(wn, slot.substr(dot + 1)), slot.substr(7, dot - 7)));
    } else {
      out.emplace_back(slot, slot_template(wn, slot));
    }
  });
  return out;
}

ojson hf_config_json(const Model& model, DType dtype) {
  const char* name = torch_dtype_name(dtype);
  if (model.gguf() != nullptr) return config_from_gguf_spec(model.spec(), model.dir(), dtype);
  const fs::path path = fs::path(model.dir()) / "config.json";
  std::ifstream in(path);
  ojson c = ojson::parse(in, nullptr, false);
  if (c.is_discarded() || !c.is_object())
    throw_user_error("model", path.string() + " is not valid JSON", "fix the base's config.json");
  if (c.contains("dtype")) c["dtype"] = name;
  c["torch_dtype"] = name;
  return c;
}

std::vector<std::string> save_hf_model(const std::string& dir, const Model& model,
                                       const ModelWeights& weights, DType dtype) {
  if (!model.spec().weight_prefix.empty())
    throw_user_error("model",
                     model.dir() + " is a multimodal checkpoint (" + model.spec().architecture +
                         "); tuna saves text-only models",
                     "fine-tune the text model's own checkpoint, or train a LoRA adapter");
  fs::create_directories(dir);
  std::vector<std::string> notes;
  const ojson config = hf_config_json(model, dtype);
  std::vector<std::pair<std::string, Tensor>> tensors;
  std::map<std::string, Tensor> by_slot;
  for_each_weight_slot(weights,
                       [&](const std::string& slot, const Tensor& t) { by_slot[slot] = t; });
  for (const auto& [slot, name] : hf_slot_names(model)) {
    Tensor t = to_owned_f32(by_slot.at(slot));
    if (const int64_t heads = permuted_heads(model, slot)) t = permute_rope_rows(t, heads, true);
    tensors.emplace_back(name, t.f32_to(dtype));
  }
  std::sort(tensors.begin(), tensors.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  write_safetensors((fs::path(dir) / "model.safetensors").string(), tensors, {{"format", "pt"}});
  write_json(fs::path(dir) / "config.json", config);

  if (model.gguf() == nullptr) {
    // An HF base: its generation config and tokenizer files travel with the model.
    for (const char* f : {"generation_config.json", "tokenizer.json", "tokenizer_config.json",
                          "special_tokens_map.json", "tokenizer.model", "chat_template.jinja",
                          "vocab.json", "merges.txt", "added_tokens.json"}) {
      const fs::path src = fs::path(model.dir()) / f;
      if (fs::exists(src))
        fs::copy_file(src, fs::path(dir) / f, fs::copy_options::overwrite_existing);
    }
    if (!fs::exists(fs::path(dir) / "tokenizer.json") &&
        !fs::exists(fs::path(dir) / "tokenizer.model"))
      notes.push_back("the base " + model.dir() + " has no tokenizer files to copy");
  } else {
    const ModelSpec& s = model.spec();
    write_json(fs::path(dir) / "generation_config.json",
               ojson{{"bos_token_id", id_json(s.bos_id)},
                     {"eos_token_id", eos_json(s)},
                     {"pad_token_id", id_json(s.pad_id)}});
    notes.push_back(
        "the GGUF base carries its tokenizer as GGUF metadata, not tokenizer.json: copy "
        "tokenizer.json, tokenizer_config.json and special_tokens_map.json from the model's "
        "Hugging Face repository (for Gemma 3 270M: google/gemma-3-270m) into " +
        dir + " before loading it with transformers' AutoTokenizer");
  }
  return notes;
}

void load_hf_model_weights(const std::string& dir, const Model& model, ModelWeights& into) {
  const std::string path = (fs::path(dir) / "model.safetensors").string();
  if (!fs::exists(path))
    throw_user_error("model", path + " is missing",
                     "the checkpoint is incomplete; resume from an older one");
  const SafetensorsFile f = SafetensorsFile::open(path);
  const std::vector<std::string> names = f.names();
  const std::set<std::string> present(names.begin(), names.end());
  std::map<std::string, Tensor*> by_slot;
  for_each_weight_slot(into, [&](const std::string& slot, Tensor& t) { by_slot[slot] = &t; });
  for (const auto& [slot, name] : hf_slot_names(model)) {
    Tensor& dst = *by_slot.at(slot);
    if (!present.count(name))
      throw_user_error("model", path + ": tensor '" + name + "' is missing",
                       "the file was not written for this base model");
    Tensor t = f.tensor(name).to_f32();
    if (t.shape() != dst.shape() || dst.dtype() != DType::F32)
      throw_user_error("model",
                       path + ": tensor '" + name + "' has shape " + t.shape().to_string() +
                           ", the model needs " + dst.shape().to_string(),
                       "the file was not written for this base model");
    if (const int64_t heads = permuted_heads(model, slot)) t = permute_rope_rows(t, heads, false);
    std::copy(t.data<float>(), t.data<float>() + t.numel(), dst.data_mut<float>());
  }
}

}  // namespace tuna
