// `tuna train` configuration: one schema table (key, section, type, default, allowed values,
// aliases, help, support) that drives YAML parsing, command-line overrides, did-you-mean,
// validation and the docs' key table (DESIGN.md §8 "Configuration"). Keys and defaults are the
// ones users know: TRL SFTConfig (which sets TrainingArguments' defaults it overrides), PEFT
// LoraConfig, transformers BitsAndBytesConfig, plus tuna's model/data keys. YAML may be flat or
// sectioned (model:, data:, training:, lora:, quantization:).
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "train/scheduler.h"

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
  const char* allowed;  // ENUM: "a|b|c"; numbers: ">0", ">=0", "LO..HI", "LO..<HI", "-1 or >0";
                        // NOT_YET strings: "a|b", the values accepted besides the default

  const char* aliases;  // other accepted names, comma-separated ("" none)
  const char* help;
  ConfigSupport support = ConfigSupport::SUPPORTED;
};

const std::vector<ConfigKey>& config_schema();
// The keys a MAP key's mapping may hold (e.g. lr_scheduler_kwargs → num_cycles, min_lr_rate, ...;
// their `section` is the MAP key), or nullptr for a key that is not a MAP.
const std::vector<ConfigKey>* nested_config_schema(const std::string& map_key);
// The schema as a Markdown table (docs/config.md embeds it; a test keeps them equal).
std::string config_schema_markdown();

struct TrainConfig {
  std::string source;             // the YAML path (for messages)
  nlohmann::ordered_json values;  // every schema key → its value (defaults filled in)
  std::set<std::string> given;    // keys the user set (file or override)
  // Where each given key (and each "map_key.sub_key") was set: "cfg.yaml line 7" or
  // "command-line override 'max_steps=5'"; messages about a key name it.
  std::map<std::string, std::string> origin;
  // One-line notes for the run's first lines (a key accepted that changes nothing).
  std::vector<std::string> notes;

  bool has(const std::string& key) const { return given.count(key) > 0; }
  const nlohmann::ordered_json& at(const std::string& key) const;  // internal error if unknown
  // The keys of one section with their values (e.g. "lora" → a LoraConfig object).
  nlohmann::ordered_json section(const std::string& name) const;
  // origin of `key`, or `source` when it was not given.
  std::string where(const std::string& key) const;
};

// Reads `yaml_path` and applies `overrides` ("key=value", value as a YAML scalar or flow list;
// "section.key=value" and "map_key.sub_key=value" reach into sections and mappings).
// Every problem is a user error (exit 2) naming the file, line and key: a path that is not a
// readable file, an empty file, invalid UTF-8 (with its byte offset), a document that is not a
// mapping, duplicated keys, unknown keys at any depth (with a did-you-mean), wrong types, values
// outside the allowed ones, contradictory settings (config_rules.h), keys not supported yet.
TrainConfig load_train_config(const std::string& yaml_path,
                              const std::vector<std::string>& overrides = {});
// lr_scheduler_kwargs as the schedule takes them (every key the config accepted).
ScheduleKwargs schedule_kwargs(const TrainConfig& cfg);

// The same from YAML text (`source` names it in messages).
TrainConfig parse_train_config(const std::string& yaml_text, const std::string& source,
                               const std::vector<std::string>& overrides = {});

}  // namespace tuna
