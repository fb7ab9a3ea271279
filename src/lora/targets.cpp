// PEFT's target resolution and LoRA construction over a loaded Model. See targets.h.
#define PCRE2_CODE_UNIT_WIDTH 8
#include "lora/targets.h"

#include <pcre2.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <memory>
#include <set>

#include "core/error.h"
#include "core/log.h"
#include "core/message.h"
#include "core/rng.h"
#include "io/safetensors.h"
#include "model/families/registry.h"
#include "model/model.h"
#include "model/train_step.h"

namespace tuna {

namespace {

bool is_conditional(const ModelSpec& spec) {
  return !spec.weight_prefix.empty();
}

// A table name (with "{}" for a block's index) as transformers names the module in memory.
std::string module_name(const ModelFamily& family, const ModelSpec& spec, const std::string& name,
                        int64_t layer = 0) {
  return with_layer(family_hf_name(family, name, spec, nullptr), layer);
}

std::string without_weight(const std::string& name) {
  return name.ends_with(".weight") ? name.substr(0, name.size() - 7) : name;
}

int64_t in_of(const Tensor& w, bool conv1d) {
  return conv1d ? w.dim(0) : w.dim(1);
}
int64_t out_of(const Tensor& w, bool conv1d) {
  return conv1d ? w.dim(1) : w.dim(0);
}

// Vision-tower linears of a multimodal checkpoint (the family variant's VisionTower), named as
// transformers names them in memory ("model.vision_tower...").
void add_checkpoint_linears(const Model& model, std::vector<LinearModule>& out) {
  const FamilyVariant::VisionTower& tower = family_of(model.spec()).variant->vision_tower;
  if (tower.scope.empty() || !is_conditional(model.spec()) || model.gguf() != nullptr) return;
  const SafetensorsModel st = SafetensorsModel::open_dir(model.dir());
  for (const auto& name : st.names()) {
    if (name.find(tower.scope) == std::string::npos || !name.ends_with(".weight")) continue;
    const std::string module = name.substr(0, name.size() - 7);
    bool linear = false;
    for (const std::string& s : tower.linears) linear = linear || module.ends_with(s);
    if (!linear || st.entry(name).shape.ndim != 2) continue;
    LinearModule m;
    m.name = module.rfind("model.", 0) == 0 ? module : "model." + module;
    m.weight = st.tensor(name);
    m.in = m.weight.dim(1);
    m.out = m.weight.dim(0);
    if (st.contains(module + ".bias")) m.bias = st.tensor(module + ".bias");
    out.push_back(std::move(m));
  }
}

std::shared_ptr<pcre2_code> compile(const std::string& pattern, const std::string& where) {
  int err = 0;
  PCRE2_SIZE offset = 0;
  pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                                   PCRE2_UTF, &err, &offset, nullptr);
  if (code == nullptr) {
    PCRE2_UCHAR buf[256];
    pcre2_get_error_message(err, buf, sizeof(buf));
    throw_user_error("lora",
                     where + ": invalid regular expression " + quote(pattern) + " (" +
                         reinterpret_cast<const char*>(buf) + " at offset " +
                         std::to_string(offset) + ")",
                     "target_modules as a string is a Python regex matched against the full "
                     "module name, e.g. '.*\\.(q_proj|v_proj)'");
  }
  return {code, pcre2_code_free};
}

// re.match (anchored at the start; `full`: re.fullmatch). Returns group 1's text via `group1`.
bool regex_match(const std::string& pattern, const std::string& s, bool full,
                 const std::string& where, std::string* group1 = nullptr) {
  const auto code = compile(pattern, where);
  std::unique_ptr<pcre2_match_data, decltype(&pcre2_match_data_free)> md(
      pcre2_match_data_create_from_pattern(code.get(), nullptr), pcre2_match_data_free);
  const uint32_t opts = PCRE2_ANCHORED | (full ? PCRE2_ENDANCHORED : 0u);
  const int rc = pcre2_match(code.get(), reinterpret_cast<PCRE2_SPTR>(s.data()), s.size(), 0, opts,
                             md.get(), nullptr);
  if (rc < 0) return false;
  if (group1 != nullptr && rc >= 2) {
    const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md.get());
    *group1 = s.substr(ov[2], ov[3] - ov[2]);
  }
  return true;
}

bool list_matches(const std::vector<std::string>& names, const std::string& key) {
  for (const auto& n : names)
    if (key == n || key.ends_with("." + n)) return true;
  return false;
}

uint64_t name_stream(const std::string& name) {  // FNV-1a 64
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : name) h = (h ^ c) * 1099511628211ull;
  return h;
}

// Fills t [rows, cols] per PEFT's init of a fresh nn.Linear weight or of lora_A.
void init_uniform(Tensor& t, float bound, uint64_t seed, uint64_t stream) {
  float* p = t.data_mut<float>();
  for (int64_t e = 0; e < t.numel(); ++e)
    p[e] = (2.0f * philox_uniform(seed, stream, static_cast<uint64_t>(e)) - 1.0f) * bound;
}

void init_normal(Tensor& t, float stddev, uint64_t seed, uint64_t stream) {
  float* p = t.data_mut<float>();
  for (int64_t e = 0; e < t.numel(); ++e) {  // Box-Muller, two draws per element
    const double u1 = 1.0 - philox_uniform(seed, stream, 2 * static_cast<uint64_t>(e));
    const double u2 = philox_uniform(seed, stream, 2 * static_cast<uint64_t>(e) + 1);
    p[e] = static_cast<float>(stddev * std::sqrt(-2.0 * std::log(u1)) *
                              std::cos(6.283185307179586 * u2));
  }
}

// Every bias parameter name of the model as transformers names it, with its tensor.
std::vector<std::pair<std::string, Tensor>> bias_parameters(const Model& model,
                                                            const std::vector<LinearModule>& lin) {
  std::vector<std::pair<std::string, Tensor>> out;
  const ModelSpec& s = model.spec();
  const ModelWeights& w = model.weights();
  for (const auto& m : lin)
    if (m.bias.defined()) out.emplace_back(m.name + ".bias", m.bias);
  // Other biases (LayerNorm families' norms): per block in table order, then model-wide.
  const ModelFamily& family = *family_of(s).family;
  std::map<std::string, Tensor> slots;
  for_each_weight_slot(w, [&](const std::string& slot, const Tensor& t) { slots[slot] = t; });
  auto add = [&](const WeightSlot& row, const std::string& slot_prefix, int64_t layer) {
    auto it = slots.find(slot_prefix + row.slot + "_bias");
    if (row.peft.empty() && it != slots.end())
      out.emplace_back(module_name(family, s, bias_name(row.hf), layer), it->second);
  };
  for (size_t i = 0; i < w.layers.size(); ++i)
    for (const WeightSlot& row : family.slots)
      if (row.hf.find("{}") != std::string::npos)
        add(row, "layers." + std::to_string(i) + ".", static_cast<int64_t>(i));
  for (const WeightSlot& row : family.slots)
    if (row.hf.find("{}") == std::string::npos) add(row, "", 0);
  if (is_conditional(s) && model.gguf() == nullptr) {
    const SafetensorsModel st = SafetensorsModel::open_dir(model.dir());
    for (const auto& name : st.names()) {
      if (name.find("language_model") != std::string::npos || !name.ends_with("bias")) continue;
      const std::string full = name.rfind("model.", 0) == 0 ? name : "model." + name;
      if (std::none_of(out.begin(), out.end(), [&](const auto& b) { return b.first == full; }))
        out.emplace_back(full, st.tensor(name));
    }
  }
  return out;
}

// PEFT's _find_minimal_target_modules: for 20+ target names, the shortest suffixes that still
// separate them from every other module (BaseTuner.inject_adapter's
// MIN_TARGET_MODULES_FOR_OPTIMIZATION).
std::vector<std::string> minimal_target_modules(const std::vector<std::string>& targets,
                                                const std::vector<std::string>& all_modules) {
  auto suffixes = [](const std::string& s) {  // shortest first
    std::vector<std::string> out;
    for (size_t p = s.size(); p != std::string::npos;
         p = p == 0 ? std::string::npos : s.rfind('.', p - 1)) {
      out.push_back(p == s.size() ? std::string() : s.substr(p + 1));
      if (p == 0) break;
    }
    out.erase(out.begin());
    if (out.empty() || out.back() != s) out.push_back(s);
    return out;
  };
  const std::set<std::string> target_set(targets.begin(), targets.end());
  std::set<std::string> other;
  for (const auto& m : all_modules) {
    if (target_set.count(m) || std::any_of(targets.begin(), targets.end(),
                                           [&](const auto& t) { return m.ends_with("." + t); }))
      continue;
    for (auto& s : suffixes(m)) other.insert(s);
  }
  std::vector<std::pair<std::vector<std::string>, std::string>> items;
  for (const auto& t : target_set) items.emplace_back(suffixes(t), t);
  std::sort(items.begin(), items.end());
  std::set<std::string> required;
  for (const auto& [sfx, item] : items) {
    for (const auto& s : sfx) {
      if (required.count(s) || other.count(s)) continue;
      if (std::none_of(required.begin(), required.end(),
                       [&](const auto& r) { return item.ends_with("." + r); })) {
        required.insert(s);
        break;
      }
    }
  }
  if (required.empty()) return targets;
  return {required.begin(), required.end()};
}

}  // namespace

std::string peft_model_type(const ModelSpec& spec) {
  return family_of(spec).variant->model_type;  // "llama", "gemma3_text", "gemma3", "gpt2", ...
}

std::vector<std::string> peft_default_target_modules(const std::string& model_type) {
  const FamilyRef ref = find_family_by_model_type(model_type);
  std::vector<std::string> names;
  if (!ref || !ref.variant->peft_default_targets) return names;
  for (const WeightSlot& row : ref.family->slots)
    if (row.lora_default) names.push_back(row.peft.substr(row.peft.rfind('.') + 1));
  return names;
}

LoraAdapter make_lora_adapter(const LinearModule& m, int64_t r, const LoraConfig& config) {
  LoraAdapter a;
  a.module = m.name;
  a.layer = m.layer;
  a.target = m.target;
  a.in = m.in;
  a.out = m.out;
  a.r = r;
  a.scale = config.scale();
  a.dropout = static_cast<float>(config.lora_dropout);
  a.fan_in_fan_out = m.conv1d;
  a.a = Tensor::zeros({a.r, a.in}, DType::F32);
  a.b = Tensor::zeros({a.out, a.r}, DType::F32);
  a.grad_a = Tensor::zeros({a.r, a.in}, DType::F32);
  a.grad_b = Tensor::zeros({a.out, a.r}, DType::F32);
  return a;
}

std::string embedding_module_name(const ModelSpec& spec) {
  const ModelFamily& family = *family_of(spec).family;
  const WeightSlot* embed = family.find_slot("embed");
  TUNA_ASSERT(embed != nullptr, "family " + family.name + " has no embed slot");
  return without_weight(module_name(family, spec, embed->hf));
}

std::vector<LinearModule> linear_modules(const Model& model) {
  return linear_modules(model, *family_of(model.spec()).family);
}

std::vector<LinearModule> linear_modules(const Model& model, const ModelFamily& family) {
  const ModelSpec& s = model.spec();
  const ModelWeights& w = model.weights();
  std::vector<LinearModule> out;
  add_checkpoint_linears(model, out);  // transformers registers the vision tower first
  std::map<std::string, Tensor> slots;
  for_each_weight_slot(w, [&](const std::string& slot, const Tensor& t) { slots[slot] = t; });
  const bool conv1d = family.linear_transposed;
  for (size_t i = 0; i < w.layers.size(); ++i) {
    const std::string p = "layers." + std::to_string(i) + ".";
    for (const WeightSlot& row : family.slots) {
      auto it = slots.find(p + row.slot);
      if (row.peft.empty() || it == slots.end()) continue;
      const Tensor& t = it->second;
      LinearModule m;
      m.name = module_name(family, s, row.peft, static_cast<int64_t>(i));
      m.layer = static_cast<int>(i);
      m.target = row.lora;
      m.conv1d = conv1d;
      m.in = in_of(t, conv1d);
      m.out = out_of(t, conv1d);
      m.weight = t;
      auto bias = slots.find(p + row.slot + "_bias");
      if (bias != slots.end()) m.bias = bias->second;
      out.push_back(std::move(m));
    }
  }
  return out;
}

bool regex_full_match(const std::string& pattern, const std::string& s, const std::string& where) {
  return regex_match(pattern, s, true, where);
}

int64_t peft_layer_index(const std::string& key, const std::vector<std::string>& patterns) {
  std::string digits;
  if (patterns.empty()) {
    if (!regex_match(R"(.*\.[^.]*\.(\d+)\.)", key, false, "layers_to_transform", &digits))
      return -1;
  } else {
    bool found = false;
    for (const auto& p : patterns) {
      if (regex_match(".*\\." + p + "\\.(\\d+)\\.", key, false, "layers_pattern", &digits)) {
        found = true;
        break;
      }
    }
    if (!found) return -1;
  }
  return std::stoll(digits);
}

std::vector<size_t> resolve_lora_targets(const LoraConfig& c, const std::vector<LinearModule>& lin,
                                         const std::string& model_type) {
  ModuleSelector targets = c.target_modules;
  if (targets.kind == ModuleSelector::Kind::NONE) {
    targets.names = peft_default_target_modules(model_type);
    if (targets.names.empty())
      throw_user_error(
          "lora", "PEFT has no default target_modules for model type " + quote(model_type),
          "set target_modules, e.g. [q_proj, k_proj, v_proj, o_proj] or \"all-linear\"");
    targets.kind = ModuleSelector::Kind::LIST;
  }
  std::vector<std::string> short_names;
  for (const auto& m : lin) {
    const std::string last = m.name.substr(m.name.rfind('.') + 1);
    if (std::find(short_names.begin(), short_names.end(), last) == short_names.end())
      short_names.push_back(last);
  }
  std::string known;
  for (const auto& n : short_names) known += (known.empty() ? "" : ", ") + n;

  if (targets.kind == ModuleSelector::Kind::LIST) {
    for (const auto& entry : targets.names) {
      if (std::any_of(lin.begin(), lin.end(),
                      [&](const auto& m) { return list_matches({entry}, m.name); }))
        continue;
      const std::string* best = closest_name(entry, short_names);
      std::string hint = "the model's linear modules are: " + known;
      if (best != nullptr) hint = "did you mean '" + *best + "'? " + hint;
      if (entry == "lm_head" || entry.ends_with("embed_tokens") || entry == "wte")
        hint =
            "LoRA on the embedding or the output head is not supported; train it whole with "
            "modules_to_save: [" +
            entry + "]";
      throw_user_error(
          "lora", "target_modules entry " + quote(entry) + " names no linear module of this model",
          hint);
    }
  }
  std::vector<std::string> patterns;
  if (c.layers_pattern) patterns = *c.layers_pattern;
  std::vector<size_t> out;
  for (size_t i = 0; i < lin.size(); ++i) {
    const std::string& key = lin[i].name;
    const auto& ex = c.exclude_modules;
    if (ex.kind == ModuleSelector::Kind::REGEX &&
        regex_full_match(ex.regex, key, "exclude_modules"))
      continue;
    if (ex.kind == ModuleSelector::Kind::LIST && list_matches(ex.names, key)) continue;
    if (c.modules_to_save) {
      bool saved = false;
      for (const auto& m : *c.modules_to_save)
        saved = saved || regex_match("(^|.*\\.)" + m + "($|\\..*)", key, false, "modules_to_save");
      if (saved) continue;
    }
    bool found;
    if (targets.is_all_linear()) {
      found = true;  // linear_modules() already leaves out the output head
    } else if (targets.kind == ModuleSelector::Kind::REGEX) {
      found = regex_full_match(targets.regex, key, "target_modules");
    } else {
      found = list_matches(targets.names, key);
      if (found && c.layers_to_transform && !c.layers_to_transform->empty()) {
        const int64_t layer = peft_layer_index(key, patterns);
        const auto& want = *c.layers_to_transform;
        found = layer >= 0 && std::find(want.begin(), want.end(), layer) != want.end();
      }
    }
    if (found) out.push_back(i);
  }
  if (out.empty())
    throw_user_error("lora",
                     "target_modules selects no module of this model (after "
                     "layers_to_transform / exclude_modules / modules_to_save)",
                     "the model's linear modules are: " + known);
  return out;
}

LoraSet create_lora(const Model& model, const LoraConfig& config, const std::string& base_model) {
  const ModelSpec& spec = model.spec();
  const std::vector<LinearModule> lin = linear_modules(model);
  const std::vector<size_t> chosen = resolve_lora_targets(config, lin, peft_model_type(spec));
  LoraSet set;
  set.config = config;
  if (!base_model.empty()) set.config.base_model_name_or_path = base_model;
  auto& tm = set.config.target_modules;
  if (tm.kind == ModuleSelector::Kind::NONE || tm.is_all_linear()) {
    // PEFT saves the default as its short names and "all-linear" as the full module names.
    tm.kind = ModuleSelector::Kind::LIST;
    tm.names.clear();
    if (config.target_modules.kind == ModuleSelector::Kind::NONE) {
      tm.names = peft_default_target_modules(peft_model_type(spec));
    } else {
      for (const auto& m : lin) tm.names.push_back(m.name);
    }
  }
  if (tm.kind == ModuleSelector::Kind::LIST && tm.names.size() >= 20) {
    std::vector<std::string> all = {"lm_head", embedding_module_name(spec)};
    for (const auto& m : lin) all.push_back(m.name);
    const auto shorter = minimal_target_modules(tm.names, all);
    if (shorter.size() < tm.names.size()) tm.names = shorter;
  }
  const std::string& lib = family_of(spec).variant->transformers_module;
  if (!set.config.task_type && set.config.auto_mapping.is_null() && !lib.empty()) {
    // A PeftModel without a task type records the base class (PeftConfig.auto_mapping).
    set.config.auto_mapping = {
        {"base_model_class", spec.architecture},
        {"parent_library", "transformers.models." + lib + ".modeling_" + lib}};
  }
  bool conv1d = false;
  for (size_t i : chosen) conv1d = conv1d || lin[i].conv1d;
  if (conv1d && !config.fan_in_fan_out) {
    log_warn(
        "[lora] GPT-2 Conv1D weights are stored [in, out]: setting fan_in_fan_out = true (as "
        "PEFT)");
    set.config.fan_in_fan_out = true;
  } else if (!conv1d && config.fan_in_fan_out) {
    log_warn(
        "[lora] fan_in_fan_out is true but the targets are nn.Linear: setting it to false (as "
        "PEFT)");
    set.config.fan_in_fan_out = false;
  }
  for (size_t i : chosen) {
    const LinearModule& m = lin[i];
    LoraAdapter a = make_lora_adapter(m, config.r, config);
    const uint64_t stream = name_stream(m.name);
    if (config.init_lora_weights == LoraInit::GAUSSIAN) {
      init_normal(a.a, 1.0f / static_cast<float>(a.r), config.seed, stream);
    } else {
      init_uniform(a.a, 1.0f / std::sqrt(static_cast<float>(a.in)), config.seed, stream);
    }
    if (config.init_lora_weights == LoraInit::RANDOM)  // nn.Linear(r, out)'s own init
      init_uniform(a.b, 1.0f / std::sqrt(static_cast<float>(a.r)), config.seed, stream ^ 1ull);
    set.adapters.push_back(std::move(a));
  }
  if (config.modules_to_save) {
    std::vector<std::pair<std::string, Tensor>> candidates;
    const ModelWeights& w = model.weights();
    candidates.emplace_back("lm_head", w.lm_head);
    candidates.emplace_back(embedding_module_name(spec), w.embed);
    for (const auto& m : lin) candidates.emplace_back(m.name, m.weight);
    for (const auto& entry : *config.modules_to_save) {
      bool any = false;
      for (const auto& [name, weight] : candidates) {
        if (!name.ends_with(entry)) continue;
        any = true;
        if (!weight.defined() || dtype_is_block(weight.dtype()))
          throw_user_error("lora",
                           "modules_to_save " + quote(entry) + ": " + name + " is stored quantized",
                           "modules_to_save needs an F32/F16/BF16 base weight");
        SavedModule s;
        s.name = name;
        s.weight = weight.to_f32();
        s.dtype = weight.dtype();
        for (const auto& m : lin)
          if (m.name == name && m.bias.defined()) s.bias = m.bias.to_f32();
        set.saved.push_back(std::move(s));
      }
      if (!any)
        throw_user_error(
            "lora",
            "modules_to_save entry " + quote(entry) + " names no module tuna can train whole",
            "use lm_head, " + embedding_module_name(spec) + " or a linear module name");
    }
  }
  if (config.bias != LoraBias::NONE) {
    std::set<std::string> lora_modules;
    for (const auto& a : set.adapters) lora_modules.insert(a.module);
    for (const auto& [name, t] : bias_parameters(model, lin)) {
      if (!t.defined()) continue;
      if (config.bias == LoraBias::LORA_ONLY &&
          !lora_modules.count(name.substr(0, name.size() - 5)))
        continue;
      set.biases.emplace_back(name, t.to_f32());
    }
  }
  return set;
}

const SavedModule* LoraSet::saved_module_of_bias(const std::string& name) const {
  for (const SavedModule& s : saved)
    if (s.name + ".bias" == name) return &s;
  return nullptr;
}

TrainableCount count_trainable_parameters(const Model& model, const LoraSet& lora) {
  TrainableCount c;
  const ModelSpec& spec = model.spec();
  c.all = is_conditional(spec) && model.gguf() == nullptr ? model.checkpoint_parameter_count()
                                                          : model.parameter_count();
  // Params4bit holds ceil(n / 2) packed bytes; PEFT counts them × 2.
  for (const auto& m : linear_modules(model))
    if (dtype_is_bnb4(m.weight.dtype())) c.all += m.weight.numel() % 2;
  for (const auto& a : lora.adapters) {
    const int64_t n = a.r * (a.in + a.out);
    c.trainable += n;
    c.all += n;
  }
  for (const auto& s : lora.saved) {
    const int64_t n = s.weight.numel() + (s.bias.defined() ? s.bias.numel() : 0);
    c.trainable += n;
    c.all += n;
  }
  for (const auto& b : lora.biases)  // a saved module's original bias is frozen
    if (lora.saved_module_of_bias(b.first) == nullptr) c.trainable += b.second.numel();
  return c;
}

std::string trainable_parameters_line(const TrainableCount& count) {
  auto grouped = [](int64_t v) {
    std::string digits = std::to_string(v < 0 ? -v : v), out;
    for (size_t i = 0; i < digits.size(); ++i) {
      if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
      out += digits[i];
    }
    return (v < 0 ? "-" : "") + out;
  };
  char pct[64];
  std::snprintf(pct, sizeof(pct), "%.4f",
                count.all == 0 ? 0.0
                               : 100.0 * static_cast<double>(count.trainable) /
                                     static_cast<double>(count.all));
  return "trainable params: " + grouped(count.trainable) + " || all params: " + grouped(count.all) +
         " || trainable%: " + pct;
}

}  // namespace tuna
