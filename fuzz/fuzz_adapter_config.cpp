// Fuzz target for adapter_config.json (lora/config.h): arbitrary bytes parsed as JSON, as
// load_peft_adapter reads the file, then read as a LoraConfig leniently (another PEFT version's
// file) and strictly (a training config's lora section). A user error with a hint is the accepted
// outcome; any other exception, internal error or sanitizer report is a bug. What reads must
// write back as adapter_config.json text that tuna reads again, strictly, to the same text.
// With TUNA_FUZZ_REPLAY_MAIN it replays fuzz/corpus/adapter_config/ plus deterministic mutations
// (CTest fuzz_adapter_config_replay). Not here: the adapter's tensors (fuzz_safetensors).
#include <cmath>
#include <cstdint>
#include <string>

#include "lora/config.h"
#include "replay_driver.h"

namespace {

using nlohmann::json;
constexpr const char* kTarget = "fuzz_adapter_config";
size_t g_read = 0;  // inputs that read as a LoraConfig (the replay driver reports it)

[[noreturn]] void bug(const std::string& what) {
  tuna::fuzz::report_bug(kTarget, what);
}

// A config tuna read: sane values, and its adapter_config.json text is a fixed point.
void check_config(const tuna::LoraConfig& c) {
  if (c.r <= 0) bug("r <= 0 accepted");
  if (!std::isfinite(c.lora_alpha)) bug("non-finite lora_alpha accepted");
  if (!(c.lora_dropout >= 0.0 && c.lora_dropout < 1.0)) bug("lora_dropout outside [0, 1)");
  (void)c.scale();
  std::string text, again;
  tuna::LoraConfig d;
  if (!tuna::fuzz::user_error_or_ok(kTarget, [&] { text = tuna::adapter_config_json_text(c); }))
    bug("writing a config that was read failed");
  if (!tuna::fuzz::user_error_or_ok(kTarget, [&] {
        d = tuna::lora_config_from_json(json::parse(text), "written", /*lenient=*/false);
        again = tuna::adapter_config_json_text(d);
      }))
    bug("tuna does not read back the adapter_config.json it wrote:\n" + text);
  if (again != text) bug("adapter_config.json changed on a second round trip:\n" + text);
  ++g_read;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  tuna::fuzz::begin_input(data, size);
  // As load_peft_adapter: a JSON parse error is reported by the caller (not this target's code).
  json j = json::parse(data, data + size, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return 0;
  for (bool lenient : {true, false}) {
    tuna::LoraConfig c;
    if (tuna::fuzz::user_error_or_ok(
            kTarget, [&] { c = tuna::lora_config_from_json(j, "adapter_config.json", lenient); }))
      check_config(c);
  }
  return 0;
}

#ifdef TUNA_FUZZ_REPLAY_MAIN

namespace {

// Mutations 2, 6 and 7 (see tuna::fuzz::mutate): JSON pieces and adapter_config values.
void mutate_format(size_t, tuna::fuzz::Bytes& b, tuna::fuzz::Rng& rng) {
  static const char* const kPieces[] = {"\"r\": 0,",
                                        "\"r\": -1,",
                                        "\"r\": 1e400,",
                                        "\"lora_alpha\": null,",
                                        "\"bias\": \"x\",",
                                        "null",
                                        "[]",
                                        "{}",
                                        "\"all-linear\"",
                                        "\"(\"",
                                        "true",
                                        "-0.0",
                                        "9223372036854775808",
                                        "\"\\u0000\"",
                                        "\"use_dora\": true,",
                                        "\"layers_to_transform\": [-1],",
                                        ",",
                                        "\"",
                                        "[",
                                        "{"};
  const std::string p = kPieces[rng.below(sizeof kPieces / sizeof kPieces[0])];
  b.insert(b.begin() + static_cast<std::ptrdiff_t>(rng.below(b.size() + 1)), p.begin(), p.end());
}

int make_seeds(const std::filesystem::path&) {
  return 0;  // the corpus is committed (PEFT-written adapter_config.json files and edits)
}

}  // namespace

int main(int argc, char** argv) {
  return tuna::fuzz::replay_main(argc, argv, {kTarget, mutate_format, make_seeds, 512, &g_read});
}

#endif  // TUNA_FUZZ_REPLAY_MAIN
