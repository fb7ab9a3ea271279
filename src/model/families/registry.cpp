// The family registry and what is derived from the family tables. See registry.h. Adding a
// family: its file under model/families/ plus its declaration and one entry in model_families()
// below (a static library drops a file nothing references).
#include "model/families/registry.h"

#include <algorithm>
#include <cstdio>
#include <set>
#include <string_view>

#include "core/error.h"
#include "core/message.h"
#include "model/model.h"
#include "model/train_step.h"

namespace tuna {

// Defined in the family files.
const ModelFamily& llama_family();
const ModelFamily& gemma_family();
const ModelFamily& gpt2_family();
const ModelFamily& exaone_family();

const std::vector<const ModelFamily*>& model_families() {
  static const std::vector<const ModelFamily*> families = {&llama_family(), &gemma_family(),
                                                           &gpt2_family(), &exaone_family()};
  return families;
}

namespace {

template <typename Pred>
FamilyRef find_variant(const Pred& pred) {
  for (const ModelFamily* f : model_families())
    for (const FamilyVariant& v : f->variants)
      if (pred(v)) return {f, &v};
  return {};
}

}  // namespace

FamilyRef find_family_by_architecture(const std::string& hf_architecture) {
  return find_variant([&](const FamilyVariant& v) { return v.architecture == hf_architecture; });
}

FamilyRef find_family_by_model_type(const std::string& model_type) {
  return find_variant([&](const FamilyVariant& v) { return v.model_type == model_type; });
}

FamilyRef find_family_by_gguf_architecture(const std::string& gguf_architecture) {
  return find_variant([&](const FamilyVariant& v) {
    return !v.gguf_architecture.empty() && v.gguf_architecture == gguf_architecture;
  });
}

FamilyRef family_of(const ModelSpec& spec) {
  FamilyRef r = find_family_by_architecture(spec.architecture);
  if (!r) r = find_variant([&](const FamilyVariant& v) { return v.family == spec.family; });
  TUNA_ASSERT(r, "no registered family for " + spec.architecture);
  return r;
}

const std::vector<std::string>& supported_architectures() {
  static const std::vector<std::string> archs = [] {
    std::vector<std::string> out;
    for (const ModelFamily* f : model_families())
      for (const FamilyVariant& v : f->variants) out.push_back(v.architecture);
    return out;
  }();
  return archs;
}

const std::vector<std::string>& supported_gguf_architectures() {
  static const std::vector<std::string> archs = [] {
    std::vector<std::string> out;
    for (const ModelFamily* f : model_families())
      for (const FamilyVariant& v : f->variants)
        if (!v.gguf_architecture.empty() && f->read_gguf != nullptr)
          out.push_back(v.gguf_architecture);
    std::sort(out.begin(), out.end());
    return out;
  }();
  return archs;
}

ModelSpec parse_hf_config(const nlohmann::json& config, const std::string& source) {
  if (!config.is_object()) throw_user_error("config", source + " is not a JSON object");
  std::string arch;
  if (config.contains("architectures") && config["architectures"].is_array() &&
      !config["architectures"].empty() && config["architectures"][0].is_string()) {
    arch = config["architectures"][0].get<std::string>();
  }
  const std::string model_type = json_string_or(config, "model_type", "");
  if (arch.empty()) {
    // No architectures list: infer the causal-LM class from model_type.
    if (const FamilyRef by_type = find_family_by_model_type(model_type))
      arch = by_type.variant->architecture;
  }
  ModelSpec s;
  s.architecture = arch;
  s.model_type = model_type;
  s.source = source;
  s.torch_dtype = json_string_or(config, "torch_dtype", json_string_or(config, "dtype", ""));
  const FamilyRef ref = find_family_by_architecture(arch);
  if (!ref && arch.empty() && model_type.empty())
    throw_user_error("config", source + ": neither \"architectures\" nor \"model_type\" is set",
                     "add the model's class, e.g. \"architectures\": [\"LlamaForCausalLM\"] "
                     "(supported: " +
                         join_names(supported_architectures()) + ")");
  if (!ref)
    throw_user_error(
        "config",
        source + ": architecture '" + (arch.empty() ? model_type : arch) + "' is not supported",
        "supported architectures: " + join_names(supported_architectures()));
  const ModelFamily& family = *ref.family;
  s.family = ref.variant->family;
  const nlohmann::json* body = &config;
  if (ref.variant->text_config) {
    if (!config.contains("text_config") || !config["text_config"].is_object())
      throw_user_error("config", source + ": " + arch + " without a text_config object",
                       "fix config.json");
    body = &config["text_config"];
    s.weight_prefix = "language_model.";
  }
  ConfigReader c{*body, source + (body != &config ? " (text_config)" : "")};
  family.read_hf_config(c, s);
  if (body != &config && config.contains("tie_word_embeddings") &&
      config["tie_word_embeddings"].is_boolean())
    s.tied_embeddings = config["tie_word_embeddings"].get<bool>();
  read_special_ids(ConfigReader{config, source}, s);
  if (s.eos_ids.empty() && body != &config) read_special_ids(c, s);
  // Dropout inside the base model (active under model.train() in transformers): recorded so
  // training can say it is not applied.
  for (const auto& [key, dflt] : family.dropout_keys) {
    const double p = c.number_or(key.c_str(), dflt);
    if (!(p > 0.0)) continue;
    char buf[64];
    std::snprintf(buf, sizeof buf, "%s%s %g", s.base_dropout.empty() ? "" : ", ", key.c_str(), p);
    s.base_dropout += buf;
  }
  if (s.n_heads % s.n_kv_heads != 0)
    c.fail("num_key_value_heads", "must divide num_attention_heads");
  if (!s.learned_positions && s.head_dim % 2 != 0) c.fail("head_dim", "must be even for RoPE");
  return s;
}

ModelSpec read_hf_config(const std::string& path) {
  return parse_hf_config(read_hf_config_json(path), path);
}

ModelSpec spec_from_gguf(const GgufFile& f) {
  const std::string arch = f.get_string_or("general.architecture", "");
  const FamilyRef ref = find_family_by_gguf_architecture(arch);
  if (!ref || ref.family->read_gguf == nullptr)
    throw_user_error("gguf", f.path() + ": architecture '" + arch + "' is not supported",
                     "supported GGUF architectures: " + join_names(supported_gguf_architectures()));
  const GgufKeys k{f, arch};
  ModelSpec s = gguf_base_spec(k);
  s.architecture = ref.variant->architecture;
  s.family = ref.variant->family;
  ref.family->read_gguf(k, s);
  return s;
}

nlohmann::ordered_json hf_config_from_spec(const ModelSpec& s, const std::string& where,
                                           DType dtype) {
  const RefuseConfig refuse = [&](const std::string& what) {
    throw_user_error("model", where + ": cannot write a transformers config.json (" + what + ")",
                     "use the model's Hugging Face checkpoint as the base for full fine-tuning");
  };
  const FamilyRef ref = family_of(s);
  if (ref.family->write_hf_config == nullptr) refuse("no config writer for " + ref.family->name);
  nlohmann::ordered_json c;
  c["architectures"] = nlohmann::ordered_json::array({s.architecture});
  c["vocab_size"] = s.vocab;
  c["hidden_size"] = s.hidden;
  c["intermediate_size"] = s.ffn;
  c["num_hidden_layers"] = s.n_layers;
  c["num_attention_heads"] = s.n_heads;
  c["num_key_value_heads"] = s.n_kv_heads;
  c["head_dim"] = s.head_dim;
  c["max_position_embeddings"] = s.max_positions;
  c["rms_norm_eps"] = hf_float_json(s.norm_eps);
  c["tie_word_embeddings"] = s.tied_embeddings;
  c["bos_token_id"] = hf_id_json(s.bos_id);
  c["eos_token_id"] = hf_eos_json(s);
  c["pad_token_id"] = hf_id_json(s.pad_id);
  c["torch_dtype"] = torch_dtype_name(dtype);
  ref.family->write_hf_config(s, c, refuse);
  return c;
}

std::string with_layer(const std::string& name, int64_t layer) {
  std::string s = name;
  const size_t at = s.find("{}");
  if (at != std::string::npos) s.replace(at, 2, std::to_string(layer));
  return s;
}

std::string bias_name(const std::string& weight_name) {
  if (std::string_view(weight_name).ends_with(".weight") && weight_name.size() > 7)
    return weight_name.substr(0, weight_name.size() - 7) + ".bias";
  return weight_name + ".bias";
}

std::string family_hf_name(const ModelFamily& family, const std::string& name,
                           const ModelSpec& spec, const HasTensor* has) {
  return family.hf_name != nullptr ? family.hf_name(name, spec, has) : name;
}

WeightNames hf_weight_names(const ModelSpec& spec, const HasTensor& has) {
  const ModelFamily& family = *family_of(spec).family;
  WeightNames n;
  n.linear_transposed = family.linear_transposed;
  for (const WeightSlot& row : family.slots)
    n.by_slot[row.slot] = family_hf_name(family, row.hf, spec, &has);
  return n;
}

WeightNames gguf_weight_names(const ModelSpec& spec) {
  WeightNames n;
  for (const WeightSlot& row : family_of(spec).family->slots)
    if (!row.gguf.empty()) n.by_slot[row.slot] = row.gguf;
  return n;
}

namespace {

// A slot name without its "layers.<i>." prefix and its "_bias" suffix: the table row's slot.
std::string table_slot(const std::string& slot, bool* bias = nullptr) {
  std::string s = slot;
  if (s.rfind("layers.", 0) == 0) s = s.substr(s.find('.', 7) + 1);
  const bool is_bias = std::string_view(s).ends_with("_bias");
  if (is_bias) s.resize(s.size() - 5);
  if (bias != nullptr) *bias = is_bias;
  return s;
}

}  // namespace

std::vector<std::pair<std::string, std::string>> hf_slot_names(const Model& model) {
  const ModelSpec& spec = model.spec();
  const std::vector<std::string>& bound = model.weights().names;
  const std::set<std::string> names(bound.begin(), bound.end());
  const HasTensor has = [&](const std::string& n) {
    return model.gguf() == nullptr && names.count(n) > 0;
  };
  const WeightNames wn = hf_weight_names(spec, has);
  std::vector<std::pair<std::string, std::string>> out;
  for_each_weight_slot(model.weights(), [&](const std::string& slot, const Tensor&) {
    if (spec.tied_embeddings && slot == "lm_head") return;
    bool bias = false;
    const std::string row = table_slot(slot, &bias);
    auto it = wn.by_slot.find(row);
    TUNA_ASSERT(it != wn.by_slot.end(), "weight slot " + slot + " has no row in the family table");
    const std::string name = bias ? bias_name(it->second) : it->second;
    if (slot.rfind("layers.", 0) == 0) {
      const size_t dot = slot.find('.', 7);
      out.emplace_back(slot, with_layer(name, std::stoll(slot.substr(7, dot - 7))));
    } else {
      out.emplace_back(slot, name);
    }
  });
  return out;
}

int64_t rope_permuted_heads(const Model& model, const WeightSlot& row) {
  if (!model.spec().rope_interleaved || model.gguf() == nullptr) return 0;
  switch (row.rope_rows) {
    case RopeRows::Q_HEADS:
      return model.spec().n_heads;
    case RopeRows::KV_HEADS:
      return model.spec().n_kv_heads;
    case RopeRows::NONE:
      break;
  }
  return 0;
}

int64_t rope_permuted_heads(const Model& model, const std::string& slot) {
  if (!model.spec().rope_interleaved || model.gguf() == nullptr) return 0;
  const WeightSlot* row = family_of(model.spec()).family->find_slot(table_slot(slot));
  return row != nullptr ? rope_permuted_heads(model, *row) : 0;
}

}  // namespace tuna
