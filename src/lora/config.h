// LoraConfig with PEFT 0.18.1's field names and defaults, parsed from a JSON object (a training
// config's `lora` section, or a PEFT adapter_config.json) and written back as the
// adapter_config.json PEFT itself writes (every dataclass field, sorted keys, indent 2).
// Features PEFT has but tuna does not implement (DoRA, lora_bias, rank/alpha patterns, LoftQ/EVA/
// PiSSA inits, layer replication, target_parameters, trainable tokens) are user errors when set
// to anything but their default; they are never silently ignored.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace tuna {

// target_modules / exclude_modules: absent (None), a list (exact name or "." + suffix match), or a
// single string (Python re.fullmatch against the full module name; "all-linear" for targets).
struct ModuleSelector {
  enum class Kind { NONE, LIST, REGEX };
  Kind kind = Kind::NONE;
  std::vector<std::string> names;  // LIST
  std::string regex;               // REGEX
  bool is_all_linear() const;      // REGEX equal to "all-linear" ignoring case, as PEFT
};

enum class LoraBias { NONE, ALL, LORA_ONLY };
enum class LoraInit { KAIMING_UNIFORM, GAUSSIAN, RANDOM };  // true, "gaussian", false

struct LoraConfig {
  int64_t r = 8;
  double lora_alpha = 8;
  bool lora_alpha_is_float = false;  // given as 16.0: written back as a float, as Python would
  double lora_dropout = 0.0;
  ModuleSelector target_modules;
  ModuleSelector exclude_modules;
  LoraBias bias = LoraBias::NONE;
  bool use_rslora = false;
  std::optional<std::vector<std::string>> modules_to_save;
  // layers_to_transform: none, one int (layers_to_transform_is_int) or a list.
  std::optional<std::vector<int64_t>> layers_to_transform;
  bool layers_to_transform_is_int = false;
  // layers_pattern: none, a string or a list (layers_pattern_is_list).
  std::optional<std::vector<std::string>> layers_pattern;
  bool layers_pattern_is_list = false;
  bool fan_in_fan_out = false;
  LoraInit init_lora_weights = LoraInit::KAIMING_UNIFORM;
  std::optional<std::string> task_type;  // PEFT default None; tuna trains "CAUSAL_LM" models
  bool inference_mode = false;
  std::optional<std::string> base_model_name_or_path;
  std::optional<std::string> revision;
  std::optional<std::string> peft_version;
  // PEFT records {"base_model_class", "parent_library"} when task_type is null; create_lora fills
  // it.
  nlohmann::json auto_mapping = nullptr;  // as read; writing always records kPeftVersion
  uint64_t seed = 42;  // tuna's: LoRA init draws (core/rng.h); not written to adapter_config.json

  // alpha / r, or alpha / sqrt(r) with use_rslora (PEFT's update_layer).
  float scale() const;
};

// The PEFT release whose format and defaults these follow.
inline constexpr const char* kPeftVersion = "0.18.1";

// Reads a LoraConfig from a JSON object. `where` names the source in errors (a file, "lora").
// Unknown keys are user errors with a did-you-mean, unless `lenient` (reading an adapter_config
// written by another PEFT version: unknown keys are logged and skipped). Bad values are user
// errors naming the key (exit status 2).
LoraConfig lora_config_from_json(const nlohmann::json& j, const std::string& where,
                                 bool lenient = false);

// adapter_config.json as PEFT 0.18.1 writes it: every LoraConfig field, inference_mode true,
// sets as lists (tuna writes them sorted), json.dumps(indent=2, sort_keys=True), no final newline.
// `target_modules` is what PEFT saves: the config's list/regex, or, for "all-linear" or the
// per-architecture default, the resolved names (lora/targets.h).
nlohmann::json lora_config_to_json(const LoraConfig& c);
std::string adapter_config_json_text(const LoraConfig& c);

// The keys lora_config_from_json accepts (for did-you-mean and docs).
const std::vector<std::string>& lora_config_keys();

}  // namespace tuna
