// PEFT adapter files. See adapter_io.h.
#include "lora/adapter_io.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "core/error.h"
#include "core/file_io.h"
#include "core/log.h"
#include "core/message.h"
#include "core/utf8.h"
#include "io/safetensors.h"
#include "model/families/registry.h"
#include "model/model.h"
#include "model/rope_rows.h"

namespace tuna {

namespace {

const std::string kPrefix = "base_model.model.";

// Heads of the q/k projection an adapter sits on when its rows are RoPE-permuted (the family
// table's RopeRows of the adapter's slot), else 0.
int64_t permuted_heads(const Model& model, const LoraAdapter& a) {
  if (a.layer < 0) return 0;
  for (const WeightSlot& row : family_of(model.spec()).family->slots)
    if (!row.peft.empty() && row.lora == a.target) return rope_permuted_heads(model, row);
  return 0;
}

std::string read_text(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    throw_user_error("lora", path + " is a directory, not a file",
                     "a PEFT adapter directory holds the files adapter_config.json and "
                     "adapter_model.safetensors");
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw_user_error("lora", "cannot read " + path,
                     "a PEFT adapter directory holds adapter_config.json and "
                     "adapter_model.safetensors");
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string adapter_dir_of(const std::string& dir_or_file) {
  return dir_or_file.ends_with(".safetensors")
             ? std::filesystem::path(dir_or_file).parent_path().string()
             : dir_or_file;
}

// The layer index in a module name ("model.layers.12.mlp.up_proj" → 12), or -1.
int64_t layer_of(const std::string& module) {
  for (const char* marker : {".layers.", ".h.", ".blocks."}) {
    const size_t at = module.find(marker);
    if (at == std::string::npos) continue;
    const size_t from = at + std::string(marker).size();
    size_t end = from;
    while (end < module.size() && std::isdigit(static_cast<unsigned char>(module[end]))) ++end;
    if (end > from && end - from < 9) return std::stoll(module.substr(from, end - from));
  }
  return -1;
}

// Whether `name` (an adapter's base_model_name_or_path) names the base `model_arg` was loaded
// from: the same path or repo id, a Hugging Face cache directory of that repo, or the same last
// path component (a local copy of the repo).
bool names_same_base(const std::string& name, const Model& model) {
  auto last = [](std::string s) {
    while (!s.empty() && s.back() == '/') s.pop_back();
    return s.substr(s.rfind('/') == std::string::npos ? 0 : s.rfind('/') + 1);
  };
  const std::string dir = model.dir();
  if (name == dir || last(name) == last(dir)) return true;
  std::string cached = "models--";
  for (char c : name) cached += c == '/' ? std::string("--") : std::string(1, c);
  if (dir.find("/" + cached + "/") != std::string::npos) return true;
  std::error_code ec;
  return std::filesystem::equivalent(name, dir, ec);
}

}  // namespace

void save_peft_adapter(const std::string& dir, const LoraSet& lora, const Model& model) {
  std::filesystem::create_directories(dir);
  struct Item {
    std::string name;
    Tensor t;
  };
  std::vector<Item> items;
  for (const auto& a : lora.adapters) {
    const int64_t heads = permuted_heads(model, a);
    items.push_back({kPrefix + a.module + ".lora_A.weight", a.a});
    items.push_back({kPrefix + a.module + ".lora_B.weight",
                     heads > 0 ? permute_rope_rows(a.b, heads, true) : a.b});
  }
  for (const auto& s : lora.saved) {
    items.push_back({kPrefix + s.name + ".weight", s.weight.f32_to(s.dtype)});
    if (s.bias.defined()) items.push_back({kPrefix + s.name + ".bias", s.bias.f32_to(s.dtype)});
  }
  std::set<std::string> adapted;
  for (const auto& a : lora.adapters) adapted.insert(a.module);
  for (const auto& [name, t] : lora.biases) {
    // A modules_to_save module's bias under bias "all"/"lora_only": PEFT's state dict holds the
    // copy's bias (<module>.bias, written above), again as <module>.modules_to_save.bias, and the
    // original's as <module>.original_module.bias.
    const SavedModule* saved = lora.saved_module_of_bias(name);
    if (saved != nullptr && saved->bias.defined()) {
      items.push_back(
          {kPrefix + saved->name + ".modules_to_save.bias", saved->bias.f32_to(saved->dtype)});
      items.push_back({kPrefix + saved->name + ".original_module.bias", t.f32_to(saved->dtype)});
      continue;
    }
    if (std::any_of(items.begin(), items.end(),
                    [&](const Item& i) { return i.name == kPrefix + name; }))
      continue;
    // The bias of a LoRA-wrapped module lives in its base_layer (PEFT's state dict name).
    const std::string module = name.substr(0, name.size() - 5);
    items.push_back({kPrefix + (adapted.count(module) ? module + ".base_layer.bias" : name), t});
  }
  // The Python library's order: larger dtypes first, then by name.
  std::stable_sort(items.begin(), items.end(), [](const Item& x, const Item& y) {
    const size_t sx = dtype_size(x.t.dtype()), sy = dtype_size(y.t.dtype());
    return sx != sy ? sx > sy : x.name < y.name;
  });
  std::vector<std::pair<std::string, Tensor>> tensors;
  for (auto& i : items) tensors.emplace_back(i.name, i.t);
  write_safetensors(dir + "/adapter_model.safetensors", tensors, {{"format", "pt"}});
  const std::string text = adapter_config_json_text(lora.config);
  write_file_atomic("lora", dir + "/adapter_config.json",
                    [&](const WriteBytes& sink) { sink(text.data(), text.size()); });
}

LoraConfig check_peft_adapter_files(const std::string& dir_or_file) {
  const std::string dir = adapter_dir_of(dir_or_file);
  std::error_code ec;
  if (!std::filesystem::exists(dir, ec))
    throw_user_error("lora", "cannot read the adapter directory " + dir + ": it does not exist",
                     "pass the directory PEFT's save_pretrained (or tuna train) wrote");
  const std::string config_path = dir + "/adapter_config.json";
  if (!std::filesystem::exists(config_path, ec))
    throw_user_error("lora", "cannot read " + config_path + ": no such file",
                     "a PEFT adapter directory holds adapter_config.json and "
                     "adapter_model.safetensors");
  const std::string text = read_text(config_path);
  if (const size_t bad = utf8::first_invalid(text); bad != std::string::npos)
    throw_user_error("lora", config_path + ": " + invalid_utf8_at(text, bad),
                     "save adapter_config.json as UTF-8 (PEFT writes it so)");
  nlohmann::json j;
  {
    try {
      j = nlohmann::json::parse(text);
    } catch (const nlohmann::json::parse_error& e) {
      const TextPosition at = text_position(text, e.byte > 0 ? e.byte - 1 : 0);
      throw_user_error("lora",
                       config_path + " line " + std::to_string(at.line) + ", column " +
                           std::to_string(at.column) + ": not valid JSON",
                       "adapter_config.json is the JSON object PEFT's save_pretrained writes");
    }
  }
  if (!j.is_object() || !j.contains("peft_type"))
    throw_user_error("lora", config_path + ": no peft_type",
                     "a PEFT LoRA adapter's config says \"peft_type\": \"LORA\"");
  const LoraConfig config = lora_config_from_json(j, config_path, /*lenient=*/true);
  if (!j.contains("r"))
    throw_user_error("lora", config_path + ": no r (the LoRA rank)",
                     "the adapter's config says its rank, e.g. \"r\": 8");
  if (config.target_modules.kind == ModuleSelector::Kind::NONE ||
      (config.target_modules.kind == ModuleSelector::Kind::LIST &&
       config.target_modules.names.empty()))
    throw_user_error("lora", config_path + ": target_modules is missing or empty",
                     "a saved adapter lists the modules it adapts, e.g. "
                     "\"target_modules\": [\"q_proj\", \"v_proj\"]");
  const std::string st_path = dir + "/adapter_model.safetensors";
  if (!std::filesystem::exists(st_path, ec))
    throw_user_error("lora", st_path + " is missing",
                     std::filesystem::exists(dir + "/adapter_model.bin", ec)
                         ? "convert adapter_model.bin with PEFT (save_pretrained with "
                           "safe_serialization=True); tuna does not read pickle files"
                         : "a PEFT adapter directory holds adapter_model.safetensors");
  return config;
}

LoraSet load_peft_adapter(const std::string& dir_or_file, const Model& model) {
  const std::string dir = adapter_dir_of(dir_or_file);
  const std::string config_path = dir + "/adapter_config.json";
  LoraSet set;
  set.config = check_peft_adapter_files(dir);
  const std::string st_path = dir + "/adapter_model.safetensors";
  const SafetensorsFile f = SafetensorsFile::open(st_path);

  const std::vector<LinearModule> lin = linear_modules(model);
  std::map<std::string, const LinearModule*> by_name;
  for (const auto& m : lin) by_name[m.name] = &m;
  std::vector<std::string> known;
  for (const auto& m : lin) known.push_back(m.name);

  std::map<std::string, std::pair<Tensor, Tensor>> ab;  // module -> (A, B)
  std::set<std::string> done;
  std::vector<std::pair<std::string, Tensor>> saved_biases;
  std::vector<std::pair<std::string, Tensor>> original_biases;  // "<module>.bias" of a saved module
  const bool wrapper_biases = set.config.bias != LoraBias::NONE && set.config.modules_to_save;
  for (const auto& key : f.names()) {
    if (key.rfind(kPrefix, 0) != 0)
      throw_user_error(
          "lora", st_path + ": tensor " + quote(key) + " does not start with '" + kPrefix + "'",
          "this is not a PEFT adapter saved by save_pretrained");
    const std::string name = key.substr(kPrefix.size());
    for (const char* part : {".lora_A.weight", ".lora_B.weight"}) {
      if (!name.ends_with(part)) continue;
      const std::string module = name.substr(0, name.size() - std::string(part).size());
      if (const int64_t layer = layer_of(module);
          !by_name.count(module) && layer >= model.spec().n_layers)
        throw_user_error("lora",
                         st_path + ": adapter module " + quote(module) + " is in layer " +
                             std::to_string(layer) + " but the base model " + model.dir() +
                             " has " + std::to_string(model.spec().n_layers) + " layers",
                         "the adapter was trained for a different (deeper) base model; pass "
                         "that model with --model");
      if (!by_name.count(module)) {
        const std::string* best = closest_name(module, known);
        throw_user_error("lora",
                         st_path + ": adapter module " + quote(module) +
                             " does not exist in the base model " + model.dir(),
                         best ? "closest module: " + *best +
                                    "; was the adapter trained on a different base model?"
                              : "was the adapter trained on a different base model?");
      }
      (part[6] == 'A' ? ab[module].first : ab[module].second) = f.tensor(key).to_f32();
      done.insert(key);
    }
    if (done.count(key)) continue;
    if (name.find("lora_embedding_") != std::string::npos ||
        name.find("lora_magnitude") != std::string::npos)
      throw_user_error("lora", st_path + ": " + quote(key) + " is not supported",
                       "tuna reads LoRA on linear layers (no embedding LoRA, no DoRA)");
    // modules_to_save copies and trainable biases keep their parameter names.
    const Tensor t = f.tensor(key).to_f32();
    // bias "all"/"lora_only" with modules_to_save: PEFT also saves the wrapper's two inner biases.
    // <module>.modules_to_save.bias repeats the copy's bias (<module>.bias), and PEFT's loader
    // drops it; <module>.original_module.bias is the frozen original's.
    const std::string inner_copy = ".modules_to_save.bias",
                      inner_original = ".original_module.bias";
    if (wrapper_biases && name.ends_with(inner_copy)) continue;
    if (wrapper_biases && name.ends_with(inner_original)) {
      original_biases.emplace_back(name.substr(0, name.size() - inner_original.size()) + ".bias",
                                   t);
      continue;
    }
    if (name.find("bias") != std::string::npos && set.config.bias != LoraBias::NONE) {
      std::string param = name;
      const std::string base = ".base_layer.bias";
      if (param.ends_with(base)) param = param.substr(0, param.size() - base.size()) + ".bias";
      set.biases.emplace_back(param, t);
    } else if (name.ends_with(".weight") && set.config.modules_to_save) {
      SavedModule s;
      s.name = name.substr(0, name.size() - 7);
      s.weight = t;
      s.dtype = f.entry(key).dtype;
      set.saved.push_back(std::move(s));
    } else if (name.ends_with(".bias") && set.config.modules_to_save) {
      saved_biases.emplace_back(name, t);  // a modules_to_save copy's own bias (bias "none")
    } else {
      throw_user_error("lora", st_path + ": unexpected tensor " + quote(key),
                       "expected <module>.lora_A.weight / .lora_B.weight (plus modules_to_save "
                       "and bias tensors when the config has them)");
    }
  }
  for (auto& s : set.saved)
    for (size_t i = 0; i < set.biases.size(); ++i)
      if (set.biases[i].first == s.name + ".bias")
        s.bias = set.biases[i].second.to_f32();  // own storage: the copy trains, the original not
  // The original's bias takes the bias list's entry (the copy keeps <module>.bias).
  for (auto& [name, t] : original_biases) {
    auto it = std::find_if(set.biases.begin(), set.biases.end(),
                           [&](const auto& b) { return b.first == name; });
    if (it != set.biases.end())
      it->second = t;
    else
      set.biases.emplace_back(name, t);
  }
  for (const auto& [name, t] : saved_biases) {
    auto it = std::find_if(set.saved.begin(), set.saved.end(),
                           [&](const SavedModule& s) { return s.name + ".bias" == name; });
    if (it == set.saved.end())
      throw_user_error("lora", st_path + ": unexpected tensor " + quote(kPrefix + name),
                       "a bias belongs to a modules_to_save copy or needs bias \"all\" / "
                       "\"lora_only\" in adapter_config.json");
    it->bias = t;
  }

  for (const auto& m : lin) {  // PEFT's module order
    auto it = ab.find(m.name);
    if (it == ab.end()) continue;
    const auto& [A, B] = it->second;
    if (!A.defined() || !B.defined())
      throw_user_error("lora",
                       st_path + ": module " + quote(m.name) +
                           " has only one of "
                           "lora_A / lora_B",
                       "the adapter file is incomplete");
    if (A.ndim() != 2 || B.ndim() != 2 || A.dim(1) != m.in || B.dim(0) != m.out ||
        B.dim(1) != A.dim(0)) {
      const std::string r = A.ndim() == 2 ? std::to_string(A.dim(0)) : "r";
      throw_user_error("lora",
                       st_path + ": module " + quote(m.name) + ": lora_A " + A.shape().to_string() +
                           " and lora_B " + B.shape().to_string() +
                           " do not fit the base weight [out " + std::to_string(m.out) + ", in " +
                           std::to_string(m.in) + "], which needs lora_A [" + r + ", " +
                           std::to_string(m.in) + "] and lora_B [" + std::to_string(m.out) + ", " +
                           r + "]",
                       "the adapter was trained for a different base model; pass that model with "
                       "--model");
    }
    if (A.dim(0) != set.config.r)
      throw_user_error("lora",
                       st_path + ": " + m.name + " has rank " + std::to_string(A.dim(0)) +
                           " but adapter_config.json says r = " + std::to_string(set.config.r),
                       "per-module ranks (rank_pattern) are not supported");
    LoraAdapter a = make_lora_adapter(m, A.dim(0), set.config);
    a.a = A;
    const int64_t heads = permuted_heads(model, a);
    a.b = heads > 0 ? permute_rope_rows(B, heads, false) : B;
    set.adapters.push_back(std::move(a));
  }
  if (set.adapters.empty())
    throw_user_error("lora", st_path + " holds no LoRA weights", "is this a LoRA adapter?");
  // Every shape fits: a differing name is worth a word, not a refusal (a local copy or a
  // fine-tune of the same base is common).
  const LoraConfig& c = set.config;
  if (c.base_model_name_or_path && !c.base_model_name_or_path->empty() &&
      !names_same_base(*c.base_model_name_or_path, model))
    log_warn(
        "[lora] {}: base_model_name_or_path {} is not the base model {}; every module shape "
        "fits, so the adapter is applied",
        config_path, quote(*c.base_model_name_or_path), model.dir());
  if (c.auto_mapping.is_object() && c.auto_mapping.contains("base_model_class") &&
      c.auto_mapping["base_model_class"].is_string() && !model.spec().architecture.empty() &&
      c.auto_mapping["base_model_class"].get<std::string>() != model.spec().architecture)
    log_warn(
        "[lora] {}: the adapter was made for a {} but the base model is a {}; every module "
        "shape fits, so the adapter is applied",
        config_path, printable(c.auto_mapping["base_model_class"].get<std::string>()),
        model.spec().architecture);
  return set;
}

}  // namespace tuna
