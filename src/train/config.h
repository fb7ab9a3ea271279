// `tuna train` configuration: one schema table (key, section, type, default, allowed values,
// aliases, help, support) that drives YAML parsing, command-line overrides, did-you-mean,
// validation and the docs' key table (DESIGN.md §8 "Configuration"). Keys and defaults are the
// ones users know: TRL SFTConfig (which sets TrainingArguments' defaults it overrides), PEFT
// LoraConfig, transformers BitsAndBytesConfig, plus tuna's model/data keys. YAML may be flat or
// sectioned (model:, data:, training:, lora:, quantization:).
#pragma once

#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

namespace tuna {

enum class ConfigType : uint8_t {
  BOOL,
  INT,
  FLOAT,
  STRING,
  ENUM,            // a string from `allowed`
  STRING_LIST,     // a list of strings (a single string is a one-element list)
  STRING_OR_LIST,  // a string (kept as is, e.g. a regex or "all-linear") or a list of strings
  INT_OR_LIST,     // an integer or a list of integers
  OPTIONAL_INT,    // an integer or null
  MAP,             // a mapping (e.g. lr_scheduler_kwargs)
};

enum class ConfigSupport : uint8_t {
  SUPPORTED,
  NOT_YET,  // known name; any value other than the default is "not supported yet: KEY"
};

struct ConfigKey {
  const char* key;
  const char* section;  // model, data, training, lora, quantization
  ConfigType type;
  const char* default_json;  // the default as a JSON literal ("null" = unset)
  const char* allowed;       // ENUM: "a|b|c"; numbers: ">=0", ">0", "0..1"; else ""
  const char* aliases;       // other accepted names, comma-separated ("" none)
  const char* help;
  ConfigSupport support = ConfigSupport::SUPPORTED;
};

const std::vector<ConfigKey>& config_schema();
// The schema as a Markdown table (docs/config.md embeds it; a test keeps them equal).
std::string config_schema_markdown();

struct TrainConfig {
  std::string source;             // the YAML path (for messages)
  nlohmann::ordered_json values;  // every schema key → its value (defaults filled in)
  std::set<std::string> given;    // keys the user set (file or override)

  bool has(const std::string& key) const { return given.count(key) > 0; }
  const nlohmann::ordered_json& at(const std::string& key) const;  // internal error if unknown
  // The keys of one section with their values (e.g. "lora" → a LoraConfig object).
  nlohmann::ordered_json section(const std::string& name) const;
};

// Reads `yaml_path` and applies `overrides` ("key=value", value as a YAML scalar or flow list).
// Every problem is a user error (exit 2) naming the file, line and key: unknown keys (with a
// did-you-mean), wrong types, values outside the allowed ones, keys that are not supported yet.
TrainConfig load_train_config(const std::string& yaml_path,
                              const std::vector<std::string>& overrides = {});
// The same from YAML text (`source` names it in messages).
TrainConfig parse_train_config(const std::string& yaml_text, const std::string& source,
                               const std::vector<std::string>& overrides = {});

}  // namespace tuna
