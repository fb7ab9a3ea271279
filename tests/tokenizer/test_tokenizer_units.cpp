// Unit tests of the tokenizer pieces on small hand-written tokenizer.json snippets: BPE options,
// added-token flags, tokenizer_config handling (Gemma's post-processor rebuild, special tokens,
// chat templates), C++-built pipelines, streaming decode, and the errors for bad input (exit
// status 2, file + JSON path, the supported types listed). UTF-8 repair: tests/core/test_utf8.cpp.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "core/error.h"
#include "core/utf8.h"
#include "golden_util.h"
#include "tokenizer/bpe.h"
#include "tokenizer/decoders.h"
#include "tokenizer/normalizers.h"
#include "tokenizer/pre_tokenizers.h"
#include "tokenizer/regex.h"
#include "tokenizer/tokenizer.h"

namespace tuna {
namespace {

using nlohmann::json;
using test::expect_user_error;
using Ids = std::vector<int32_t>;

// A SentencePiece-style BPE with byte fallback (like Gemma / Llama 2).
json spm_bpe() {
  json vocab = {{"<unk>", 0}, {"<s>", 1}, {"</s>", 2}, {"▁", 3}, {"a", 4},
                {"b", 5},     {"ab", 6},  {"▁ab", 7},  {"c", 8}, {"▁a", 9}};
  int id = 10;
  for (int b = 0; b < 256; ++b) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "<0x%02X>", b);
    vocab[buf] = id++;
  }
  return {{"version", "1.0"},
          {"added_tokens", json::array({{{"id", 0}, {"content", "<unk>"}, {"special", true}},
                                        {{"id", 1}, {"content", "<s>"}, {"special", true}},
                                        {{"id", 2}, {"content", "</s>"}, {"special", true}}})},
          {"normalizer", {{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", "▁"}}},
          {"pre_tokenizer", nullptr},
          {"post_processor", nullptr},
          {"decoder",
           {{"type", "Sequence"},
            {"decoders",
             json::array({{{"type", "Replace"}, {"pattern", {{"String", "▁"}}}, {"content", " "}},
                          {{"type", "ByteFallback"}},
                          {{"type", "Fuse"}}})}}},
          {"model",
           {{"type", "BPE"},
            {"unk_token", "<unk>"},
            {"fuse_unk", true},
            {"byte_fallback", true},
            {"vocab", vocab},
            {"merges", json::array({json::array({"a", "b"}), json::array({"▁", "ab"}),
                                    json::array({"▁", "a"})})}}}};
}

Tokenizer from(const json& j, const json* cfg = nullptr) {
  return Tokenizer::from_json(j, cfg, "test.json", "test_config.json");
}

TEST(Normalizers, UnicodeFormsKeepWhatHfKeeps) {
  using tok::UnicodeForm;
  EXPECT_EQ(tok::unicode_normalize("e\xCC\x81", UnicodeForm::NFC), "\xC3\xA9");
  EXPECT_EQ(tok::unicode_normalize("\xEA\xB0\x81", UnicodeForm::NFD),
            "\xE1\x84\x80\xE1\x85\xA1\xE1\x86\xA8");
  EXPECT_EQ(tok::unicode_normalize("\xEF\xAC\x81", UnicodeForm::NFKC), "fi");
  // U+32FF (SQUARE ERA NAME REIWA) has a compatibility decomposition since Unicode 12.1 that HF
  // tokenizers' tables do not know: it stays, while its neighbours are normalized.
  EXPECT_EQ(tok::unicode_normalize("\xEF\xAC\x81\xE3\x8B\xBF\xEF\xAC\x81", UnicodeForm::NFKC),
            "fi\xE3\x8B\xBF"
            "fi");
}

TEST(Regex, OnigurumaClassesAndEmptyMatches) {
  EXPECT_EQ(tok::Regex::translate_onig("a\\sb"), tok::Regex::translate_onig("a\\sb"));
  tok::Regex ws("\\s+", "test");
  std::vector<std::pair<size_t, size_t>> m;
  ws.find_all("a\xE1\xA0\x8E b", m);  // U+180E is not \s for Oniguruma
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0], (std::pair<size_t, size_t>{4, 5}));
  m.clear();
  tok::Regex empty("x*", "test");
  empty.find_all("axxb", m);  // onig: (0,0) (1,3) (4,4) — no empty match right after a match
  ASSERT_EQ(m.size(), 3u);
  EXPECT_EQ(m[1], (std::pair<size_t, size_t>{1, 3}));
  EXPECT_EQ(m[2], (std::pair<size_t, size_t>{4, 4}));
}

TEST(Bpe, MergesByteFallbackAndFusedUnk) {
  Tokenizer t = from(spm_bpe());
  EXPECT_EQ(t.encode("ab", false), (Ids{6}));
  EXPECT_EQ(t.encode(" ab", false), (Ids{7}));
  EXPECT_EQ(t.encode(" a", false), (Ids{9}));
  // "가" (EA B0 80) is not in the vocabulary: three byte-fallback tokens.
  EXPECT_EQ(t.encode("a가", false), (Ids{4, 10 + 0xEA, 10 + 0xB0, 10 + 0x80}));
  EXPECT_EQ(t.decode(t.encode(" ab각c", false)), " ab각c");
  json j = spm_bpe();
  j["model"]["byte_fallback"] = false;
  Tokenizer u = from(j);
  EXPECT_EQ(u.encode("a각각b", false), (Ids{4, 0, 5}));  // fuse_unk: one <unk> for the run
  j["model"]["fuse_unk"] = false;
  EXPECT_EQ(from(j).encode("a각각b", false), (Ids{4, 0, 0, 5}));
}

TEST(Bpe, LegacyMergesAndIgnoreMerges) {
  json j = spm_bpe();
  j["model"]["merges"] = json::array({"#version: 0.2", "a b", "▁ ab", "▁ a"});
  Tokenizer t = from(j);
  EXPECT_EQ(t.encode(" ab", false), (Ids{7}));
  // ignore_merges: a word that is a vocabulary entry is taken whole.
  j["model"]["vocab"]["ba"] = 300;
  j["model"]["ignore_merges"] = true;
  EXPECT_EQ(from(j).encode("ba", false), (Ids{300}));
  j["model"]["ignore_merges"] = false;
  EXPECT_EQ(from(j).encode("ba", false), (Ids{5, 4}));
}

TEST(Bpe, BuiltFromCppData) {
  // The GGUF path: vocab + merges as C++ vectors, pipeline pieces from factories.
  std::vector<std::pair<std::string, int32_t>> vocab = {{"h", 0}, {"i", 1},   {"hi", 2},
                                                        {"Ġ", 3}, {"Ġhi", 4}, {"<|end|>", 5}};
  std::vector<std::pair<std::string, std::string>> merges = {{"h", "i"}, {"Ġ", "hi"}};
  Tokenizer::Parts parts;
  parts.model = std::make_unique<tok::BpeModel>(vocab, merges, tok::BpeOptions{});
  parts.pre_tokenizer = tok::make_byte_level_pre_tokenizer(false, true);
  parts.decoder = tok::make_decoder(json{{"type", "ByteLevel"}}, {"gguf", "decoder"});
  parts.added_tokens.push_back({"<|end|>", 5, true});
  TokenizerOptions o;
  o.eos_token = "<|end|>";
  Tokenizer t = Tokenizer::from_parts(std::move(parts), o, false, true);
  EXPECT_EQ(t.encode("hi hi"), (Ids{2, 4, 5}));
  EXPECT_EQ(t.encode("hi<|end|>", false), (Ids{2, 5}));
  EXPECT_EQ(t.decode({2, 4, 5}, true), "hi hi");
  EXPECT_TRUE(t.add_eos());
  EXPECT_FALSE(t.add_bos());
  EXPECT_EQ(t.eos_id(), 5);
}

TEST(AddedTokens, LstripRstripSingleWordNormalized) {
  json j = spm_bpe();
  j["normalizer"] = {{"type", "Lowercase"}};
  j["added_tokens"].push_back(
      {{"id", 400}, {"content", "<m>"}, {"lstrip", true}, {"rstrip", true}, {"special", true}});
  j["added_tokens"].push_back(
      {{"id", 401}, {"content", "cab"}, {"single_word", true}, {"normalized", false}});
  j["added_tokens"].push_back({{"id", 402}, {"content", "BB"}, {"normalized", true}});
  Tokenizer t = from(j);
  ASSERT_EQ(t.piece_to_id("<m>"), 266);  // HF ignores the stored id: next free id
  EXPECT_EQ(t.encode("a  <m>  b", false), (Ids{4, 266, 5}));
  EXPECT_EQ(t.encode("cab", false), (Ids{267}));
  EXPECT_EQ(t.encode("acab", false), (Ids{4, 8, 6}));  // not a single word: no match
  EXPECT_EQ(t.encode("BB", false), (Ids{268}));        // matched on the normalized "bb"
  EXPECT_TRUE(t.is_special(266));
  EXPECT_FALSE(t.is_special(267));
  EXPECT_EQ(t.decode({4, 266, 5}, true), "ab");
}

TEST(TokenizerConfig, GemmaRebuildsPostProcessorFromAddBosAddEos) {
  json j = spm_bpe();
  json cfg = {{"tokenizer_class", "GemmaTokenizer"},
              {"bos_token", {{"content", "<s>"}, {"__type", "AddedToken"}}},
              {"eos_token", "</s>"},
              {"add_bos_token", true},
              {"add_eos_token", true},
              {"model_max_length", 1e30},
              {"padding_side", "left"},
              {"chat_template", json::array({{{"name", "default"}, {"template", "{{ x }}"}},
                                             {{"name", "tool_use"}, {"template", "T"}}})}};
  Tokenizer t = from(j, &cfg);
  EXPECT_EQ(t.encode("ab"), (Ids{1, 6, 2}));
  EXPECT_EQ(t.encode("ab", false), (Ids{6}));
  EXPECT_TRUE(t.add_bos());
  EXPECT_TRUE(t.add_eos());
  EXPECT_EQ(t.options().model_max_length, INT64_MAX);
  EXPECT_EQ(t.options().padding_side, "left");
  EXPECT_EQ(t.chat_template(), "{{ x }}");
  EXPECT_EQ(t.options().chat_templates.at("tool_use"), "T");
  cfg["add_bos_token"] = false;
  cfg["add_eos_token"] = false;
  EXPECT_EQ(from(j, &cfg).encode("ab"), (Ids{6}));
  // Other classes keep tokenizer.json's post-processor (none here).
  cfg["tokenizer_class"] = "PreTrainedTokenizerFast";
  cfg["add_bos_token"] = true;
  EXPECT_EQ(from(j, &cfg).encode("ab"), (Ids{6}));
}

TEST(TokenizerConfig, ModelDirWithChatTemplateFile) {
  namespace fs = std::filesystem;
  fs::path d = fs::temp_directory_path() / ("tuna_tok_dir_" + std::to_string(::getpid()));
  fs::create_directories(d);
  std::ofstream(d / "tokenizer.json") << spm_bpe().dump();
  std::ofstream(d / "tokenizer_config.json")
      << json{{"chat_template", "old"}, {"eos_token", "</s>"}}.dump();
  std::ofstream(d / "chat_template.jinja") << "{{ messages }}";
  Tokenizer t = Tokenizer::from_model_dir(d.string());
  EXPECT_EQ(t.chat_template(), "{{ messages }}");
  EXPECT_EQ(t.eos_id(), 2);
  fs::remove_all(d);
  expect_user_error([&] { Tokenizer::from_model_dir(d.string()); }, {"no tokenizer.json"});
}

// Vocabulary ids must number the pieces: a negative id (fuzz_tokenizer found WordPiece indexing
// its table with one) or one far beyond the vocabulary's size is a user error naming the piece.
TEST(TokenizerErrors, VocabularyIdsOutOfRange) {
  for (const char* type : {"WordPiece", "BPE"}) {
    for (const char* id : {"-5", "4294967296", "2000000000"}) {
      const json j = json::parse(std::string(R"({"model": {"type": ")") + type +
                                 R"(", "unk_token": "[UNK]", "merges": [], "vocab": {"[UNK]": )" +
                                 id + R"(, "a": 1}}})");
      expect_user_error([&] { Tokenizer::from_json(j, nullptr, "t.json"); },
                        {"[UNK]", "is outside 0..1048577", "t.json"});
    }
  }
}

TEST(TokenizerErrors, MalformedAndUnsupported) {
  namespace fs = std::filesystem;
  fs::path f = fs::temp_directory_path() / ("tuna_bad_" + std::to_string(::getpid()) + ".json");
  std::ofstream(f) << "{\"model\": {\"type\": \"BPE\",\n  ";
  expect_user_error([&] { Tokenizer::from_files(f.string()); },
                    {f.string() + " line 2, column 3: not valid JSON", "re-download"});
  std::ofstream(f, std::ios::trunc) << "{\"model\": \"caf\xe9\"}";
  expect_user_error([&] { Tokenizer::from_files(f.string()); },
                    {f.string() + ": invalid UTF-8 byte 0xE9 at line 1, column 15 (byte offset 14)"});
  fs::remove(f);
  expect_user_error([&] { Tokenizer::from_files("/nonexistent/tokenizer.json"); },
                    {"cannot read", "/nonexistent/tokenizer.json"});

  json j = spm_bpe();
  j["normalizer"] = {{"type", "Sequence"},
                     {"normalizers", json::array({{{"type", "NFC"}}, {{"type", "Precompiled"}}})}};
  expect_user_error([&] { from(j); }, {"unsupported normalizer type \"Precompiled\"",
                                       "normalizer.normalizers[1]", "test.json", "NFC, NFD, NFKC"});
  j = spm_bpe();
  j["pre_tokenizer"] = {{"type", "UnicodeScripts"}};
  expect_user_error([&] { from(j); }, {"pre-tokenizer type \"UnicodeScripts\"", "Metaspace"});
  j = spm_bpe();
  j["model"] = {{"type", "Unigram"}, {"vocab", json::array()}};
  expect_user_error([&] { from(j); }, {"model type \"Unigram\"", "BPE, WordPiece"});
  j = spm_bpe();
  j["decoder"] = {{"type", "CTC"}};
  expect_user_error([&] { from(j); }, {"decoder type \"CTC\"", "ByteFallback"});
  j = spm_bpe();
  j["post_processor"] = {{"type", "Nope"}};
  expect_user_error([&] { from(j); }, {"post-processor type \"Nope\"", "TemplateProcessing"});
  j = spm_bpe();
  j["model"]["dropout"] = 0.1;
  expect_user_error([&] { from(j); }, {"dropout", "model.dropout"});
  j = spm_bpe();
  j["model"]["merges"].push_back(json::array({"a", "zz"}));
  expect_user_error([&] { from(j); }, {"merge 3", "not in the vocabulary"});
  j = spm_bpe();
  j["pre_tokenizer"] = {
      {"type", "Split"}, {"pattern", {{"Regex", "(unclosed"}}}, {"behavior", "Isolated"}};
  expect_user_error([&] { from(j); }, {"does not compile", "pre_tokenizer.pattern"});
  j = spm_bpe();
  j["pre_tokenizer"] = {
      {"type", "Split"}, {"pattern", {{"String", "x"}}}, {"behavior", "Sideways"}};
  expect_user_error([&] { from(j); }, {"split behavior \"Sideways\"", "Isolated"});
  j = spm_bpe();
  j.erase("model");
  expect_user_error([&] { from(j); }, {"missing key \"model\""});
  json cfg = {{"tokenizer_class", "LlamaTokenizerFast"}, {"add_bos_token", true}};
  expect_user_error([&] { from(spm_bpe(), &cfg); }, {"add_bos_token is true", "test_config.json"});
}

// Streaming on the byte-fallback tokenizer: a Hangul syllable's three byte tokens arrive one at a
// time; nothing comes out until the character is complete.
TEST(Streaming, ByteFallbackHangulComesOutWhole) {
  Tokenizer t = from(spm_bpe());
  StreamingDecoder sd(t);
  EXPECT_EQ(sd.push(7), " ab");
  EXPECT_EQ(sd.push(10 + 0xEA), "");
  EXPECT_EQ(sd.push(10 + 0xB0), "");
  EXPECT_EQ(sd.push(10 + 0x80), "가");
  // A 4-byte emoji (U+1F600) the same way.
  EXPECT_EQ(sd.push(10 + 0xF0), "");
  EXPECT_EQ(sd.push(10 + 0x9F), "");
  EXPECT_EQ(sd.push(10 + 0x98), "");
  EXPECT_EQ(sd.push(10 + 0x80), "\xF0\x9F\x98\x80");
  EXPECT_EQ(sd.push(8), "c");
  EXPECT_EQ(sd.flush(), "");
  // A truncated sequence comes out as U+FFFD at flush, exactly as decode says.
  StreamingDecoder s2(t);
  std::string all = s2.push(4);
  all += s2.push(10 + 0xEA);
  all += s2.push(10 + 0xB0);
  all += s2.flush();
  EXPECT_EQ(all, t.decode({4, 10 + 0xEA, 10 + 0xB0}));
  EXPECT_EQ(all, "a\xEF\xBF\xBD\xEF\xBF\xBD");
}

TEST(Streaming, RealTokenizersNeverSplitCharacters) {
  const std::string text =
      "안녕하세요! 오늘 날씨 😀👨‍👩‍👧‍👦 좋네요. "
      "𝕳𝖊𝖑𝖑𝖔 "
      "각각각";
  for (const char* name : {"gemma3", "qwen3", "llama3_style"}) {
    const Tokenizer& t = test::golden_tokenizer(name);
    Ids ids = t.encode(text, false);
    StreamingDecoder sd(t, true);
    std::string all;
    for (int32_t id : ids) {
      std::string piece = sd.push(id);
      EXPECT_TRUE(utf8::is_valid(piece)) << name;
      EXPECT_EQ(piece.find("\xEF\xBF\xBD"), std::string::npos) << name;
      all += piece;
    }
    all += sd.flush();
    EXPECT_EQ(all, text) << name;
  }
}

TEST(GoldenTokenizers, SpecialTokensAndSizes) {
  const Tokenizer& g = test::golden_tokenizer("gemma3");
  EXPECT_EQ(g.bos_id(), 2);
  EXPECT_EQ(g.eos_id(), 106);  // tokenizer_config's eos_token is <end_of_turn>
  EXPECT_EQ(g.pad_id(), 0);
  EXPECT_EQ(g.unk_id(), 3);
  EXPECT_TRUE(g.add_bos());
  EXPECT_FALSE(g.add_eos());
  EXPECT_EQ(g.vocab_size(), 262145);
  EXPECT_EQ(g.id_to_piece(105), "<start_of_turn>");
  EXPECT_TRUE(g.is_special(106));
  EXPECT_TRUE(g.chat_template().has_value());
  EXPECT_EQ(g.encode("<start_of_turn>user\n", true), (Ids{2, 105, 2364, 107}));
  const Tokenizer& q = test::golden_tokenizer("qwen3");
  EXPECT_FALSE(q.bos_id().has_value());
  EXPECT_FALSE(q.add_bos());
  EXPECT_EQ(q.eos_id(), 151645);
  EXPECT_EQ(q.pad_id(), 151643);
  EXPECT_EQ(q.vocab_size(), 151669);
  const Tokenizer& m = test::golden_tokenizer("minilm");
  EXPECT_EQ(m.encode("Hello world"), (Ids{101, 7592, 2088, 102}));
  EXPECT_EQ(m.unk_id(), 100);
}

TEST(GoldenTokenizers, InvalidUtf8IsReplacedAndCounted) {
  const Tokenizer& q = test::golden_tokenizer("qwen3");
  auto enc = q.encode_full("a\xFF\xEA\xB0z", false);
  EXPECT_EQ(enc.invalid_utf8_replaced, 2u);
  EXPECT_EQ(enc.ids, q.encode("a\xEF\xBF\xBD\xEF\xBF\xBDz", false));
}

TEST(GoldenTokenizers, ConcurrentEncodeIsDeterministic) {
  const Tokenizer& t = test::golden_tokenizer("qwen3");
  const auto& corpus = test::corpus();
  std::vector<Ids> a(400), b(400);
  std::thread t1([&] {
    for (size_t i = 0; i < a.size(); ++i) a[i] = t.encode(corpus[i]);
  });
  std::thread t2([&] {
    for (size_t i = b.size(); i-- > 0;) b[i] = t.encode(corpus[i]);
  });
  t1.join();
  t2.join();
  EXPECT_EQ(a, b);
}

}  // namespace
}  // namespace tuna
