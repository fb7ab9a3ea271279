// Generic config.json access. See hf_config.h. Defaults are the transformers config classes'
// defaults (configuration_<model>.py); the family files in model/families/ pass them in.
#include "io/hf_config.h"

#include <charconv>
#include <cstdlib>
#include <fstream>
#include <system_error>

#include "core/error.h"
#include "core/message.h"
#include "core/utf8.h"

namespace tuna {

using nlohmann::json;
using ojson = nlohmann::ordered_json;

std::string json_string_or(const json& j, const char* key, const std::string& dflt) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : dflt;
}

void ConfigReader::fail(const std::string& key, const std::string& what) const {
  throw_user_error("config", source + ": key '" + key + "' " + what,
                   "fix config.json (compare with the model's original config on the Hub)");
}

int64_t ConfigReader::integer(const char* key) const {
  if (!has(key)) fail(key, "is missing");
  const json& v = j.at(key);
  if (!v.is_number_integer()) fail(key, "must be an integer, got " + v.dump());
  int64_t x = v.get<int64_t>();
  if (x <= 0) fail(key, "must be positive, got " + v.dump());
  return x;
}

double ConfigReader::number(const char* key) const {
  if (!has(key)) fail(key, "is missing");
  const json& v = j.at(key);
  if (!v.is_number()) fail(key, "must be a number, got " + v.dump());
  return v.get<double>();
}

bool ConfigReader::boolean_or(const char* key, bool dflt) const {
  if (!has(key)) return dflt;
  const json& v = j.at(key);
  if (!v.is_boolean()) fail(key, "must be true or false, got " + v.dump());
  return v.get<bool>();
}

std::string ConfigReader::string_or(const char* key, const std::string& dflt) const {
  if (!has(key)) return dflt;
  const json& v = j.at(key);
  if (!v.is_string()) fail(key, "must be a string, got " + v.dump());
  return v.get<std::string>();
}

Activation parse_activation(const ConfigReader& c, const char* key, const std::string& name) {
  if (name == "silu" || name == "swish") return Activation::SILU;
  if (name == "gelu_pytorch_tanh" || name == "gelu_new") return Activation::GELU_TANH;
  if (name == "gelu") return Activation::GELU_ERF;
  c.fail(key, "names activation '" + name +
                  "', which tuna does not support (supported: silu, "
                  "gelu_pytorch_tanh, gelu_new, gelu)");
}

RopeConfig parse_rope(const ConfigReader& c, const char* key, const json* obj, float theta,
                      int64_t dim) {
  RopeConfig r;
  r.theta = theta;
  r.dim = dim;
  if (obj == nullptr || obj->is_null()) return r;
  if (!obj->is_object()) c.fail(key, "must be an object or null");
  if (obj->contains("rope_theta")) {
    if (!obj->at("rope_theta").is_number())
      c.fail(std::string(key) + ".rope_theta", "must be a number");
    r.theta = obj->at("rope_theta").get<float>();
  }
  std::string type = json_string_or(*obj, "rope_type", json_string_or(*obj, "type", "default"));
  auto num = [&](const char* k, double d) {
    if (!obj->contains(k) || obj->at(k).is_null()) return d;
    if (!obj->at(k).is_number()) c.fail(std::string(key) + "." + k, "must be a number");
    return obj->at(k).get<double>();
  };
  if (type == "default") {
    r.scaling = RopeScalingType::NONE;
  } else if (type == "linear") {
    r.scaling = RopeScalingType::LINEAR;
    r.factor = static_cast<float>(num("factor", 1.0));
  } else if (type == "llama3") {
    r.scaling = RopeScalingType::LLAMA3;
    r.factor = static_cast<float>(num("factor", 8.0));
    r.low_freq_factor = static_cast<float>(num("low_freq_factor", 1.0));
    r.high_freq_factor = static_cast<float>(num("high_freq_factor", 4.0));
    r.original_max_position = static_cast<int64_t>(num("original_max_position_embeddings", 8192));
  } else {
    c.fail(key, "has rope_type '" + type +
                    "', which tuna does not support yet (supported: "
                    "default, linear, llama3)");
  }
  if (r.factor <= 0.0f) c.fail(key, "has a non-positive factor");
  return r;
}

bool read_layer_types(const ConfigReader& c, int64_t n_layers, std::vector<bool>* sliding) {
  if (!c.has("layer_types")) return false;
  const json& lt = c.j.at("layer_types");
  if (!lt.is_array() || static_cast<int64_t>(lt.size()) != n_layers)
    c.fail("layer_types", "must list one entry per layer (" + std::to_string(n_layers) + ")");
  sliding->assign(static_cast<size_t>(n_layers), false);
  for (size_t i = 0; i < lt.size(); ++i) {
    std::string t = lt[i].is_string() ? lt[i].get<std::string>() : "";
    if (t == "sliding_attention")
      (*sliding)[i] = true;
    else if (t != "full_attention")
      c.fail("layer_types", "entry " + std::to_string(i) + " is '" + lt[i].dump() + "'");
  }
  return true;
}

void read_special_ids(const ConfigReader& c, ModelSpec& s) {
  auto id_or = [&](const char* k) -> int64_t {
    return c.has(k) && c.j.at(k).is_number_integer() ? c.j.at(k).get<int64_t>() : -1;
  };
  s.bos_id = id_or("bos_token_id");
  s.pad_id = id_or("pad_token_id");
  if (c.has("eos_token_id")) {
    const json& e = c.j.at("eos_token_id");
    if (e.is_number_integer())
      s.eos_ids.push_back(e.get<int64_t>());
    else if (e.is_array())
      for (const auto& x : e)
        if (x.is_number_integer()) s.eos_ids.push_back(x.get<int64_t>());
  }
}

json read_hf_config_json(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw_user_error("config", "cannot read " + path,
                     "check that the model directory has config.json");
  const std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  if (const size_t bad = utf8::first_invalid(text); bad != std::string::npos)
    throw_user_error("config", path + ": " + invalid_utf8_at(text, bad),
                     "config.json is UTF-8 JSON; fix or re-download it");
  try {
    return json::parse(text);
  } catch (const json::parse_error& e) {
    // e.byte: 1-based offset of the byte the parser stopped at
    const TextPosition at = text_position(text, e.byte > 0 ? e.byte - 1 : 0);
    throw_user_error("config",
                     path + " line " + std::to_string(at.line) + ", column " +
                         std::to_string(at.column) +
                         ": not valid JSON" + (text.empty() ? " (the file is empty)" : ""),
                     "fix or re-download config.json");
  } catch (const json::exception& e) {
    throw_user_error("config", path + " is not valid JSON: " + std::string(e.what()),
                     "fix or re-download config.json");
  }
}

ojson hf_float_json(float v) {
  char buf[32];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  if (ec != std::errc()) return static_cast<double>(v);
  return std::strtod(std::string(buf, end).c_str(), nullptr);
}

ojson hf_id_json(int64_t id) {
  return id >= 0 ? ojson(id) : ojson(nullptr);
}

ojson hf_eos_json(const ModelSpec& s) {
  if (s.eos_ids.empty()) return nullptr;
  if (s.eos_ids.size() == 1) return s.eos_ids[0];
  return s.eos_ids;
}

ojson hf_rope_scaling_json(const RopeConfig& r) {
  if (r.scaling == RopeScalingType::LINEAR)
    return ojson{{"factor", hf_float_json(r.factor)}, {"rope_type", "linear"}};
  return nullptr;
}

}  // namespace tuna
