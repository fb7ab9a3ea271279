// Tokenizers built from GGUF vocabularies (src/tokenizer/gguf_vocab.h) against Hugging Face:
// - "llama": the real Gemma 3 270M GGUF (models/, from scripts/setup.sh; the tests fail, never
//   skip, without it) gives the ids and decodes of HF's Gemma 3 tokenizer.json on the golden
//   corpus (tests/golden/tokenizer/gemma3, see its README), with and without special tokens;
// - "gpt2": GGUFs written here from the golden byte-level tokenizers the way llama.cpp's
//   convert_hf_to_gguf.py writes them (pre "gpt-2", "llama-bpe", "qwen2") give HF's ids too,
//   except where a GGUF cannot carry an added token's lstrip/rstrip/single_word flags (those
//   strings must then equal tokenizer.json with the flags cleared);
// - bad vocabularies are user errors naming the key and the supported values.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <ostream>
#include <set>

#include "core/error.h"
#include "golden_util.h"
#include "io/gguf.h"
#include "tokenizer/gguf_vocab.h"
#include "tokenizer/tokenizer.h"

namespace tuna {
namespace {

using nlohmann::json;
using test::cat;
using test::expect_user_error;
using test::Mismatches;
using test::show;
using test::show_ids;
using Ids = std::vector<int32_t>;

constexpr int32_t kGemmaVocab = 262144;  // pieces in the GGUF (and embedding rows)

Ids ids_of(const json& j) {
  return j.get<Ids>();
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

std::string real_model_path() {
  namespace fs = std::filesystem;
  return (fs::path(TUNA_GOLDEN_DIR).parent_path().parent_path() / "models" /
          "gemma-3-270m-q4_k_m.gguf")
      .string();
}

// The GGUF-built Gemma 3 tokenizer, once per process; null when the model file is missing.
const Tokenizer* gemma_gguf() {
  static std::unique_ptr<Tokenizer> tok = []() -> std::unique_ptr<Tokenizer> {
    if (!std::filesystem::is_regular_file(real_model_path())) return nullptr;
    auto t0 = std::chrono::steady_clock::now();
    GgufFile g = GgufFile::open(real_model_path());
    double open_s = seconds_since(t0);
    t0 = std::chrono::steady_clock::now();
    auto t = std::make_unique<Tokenizer>(tokenizer_from_gguf(g));
    std::printf("[gguf_vocab] Gemma 3 GGUF: open %.3f s, tokenizer_from_gguf %.3f s\n", open_s,
                seconds_since(t0));
    return t;
  }();
  return tok.get();
}

#define REQUIRE_GEMMA_GGUF()                                                               \
  const Tokenizer* gguf_tok = gemma_gguf();                                                \
  if (!gguf_tok) {                                                                         \
    FAIL() << real_model_path()                                                            \
           << " is missing: run scripts/setup.sh (it fetches the real Gemma 3 270M GGUF)"; \
  }                                                                                        \
  const Tokenizer& tok = *gguf_tok

TEST(GgufVocabGemma, EncodeMatchesHf) {
  REQUIRE_GEMMA_GGUF();
  const auto& corpus = test::corpus();
  auto rows = test::read_jsonl_gz(test::golden_path("gemma3/encode.jsonl.gz"));
  ASSERT_EQ(rows.size(), corpus.size());
  ASSERT_GE(rows.size(), 5000u);
  Mismatches with, without;
  auto t0 = std::chrono::steady_clock::now();
  for (const auto& r : rows) {
    size_t i = r["i"].get<size_t>();
    Ids want = ids_of(r["ids"]);
    Ids want_plain = r["ids_plain"].is_null() ? want : ids_of(r["ids_plain"]);
    Ids got = tok.encode(corpus[i], true), got_plain = tok.encode(corpus[i], false);
    ++with.total;
    ++without.total;
    if (got != want)
      with.add(cat("#", std::to_string(i), " ", show(corpus[i]), "\n    hf   ", show_ids(want),
                   "\n    gguf ", show_ids(got)));
    if (got_plain != want_plain)
      without.add(cat("#", std::to_string(i), " ", show(corpus[i]), "\n    hf   ",
                      show_ids(want_plain), "\n    gguf ", show_ids(got_plain)));
  }
  std::printf("[gguf_vocab] encoded %zu strings twice in %.3f s\n", rows.size(), seconds_since(t0));
  EXPECT_EQ(with.count, 0u) << with.report("gemma3 GGUF add_special_tokens=true");
  EXPECT_EQ(without.count, 0u) << without.report("gemma3 GGUF add_special_tokens=false");
}

TEST(GgufVocabGemma, DecodeMatchesHf) {
  REQUIRE_GEMMA_GGUF();
  Mismatches keep, skip;
  size_t image = 0;
  for (const char* file : {"gemma3/encode.jsonl.gz", "gemma3/decode.jsonl.gz"}) {
    for (const auto& r : test::read_jsonl_gz(test::golden_path(file))) {
      Ids ids = ids_of(r["ids"]);
      // HF's <image_soft_token> (262144) is not in the GGUF: GgufVocabGemma.AgreesWithTokenizerJson
      // covers those sequences.
      if (std::any_of(ids.begin(), ids.end(), [](int32_t id) { return id >= kGemmaVocab; })) {
        ++image;
        continue;
      }
      std::string a = tok.decode(ids, false), b = tok.decode(ids, true);
      ++keep.total;
      ++skip.total;
      if (a != r["decode"].get<std::string>())
        keep.add(show_ids(ids) + "\n    hf   " + show(r["decode"]) + "\n    gguf " + show(a));
      if (b != r["decode_skip"].get<std::string>())
        skip.add(show_ids(ids) + "\n    hf   " + show(r["decode_skip"]) + "\n    gguf " + show(b));
    }
  }
  EXPECT_GE(keep.total, 6000u);
  EXPECT_LE(image, 300u);
  EXPECT_EQ(keep.count, 0u) << keep.report("gemma3 GGUF decode");
  EXPECT_EQ(skip.count, 0u) << skip.report("gemma3 GGUF decode skip_special_tokens");
}

// Piece by piece against the tokenizer.json-built tokenizer (itself proven identical to HF by
// test_tokenizer_parity), and the one documented difference: <image_soft_token>.
TEST(GgufVocabGemma, AgreesWithTokenizerJson) {
  REQUIRE_GEMMA_GGUF();
  const Tokenizer& hf = test::golden_tokenizer("gemma3");
  ASSERT_EQ(hf.vocab_size(), kGemmaVocab + 1);  // + <image_soft_token>
  EXPECT_EQ(tok.vocab_size(), kGemmaVocab);
  size_t piece_diffs = 0, special_diffs = 0, n_special = 0;
  for (int32_t id = 0; id < kGemmaVocab; ++id) {
    if (tok.id_to_piece(id) != hf.id_to_piece(id) && ++piece_diffs <= 3)
      ADD_FAILURE() << "piece " << id << ": gguf " << show(tok.id_to_piece(id)) << " hf "
                    << show(hf.id_to_piece(id));
    if (tok.is_special(id) != hf.is_special(id) && ++special_diffs <= 3)
      ADD_FAILURE() << "special " << id << " " << show(hf.id_to_piece(id)) << ": gguf "
                    << tok.is_special(id) << " hf " << hf.is_special(id);
    n_special += tok.is_special(id);
  }
  EXPECT_EQ(piece_diffs, 0u);
  EXPECT_EQ(special_diffs, 0u);
  EXPECT_EQ(n_special, 8u);  // pad eos bos unk, start/end_of_turn, start/end_of_image
  EXPECT_EQ(tok.piece_to_id("\t"), hf.piece_to_id("\t"));
  EXPECT_EQ(tok.bos_id(), hf.bos_id());
  EXPECT_EQ(tok.pad_id(), hf.pad_id());
  EXPECT_EQ(tok.unk_id(), hf.unk_id());
  EXPECT_EQ(tok.eos_id(), std::optional<int32_t>(1));  // GGUF: <eos>; HF's config: <end_of_turn>
  EXPECT_EQ(hf.eos_id(), std::optional<int32_t>(106));
  EXPECT_TRUE(tok.add_bos());
  EXPECT_FALSE(tok.add_eos());
  EXPECT_EQ(tok.options().model_max_length, 32768);
  EXPECT_FALSE(tok.chat_template().has_value());  // this GGUF carries none

  // Sequences with 262144: the GGUF tokenizer skips the unknown id, as HF skips unknown ids.
  Mismatches m;
  for (const auto& r : test::read_jsonl_gz(test::golden_path("gemma3/decode.jsonl.gz"))) {
    Ids ids = ids_of(r["ids"]), kept;
    for (int32_t id : ids)
      if (id < kGemmaVocab) kept.push_back(id);
    if (kept.size() == ids.size()) continue;
    for (bool skip : {false, true}) {
      ++m.total;
      std::string got = tok.decode(ids, skip), want = hf.decode(kept, skip);
      if (got != want || (skip && got != r["decode_skip"].get<std::string>()))
        m.add(show_ids(ids) + (skip ? " skip" : "") + "\n    hf   " + show(want) + "\n    gguf " +
              show(got));
    }
  }
  EXPECT_GE(m.total, 100u);
  EXPECT_EQ(m.count, 0u) << m.report("gemma3 GGUF decode with <image_soft_token>");

  // The literal "<image_soft_token>" is text for the GGUF tokenizer: the ids of tokenizer.json
  // without that one added token.
  json tj = json::parse(test::read_gz(test::golden_path("gemma3/tokenizer.json.gz")));
  json cj = json::parse(test::read_gz(test::golden_path("gemma3/tokenizer_config.json.gz")));
  auto& added = tj["added_tokens"];
  ASSERT_EQ(added.back()["content"], "<image_soft_token>");
  added.erase(added.size() - 1);
  cj.erase("image_token");
  cj.erase("extra_special_tokens");
  Tokenizer no_image = Tokenizer::from_json(tj, &cj, "gemma3 tokenizer.json minus image token");
  for (const char* s : {"<image_soft_token>", "a<image_soft_token>b", " <image_soft_token> x",
                        "<start_of_image><image_soft_token><end_of_image>"}) {
    EXPECT_EQ(tok.encode(s), no_image.encode(s)) << s;
    EXPECT_NE(hf.encode(s), no_image.encode(s)) << s;
  }
}

TEST(GgufVocabGemma, SpacesTabsAndControlTokens) {
  REQUIRE_GEMMA_GGUF();
  const Tokenizer& hf = test::golden_tokenizer("gemma3");
  for (const char* s :
       {"", " ", "  ", "a  b", "\t", "\t\tx", "x\t", "<0x09>", "\n\n\n", "▁▁ a", "<unused0>",
        "<mask>", "<start_of_turn>user\nhi<end_of_turn>", "<bos><bos>", "  \t \n  <b>bold</b>"}) {
    EXPECT_EQ(tok.encode(s, true), hf.encode(s, true)) << show(s);
    EXPECT_EQ(tok.encode(s, false), hf.encode(s, false)) << show(s);
  }
  // Streaming decode works on the GGUF tokenizer as on any other (Hangul from byte fallback).
  Ids ids = tok.encode("한국어 텍스트 \xF0\x9F\x98\x80", false);
  StreamingDecoder sd(tok);
  std::string all;
  for (int32_t id : ids) all += sd.push(id);
  all += sd.flush();
  EXPECT_EQ(all, tok.decode(ids));
}

// --- "gpt2" vocabularies: GGUFs written from the golden byte-level tokenizers ----------------

struct Gpt2Case {
  const char* golden;  // tests/golden/tokenizer/<golden>
  const char* pre;     // tokenizer.ggml.pre
  bool add_bos;
};
void PrintTo(const Gpt2Case& c, std::ostream* os) {
  *os << c.golden << " (pre " << c.pre << ")";
}

// What convert_hf_to_gguf.py writes for a byte-level BPE tokenizer.json: tokens by id (model
// pieces and added tokens at the ids HF gives them), token_type 3 for special added tokens, 4
// for the other added tokens, merges "a b", the pre-tokenizer name, special ids, add_bos.
std::string write_gpt2_gguf(const Gpt2Case& c, const Tokenizer& hf, const json& tj) {
  std::set<std::string> added, special;
  for (const auto& a : tj["added_tokens"]) {
    added.insert(a["content"].get<std::string>());
    if (a["special"].get<bool>()) special.insert(a["content"].get<std::string>());
  }
  std::vector<std::string> tokens;
  std::vector<int64_t> types;
  for (int64_t id = 0; id < hf.vocab_size(); ++id) {
    std::string p = hf.id_to_piece(static_cast<int32_t>(id));
    EXPECT_FALSE(p.empty()) << c.golden << " id " << id;
    tokens.push_back(p);
    types.push_back(special.count(p) ? 3 : added.count(p) ? 4 : 1);
  }
  std::vector<std::string> merges;
  for (const auto& m : tj["model"]["merges"])
    merges.push_back(m.is_string() ? m.get<std::string>()
                                   : cat(m[0].get<std::string>(), " ", m[1].get<std::string>()));
  GgufWriter w;
  w.set("general.architecture", GgufValue::string("test"));
  w.set("tokenizer.ggml.model", GgufValue::string("gpt2"));
  w.set("tokenizer.ggml.pre", GgufValue::string(c.pre));
  w.set("tokenizer.ggml.tokens", GgufValue::string_array(tokens));
  w.set("tokenizer.ggml.token_type", GgufValue::int_array(GgufType::INT32, types));
  w.set("tokenizer.ggml.merges", GgufValue::string_array(merges));
  if (auto id = hf.bos_id()) w.set("tokenizer.ggml.bos_token_id", GgufValue::u32(*id));
  if (auto id = hf.eos_id()) w.set("tokenizer.ggml.eos_token_id", GgufValue::u32(*id));
  if (auto id = hf.pad_id()) w.set("tokenizer.ggml.padding_token_id", GgufValue::u32(*id));
  w.set("tokenizer.ggml.add_bos_token", GgufValue::boolean(c.add_bos));
  if (auto t = hf.chat_template()) w.set("tokenizer.chat_template", GgufValue::string(*t));
  return w.to_bytes();
}

Tokenizer parse_gguf_tokenizer(const std::string& bytes, const std::string& label) {
  auto owner = std::make_shared<std::string>(bytes);
  GgufFile g =
      GgufFile::parse(owner, reinterpret_cast<const uint8_t*>(owner->data()), owner->size(), label);
  return tokenizer_from_gguf(g);
}

class GgufVocabGpt2 : public ::testing::TestWithParam<Gpt2Case> {};

TEST_P(GgufVocabGpt2, MatchesHf) {
  const Gpt2Case& c = GetParam();
  const Tokenizer& hf = test::golden_tokenizer(c.golden);
  std::string dir = test::golden_path(std::string(c.golden) + "/");
  json tj = json::parse(test::read_gz(dir + "tokenizer.json.gz"));
  json cj = json::parse(test::read_gz(dir + "tokenizer_config.json.gz"));
  auto t0 = std::chrono::steady_clock::now();
  Tokenizer tok = parse_gguf_tokenizer(write_gpt2_gguf(c, hf, tj), cat(c.golden, ".gguf"));
  std::printf("[gguf_vocab] %s (%s): tokenizer_from_gguf %.3f s\n", c.golden, c.pre,
              seconds_since(t0));
  EXPECT_EQ(tok.vocab_size(), hf.vocab_size());
  EXPECT_EQ(tok.add_bos(), c.add_bos);
  EXPECT_FALSE(tok.add_eos());
  EXPECT_EQ(tok.chat_template(), hf.chat_template());

  // tokenizer.json with what a GGUF cannot store cleared: added-token lstrip / rstrip /
  // single_word / normalized.
  size_t flagged = 0;
  for (auto& a : tj["added_tokens"]) {
    flagged += a.value("lstrip", false) || a.value("rstrip", false) ||
               a.value("single_word", false) || a.value("normalized", false);
    a["lstrip"] = a["rstrip"] = a["single_word"] = a["normalized"] = false;
  }
  Tokenizer flat = Tokenizer::from_json(tj, &cj, cat(c.golden, " without added-token flags"));

  const auto& corpus = test::corpus();
  auto rows = test::read_jsonl_gz(dir + "encode.jsonl.gz");
  ASSERT_EQ(rows.size(), corpus.size());
  Mismatches plain, with, dec;
  size_t flag_affected = 0;
  for (const auto& r : rows) {
    size_t i = r["i"].get<size_t>();
    Ids want = ids_of(r["ids"]);
    Ids want_plain = r["ids_plain"].is_null() ? want : ids_of(r["ids_plain"]);
    Ids got_plain = tok.encode(corpus[i], false), got = tok.encode(corpus[i], true);
    Ids flat_plain = flat.encode(corpus[i], false);
    if (flat_plain != want_plain) {
      ++flag_affected;
      want_plain = flat_plain;
    }
    Ids want_with = want_plain;
    if (c.add_bos) want_with.insert(want_with.begin(), *tok.bos_id());
    ++plain.total;
    ++with.total;
    if (got_plain != want_plain)
      plain.add(cat("#", std::to_string(i), " ", show(corpus[i]), "\n    hf   ",
                    show_ids(want_plain), "\n    gguf ", show_ids(got_plain)));
    if (got != want_with || (!c.add_bos && !flagged && got != want))
      with.add(cat("#", std::to_string(i), " ", show(corpus[i]), "\n    hf   ", show_ids(want),
                   "\n    gguf ", show_ids(got)));
    for (bool skip : {false, true}) {
      ++dec.total;
      std::string d = tok.decode(want, skip);
      if (d != r[skip ? "decode_skip" : "decode"].get<std::string>())
        dec.add(cat(show_ids(want), skip ? " skip" : "", "\n    hf   ",
                    show(r[skip ? "decode_skip" : "decode"]), "\n    gguf ", show(d)));
    }
  }
  for (const auto& r : test::read_jsonl_gz(dir + "decode.jsonl.gz")) {
    for (bool skip : {false, true}) {
      ++dec.total;
      std::string d = tok.decode(ids_of(r["ids"]), skip);
      if (d != r[skip ? "decode_skip" : "decode"].get<std::string>())
        dec.add(cat(show_ids(ids_of(r["ids"])), skip ? " skip" : "", "\n    hf   ",
                    show(r[skip ? "decode_skip" : "decode"]), "\n    gguf ", show(d)));
    }
  }
  if (!flagged) {
    EXPECT_EQ(flag_affected, 0u);
  } else {
    // Strings where the flags do matter (the corpus has none for llama3_style): the GGUF
    // tokenizer follows tokenizer.json without them.
    for (const char* s : {"a password", "x  <mark>  y", "words word"}) {
      EXPECT_EQ(tok.encode(s, false), flat.encode(s, false)) << s;
      EXPECT_NE(hf.encode(s, false), flat.encode(s, false)) << s;
    }
  }
  std::printf("[gguf_vocab] %s: %zu of %zu strings depend on added-token flags\n", c.golden,
              flag_affected, rows.size());
  EXPECT_EQ(plain.count, 0u) << plain.report(cat(c.golden, " GGUF add_special_tokens=false"));
  EXPECT_EQ(with.count, 0u) << with.report(cat(c.golden, " GGUF add_special_tokens=true"));
  EXPECT_EQ(dec.count, 0u) << dec.report(cat(c.golden, " GGUF decode"));
}

INSTANTIATE_TEST_SUITE_P(Pre, GgufVocabGpt2,
                         ::testing::Values(Gpt2Case{"gpt2_style", "gpt-2", false},
                                           Gpt2Case{"llama3_style", "llama-bpe", true},
                                           Gpt2Case{"qwen3", "qwen2", false}),
                         [](const auto& info) { return std::string(info.param.golden); });

// --- a small "llama" vocabulary of the Llama 2 kind (add_space_prefix) -----------------------

GgufWriter small_llama(bool gemma) {
  std::vector<std::string> tokens = {"<unk>", "<s>", "</s>", "<ctl>", "  ", "▁",
                                     "a",     "b",   "▁a",   "ab",    "▁ab"};
  std::vector<double> scores = {0, 0, 0, -1000, -1000, -5, -6, -7, -1, -2, -3};
  std::vector<int64_t> types = {2, 3, 3, 3, 4, 1, 1, 1, 1, 1, 1};
  for (int b = 0; b < 256; ++b) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "<0x%02X>", b);
    tokens.push_back(buf);
    scores.push_back(0);
    types.push_back(6);
  }
  GgufWriter w;
  w.set("general.architecture", GgufValue::string(gemma ? "gemma3" : "llama"));
  w.set("tokenizer.ggml.model", GgufValue::string("llama"));
  w.set("tokenizer.ggml.tokens", GgufValue::string_array(tokens));
  w.set("tokenizer.ggml.scores", GgufValue::float_array(GgufType::FLOAT32, scores));
  w.set("tokenizer.ggml.token_type", GgufValue::int_array(GgufType::INT32, types));
  w.set("tokenizer.ggml.unknown_token_id", GgufValue::u32(0));
  w.set("tokenizer.ggml.bos_token_id", GgufValue::u32(1));
  w.set("tokenizer.ggml.eos_token_id", GgufValue::u32(2));
  if (gemma) w.set("tokenizer.ggml.add_space_prefix", GgufValue::boolean(false));
  w.set("tokenizer.chat_template", GgufValue::string("{{ bos_token }}"));
  return w;
}

TEST(GgufVocabLlama, SpacePrefixMergesByScoreAndSpecials) {
  Tokenizer t = parse_gguf_tokenizer(small_llama(false).to_bytes(), "small-llama.gguf");
  // "ab" → "▁ab": ▁+a (score -1) first, then ▁a+b (the longer left part of "▁ab"'s splits).
  EXPECT_EQ(t.encode("ab"), (Ids{1, 10}));
  EXPECT_EQ(t.encode("ab ab", false), (Ids{10, 10}));
  EXPECT_EQ(t.decode({1, 10, 10}), "<s> ab ab");  // Strip removes a leading space only
  EXPECT_EQ(t.decode({10, 10}), "ab ab");
  EXPECT_EQ(t.decode({1, 10, 10}, true), "ab ab");
  // Byte fallback for unknown characters, the unknown piece is an added special token.
  EXPECT_EQ(t.encode("c", false), (Ids{5, 3 + 8 + 0x63}));
  EXPECT_EQ(t.encode("<unk><ctl>", false), (Ids{0, 3}));  // no text left to prepend "▁" to
  EXPECT_EQ(t.encode("<ctl>a", false), (Ids{3, 8}));
  EXPECT_TRUE(t.is_special(0));
  EXPECT_TRUE(t.is_special(3));  // control pieces are special outside Gemma
  EXPECT_FALSE(t.is_special(4));
  // The user-defined whitespace piece is "▁▁" again (llama.cpp wrote "  ").
  EXPECT_EQ(t.id_to_piece(4), "▁▁");
  EXPECT_EQ(t.bos_id(), std::optional<int32_t>(1));
  EXPECT_EQ(t.eos_id(), std::optional<int32_t>(2));
  EXPECT_EQ(t.chat_template(), std::optional<std::string>("{{ bos_token }}"));

  Tokenizer g = parse_gguf_tokenizer(small_llama(true).to_bytes(), "small-gemma.gguf");
  EXPECT_EQ(g.encode("ab"), (Ids{1, 9}));  // no prefix space
  EXPECT_EQ(g.encode("a  b", false), (Ids{6, 4, 7}));
  EXPECT_EQ(g.decode({1, 6, 4, 7}), "<s>a  b");
  EXPECT_FALSE(g.is_special(3));  // Gemma: only named and turn/image markers are special
  EXPECT_TRUE(g.is_special(0));
  // Gemma: "<0x09>" is the tab piece when "\t" is not a piece.
  EXPECT_EQ(g.id_to_piece(11 + 9), "\t");
  EXPECT_EQ(g.encode("\t", false), (Ids{11 + 9}));
}

// --- errors --------------------------------------------------------------------------------

TEST(GgufVocabErrors, UnsupportedAndMalformed) {
  auto load = [](const GgufWriter& w) { parse_gguf_tokenizer(w.to_bytes(), "bad.gguf"); };
  GgufWriter w = small_llama(false);
  w.set("tokenizer.ggml.model", GgufValue::string("bert"));
  expect_user_error([&] { load(w); },
                    {"bad.gguf", "tokenizer.ggml.model \"bert\"", "\"llama\", \"gpt2\""});

  GgufWriter none;
  none.set("general.architecture", GgufValue::string("llama"));
  expect_user_error([&] { load(none); }, {"bad.gguf", "no tokenizer.ggml.model"});

  GgufWriter g;
  g.set("tokenizer.ggml.model", GgufValue::string("gpt2"));
  g.set("tokenizer.ggml.pre", GgufValue::string("tekken"));
  g.set("tokenizer.ggml.tokens", GgufValue::string_array({"a", "b", "ab"}));
  g.set("tokenizer.ggml.merges", GgufValue::string_array({"a b"}));
  expect_user_error([&] { load(g); },
                    {"tokenizer.ggml.pre \"tekken\"", "\"gpt-2\"", "\"llama-bpe\"", "\"qwen2\""});
  g.set("tokenizer.ggml.pre", GgufValue::string("gpt-2"));
  EXPECT_EQ(parse_gguf_tokenizer(g.to_bytes(), "ok.gguf").encode("ab"), (Ids{2}));
  g.set("tokenizer.ggml.merges", GgufValue::string_array({"ab"}));
  expect_user_error([&] { load(g); }, {"tokenizer.ggml.merges[0]", "\"ab\""});
  g.set("tokenizer.ggml.merges", GgufValue::string_array({"a c"}));
  expect_user_error([&] { load(g); }, {"merge 0", "not in the vocabulary"});

  GgufWriter t = small_llama(false);
  t.set("tokenizer.ggml.token_type", GgufValue::int_array(GgufType::INT32, {1, 1}));
  expect_user_error([&] { load(t); }, {"tokenizer.ggml.token_type has 2 entries"});
  GgufWriter s = small_llama(false);
  s.set("tokenizer.ggml.scores", GgufValue::string_array({"x"}));
  expect_user_error([&] { load(s); }, {"tokenizer.ggml.scores"});
  GgufWriter u = small_llama(false);
  u.set("tokenizer.ggml.tokens", GgufValue::string_array({"a", "\xC3"}));
  expect_user_error([&] { load(u); }, {"tokenizer.ggml.tokens[1] is not valid UTF-8"});
}

}  // namespace
}  // namespace tuna
