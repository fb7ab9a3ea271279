// Helpers for reading tokenizer.json components with errors that name the file, the JSON path
// and (for unknown "type" values) the supported types. Header-only; used by every component
// factory. Does not parse files (tokenizer.cpp does).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/error.h"
#include "core/message.h"
#include "tokenizer/regex.h"

namespace tuna::tok {

using nlohmann::json;

// Where a JSON value came from: the file and the path inside it ("pre_tokenizer.pretokenizers[1]").
struct JsonWhere {
  std::string file;
  std::string path;
  JsonWhere at(const std::string& key) const {
    return {file, path.empty() ? key : path + "." + key};
  }
  JsonWhere at(size_t index) const { return {file, path + "[" + std::to_string(index) + "]"}; }
  std::string describe() const { return "at " + (path.empty() ? "<root>" : path) + " in " + file; }
};

[[noreturn]] inline void json_fail(const JsonWhere& w, const std::string& what,
                                   const std::string& hint = {}) {
  throw_user_error(
      "tokenizer", what + ", " + w.describe(),
      hint.empty() ? "check the file against the Hugging Face tokenizers format" : hint);
}

[[noreturn]] inline void unknown_type(const JsonWhere& w, const std::string& kind,
                                      const std::string& type,
                                      const std::vector<std::string>& supported) {
  json_fail(w, "unsupported " + kind + " type \"" + type + "\"",
            "tuna supports these " + kind + " types: " + join_names(supported));
}

inline const json& require(const json& j, const char* key, const JsonWhere& w) {
  if (!j.is_object()) json_fail(w, "expected a JSON object");
  auto it = j.find(key);
  if (it == j.end()) json_fail(w, std::string("missing key \"") + key + "\"");
  return *it;
}

inline std::string get_string(const json& j, const char* key, const JsonWhere& w) {
  const json& v = require(j, key, w);
  if (!v.is_string()) json_fail(w.at(key), "expected a string");
  return v.get<std::string>();
}

inline std::string get_string_or(const json& j, const char* key, const std::string& dflt,
                                 const JsonWhere& w) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return dflt;
  if (!it->is_string()) json_fail(w.at(key), "expected a string");
  return it->get<std::string>();
}

inline std::optional<std::string> get_opt_string(const json& j, const char* key,
                                                 const JsonWhere& w) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::nullopt;
  if (!it->is_string()) json_fail(w.at(key), "expected a string or null");
  return it->get<std::string>();
}

inline bool get_bool_or(const json& j, const char* key, bool dflt, const JsonWhere& w) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return dflt;
  if (!it->is_boolean()) json_fail(w.at(key), "expected true or false");
  return it->get<bool>();
}

inline int64_t get_int_or(const json& j, const char* key, int64_t dflt, const JsonWhere& w) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return dflt;
  if (!it->is_number_integer()) json_fail(w.at(key), "expected an integer");
  return it->get<int64_t>();
}

// The ids a vocabulary may hold: 0 .. its size + kMaxVocabIdGap − 1. Models keep an id → piece
// table as long as the largest id, so a sparse vocabulary with a huge id (HF allows any u32)
// would take that much memory; real files number their pieces densely.
constexpr int64_t kMaxVocabIdGap = int64_t{1} << 20;

// A model's "vocab" object {piece: id}: every id an integer in 0 .. size + kMaxVocabIdGap − 1
// (a user error naming the piece otherwise).
inline std::vector<std::pair<std::string, int32_t>> read_vocab_object(const json& j,
                                                                      const JsonWhere& w) {
  const json& jv = require(j, "vocab", w);
  if (!jv.is_object()) json_fail(w.at("vocab"), "expected an object {piece: id}");
  const int64_t limit = static_cast<int64_t>(jv.size()) + kMaxVocabIdGap;
  std::vector<std::pair<std::string, int32_t>> vocab;
  vocab.reserve(jv.size());
  for (auto it = jv.begin(); it != jv.end(); ++it) {
    const json& v = it.value();
    if (!v.is_number_integer()) json_fail(w.at("vocab").at(it.key()), "expected an integer id");
    const int64_t id = v.is_number_unsigned() && v.get<uint64_t>() > uint64_t{INT64_MAX}
                           ? INT64_MAX
                           : v.get<int64_t>();
    if (id < 0 || id >= limit)
      json_fail(w.at("vocab").at(it.key()),
                "id " + v.dump() + " is outside 0.." + std::to_string(limit - 1) +
                    " (a vocabulary of " + std::to_string(jv.size()) + " pieces)",
                "ids number the pieces from 0; re-export the tokenizer");
    vocab.emplace_back(it.key(), static_cast<int32_t>(id));
  }
  return vocab;
}

inline std::string get_type(const json& j, const JsonWhere& w) {
  if (!j.is_object()) json_fail(w, "expected a JSON object with a \"type\"");
  return get_string(j, "type", w);
}

// {"String": "..."} or {"Regex": "..."}.
inline Pattern parse_pattern(const json& j, const JsonWhere& w) {
  if (j.is_object() && j.contains("String") && j["String"].is_string())
    return Pattern::from_literal(j["String"].get<std::string>());
  if (j.is_object() && j.contains("Regex") && j["Regex"].is_string())
    return Pattern::from_regex(j["Regex"].get<std::string>(), w.describe());
  json_fail(w, "expected a pattern {\"String\": ...} or {\"Regex\": ...}");
}

}  // namespace tuna::tok
