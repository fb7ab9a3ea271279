// Generic access to a Hugging Face config.json, for the family files (model/families/) that read
// and write one: typed reads whose errors name the file and key, the pieces several families
// share (RoPE objects in the transformers v4 and v5 spellings, activations, layer_types, special
// token ids) and the JSON spellings of values a written config holds. Which architectures exist
// and which keys each one has is model/families/' business, not this file's.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "io/model_spec.h"

namespace tuna {

// A string field, or `dflt` when absent, null or not a string (never throws).
std::string json_string_or(const nlohmann::json& j, const char* key, const std::string& dflt);

// Typed access to a config object with errors that name the file and key.
struct ConfigReader {
  const nlohmann::json& j;
  std::string source;

  bool has(const char* key) const { return j.contains(key) && !j.at(key).is_null(); }
  bool is_null(const char* key) const { return j.contains(key) && j.at(key).is_null(); }
  // A number that HF reads as "off" when it is null, and as `dflt` when the key is absent.
  double number_null_off(const char* key, double dflt) const {
    return is_null(key) ? 0.0 : number_or(key, dflt);
  }

  [[noreturn]] void fail(const std::string& key, const std::string& what) const;
  int64_t integer(const char* key) const;  // required, positive
  int64_t integer_or(const char* key, int64_t dflt) const { return has(key) ? integer(key) : dflt; }
  double number(const char* key) const;  // required
  double number_or(const char* key, double dflt) const { return has(key) ? number(key) : dflt; }
  bool boolean_or(const char* key, bool dflt) const;
  std::string string_or(const char* key, const std::string& dflt) const;
};

// hidden_act / hidden_activation / activation_function values: silu, gelu_pytorch_tanh, gelu_new,
// gelu. Anything else fails naming `key`.
Activation parse_activation(const ConfigReader& c, const char* key, const std::string& name);

// A rope_scaling / rope_parameters object (null: none) → RopeConfig with `theta` unless the
// object holds rope_theta. rope_type default, linear and llama3; anything else fails.
RopeConfig parse_rope(const ConfigReader& c, const char* key, const nlohmann::json* obj,
                      float theta, int64_t dim);

// Layer kinds from `layer_types` ("sliding_attention" / "full_attention"); false when absent.
bool read_layer_types(const ConfigReader& c, int64_t n_layers, std::vector<bool>* sliding);

// bos_token_id, pad_token_id, eos_token_id (an integer or a list) into the spec.
void read_special_ids(const ConfigReader& c, ModelSpec& s);

// Parses config.json at `path` (user errors: unreadable, not JSON).
nlohmann::json read_hf_config_json(const std::string& path);

// Values as a written config.json holds them: a float as the shortest decimal that reads back as
// the same float (1e-06, not 9.999999974752427e-07); an id or null; eos as null, one id or a list;
// rope_scaling as null or {"factor", "rope_type": "linear"}.
nlohmann::ordered_json hf_float_json(float v);
nlohmann::ordered_json hf_id_json(int64_t id);
nlohmann::ordered_json hf_eos_json(const ModelSpec& s);
nlohmann::ordered_json hf_rope_scaling_json(const RopeConfig& r);

}  // namespace tuna
