// Fuzz target for the tokenizer: (1) arbitrary bytes as a tokenizer.json — a user error is an
// accepted outcome, and whatever loads must encode and decode without crashing; (2) arbitrary
// bytes as text for fixed tokenizers (byte-level BPE, byte-fallback BPE, WordPiece): encode must
// not crash, a byte-level BPE must round-trip (decode(encode(x)) == x with invalid UTF-8
// repaired), and streaming decode must add up to decode. Any other exception is a bug.
// With TUNA_FUZZ_REPLAY_MAIN it is a plain program that replays built-in seeds plus
// deterministic mutations (`--mutations N`), for CTest on any compiler.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
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
using tuna::StreamingDecoder;
using tuna::Tokenizer;

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "fuzz_tokenizer: %s\n", what.c_str());
  std::abort();
}

using tuna::fuzz::byte_level_json;

json byte_fallback_json() {
  json vocab = {{"<unk>", 0}, {"▁", 1}, {"a", 2}, {"▁a", 3}};
  for (int b = 0; b < 256; ++b) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "<0x%02X>", b);
    vocab[buf] = 4 + b;
  }
  return {{"normalizer", {{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", "▁"}}},
          {"decoder",
           {{"type", "Sequence"},
            {"decoders",
             json::array({{{"type", "Replace"}, {"pattern", {{"String", "▁"}}}, {"content", " "}},
                          {{"type", "ByteFallback"}},
                          {{"type", "Fuse"}}})}}},
          {"model",
           {{"type", "BPE"},
            {"unk_token", "<unk>"},
            {"byte_fallback", true},
            {"fuse_unk", true},
            {"vocab", vocab},
            {"merges", json::array({"▁ a"})}}}};
}

json wordpiece_json() {
  return {{"normalizer", {{"type", "BertNormalizer"}}},
          {"pre_tokenizer", {{"type", "BertPreTokenizer"}}},
          {"decoder", {{"type", "WordPiece"}}},
          {"model",
           {{"type", "WordPiece"},
            {"unk_token", "[UNK]"},
            {"vocab", {{"[UNK]", 0}, {"a", 1}, {"##a", 2}, {"ab", 3}, {"##b", 4}}}}}};
}

const std::vector<Tokenizer>& fixed() {
  static const std::vector<Tokenizer> t = {
      Tokenizer::from_json(byte_level_json(), nullptr, "byte_level"),
      Tokenizer::from_json(byte_fallback_json(), nullptr, "byte_fallback"),
      Tokenizer::from_json(wordpiece_json(), nullptr, "wordpiece")};
  return t;
}

constexpr size_t kMaxStreamed = 64;

void exercise(const Tokenizer& t, const std::string& text, bool roundtrip) {
  std::vector<int32_t> ids = t.encode(text, true);
  std::string dec = t.decode(ids, false);
  if (!tuna::utf8::is_valid(dec)) fail("decode produced invalid UTF-8");
  if (roundtrip && dec != tuna::utf8::lossy(text)) fail("byte-level round trip failed");
  // Streaming decode re-decodes its window on each push, and a run of tokens ending in an
  // incomplete character grows the window (as HF's DecodeStream does): quadratic in the run.
  // Stream a bounded prefix of the ids so long random inputs do not dominate the campaign.
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
  std::string input(reinterpret_cast<const char*>(data), size);
  const auto& tok = fixed();
  exercise(tok[0], input, true);
  exercise(tok[1], input, false);
  exercise(tok[2], input, false);
  try {
    json j = json::parse(input, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) return 0;
    Tokenizer t = Tokenizer::from_json(j, nullptr, "fuzz input");
    exercise(t, "Hello wörld 안녕 😀 <|end|>\xFF", false);
    (void)t.decode({0, 1, 2, 3, 1000000, -1}, true);
  } catch (const Error& e) {
    if (e.kind() != ErrorKind::USER) fail(std::string("internal error: ") + e.what());
  } catch (const nlohmann::json::exception&) {
    fail("an nlohmann exception escaped the loader (should be a user error)");
  }
  return 0;
}

#ifdef TUNA_FUZZ_REPLAY_MAIN

// `[--mutations N] [CORPUS_DIR...] | --make-seeds DIR`: the built-in seeds and every file of the
// corpus dirs (fuzz/corpus/tokenizer/: the minimised libFuzzer corpus), then N mutations.
int main(int argc, char** argv) {
  namespace fs = std::filesystem;
  size_t mutations = 2000;
  std::vector<fs::path> dirs;
  fs::path make_seeds;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--mutations" && i + 1 < argc)
      mutations = std::strtoull(argv[++i], nullptr, 10);
    else if (a == "--make-seeds" && i + 1 < argc)
      make_seeds = argv[++i];
    else
      dirs.emplace_back(a);
  }
  std::vector<std::string> seeds = {
      "",
      "Hello world",
      "안녕하세요 😀 \xEA\xB0",
      "\xFF\xFE a\xC3",
      byte_level_json().dump(),
      byte_fallback_json().dump(),
      wordpiece_json().dump(),
      R"({"model": {"type": "WordPiece", "vocab": {"[UNK]": 0}}, "pre_tokenizer": {"type": "Split",
         "pattern": {"Regex": "\\s+"}, "behavior": "Isolated", "invert": true}})"};
  if (!make_seeds.empty()) {
    fs::create_directories(make_seeds);
    for (size_t i = 0; i < seeds.size(); ++i)
      tuna::fuzz::write_raw(make_seeds / ("seed_" + std::to_string(i)), seeds[i]);
    return 0;
  }
  for (const fs::path& d : dirs) {
    std::error_code ec;
    if (!fs::is_directory(d, ec)) {
      std::fprintf(stderr, "not a directory: %s\n", d.c_str());
      return 2;
    }
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(d))
      if (e.is_regular_file()) files.push_back(e.path());
    std::sort(files.begin(), files.end());
    for (const fs::path& p : files) {
      tuna::fuzz::Bytes b = tuna::fuzz::read_file(p);
      seeds.emplace_back(b.begin(), b.end());
    }
  }
  uint64_t s = 0x9E3779B97F4A7C15ull;
  auto next = [&s]() {
    s ^= s >> 12;
    s ^= s << 25;
    s ^= s >> 27;
    return s * 2685821657736338717ull;
  };
  size_t runs = 0;
  for (const auto& seed : seeds) {
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(seed.data()), seed.size());
    ++runs;
  }
  for (size_t m = 0; m < mutations; ++m) {
    std::string b = seeds[next() % seeds.size()];
    for (int k = 0, n = 1 + static_cast<int>(next() % 4); k < n; ++k) {
      switch (next() % 4) {
        case 0:
          if (!b.empty()) b[next() % b.size()] = static_cast<char>(next());
          break;
        case 1:
          b.resize(b.empty() ? 0 : next() % (b.size() + 1));
          break;
        case 2:
          if (!b.empty()) b.insert(next() % b.size(), b.substr(next() % b.size(), 8));
          break;
        default:
          b.insert(b.empty() ? 0 : next() % b.size(), 1, "\"{}[]:,\\\x80\xEA\xF0"[next() % 11]);
      }
    }
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(b.data()), b.size());
    ++runs;
  }
  std::printf("fuzz_tokenizer_replay: %zu inputs, no failure\n", runs);
  return 0;
}

#endif  // TUNA_FUZZ_REPLAY_MAIN
