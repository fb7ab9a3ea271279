// Fuzz target for the tokenizer pipeline on text: arbitrary bytes as the text for fixed
// tokenizers (byte-level BPE, byte-fallback BPE, WordPiece). Encode must not crash, a byte-level
// BPE must round-trip (decode(encode(x)) == x with invalid UTF-8 repaired), decode must give valid
// UTF-8, and streaming decode must add up to decode. Any exception is a bug. (fuzz_tokenizer
// fuzzes tokenizer.json itself.) With TUNA_FUZZ_REPLAY_MAIN it is a plain program that replays
// the corpus plus deterministic mutations (replay_driver.h), for CTest on any compiler.
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "byte_level_bpe.h"
#include "core/utf8.h"
#include "replay_driver.h"
#include "tokenizer/tokenizer.h"

namespace {

using nlohmann::json;
using tuna::StreamingDecoder;
using tuna::Tokenizer;

constexpr const char* kTarget = "fuzz_tokenizer_text";

[[noreturn]] void fail(const std::string& what) {
  tuna::fuzz::report_bug(kTarget, what);
}

using tuna::fuzz::byte_fallback_json;
using tuna::fuzz::byte_level_json;
using tuna::fuzz::wordpiece_json;

const std::vector<Tokenizer>& fixed() {
  static const std::vector<Tokenizer> t = {
      Tokenizer::from_json(byte_level_json(), nullptr, "byte_level"),
      Tokenizer::from_json(byte_fallback_json(), nullptr, "byte_fallback"),
      Tokenizer::from_json(wordpiece_json(), nullptr, "wordpiece")};
  return t;
}

// Streaming decode re-decodes its window on each push, and a run of tokens ending in an
// incomplete character grows the window (as HF's DecodeStream does): quadratic in the run.
// A bounded prefix of the ids is streamed so long random inputs do not dominate the campaign.
constexpr size_t kMaxStreamed = 32;

void exercise(const Tokenizer& t, const std::string& text, bool roundtrip) {
  std::vector<int32_t> ids = t.encode(text, true);
  std::string dec = t.decode(ids, false);
  if (!tuna::utf8::is_valid(dec)) fail("decode produced invalid UTF-8");
  if (roundtrip && dec != tuna::utf8::lossy(text)) fail("byte-level round trip failed");
  if (ids.size() > kMaxStreamed) {
    ids.resize(kMaxStreamed);
    dec = t.decode(ids, false);
  }
  StreamingDecoder sd(t, false);
  std::string all;
  for (int32_t id : ids) all += sd.push(id);
  all += sd.flush();
  if (dec.find("\xEF\xBF\xBD") == std::string::npos && all != dec)
    fail("streaming decode differs from decode");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  tuna::fuzz::begin_input(data, size);
  const std::string input(reinterpret_cast<const char*>(data), size);
  const auto& tok = fixed();
  try {
    exercise(tok[0], input, true);
    exercise(tok[1], input, false);
    exercise(tok[2], input, false);
  } catch (const std::exception& e) {
    fail(std::string("exception on text: ") + e.what());
  }
  return 0;
}

#ifdef TUNA_FUZZ_REPLAY_MAIN

namespace {

// Text-shaped mutations: multi-byte characters cut or whole, spaces, special-token text.
void mutate_text(size_t, tuna::fuzz::Bytes& b, tuna::fuzz::Rng& rng) {
  static const char* const kPieces[] = {
      "\xEA\xB0", "\xEA\xB0\x80", "\xF0\x9F\x98\x80", "\xFF", " ",  "  ",
      "<|end|>",  "##",           "\xE2\x96\x81",     "'s",   " .", "\n"};
  const std::string p = kPieces[rng.below(sizeof kPieces / sizeof kPieces[0])];
  b.insert(b.begin() + static_cast<std::ptrdiff_t>(rng.below(b.size() + 1)), p.begin(), p.end());
}

int make_seeds(const std::filesystem::path& dir) {
  const std::vector<std::string> seeds = {"",
                                          "Hello world",
                                          "the theme of the thesis",
                                          "안녕하세요 😀 \xEA\xB0",
                                          "\xFF\xFE a\xC3",
                                          "ab aab [UNK] <|end|> don't ."};
  std::filesystem::create_directories(dir);
  for (size_t i = 0; i < seeds.size(); ++i)
    tuna::fuzz::write_raw(dir / ("seed_" + std::to_string(i)), seeds[i]);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return tuna::fuzz::replay_main(argc, argv, {kTarget, mutate_text, make_seeds, 256});
}

#endif  // TUNA_FUZZ_REPLAY_MAIN
