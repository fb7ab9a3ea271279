// Fuzz target for tokenizer.json: arbitrary bytes as the file. A user error is the accepted
// outcome; whatever loads must encode and decode a fixed text (every script, an emoji, a special
// token's text, an invalid byte) and out-of-range ids without crashing, and decode to valid
// UTF-8. Any other exception is a bug. (fuzz_tokenizer_text fuzzes the text side with fixed
// tokenizers.) With TUNA_FUZZ_REPLAY_MAIN it is a plain program that replays the corpus plus
// deterministic mutations (replay_driver.h), for CTest on any compiler.
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "byte_level_bpe.h"
#include "core/error.h"
#include "core/utf8.h"
#include "replay_driver.h"
#include "tokenizer/tokenizer.h"

namespace {

using nlohmann::json;
using tuna::Error;
using tuna::ErrorKind;
using tuna::Tokenizer;

constexpr const char* kTarget = "fuzz_tokenizer";

[[noreturn]] void fail(const std::string& what) {
  tuna::fuzz::report_bug(kTarget, what);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  tuna::fuzz::begin_input(data, size);
  const std::string input(reinterpret_cast<const char*>(data), size);
  try {
    json j = json::parse(input, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) return 0;
    Tokenizer t = Tokenizer::from_json(j, nullptr, "fuzz input");
    const std::vector<int32_t> ids = t.encode("Hello wörld 안녕 😀 <|end|> [UNK]\xFF", true);
    if (!tuna::utf8::is_valid(t.decode(ids, false))) fail("decode produced invalid UTF-8");
    (void)t.decode({0, 1, 2, 3, 1000000, -1}, true);
  } catch (const Error& e) {
    if (e.kind() != ErrorKind::USER) fail(std::string("internal error: ") + e.what());
  } catch (const nlohmann::json::exception& e) {
    fail(std::string("an nlohmann exception escaped the loader (should be a user error): ") +
         e.what());
  } catch (const std::exception& e) {
    fail(std::string("exception: ") + e.what());
  }
  return 0;
}

#ifdef TUNA_FUZZ_REPLAY_MAIN

namespace {

// JSON- and tokenizer.json-shaped mutations: punctuation, literals, component types.
void mutate_json(size_t, tuna::fuzz::Bytes& b, tuna::fuzz::Rng& rng) {
  static const char* const kPieces[] = {"{",
                                        "}",
                                        "[",
                                        "]",
                                        ":",
                                        ",",
                                        "\"",
                                        "null",
                                        "true",
                                        "-1",
                                        "1e308",
                                        "\"\\ud800\"",
                                        "\"type\": \"BPE\"",
                                        "\"type\": \"WordPiece\"",
                                        "\"type\": \"Unigram\"",
                                        "\"type\": \"Sequence\"",
                                        "\"type\": \"Split\"",
                                        "\"type\": \"Metaspace\"",
                                        "\"merges\": []",
                                        "\"vocab\": {}",
                                        "\"added_tokens\": []",
                                        "\"byte_fallback\": true"};
  const std::string p = kPieces[rng.below(sizeof kPieces / sizeof kPieces[0])];
  b.insert(b.begin() + static_cast<std::ptrdiff_t>(rng.below(b.size() + 1)), p.begin(), p.end());
}

int make_seeds(const std::filesystem::path& dir) {
  const std::vector<std::string> seeds = {
      tuna::fuzz::byte_level_json().dump(), tuna::fuzz::byte_fallback_json().dump(),
      tuna::fuzz::wordpiece_json().dump(),
      R"({"model": {"type": "WordPiece", "vocab": {"[UNK]": 0}}, "pre_tokenizer": {"type": "Split",
         "pattern": {"Regex": "\\s+"}, "behavior": "Isolated", "invert": true}})"};
  std::filesystem::create_directories(dir);
  for (size_t i = 0; i < seeds.size(); ++i)
    tuna::fuzz::write_raw(dir / ("seed_" + std::to_string(i + 4)), seeds[i]);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return tuna::fuzz::replay_main(argc, argv, {kTarget, mutate_json, make_seeds, 256});
}

#endif  // TUNA_FUZZ_REPLAY_MAIN
