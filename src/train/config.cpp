// Loading and validating a `tuna train` config (see config.h): YAML through yaml-cpp, flat or
// sectioned, overrides `key=value`, every error a user error with file, line and key. Per-key
// types and ranges live here; rules between keys are in config_rules.cpp.
#include "train/config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>

#include "core/error.h"
#include "core/message.h"
#include "core/mmap_file.h"
#include "core/utf8.h"
#include "train/config_rules.h"
#include "train/openai_names.h"

namespace tuna {
namespace {

using ojson = nlohmann::ordered_json;

// Section spellings users write: transformers/TRL/PEFT object names.
const std::map<std::string, std::string>& section_aliases() {
  static const std::map<std::string, std::string> m = {{"model", "model"},
                                                       {"data", "data"},
                                                       {"training", "training"},
                                                       {"training_args", "training"},
                                                       {"sft", "training"},
                                                       {"sft_config", "training"},
                                                       {"args", "training"},
                                                       {"lora", "lora"},
                                                       {"peft", "lora"},
                                                       {"lora_config", "lora"},
                                                       {"quantization", "quantization"},
                                                       {"quantization_config", "quantization"},
                                                       {"bnb", "quantization"},
                                                       {"bnb_config", "quantization"}};
  return m;
}

// name or alias → schema key
const ConfigKey* find_key(const std::string& name) {
  for (const ConfigKey& k : config_schema()) {
    if (name == k.key) return &k;
    std::string aliases = k.aliases;
    size_t start = 0;
    while (start <= aliases.size() && !aliases.empty()) {
      size_t comma = aliases.find(',', start);
      std::string a =
          aliases.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      if (a == name) return &k;
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
  return nullptr;
}

std::vector<std::string> names_of(const std::vector<ConfigKey>& keys) {
  std::vector<std::string> names;
  for (const ConfigKey& k : keys) names.push_back(k.key);
  return names;
}

// A scalar written in quotes ('10', "true"): a string to YAML, never a number or a boolean.
bool quoted(const YAML::Node& n) {
  return n.IsScalar() && n.Tag() == "!";
}

// How a value reads in a message: 'text', "text" (quoted in the file), a list, a mapping.
std::string shown(const YAML::Node& n) {
  if (n.IsScalar()) {
    const std::string s = printable(n.as<std::string>(), 60);
    return quoted(n) ? "the string \"" + s + "\"" : "'" + s + "'";
  }
  return n.IsSequence() ? "a list" : n.IsMap() ? "a mapping" : "null";
}

// A key's help for hints, with its default when it has one.
std::string default_help(const ConfigKey& k) {
  const std::string d = k.default_json;
  return std::string(k.help) + (d == "null" || d == "{}" ? "" : "; default " + d);
}

// The allowed range of a number as words: ">0" → "greater than 0", "0..<1" → "at least 0 and
// below 1"; `ok` says whether x is inside it.
std::string range_words(const std::string& allowed, double x, bool* ok) {
  *ok = true;
  if (allowed == ">0") {
    *ok = x > 0;
    return "greater than 0";
  }
  if (allowed == ">=0") {
    *ok = x >= 0;
    return "0 or more";
  }
  if (allowed == "-1 or >0") {
    *ok = x == -1 || x > 0;
    return "-1 (train num_train_epochs) or greater than 0";
  }
  const size_t dots = allowed.find("..");
  if (dots == std::string::npos) return "";
  const bool open = allowed.compare(dots + 2, 1, "<") == 0;
  const double lo = std::stod(allowed.substr(0, dots));
  const double hi = std::stod(allowed.substr(dots + (open ? 3 : 2)));
  *ok = x >= lo && (open ? x < hi : x <= hi);
  const std::string l = allowed.substr(0, dots), h = allowed.substr(dots + (open ? 3 : 2));
  return open ? "between " + l + " and " + h + " (" + l + " included, " + h + " excluded)"
              : "between " + l + " and " + h;
}

class Loader {
 public:
  explicit Loader(std::string source) : source_(std::move(source)) {
    for (const ConfigKey& k : config_schema()) cfg_.values[k.key] = ojson::parse(k.default_json);
    cfg_.source = source_;
  }

  void load_document(const YAML::Node& root) {
    if (root.IsNull()) return;
    if (!root.IsMap())
      fail_at(root.Mark(), "", "the config must be a mapping of keys to values, got " + shown(root),
              "write one `key: value` per line, e.g. learning_rate: 2e-4");
    check_unique(root, "");
    for (auto it = root.begin(); it != root.end(); ++it) {
      const std::string name = key_text(it->first);
      const YAML::Node value = it->second;  // a copy: `it->` is a proxy that dies here
      auto sec = section_aliases().find(name);
      const ConfigKey* as_key = find_key(name);  // "model" is a section and a key
      if (sec != section_aliases().end() && (!as_key || as_key->type != ConfigType::MAP)) {
        if (value.IsMap()) {
          check_unique(value, name + ".");
          for (auto jt = value.begin(); jt != value.end(); ++jt)
            set(key_text(jt->first), jt->second, jt->first.Mark(), sec->second);
          continue;
        }
        if (value.IsNull()) continue;  // an empty section (every key commented out)
        if (!as_key)
          fail_at(
              it->first.Mark(), name,
              "is a section: expected a mapping of " + sec->second + " keys, got " + shown(value),
              "indent its keys under it (" + name + ": {KEY: VALUE}), or write them flat");
      }
      set(name, value, it->first.Mark(), "");
    }
  }

  void override_with(const std::string& kv) {
    size_t eq = kv.find('=');
    if (eq == std::string::npos || eq == 0)
      throw_user_error("config", "override '" + kv + "' is not KEY=VALUE",
                       "e.g. tuna train config.yaml learning_rate=1e-4 max_steps=50");
    YAML::Node v;
    try {
      v = YAML::Load(kv.substr(eq + 1));
    } catch (const YAML::Exception& e) {
      throw_user_error("config", "override '" + kv + "': " + e.msg, "quote the value");
    }
    std::string saved = source_;
    source_ = "command-line override '" + kv + "'";
    overriding_ = true;
    std::string key = kv.substr(0, eq);
    const size_t dot = key.find('.');
    if (dot != std::string::npos && dot > 0) {
      const std::string head = key.substr(0, dot), tail = key.substr(dot + 1);
      auto sec = section_aliases().find(head);
      const ConfigKey* map_key = find_key(head);
      if (map_key && map_key->type == ConfigType::MAP) {
        set_nested(*map_key, tail, v, YAML::Mark::null_mark());
        cfg_.given.insert(map_key->key);
        cfg_.origin[map_key->key] = source_;
      } else if (sec != section_aliases().end()) {
        set(tail, v, YAML::Mark::null_mark(), sec->second, /*replace=*/true);
      } else {
        set(key, v, YAML::Mark::null_mark(), "", /*replace=*/true);
      }
    } else {
      set(key, v, YAML::Mark::null_mark(), "", /*replace=*/true);
    }
    source_ = saved;
    overriding_ = false;
  }

  TrainConfig finish() {
    // A value that is not valid UTF-8 once YAML made it a string (YAML escapes can make one; found
    // by fuzz_train_config): named here rather than escaping from the JSON writer later.
    for (const auto& [key, v] : cfg_.values.items())
      if (cfg_.given.count(key) && v.dump(-1, ' ', false, ojson::error_handler_t::replace) !=
                                       v.dump(-1, ' ', false, ojson::error_handler_t::ignore))
        throw_user_error("config", source_ + ": " + key + ": a string that is not valid UTF-8",
                         "write the value as plain UTF-8 text");
    check_config_rules(cfg_);
    if (cfg_.values["trust_remote_code"] == true)
      cfg_.notes.push_back(
          "trust_remote_code: true changes nothing: tuna runs no Python model code and loads the "
          "architectures it implements itself (docs/architectures.md), EXAONE included");
    for (const ConfigKey& k : config_schema()) {
      if (!cfg_.given.count(k.key)) continue;
      not_yet(k, cfg_.values[k.key], k.key);
      if (const auto* nested = nested_config_schema(k.key))
        for (const ConfigKey& n : *nested)
          if (cfg_.values[k.key].contains(n.key))
            not_yet(n, cfg_.values[k.key][n.key], std::string(k.key) + "." + n.key);
    }
    return std::move(cfg_);
  }

 private:
  std::string source_;
  bool overriding_ = false;  // values come from a command-line override (their lines mean nothing)
  std::string fixed_where_;  // set while reading a mapping written as a string (its own lines)
  TrainConfig cfg_;

  // A NOT_YET key's `allowed` lists the values accepted besides its default (device_map: auto).
  void not_yet(const ConfigKey& k, const ojson& value, const std::string& path) {
    if (k.support != ConfigSupport::NOT_YET || value == ojson::parse(k.default_json)) return;
    // A STRING key's `allowed` lists the other values it honours (device_map: "auto"); an ENUM's
    // lists the values it knows, of which a NOT_YET key honours only the default.
    if (k.type == ConfigType::STRING && value.is_string() && *k.allowed &&
        ("|" + std::string(k.allowed) + "|").find("|" + value.get<std::string>() + "|") !=
            std::string::npos)
      return;
    refuse_not_yet(k, path);
  }

  [[noreturn]] void refuse_not_yet(const ConfigKey& k, const std::string& path) {
    std::string also;
    if (k.type == ConfigType::STRING && *k.allowed) {
      also = k.allowed;
      for (size_t at = 0; (at = also.find('|', at)) != std::string::npos;)
        also.replace(at, 1, " or ");
      also = " or to " + also;
    }
    throw_user_error("config",
                     cfg_.where(path) + ": not supported yet: " + path + " (" + k.help + ")",
                     "remove `" + path + "` or set it to its default " + k.default_json + also);
  }

  // The OpenAI fine-tuning API's names (training_file, n_epochs, hyperparameters: {...}) are
  // not config keys: say which key is meant and how its meaning differs (train/openai_names.h).
  void refuse_openai_name(const std::string& name, const YAML::Node& value, const YAML::Mark& mark,
                          const std::string& section) {
    const std::string in = section.empty() ? "" : " in the '" + section + "' section";
    if (const OpenAiName* n = find_openai_name(name))
      fail_at(mark, "", "unknown key '" + name + "'" + in, openai_name_hint(*n));
    if (name != "hyperparameters") return;
    std::string renames;
    for (const OpenAiName& n : openai_fine_tuning_names()) {
      if (!n.in_hyperparameters || (value.IsMap() && !value[n.openai])) continue;
      renames += std::string(renames.empty() ? "" : "; ") + n.openai + " → " + n.hf;
      if (*n.differs) renames += std::string(" (") + n.differs + ")";
    }
    fail_at(mark, "",
            "unknown key 'hyperparameters'" + in + " (the OpenAI fine-tuning API's object)",
            "write its keys at the top level under their Hugging Face names" +
                (renames.empty() ? std::string() : ": " + renames));
  }

  std::string where(const YAML::Mark& m) const {
    if (!fixed_where_.empty()) return fixed_where_;
    if (m.is_null() || overriding_) return source_;
    return source_ + " line " + std::to_string(m.line + 1);
  }

  [[noreturn]] void fail_at(const YAML::Mark& m, const std::string& key, const std::string& what,
                            const std::string& hint) {
    throw_user_error("config", where(m) + (key.empty() ? "" : ": " + key) + ": " + what, hint);
  }

  std::string key_text(const YAML::Node& k) {
    if (!k.IsScalar())
      fail_at(k.Mark(), "", "a key must be a name, got " + shown(k),
              "write `name: value` (a `? ` or a `[...]` / `{...}` key is not a config key)");
    return k.as<std::string>();
  }

  // YAML leaves duplicated keys to the reader (yaml-cpp keeps both): one of them would be lost.
  void check_unique(const YAML::Node& map, const std::string& prefix) {
    std::map<std::string, int> seen;
    for (auto it = map.begin(); it != map.end(); ++it) {
      const std::string name = key_text(it->first);
      auto [at, fresh] = seen.emplace(name, it->first.Mark().line + 1);
      if (!fresh)
        fail_at(
            it->first.Mark(), prefix + name,
            "appears twice in the same mapping (first on line " + std::to_string(at->second) + ")",
            "keep one: YAML readers silently keep only one of the two values");
    }
  }

  void set(const std::string& name, const YAML::Node& value, const YAML::Mark& mark,
           const std::string& section, bool replace = false) {
    const ConfigKey* k = find_key(name);
    if (!k) {
      refuse_openai_name(name, value, mark, section);
      const std::vector<std::string> names = names_of(config_schema());
      const std::string* near = closest_name(name, names);
      std::string hint = near ? "did you mean '" + *near + "'?"
                              : "docs/config.md lists every key; sections are model, data, "
                                "training, lora, quantization";
      fail_at(mark, "",
              "unknown key '" + name + "'" +
                  (section.empty() ? "" : " in the '" + section + "' section"),
              hint);
    }
    if (!section.empty() && section != k->section)
      fail_at(mark, name,
              "belongs in the '" + std::string(k->section) + "' section, not '" + section + "'",
              "move it, or write the config flat (sections are optional)");
    if (!replace && cfg_.given.count(k->key))
      fail_at(mark, name,
              "set twice: already set as '" + first_spelling_.at(k->key) + "' (" +
                  cfg_.where(k->key) + ")",
              "keep one of the two spellings");
    cfg_.origin[k->key] = where(mark);
    first_spelling_[k->key] = name;
    // A key not supported yet given a list or a mapping (device_map: {"": 0}): "not supported
    // yet", not a type error about a value tuna could not use anyway.
    if (k->support == ConfigSupport::NOT_YET && (value.IsMap() || value.IsSequence()) &&
        k->type != ConfigType::MAP && k->type != ConfigType::STRING_LIST &&
        k->type != ConfigType::STRING_OR_LIST && k->type != ConfigType::INT_OR_LIST)
      refuse_not_yet(*k, k->key);
    if (k->type == ConfigType::MAP) {
      set_map(*k, name, value, mark);
    } else {
      cfg_.values[k->key] = convert(*k, name, value, mark);
    }
    cfg_.given.insert(k->key);
  }

  // A MAP key: every entry checked against its nested schema, as top-level keys are. A string
  // holding a flow mapping ('{"min_lr_rate": 0.1}', as transformers' command line takes it) is
  // read as that mapping.
  void set_map(const ConfigKey& k, const std::string& name, const YAML::Node& value,
               const YAML::Mark& mark) {
    YAML::Node n = value;
    const YAML::Mark m = value.Mark().is_null() ? mark : value.Mark();
    bool from_string = false;  // its marks count from the string, not from the file
    if (n.IsScalar()) {
      const std::string s = n.as<std::string>();
      if (!s.empty() && s.front() == '{') {
        try {
          n = YAML::Load(s);
          from_string = true;
        } catch (const YAML::Exception& e) {
          fail_at(m, name, "is not a mapping: " + e.msg, "e.g. " + name + ": {KEY: VALUE}");
        }
      }
    }
    if (n.IsNull()) {
      cfg_.values[k.key] = ojson::object();
      return;
    }
    if (!n.IsMap())
      fail_at(m, name, "expected a mapping, got " + shown(value),
              std::string(k.help) + "; e.g. " + name + ": {KEY: VALUE}");
    if (from_string) fixed_where_ = where(m);
    check_unique(n, std::string(k.key) + ".");
    cfg_.values[k.key] = ojson::object();
    for (auto it = n.begin(); it != n.end(); ++it) {
      const YAML::Mark at = it->first.Mark().is_null() ? m : it->first.Mark();
      set_nested(k, key_text(it->first), it->second, at);
    }
    fixed_where_.clear();
  }

  void set_nested(const ConfigKey& map_key, const std::string& sub, const YAML::Node& value,
                  const YAML::Mark& mark) {
    const std::vector<ConfigKey>& keys = *nested_config_schema(map_key.key);
    const std::string path = std::string(map_key.key) + "." + sub;
    auto it =
        std::find_if(keys.begin(), keys.end(), [&](const ConfigKey& c) { return sub == c.key; });
    if (it == keys.end()) {
      const std::vector<std::string> names = names_of(keys);
      const std::string* near = closest_name(sub, names);
      fail_at(mark, path, "unknown key '" + sub + "' in " + map_key.key,
              (near ? "did you mean '" + *near + "'? " : std::string()) + map_key.key + " takes " +
                  join_names(names));
    }
    ojson& obj = cfg_.values[map_key.key];
    if (!obj.is_object()) obj = ojson::object();
    obj[it->key] = convert(*it, path, value, mark);
    cfg_.origin[path] = where(mark);
  }

  ojson convert(const ConfigKey& k, const std::string& name, const YAML::Node& n,
                const YAML::Mark& mark) {
    // A null (nothing after the colon) has the next line's mark: use the key's.
    const YAML::Mark m = n.Mark().is_null() || n.IsNull() ? mark : n.Mark();
    const std::string help = default_help(k);
    auto type_error = [&](const std::string& want) {
      std::string hint = help;
      if (quoted(n)) hint = "write it without quotes; " + help;
      fail_at(m, name, "expected " + want + ", got " + shown(n), hint);
    };
    const bool nullable =
        std::string(k.default_json) == "null" || k.type == ConfigType::OPTIONAL_INT;
    if (n.IsNull()) {
      if (nullable) return nullptr;
      type_error(k.type == ConfigType::BOOL ? "true or false" : "a value");
    }
    ojson v;
    switch (k.type) {
      case ConfigType::BOOL: {
        // YAML's true/false/yes/no/on/off, or 0 / 1 (transformers' string_to_bool); a quoted
        // "false" is a string (truthy in Python), refused.
        bool b;
        if (n.IsScalar() && !quoted(n) && (n.Scalar() == "0" || n.Scalar() == "1"))
          return n.Scalar() == "1";
        if (!n.IsScalar() || quoted(n) || !YAML::convert<bool>::decode(n, b))
          type_error("true or false");
        return b;
      }
      case ConfigType::INT:
      case ConfigType::OPTIONAL_INT: {
        int64_t i;
        double d;
        if (!n.IsScalar() || quoted(n)) type_error("an integer");
        if (!YAML::convert<int64_t>::decode(n, i)) {
          if (YAML::convert<double>::decode(n, d) && std::fabs(d) < 9.2e18)
            fail_at(m, name, "expected a whole number, got " + shown(n),
                    "write an integer, e.g. " +
                        std::to_string(std::max<int64_t>(1, std::llround(d))) + "; " + help);
          if (YAML::convert<double>::decode(n, d))
            fail_at(m, name, "is out of range, got " + shown(n), help);
          type_error("an integer");
        }
        v = i;
        break;
      }
      case ConfigType::FLOAT: {
        double d;
        if (!n.IsScalar() || quoted(n) || !YAML::convert<double>::decode(n, d))
          type_error("a number");
        if (!std::isfinite(d)) fail_at(m, name, "must be a finite number, got " + shown(n), help);
        v = d;
        break;
      }
      case ConfigType::STRING:
        if (!n.IsScalar()) type_error("a string");
        return n.as<std::string>();
      case ConfigType::ENUM: {
        const std::string allowed = k.allowed;
        if (!n.IsScalar()) type_error("one of " + allowed);
        std::string s = n.as<std::string>();
        if (("|" + allowed + "|").find("|" + s + "|") != std::string::npos) return s;
        std::vector<std::string> choices;
        for (size_t at = 0; at <= allowed.size();) {
          size_t bar = std::min(allowed.find('|', at), allowed.size());
          choices.push_back(allowed.substr(at, bar - at));
          at = bar + 1;
        }
        std::string lower = s;
        for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        const std::string* near = closest_name(lower, choices);
        fail_at(m, name, "'" + printable(s, 60) + "' is not one of " + allowed,
                (near ? "did you mean '" + *near + "'? " : std::string()) + help);
      }
      case ConfigType::STRING_LIST:
      case ConfigType::STRING_OR_LIST: {
        if (n.IsScalar()) {
          if (k.type == ConfigType::STRING_LIST) return ojson::array({n.as<std::string>()});
          return n.as<std::string>();
        }
        if (!n.IsSequence()) type_error("a string or a list of strings");
        ojson a = ojson::array();
        for (const auto& e : n) {
          if (!e.IsScalar()) type_error("a list of strings");
          a.push_back(e.as<std::string>());
        }
        return a;
      }
      case ConfigType::INT_OR_LIST: {
        int64_t i;
        auto element = [&](const YAML::Node& e) {
          if (!e.IsScalar() || quoted(e) || !YAML::convert<int64_t>::decode(e, i))
            type_error("an integer or a list of integers");
          check_range(k, name, static_cast<double>(i), e, m);
          return i;
        };
        if (n.IsScalar()) return element(n);
        if (!n.IsSequence()) type_error("an integer or a list of integers");
        ojson a = ojson::array();
        for (const auto& e : n) a.push_back(element(e));
        return a;
      }
      case ConfigType::MAP:
        break;  // set_map
    }
    check_range(k, name, v.get<double>(), n, m);
    return v;
  }

  void check_range(const ConfigKey& k, const std::string& name, double x, const YAML::Node& n,
                   const YAML::Mark& m) {
    bool ok;
    const std::string words = range_words(k.allowed, x, &ok);
    if (!ok) fail_at(m, name, "must be " + words + ", got " + shown(n), default_help(k));
  }

  std::map<std::string, std::string> first_spelling_;  // key → the name it was first set as
};

// The first ill-formed UTF-8 sequence: an encoding error with its byte offset and line (YAML
// itself would report it as a syntax error somewhere else, or read it as text).
void check_utf8(const std::string& text, const std::string& source) {
  const size_t at = utf8::first_invalid(text);
  if (at == std::string_view::npos) return;
  throw_user_error("config", source + ": " + invalid_utf8_at(text, at), reencode_hint(text, at));
}

TrainConfig parse(const std::string& yaml_text, const std::string& source,
                  const std::vector<std::string>& overrides, bool from_file) {
  check_utf8(yaml_text, source);
  Loader loader(source);
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    throw_user_error("config",
                     source + " line " + std::to_string(e.mark.line + 1) + ", column " +
                         std::to_string(e.mark.column + 1) + ": invalid YAML: " + e.msg,
                     "check indentation and quoting (a value with ': ' or '#' needs quotes)");
  }
  if (from_file && root.IsNull())
    throw_user_error("config", source + " is empty (no keys)",
                     "write one `key: value` per line, e.g. model: ..., dataset: ...; "
                     "examples/quickstart.yaml is a start");
  loader.load_document(root);
  for (const std::string& o : overrides) loader.override_with(o);
  return loader.finish();
}

}  // namespace

const nlohmann::ordered_json& TrainConfig::at(const std::string& key) const {
  TUNA_ASSERT(values.contains(key), "unknown config key " + key);
  return values.at(key);
}

std::string TrainConfig::where(const std::string& key) const {
  auto it = origin.find(key);
  return it == origin.end() ? source : it->second;
}

ScheduleKwargs schedule_kwargs(const TrainConfig& cfg) {
  const ojson& kw = cfg.at("lr_scheduler_kwargs");
  ScheduleKwargs out;
  auto real = [&](const char* key, std::optional<double>& to) {
    if (kw.contains(key)) to = kw[key].get<double>();
  };
  auto whole = [&](const char* key, std::optional<int64_t>& to) {
    if (kw.contains(key)) to = kw[key].get<int64_t>();
  };
  auto text = [&](const char* key, std::optional<std::string>& to) {
    if (kw.contains(key)) to = kw[key].get<std::string>();
  };
  real("num_cycles", out.num_cycles);
  real("power", out.power);
  real("lr_end", out.lr_end);
  real("min_lr", out.min_lr);
  real("min_lr_rate", out.min_lr_rate);
  real("warmup_lr_rate", out.warmup_lr_rate);
  whole("num_decay_steps", out.num_decay_steps);
  whole("num_stable_steps", out.num_stable_steps);
  text("warmup_type", out.warmup_type);
  text("decay_type", out.decay_type);
  real("min_lr_ratio", out.min_lr_ratio);
  return out;
}

nlohmann::ordered_json TrainConfig::section(const std::string& name) const {
  ojson out = ojson::object();
  for (const ConfigKey& k : config_schema())
    if (name == k.section) out[k.key] = values.at(k.key);
  return out;
}

TrainConfig parse_train_config(const std::string& yaml_text, const std::string& source,
                               const std::vector<std::string>& overrides) {
  return parse(yaml_text, source, overrides, /*from_file=*/false);
}

TrainConfig load_train_config(const std::string& yaml_path,
                              const std::vector<std::string>& overrides) {
  std::error_code ec;
  const std::filesystem::file_status st = std::filesystem::status(yaml_path, ec);
  if (std::filesystem::is_directory(st))
    throw_user_error("config", yaml_path + " is a directory, not a YAML config",
                     "pass the config file itself, e.g. " +
                         (std::filesystem::path(yaml_path) / "config.yaml").string());
  if (!std::filesystem::exists(st))
    throw_user_error("config", "cannot read " + yaml_path + ": no such file",
                     "pass the path of a YAML config, e.g. examples/j1_qlora_gemma3_alpaca.yaml");
  if (!std::filesystem::is_regular_file(st))
    throw_user_error("config", "cannot read " + yaml_path + ": not a regular file",
                     "pass the path of a YAML config, e.g. examples/j1_qlora_gemma3_alpaca.yaml");
  return parse(read_file_bytes(yaml_path), yaml_path, overrides, /*from_file=*/true);
}

std::string config_schema_markdown() {
  auto type_name = [](ConfigType t) {
    switch (t) {
      case ConfigType::BOOL:
        return "bool";
      case ConfigType::INT:
        return "int";
      case ConfigType::FLOAT:
        return "float";
      case ConfigType::STRING:
        return "string";
      case ConfigType::ENUM:
        return "choice";
      case ConfigType::STRING_LIST:
        return "list of strings";
      case ConfigType::STRING_OR_LIST:
        return "string or list";
      case ConfigType::INT_OR_LIST:
        return "int or list";
      case ConfigType::OPTIONAL_INT:
        return "int or null";
      case ConfigType::MAP:
        return "mapping";
    }
    return "";
  };
  auto row = [&](const ConfigKey& k, const std::string& key, const char* section) {
    std::string allowed = k.allowed;
    for (char& c : allowed)
      if (c == '|') c = '/';
    std::string help = k.help;
    if (k.support == ConfigSupport::NOT_YET) help = "**not supported yet** — " + help;
    return "| `" + key + "` | " + section + " | " + type_name(k.type) + " | `" + k.default_json +
           "` | " + allowed + " | " + k.aliases + " | " + help + " |\n";
  };
  std::string md = "| key | section | type | default | allowed | also accepted as | meaning |\n";
  md += "|---|---|---|---|---|---|---|\n";
  for (const ConfigKey& k : config_schema()) {
    md += row(k, k.key, k.section);
    if (const auto* nested = nested_config_schema(k.key))
      for (const ConfigKey& n : *nested) md += row(n, std::string(k.key) + "." + n.key, k.section);
  }
  return md;
}

}  // namespace tuna
