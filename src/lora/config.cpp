// LoraConfig parsing and PEFT's adapter_config.json. See config.h.
#include "lora/config.h"

#include <algorithm>
#include <cctype>
#include <cmath>

#include "core/error.h"
#include "core/log.h"
#include "core/message.h"

namespace tuna {

namespace {

using nlohmann::json;

// PEFT 0.18.1 LoraConfig fields that tuna does not implement, with the default each must keep.
const std::vector<std::pair<std::string, json>>& unsupported_fields() {
  static const std::vector<std::pair<std::string, json>> f = {
      {"alora_invocation_tokens", nullptr},
      {"alpha_pattern", json::object()},
      {"arrow_config", nullptr},
      {"corda_config", nullptr},
      {"ensure_weight_tying", false},
      {"eva_config", nullptr},
      {"layer_replication", nullptr},
      {"loftq_config", json::object()},
      {"lora_bias", false},
      {"megatron_config", nullptr},
      {"rank_pattern", json::object()},
      {"target_parameters", nullptr},
      {"trainable_token_indices", nullptr},
      {"use_dora", false},
      {"use_qalora", false},
  };
  return f;
}

// Written as PEFT writes them, read and ignored.
const std::vector<std::pair<std::string, json>>& passive_fields() {
  static const std::vector<std::pair<std::string, json>> f = {
      {"megatron_core", "megatron.core"},
      {"qalora_group_size", 16},
  };
  return f;
}

[[noreturn]] void bad_value(const std::string& where, const std::string& key, const json& v,
                            const std::string& expected) {
  throw_user_error("lora", where + ": '" + key + "' = " + printable(v.dump(), 80) + " is invalid",
                   key + " must be " + expected);
}

std::vector<std::string> string_list(const std::string& where, const std::string& key,
                                     const json& v) {
  if (!v.is_array()) bad_value(where, key, v, "a list of strings");
  std::vector<std::string> out;
  for (const auto& e : v) {
    if (!e.is_string()) bad_value(where, key, v, "a list of strings");
    out.push_back(e.get<std::string>());
  }
  return out;
}

ModuleSelector selector(const std::string& where, const std::string& key, const json& v) {
  ModuleSelector s;
  if (v.is_null()) return s;
  if (v.is_string()) {
    s.kind = ModuleSelector::Kind::REGEX;
    s.regex = v.get<std::string>();
    return s;
  }
  s.kind = ModuleSelector::Kind::LIST;
  s.names = string_list(where, key, v);
  if (s.names.empty()) bad_value(where, key, v, "a non-empty list, a regex string, or null");
  return s;
}

json selector_json(const ModuleSelector& s) {
  if (s.kind == ModuleSelector::Kind::NONE) return nullptr;
  if (s.kind == ModuleSelector::Kind::REGEX) return s.regex;
  std::vector<std::string> sorted = s.names;
  std::sort(sorted.begin(), sorted.end());
  sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
  return sorted;
}

bool is_integer(const json& v) {
  return v.is_number_integer() || v.is_number_unsigned();
}

std::optional<std::string> optional_string(const std::string& where, const std::string& key,
                                           const json& v) {
  if (v.is_null()) return std::nullopt;
  if (!v.is_string()) bad_value(where, key, v, "a string or null");
  return v.get<std::string>();
}

}  // namespace

bool ModuleSelector::is_all_linear() const {
  if (kind != Kind::REGEX) return false;
  std::string lower = regex;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower == "all-linear";
}

float LoraConfig::scale() const {
  const double s = use_rslora ? lora_alpha / std::sqrt(static_cast<double>(r))
                              : lora_alpha / static_cast<double>(r);
  return static_cast<float>(s);
}

const std::vector<std::string>& lora_config_keys() {
  static const std::vector<std::string> keys = [] {
    std::vector<std::string> k = {"r",
                                  "auto_mapping",
                                  "lora_alpha",
                                  "lora_dropout",
                                  "target_modules",
                                  "exclude_modules",
                                  "bias",
                                  "use_rslora",
                                  "modules_to_save",
                                  "layers_to_transform",
                                  "layers_pattern",
                                  "fan_in_fan_out",
                                  "init_lora_weights",
                                  "task_type",
                                  "inference_mode",
                                  "base_model_name_or_path",
                                  "revision",
                                  "peft_type",
                                  "peft_version",
                                  "seed"};
    for (const auto& [name, _] : unsupported_fields()) k.push_back(name);
    for (const auto& [name, _] : passive_fields()) k.push_back(name);
    return k;
  }();
  return keys;
}

LoraConfig lora_config_from_json(const json& j, const std::string& where, bool lenient) {
  if (!j.is_object())
    throw_user_error("lora", where + ": the LoRA config is not a key-value object",
                     "write it as `r: 16`, `lora_alpha: 32`, ... (PEFT LoraConfig fields)");
  LoraConfig c;
  const auto& keys = lora_config_keys();
  for (const auto& [key, v] : j.items()) {
    if (std::find(keys.begin(), keys.end(), key) == keys.end()) {
      if (lenient) {
        log_warn("[lora] {}: ignoring unknown adapter_config key '{}'", where, printable(key));
        continue;
      }
      const std::string* best = closest_name(key, keys);
      throw_user_error("lora", where + ": unknown LoRA key " + quote(key),
                       best ? "did you mean '" + *best + "'?"
                            : "LoRA keys are PEFT LoraConfig fields (r, lora_alpha, lora_dropout, "
                              "target_modules, bias, ...); see docs/lora.md");
    }
    if (key == "r") {
      if (!is_integer(v) || v.get<int64_t>() <= 0) bad_value(where, key, v, "a positive integer");
      c.r = v.get<int64_t>();
    } else if (key == "lora_alpha") {
      if (!v.is_number() || !std::isfinite(v.get<double>()))
        bad_value(where, key, v, "a number (commonly r or 2·r)");
      c.lora_alpha = v.get<double>();
      c.lora_alpha_is_float = v.is_number_float();
    } else if (key == "lora_dropout") {
      if (!v.is_number() || !(v.get<double>() >= 0.0 && v.get<double>() < 1.0))
        bad_value(where, key, v, "a probability in [0, 1)");
      c.lora_dropout = v.get<double>();
    } else if (key == "target_modules") {
      c.target_modules = selector(where, key, v);
    } else if (key == "exclude_modules") {
      c.exclude_modules = selector(where, key, v);
    } else if (key == "bias") {
      const std::string b = v.is_string() ? v.get<std::string>() : "";
      if (b == "none")
        c.bias = LoraBias::NONE;
      else if (b == "all")
        c.bias = LoraBias::ALL;
      else if (b == "lora_only")
        c.bias = LoraBias::LORA_ONLY;
      else
        bad_value(where, key, v, "\"none\", \"all\" or \"lora_only\"");
    } else if (key == "use_rslora" || key == "fan_in_fan_out" || key == "inference_mode") {
      if (!v.is_boolean()) bad_value(where, key, v, "true or false");
      (key == "use_rslora"       ? c.use_rslora
       : key == "fan_in_fan_out" ? c.fan_in_fan_out
                                 : c.inference_mode) = v.get<bool>();
    } else if (key == "modules_to_save") {
      if (!v.is_null()) c.modules_to_save = string_list(where, key, v);
    } else if (key == "layers_to_transform") {
      if (v.is_null()) continue;
      std::vector<int64_t> layers;
      if (is_integer(v)) {
        layers.push_back(v.get<int64_t>());
        c.layers_to_transform_is_int = true;
      } else if (v.is_array()) {
        for (const auto& e : v) {
          if (!is_integer(e)) bad_value(where, key, v, "a layer index or a list of them");
          layers.push_back(e.get<int64_t>());
        }
      } else {
        bad_value(where, key, v, "a layer index or a list of them");
      }
      c.layers_to_transform = layers;
    } else if (key == "layers_pattern") {
      if (v.is_null()) continue;
      if (v.is_string()) {
        c.layers_pattern = std::vector<std::string>{v.get<std::string>()};
      } else {
        c.layers_pattern = string_list(where, key, v);
        c.layers_pattern_is_list = true;
      }
    } else if (key == "init_lora_weights") {
      if (v.is_boolean()) {
        c.init_lora_weights = v.get<bool>() ? LoraInit::KAIMING_UNIFORM : LoraInit::RANDOM;
      } else if (v.is_string() && v.get<std::string>() == "gaussian") {
        c.init_lora_weights = LoraInit::GAUSSIAN;
      } else {
        throw_user_error(
            "lora",
            where + ": init_lora_weights = " + printable(v.dump(), 40) + " is not supported",
            "use true (Kaiming-uniform A, zero B: PEFT's default), \"gaussian\" or "
            "false; PiSSA/OLoRA/LoftQ/EVA/CorDA inits are not implemented");
      }
    } else if (key == "task_type") {
      c.task_type = optional_string(where, key, v);
      if (c.task_type && *c.task_type != "CAUSAL_LM")
        throw_user_error("lora", where + ": task_type " + quote(*c.task_type) + " is not supported",
                         "tuna trains causal language models: use \"CAUSAL_LM\" (or leave it out)");
    } else if (key == "base_model_name_or_path") {
      c.base_model_name_or_path = optional_string(where, key, v);
    } else if (key == "revision") {
      c.revision = optional_string(where, key, v);
    } else if (key == "auto_mapping") {
      c.auto_mapping = v;
    } else if (key == "peft_version") {
      c.peft_version = optional_string(where, key, v);
    } else if (key == "peft_type") {
      if (!(v.is_string() && v.get<std::string>() == "LORA"))
        throw_user_error("lora", where + ": peft_type " + printable(v.dump(), 40) + " is not LoRA",
                         "tuna reads LoRA adapters only (peft_type \"LORA\")");
    } else if (key == "seed") {
      if (!is_integer(v) || v.get<int64_t>() < 0)
        bad_value(where, key, v, "a non-negative integer");
      c.seed = v.get<uint64_t>();
    } else {
      for (const auto& [name, def] : unsupported_fields()) {
        if (name != key) continue;
        const bool is_default =
            v == def || v.is_null() || (def.is_object() && v.is_object() && v.empty());
        if (!is_default)
          throw_user_error(
              "lora",
              where + ": " + key + " = " + printable(v.dump(), 60) + " is not supported by tuna",
              "remove " + key + " (or set it to " + def.dump() +
                  "); see docs/lora.md for what is implemented");
      }
    }
  }
  if (c.target_modules.kind == ModuleSelector::Kind::REGEX && c.layers_to_transform)
    throw_user_error("lora",
                     where +
                         ": layers_to_transform cannot be used when target_modules is "
                         "a string",
                     "give target_modules as a list, e.g. [q_proj, v_proj] (as PEFT requires)");
  if (c.target_modules.kind == ModuleSelector::Kind::REGEX && c.layers_pattern)
    throw_user_error("lora",
                     where +
                         ": layers_pattern cannot be used when target_modules is a "
                         "string",
                     "give target_modules as a list (as PEFT requires)");
  if (c.layers_pattern && !c.layers_pattern->empty() &&
      (!c.layers_to_transform || c.layers_to_transform->empty()))
    throw_user_error("lora", where + ": layers_pattern is set without layers_to_transform",
                     "set layers_to_transform too, e.g. [0, 1] (as PEFT requires)");
  return c;
}

json lora_config_to_json(const LoraConfig& c) {
  json j = json::object();
  for (const auto& [name, def] : unsupported_fields()) j[name] = def;
  for (const auto& [name, def] : passive_fields()) j[name] = def;
  j["auto_mapping"] = c.auto_mapping;
  j["base_model_name_or_path"] =
      c.base_model_name_or_path ? json(*c.base_model_name_or_path) : json(nullptr);
  j["bias"] = c.bias == LoraBias::NONE ? "none" : c.bias == LoraBias::ALL ? "all" : "lora_only";
  j["exclude_modules"] = selector_json(c.exclude_modules);
  j["fan_in_fan_out"] = c.fan_in_fan_out;
  j["inference_mode"] = true;  // PEFT forces it on save
  j["init_lora_weights"] = c.init_lora_weights == LoraInit::GAUSSIAN
                               ? json("gaussian")
                               : json(c.init_lora_weights == LoraInit::KAIMING_UNIFORM);
  if (!c.layers_pattern)
    j["layers_pattern"] = nullptr;
  else if (c.layers_pattern_is_list)
    j["layers_pattern"] = *c.layers_pattern;
  else
    j["layers_pattern"] = c.layers_pattern->front();
  if (!c.layers_to_transform)
    j["layers_to_transform"] = nullptr;
  else if (c.layers_to_transform_is_int)
    j["layers_to_transform"] = c.layers_to_transform->front();
  else
    j["layers_to_transform"] = *c.layers_to_transform;
  const double alpha = c.lora_alpha;
  if (!c.lora_alpha_is_float && alpha == std::floor(alpha) && std::fabs(alpha) < 9.0e15)
    j["lora_alpha"] = static_cast<int64_t>(alpha);
  else
    j["lora_alpha"] = alpha;
  j["lora_dropout"] = c.lora_dropout;
  j["modules_to_save"] = c.modules_to_save ? json(*c.modules_to_save) : json(nullptr);
  j["peft_type"] = "LORA";
  j["peft_version"] = kPeftVersion;
  j["r"] = c.r;
  j["revision"] = c.revision ? json(*c.revision) : json(nullptr);
  j["target_modules"] = selector_json(c.target_modules);
  j["task_type"] = c.task_type ? json(*c.task_type) : json(nullptr);
  j["use_rslora"] = c.use_rslora;
  return j;
}

std::string adapter_config_json_text(const LoraConfig& c) {
  // nlohmann objects are key-sorted; ensure_ascii matches Python's json.dumps default.
  return lora_config_to_json(c).dump(2, ' ', true);
}

}  // namespace tuna
