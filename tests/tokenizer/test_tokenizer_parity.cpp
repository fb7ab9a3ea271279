// Parity with Hugging Face (transformers' fast tokenizers, tokenizers 0.22.2) on the committed
// goldens (tests/golden/tokenizer, see its README): ids for every corpus string with and without
// special tokens, decode of those ids, decode of random id sequences, and the small per-component
// pipelines. Every string must match; failures report the count and the first diffs.
#include <gtest/gtest.h>

#include "golden_util.h"
#include "tokenizer/tokenizer.h"

namespace tuna {
namespace {

using test::cat;
using test::Mismatches;
using test::show;
using test::show_ids;

std::vector<int32_t> ids_of(const nlohmann::json& j) {
  return j.get<std::vector<int32_t>>();
}

class Parity : public ::testing::TestWithParam<std::string> {};

TEST_P(Parity, EncodeMatchesHf) {
  const Tokenizer& tok = test::golden_tokenizer(GetParam());
  const auto& corpus = test::corpus();
  auto rows = test::read_jsonl_gz(test::golden_path(GetParam() + "/encode.jsonl.gz"));
  ASSERT_EQ(rows.size(), corpus.size());
  Mismatches with, without;
  for (const auto& r : rows) {
    size_t i = r["i"].get<size_t>();
    std::vector<int32_t> want = ids_of(r["ids"]);
    std::vector<int32_t> want_plain = r["ids_plain"].is_null() ? want : ids_of(r["ids_plain"]);
    std::vector<int32_t> got = tok.encode(corpus[i], true);
    std::vector<int32_t> got_plain = tok.encode(corpus[i], false);
    ++with.total;
    ++without.total;
    if (got != want)
      with.add(cat("#", std::to_string(i), " ", show(corpus[i]), "\n    hf   ", show_ids(want),
                   "\n    tuna ", show_ids(got)));
    if (got_plain != want_plain)
      without.add(cat("#", std::to_string(i), " ", show(corpus[i]), "\n    hf   ",
                      show_ids(want_plain), "\n    tuna ", show_ids(got_plain)));
  }
  EXPECT_EQ(with.count, 0u) << with.report(GetParam() + " add_special_tokens=true");
  EXPECT_EQ(without.count, 0u) << without.report(GetParam() + " add_special_tokens=false");
}

TEST_P(Parity, DecodeOfEncodeMatchesHf) {
  const Tokenizer& tok = test::golden_tokenizer(GetParam());
  auto rows = test::read_jsonl_gz(test::golden_path(GetParam() + "/encode.jsonl.gz"));
  Mismatches keep, skip;
  for (const auto& r : rows) {
    std::vector<int32_t> ids = ids_of(r["ids"]);
    std::string a = tok.decode(ids, false), b = tok.decode(ids, true);
    ++keep.total;
    ++skip.total;
    if (a != r["decode"].get<std::string>())
      keep.add(show_ids(ids) + "\n    hf   " + show(r["decode"]) + "\n    tuna " + show(a));
    if (b != r["decode_skip"].get<std::string>())
      skip.add(show_ids(ids) + "\n    hf   " + show(r["decode_skip"]) + "\n    tuna " + show(b));
  }
  EXPECT_EQ(keep.count, 0u) << keep.report(GetParam() + " decode");
  EXPECT_EQ(skip.count, 0u) << skip.report(GetParam() + " decode skip_special_tokens");
}

TEST_P(Parity, DecodeOfRandomIdsMatchesHf) {
  const Tokenizer& tok = test::golden_tokenizer(GetParam());
  auto rows = test::read_jsonl_gz(test::golden_path(GetParam() + "/decode.jsonl.gz"));
  ASSERT_GE(rows.size(), 500u);
  Mismatches keep, skip;
  for (const auto& r : rows) {
    std::vector<int32_t> ids = ids_of(r["ids"]);
    std::string a = tok.decode(ids, false), b = tok.decode(ids, true);
    ++keep.total;
    ++skip.total;
    if (a != r["decode"].get<std::string>())
      keep.add(show_ids(ids) + "\n    hf   " + show(r["decode"]) + "\n    tuna " + show(a));
    if (b != r["decode_skip"].get<std::string>())
      skip.add(show_ids(ids) + "\n    hf   " + show(r["decode_skip"]) + "\n    tuna " + show(b));
  }
  EXPECT_EQ(keep.count, 0u) << keep.report(GetParam() + " decode");
  EXPECT_EQ(skip.count, 0u) << skip.report(GetParam() + " decode skip_special_tokens");
}

// Streaming decode of the same sequences: whole characters only, and the pieces add up to decode
// (whenever decode has no U+FFFD: an ill-formed byte-fallback run may rewrite emitted text).
TEST_P(Parity, StreamingConcatenationEqualsDecode) {
  const Tokenizer& tok = test::golden_tokenizer(GetParam());
  auto rows = test::read_jsonl_gz(test::golden_path(GetParam() + "/decode.jsonl.gz"));
  auto enc = test::read_jsonl_gz(test::golden_path(GetParam() + "/encode.jsonl.gz"));
  for (size_t k = 0; k < enc.size(); k += 7) rows.push_back(enc[k]);
  Mismatches m;
  for (const auto& r : rows) {
    std::vector<int32_t> ids = ids_of(r["ids"]);
    for (bool skip : {false, true}) {
      StreamingDecoder sd(tok, skip);
      std::string all;
      bool whole_chars = true;
      for (int32_t id : ids) {
        std::string piece = sd.push(id);
        std::string check = piece;
        // A piece must be valid UTF-8 on its own (it may contain U+FFFD from the decode itself).
        size_t i = 0;
        while (i < check.size()) {
          unsigned char c = static_cast<unsigned char>(check[i]);
          int n = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
          if ((c & 0xC0) == 0x80 || i + n > check.size()) {
            whole_chars = false;
            break;
          }
          i += n;
        }
        all += piece;
      }
      all += sd.flush();
      ++m.total;
      std::string want = tok.decode(ids, skip);
      // Exact unless decode(all) has U+FFFD from an ill-formed byte run (see
      // streaming_decoder.cpp).
      bool exact = want.find("\xEF\xBF\xBD") == std::string::npos;
      if ((exact && all != want) || !whole_chars)
        m.add(show_ids(ids) + (skip ? " skip" : "") + "\n    decode " + show(want) +
              "\n    stream " + show(all));
    }
  }
  EXPECT_EQ(m.count, 0u) << m.report(GetParam() + " streaming");
}

INSTANTIATE_TEST_SUITE_P(Tokenizers, Parity,
                         ::testing::Values("gemma3", "qwen3", "llama3_style", "gpt2_style",
                                           "minilm"));

// Each small pipeline (one per component option) against HF tokenizers' own output.
TEST(ComponentParity, EveryPipelineMatchesHf) {
  auto cases = test::read_jsonl_gz(test::golden_path("components.jsonl.gz"));
  ASSERT_GE(cases.size(), 40u);
  Mismatches m;
  for (const auto& c : cases) {
    std::string name = c["name"];
    Tokenizer tok =
        Tokenizer::from_json(c["tokenizer"], nullptr, cat("components.jsonl.gz:", name));
    for (const auto& e : c["cases"]) {
      std::string text = e["text"];
      ++m.total;
      auto ids = tok.encode(text, true), plain = tok.encode(text, false);
      std::string d = tok.decode(ids_of(e["ids"]), false), ds = tok.decode(ids_of(e["ids"]), true);
      if (ids != ids_of(e["ids"]) || plain != ids_of(e["ids_plain"]) || d != e["decode"] ||
          ds != e["decode_skip"])
        m.add(name + " " + show(text) + "\n    hf   " + show_ids(ids_of(e["ids"])) + " / " +
              show_ids(ids_of(e["ids_plain"])) + " " + show(e["decode"]) + " " +
              show(e["decode_skip"]) + "\n    tuna " + show_ids(ids) + " / " + show_ids(plain) +
              " " + show(d) + " " + show(ds));
    }
  }
  EXPECT_EQ(m.count, 0u) << m.report("components");
}

}  // namespace
}  // namespace tuna
