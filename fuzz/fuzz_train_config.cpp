// Fuzz target for the `tuna train` YAML config (train/config.h): arbitrary bytes parsed and
// validated as `tuna train` does before it loads a model — the YAML with its key=value overrides
// (the lines after a "#--overrides" line), then the lora section read as a LoraConfig and the
// dataset format. A user error with a hint is the accepted outcome; any other exception (a
// yaml-cpp or nlohmann one escaping included), internal error or sanitizer report is a bug. What
// validates must hold values of its keys' schema types, so the trainer's reads cannot fail.
// With TUNA_FUZZ_REPLAY_MAIN it replays fuzz/corpus/train_config/ plus deterministic mutations
// (CTest fuzz_train_config_replay). Not here: checks that need the model or the data files.
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "data/example.h"
#include "lora/config.h"
#include "replay_driver.h"
#include "train/config.h"

namespace {

using ojson = nlohmann::ordered_json;
using tuna::ConfigType;
constexpr const char* kTarget = "fuzz_train_config";
constexpr const char* kOverrides = "\n#--overrides\n";
size_t g_valid = 0;  // inputs that validated (the replay driver reports it)

[[noreturn]] void bug(const std::string& what) {
  tuna::fuzz::report_bug(kTarget, what);
}

bool all_of_type(const ojson& v, bool (ojson::*is)() const) {
  if (!v.is_array()) return false;
  for (const auto& e : v)
    if (!(e.*is)()) return false;
  return true;
}

// A validated value has its key's type (null only where the default is null) and range.
void check_value(const tuna::ConfigKey& k, const ojson& v) {
  const std::string key = k.key;
  if (v.is_null()) {
    if (std::string(k.default_json) != "null" && k.type != ConfigType::OPTIONAL_INT)
      bug(key + " is null but has a non-null default");
    return;
  }
  bool ok = false;
  switch (k.type) {
    case ConfigType::BOOL:
      ok = v.is_boolean();
      break;
    case ConfigType::INT:
    case ConfigType::OPTIONAL_INT:
      ok = v.is_number_integer();
      break;
    case ConfigType::FLOAT:
      ok = v.is_number() && std::isfinite(v.get<double>());
      break;
    case ConfigType::STRING:
      ok = v.is_string();
      break;
    case ConfigType::ENUM:
      ok = v.is_string() &&
           (std::string("|") + k.allowed + "|").find("|" + v.get<std::string>() + "|") !=
               std::string::npos;
      break;
    case ConfigType::STRING_LIST:
      ok = all_of_type(v, &ojson::is_string);
      break;
    case ConfigType::STRING_OR_LIST:
      ok = v.is_string() || all_of_type(v, &ojson::is_string);
      break;
    case ConfigType::INT_OR_LIST:
      ok = v.is_number_integer() || all_of_type(v, &ojson::is_number_integer);
      break;
    case ConfigType::MAP:
      ok = v.is_object();
      break;
  }
  if (!ok)
    bug(key + " validated with a value of the wrong type: " +
        v.dump(-1, ' ', false, ojson::error_handler_t::replace));
  if (v.is_number()) {
    const std::string allowed = k.allowed;
    const double x = v.get<double>();
    if ((allowed == ">0" && !(x > 0)) || (allowed == ">=0" && !(x >= 0)) ||
        (allowed == "0..1" && !(x >= 0 && x <= 1)))
      bug(key + " validated outside its range " + allowed);
  }
}

// What `tuna train` does with a config before the model: types, the lora section as
// trainable_set.cpp's lora_json passes it, the dataset format.
void check_config(const tuna::TrainConfig& cfg) {
  for (const tuna::ConfigKey& k : tuna::config_schema()) {
    if (!cfg.values.contains(k.key)) bug(std::string("validated config lacks ") + k.key);
    check_value(k, cfg.at(k.key));
  }
  nlohmann::json lj = nlohmann::json::object();
  const ojson lora = cfg.section("lora");
  for (const auto& [k, v] : lora.items())
    if (!v.is_null()) lj[k] = nlohmann::json::parse(v.dump());
  tuna::fuzz::user_error_or_ok(kTarget, [&] { (void)tuna::lora_config_from_json(lj, cfg.source); });
  tuna::fuzz::user_error_or_ok(
      kTarget, [&] { (void)tuna::parse_data_format(cfg.at("dataset_format").get<std::string>()); });
  ++g_valid;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  tuna::fuzz::begin_input(data, size);
  std::string yaml(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> overrides;
  if (size_t at = yaml.find(kOverrides); at != std::string::npos) {
    std::string rest = yaml.substr(at + std::char_traits<char>::length(kOverrides));
    yaml.resize(at);
    for (size_t start = 0; start <= rest.size();) {
      size_t nl = rest.find('\n', start);
      if (nl == std::string::npos) nl = rest.size();
      if (nl > start) overrides.push_back(rest.substr(start, nl - start));
      start = nl + 1;
    }
  }
  tuna::TrainConfig cfg;
  if (tuna::fuzz::user_error_or_ok(
          kTarget, [&] { cfg = tuna::parse_train_config(yaml, "fuzz.yaml", overrides); })) {
    try {
      check_config(cfg);
    } catch (const std::exception& e) {
      bug(std::string("exception on a validated config: ") + e.what());
    }
  }
  return 0;
}

#ifdef TUNA_FUZZ_REPLAY_MAIN

namespace {

// Mutations 2, 6 and 7 (see tuna::fuzz::mutate): YAML syntax and config keys and values.
void mutate_format(size_t, tuna::fuzz::Bytes& b, tuna::fuzz::Rng& rng) {
  static const char* const kPieces[] = {": ",
                                        "\n",
                                        "  ",
                                        "- ",
                                        "[",
                                        "]",
                                        "{",
                                        "}",
                                        "#",
                                        "'",
                                        "\"",
                                        "&a ",
                                        "*a",
                                        "!!str ",
                                        "!!binary ",
                                        "---\n",
                                        "null",
                                        "~",
                                        ".nan",
                                        "-.inf",
                                        "1e999",
                                        "0x10",
                                        "-1",
                                        "yes",
                                        "r: ",
                                        "lora: ",
                                        "training:\n ",
                                        "lr_scheduler_kwargs: {",
                                        "target_modules: ",
                                        "max_length: ",
                                        "learning_rate: ",
                                        "dataset_format: ",
                                        "\n#--overrides\nr=",
                                        "|\n  ",
                                        ">-\n  ",
                                        "<<: ",
                                        "? ",
                                        "%YAML 1.2\n"};
  const std::string p = kPieces[rng.below(sizeof kPieces / sizeof kPieces[0])];
  b.insert(b.begin() + static_cast<std::ptrdiff_t>(rng.below(b.size() + 1)), p.begin(), p.end());
}

int make_seeds(const std::filesystem::path&) {
  return 0;  // the corpus is committed (the examples' configs and edits of them)
}

}  // namespace

int main(int argc, char** argv) {
  return tuna::fuzz::replay_main(argc, argv, {kTarget, mutate_format, make_seeds, 512, &g_valid});
}

#endif  // TUNA_FUZZ_REPLAY_MAIN
