// Loading and validating a `tuna train` config (see config.h): YAML through yaml-cpp, flat or
// sectioned, overrides `key=value`, every error a user error with file, line and key.
#include "train/config.h"

#include <yaml-cpp/yaml.h>

#include <cmath>
#include <filesystem>
#include <map>

#include "core/error.h"
#include "core/message.h"
#include "core/mmap_file.h"

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

std::vector<std::string> all_names() {
  std::vector<std::string> names;
  for (const ConfigKey& k : config_schema()) names.push_back(k.key);
  return names;
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
      fail(root, "", "the config must be a mapping of keys to values",
           "write one `key: value` per line, e.g. learning_rate: 2e-4");
    for (auto it = root.begin(); it != root.end(); ++it) {
      const std::string name = it->first.as<std::string>();
      const YAML::Node value = it->second;  // it-> is a proxy: a reference would dangle
      auto sec = section_aliases().find(name);
      const ConfigKey* as_key = find_key(name);  // "model" is a section and a key
      if (sec != section_aliases().end() && value.IsMap() &&
          (!as_key || as_key->type != ConfigType::MAP)) {
        for (auto jt = value.begin(); jt != value.end(); ++jt)
          set(jt->first.as<std::string>(), jt->second, jt->first.Mark(), sec->second);
        continue;
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
    set(kv.substr(0, eq), v, YAML::Mark::null_mark(), "", /*replace=*/true);
    source_ = saved;
  }

  TrainConfig finish() {
    for (const ConfigKey& k : config_schema()) {
      if (k.support != ConfigSupport::NOT_YET || !cfg_.given.count(k.key)) continue;
      if (cfg_.values[k.key] == ojson::parse(k.default_json)) continue;
      throw_user_error("config", "not supported yet: " + std::string(k.key) + " (" + k.help + ")",
                       "remove `" + std::string(k.key) + "` from " + source_ +
                           " or set it to its default " + k.default_json);
    }
    return std::move(cfg_);
  }

 private:
  std::string source_;
  TrainConfig cfg_;

  std::string where(const YAML::Mark& m) const {
    if (m.is_null()) return source_;
    return source_ + " line " + std::to_string(m.line + 1);
  }

  [[noreturn]] void fail(const YAML::Node& n, const std::string& key, const std::string& what,
                         const std::string& hint) {
    fail_at(n.Mark(), key, what, hint);
  }
  [[noreturn]] void fail_at(const YAML::Mark& m, const std::string& key, const std::string& what,
                            const std::string& hint) {
    throw_user_error("config", where(m) + (key.empty() ? "" : ": " + key) + ": " + what, hint);
  }

  void set(const std::string& name, const YAML::Node& value, const YAML::Mark& mark,
           const std::string& section, bool replace = false) {
    const ConfigKey* k = find_key(name);
    if (!k) {
      std::vector<std::string> names = all_names();
      const std::string* near = closest_name(name, names);
      std::string hint = near ? "did you mean '" + *near + "'?"
                              : "docs/config.md lists every key; sections are model, data, "
                                "training, lora, quantization";
      fail_at(mark, "", "unknown key '" + name + "'", hint);
    }
    if (!section.empty() && section != k->section)
      fail_at(mark, name,
              "belongs in the '" + std::string(k->section) + "' section, not '" + section + "'",
              "move it, or write the config flat (sections are optional)");
    if (!replace && cfg_.given.count(k->key))
      fail_at(mark, name, "set twice (as '" + name + "' and another spelling of '" + k->key + "')",
              "keep one");
    cfg_.values[k->key] = convert(*k, name, value, mark);
    cfg_.given.insert(k->key);
  }

  ojson scalar_any(const YAML::Node& n) {
    if (n.IsNull()) return nullptr;
    if (n.IsSequence()) {
      ojson a = ojson::array();
      for (const auto& e : n) a.push_back(scalar_any(e));
      return a;
    }
    if (n.IsMap()) {
      ojson o = ojson::object();
      for (auto it = n.begin(); it != n.end(); ++it)
        o[it->first.as<std::string>()] = scalar_any(it->second);
      return o;
    }
    int64_t i;
    double d;
    bool b;
    if (YAML::convert<int64_t>::decode(n, i)) return i;
    if (YAML::convert<double>::decode(n, d)) return d;
    if (n.Tag() != "!" && YAML::convert<bool>::decode(n, b)) return b;
    return n.as<std::string>();
  }

  ojson convert(const ConfigKey& k, const std::string& name, const YAML::Node& n,
                const YAML::Mark& mark) {
    const YAML::Mark m = n.Mark().is_null() ? mark : n.Mark();
    auto type_error = [&](const std::string& want) {
      std::string got = n.IsScalar()     ? "'" + n.as<std::string>() + "'"
                        : n.IsSequence() ? "a list"
                        : n.IsMap()      ? "a mapping"
                                         : "null";
      fail_at(m, name, "expected " + want + ", got " + got,
              std::string(k.help) + "; default " + k.default_json);
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
        bool b;
        if (!n.IsScalar() || n.Tag() == "!" || !YAML::convert<bool>::decode(n, b))
          type_error("true or false");
        return b;
      }
      case ConfigType::INT:
      case ConfigType::OPTIONAL_INT: {
        int64_t i;
        if (!n.IsScalar() || !YAML::convert<int64_t>::decode(n, i)) type_error("an integer");
        v = i;
        break;
      }
      case ConfigType::FLOAT: {
        double d;
        if (!n.IsScalar() || !YAML::convert<double>::decode(n, d) || !std::isfinite(d))
          type_error("a number");
        v = d;
        break;
      }
      case ConfigType::STRING:
        if (!n.IsScalar()) type_error("a string");
        return n.as<std::string>();
      case ConfigType::ENUM: {
        if (!n.IsScalar()) type_error("one of " + std::string(k.allowed));
        std::string s = n.as<std::string>();
        std::string allowed = std::string("|") + k.allowed + "|";
        if (allowed.find("|" + s + "|") == std::string::npos)
          fail_at(m, name, "'" + s + "' is not one of " + std::string(k.allowed),
                  std::string(k.help) + "; default " + k.default_json);
        return s;
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
        if (n.IsScalar() && YAML::convert<int64_t>::decode(n, i)) return i;
        if (!n.IsSequence()) type_error("an integer or a list of integers");
        ojson a = ojson::array();
        for (const auto& e : n) {
          if (!e.IsScalar() || !YAML::convert<int64_t>::decode(e, i))
            type_error("a list of integers");
          a.push_back(i);
        }
        return a;
      }
      case ConfigType::MAP:
        if (!n.IsMap()) type_error("a mapping");
        return scalar_any(n);
    }
    // Range checks for numbers.
    const std::string allowed = k.allowed;
    const double x = v.get<double>();
    bool ok = true;
    if (allowed == ">0") ok = x > 0;
    if (allowed == ">=0") ok = x >= 0;
    if (allowed == "0..1") ok = x >= 0 && x <= 1;
    if (!ok)
      fail_at(m, name,
              "must be " + (allowed == "0..1" ? std::string("between 0 and 1") : allowed) +
                  ", got " + n.as<std::string>(),
              std::string(k.help) + "; default " + k.default_json);
    return v;
  }
};

}  // namespace

const nlohmann::ordered_json& TrainConfig::at(const std::string& key) const {
  TUNA_ASSERT(values.contains(key), "unknown config key " + key);
  return values.at(key);
}

nlohmann::ordered_json TrainConfig::section(const std::string& name) const {
  ojson out = ojson::object();
  for (const ConfigKey& k : config_schema())
    if (name == k.section) out[k.key] = values.at(k.key);
  return out;
}

TrainConfig parse_train_config(const std::string& yaml_text, const std::string& source,
                               const std::vector<std::string>& overrides) {
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
  loader.load_document(root);
  for (const std::string& o : overrides) loader.override_with(o);
  return loader.finish();
}

TrainConfig load_train_config(const std::string& yaml_path,
                              const std::vector<std::string>& overrides) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(yaml_path, ec))
    throw_user_error("config", "cannot read " + yaml_path,
                     "pass the path of a YAML config, e.g. examples/j1_qlora_gemma3_alpaca.yaml");
  return parse_train_config(read_file_bytes(yaml_path), yaml_path, overrides);
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
  std::string md = "| key | section | type | default | allowed | also accepted as | meaning |\n";
  md += "|---|---|---|---|---|---|---|\n";
  for (const ConfigKey& k : config_schema()) {
    std::string allowed = k.allowed;
    for (char& c : allowed)
      if (c == '|') c = '/';
    std::string help = k.help;
    if (k.support == ConfigSupport::NOT_YET) help = "**not supported yet** — " + help;
    md += "| `" + std::string(k.key) + "` | " + k.section + " | " + type_name(k.type) + " | `" +
          k.default_json + "` | " + allowed + " | " + k.aliases + " | " + help + " |\n";
  }
  return md;
}

}  // namespace tuna
