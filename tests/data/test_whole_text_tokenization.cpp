// completion_only_loss: false on prompt/completion data (alpaca, a template): the whole text
// trains and is tokenised as one text, as TRL tokenises seed 001's / 002's "text" rows — not as
// separately tokenised parts, which split tokens at the boundary (Gemma 3 tokenizer).
#include <gtest/gtest.h>

#include "data/example.h"
#include "tokenizer/golden_util.h"

namespace tuna {
namespace {

using ojson = nlohmann::ordered_json;

TrainRow tokenized(const Example& ex, int completion_only_loss, TokenizeStats& st) {
  TokenizeOptions o;
  o.completion_only_loss = completion_only_loss;
  TrainRow row;
  EXPECT_TRUE(tokenize_example(test::golden_tokenizer("gemma3"), nullptr, ex, o, st, row));
  return row;
}

// Seed 002's template puts a space before the last field: joined, " (" is one token.
TEST(WholeTextTokenization, TemplateBoundaryJoinsAsTrlDoes) {
  const Tokenizer& tok = test::golden_tokenizer("gemma3");
  Record rec{ojson::parse(R"({"input": "재택근무는 생산성을 떨어뜨린다.",
                              "target": "(근거 확인하기) 어떤 기준인가요?"})"),
             "f", 1, 0};
  ExampleOptions eo;
  eo.template_text = "### context: {input}\n### question: {target}";
  const Example ex = make_example(rec, DataFormat::TEMPLATE, eo);
  const std::string text = ex.prompt + ex.completion;
  std::vector<int32_t> joined = tok.encode(text, true);
  joined.push_back(*tok.eos_id());
  ASSERT_NE(tok.encode(ex.prompt, true).size() + tok.encode(ex.completion, false).size(),
            joined.size() - 1)
      << "the boundary must merge tokens for this test to mean anything";

  TokenizeStats whole_stats;
  const TrainRow whole = tokenized(ex, 0, whole_stats);
  EXPECT_EQ(whole.input_ids, joined);
  EXPECT_EQ(whole.labels, joined);  // every token trains, the EOS too
  EXPECT_EQ(whole_stats.boundary_mismatches, 0u);

  // Completion-only (the default) keeps the parts tokenised separately: what inference sees.
  TokenizeStats masked_stats;
  const TrainRow masked = tokenized(ex, -1, masked_stats);
  EXPECT_NE(masked.input_ids, joined);
  EXPECT_EQ(masked_stats.boundary_mismatches, 1u);
  const std::vector<int32_t> p = tok.encode(ex.prompt, true);
  for (size_t i = 0; i < p.size(); ++i) EXPECT_EQ(masked.labels[i], -100);
}

// Alpaca rows with completion_only_loss: false are seed 001's whole formatted text + EOS.
TEST(WholeTextTokenization, AlpacaIsSeed001Text) {
  const Tokenizer& tok = test::golden_tokenizer("gemma3");
  Record rec{ojson::parse(R"({"instruction": "요약하세요.", "input": "", "output": "뉴스 요약"})"),
             "f", 1, 0};
  const Example ex = make_example(rec, DataFormat::ALPACA, {});
  TokenizeStats st;
  const TrainRow row = tokenized(ex, 0, st);
  std::vector<int32_t> want = tok.encode(
      "### Instruction:\n요약하세요.\n\n### Input:\n\n\n### Response:\n뉴스 요약\n", true);
  want.push_back(*tok.eos_id());
  EXPECT_EQ(row.input_ids, want);
  EXPECT_EQ(row.labels, want);
}

}  // namespace
}  // namespace tuna
