// Dataset records and training examples: readers (JSONL with line numbers, JSON arrays, RFC 4180
// CSV), format detection, seed 001's alpaca text and seed 002's column template split into
// prompt/completion, ShareGPT conversion, and the loss masks built from separately tokenised
// parts (with the real Gemma 3 tokenizer and chat template).
#include <gtest/gtest.h>

#include "core/error.h"
#include "data/example.h"
#include "tokenizer/builtin_templates.h"
#include "tokenizer/chat_template.h"
#include "tokenizer/golden_util.h"

namespace tuna {
namespace {

using ojson = nlohmann::ordered_json;
const std::string kData = std::string(TUNA_ASSETS_DIR) + "/data/";

TEST(Records, JsonlWithLineNumbersAndRejects) {
  EXPECT_THROW(read_records(kData + "alpaca.jsonl"), Error);
  try {
    read_records(kData + "alpaca.jsonl");
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("alpaca.jsonl line 4: not valid JSON"), std::string::npos)
        << e.what();
    EXPECT_EQ(e.exit_status(), 2);
  }
  std::vector<RejectedRecord> rejects;
  std::vector<Record> r = read_records(kData + "alpaca.jsonl", &rejects);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[1].line, 3u);  // the blank line 2 is skipped
  EXPECT_EQ(r[1].where(), kData + "alpaca.jsonl line 3");
  ASSERT_EQ(rejects.size(), 1u);
  EXPECT_EQ(rejects[0].line, 4u);
}

TEST(Records, CsvQuotingAndJsonArrays) {
  std::vector<Record> r = read_records(kData + "chat.csv");
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].value["Q"], "12시 땡!");
  EXPECT_EQ(r[1].value["Q"], "quoted, with comma");
  EXPECT_EQ(r[1].value["A"], "multi\nline");
  EXPECT_EQ(r[1].line, 3u);
  std::vector<Record> s = read_records(kData + "sharegpt.json");
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].where(), kData + "sharegpt.json record 1 (line 1)");  // 1-based, as lines
}

TEST(Examples, AlpacaIsSeed001TextSplitAtTheResponse) {
  Record rec{ojson::parse(R"({"instruction": "Translate", "input": "안녕", "output": "Hi"})"), "f",
             1, 0};
  ExampleOptions o;
  EXPECT_EQ(detect_format(rec.value, o), DataFormat::ALPACA);
  Example ex = make_example(rec, DataFormat::AUTO, o);
  EXPECT_EQ(ex.prompt + ex.completion,
            "### Instruction:\nTranslate\n\n### Input:\n안녕\n\n### Response:\nHi\n");
  EXPECT_EQ(ex.completion, "Hi\n");
}

TEST(Examples, ColumnTemplateOfSeed002) {
  Record rec{ojson::parse(R"({"input": "ctx", "target": "q?"})"), "f", 1, 0};
  ExampleOptions o;
  o.template_text = "### context: {input}\n### question: {target}";
  Example ex = make_example(rec, DataFormat::AUTO, o);
  EXPECT_EQ(ex.prompt, "### context: ctx\n### question: ");
  EXPECT_EQ(ex.completion, "q?");
  Record missing{ojson::parse(R"({"input": "ctx"})"), "d.jsonl", 7, 6};
  try {
    make_example(missing, DataFormat::TEMPLATE, o);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("d.jsonl line 7: no 'target' field (fields: input)"),
              std::string::npos)
        << e.what();
  }
}

TEST(Examples, ShareGptBecomesMessages) {
  std::vector<Record> s = read_records(kData + "sharegpt.json");
  Example ex = make_example(s[0], DataFormat::AUTO, {});
  ASSERT_EQ(ex.kind, Example::Kind::MESSAGES);
  ASSERT_EQ(ex.messages.size(), 5u);
  EXPECT_EQ(ex.messages[2]["role"], "assistant");
  EXPECT_EQ(ex.messages[1]["content"], "2+2?");
}

TEST(Examples, ChatFormatOnARowWithoutMessagesNamesItsFields) {
  Record rec{ojson::parse(R"({"instruction": "x", "output": "y"})"), "eval.jsonl", 3, 2};
  try {
    make_example(rec, DataFormat::MESSAGES, {});
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("eval.jsonl line 3: no 'messages' or 'conversations' "
                                         "field (fields: instruction, output)"),
              std::string::npos)
        << e.what();
  }
}

TEST(Tokenize, PromptCompletionMasksThePrompt) {
  const Tokenizer& tok = test::golden_tokenizer("gemma3");
  Example ex;
  ex.kind = Example::Kind::PROMPT_COMPLETION;
  ex.prompt = "### Instruction:\n안녕\n\n### Response:\n";
  ex.completion = "Hello there\n";
  TokenizeStats st;
  TrainRow row;
  ASSERT_TRUE(tokenize_example(tok, nullptr, ex, {}, st, row));
  std::vector<int32_t> p = tok.encode(ex.prompt, true), c = tok.encode(ex.completion, false);
  ASSERT_EQ(row.input_ids.size(), p.size() + c.size() + 1);
  EXPECT_EQ(row.input_ids.front(), 2);             // <bos> once
  EXPECT_EQ(row.input_ids.back(), *tok.eos_id());  // EOS appended and trained
  EXPECT_EQ(row.labels.back(), *tok.eos_id());
  for (size_t i = 0; i < p.size(); ++i) EXPECT_EQ(row.labels[i], -100);
  for (size_t i = 0; i < c.size(); ++i) EXPECT_EQ(row.labels[p.size() + i], c[i]);
  // Truncation keeps the start; a row left without a trained token is dropped.
  TokenizeOptions o;
  o.max_length = static_cast<int64_t>(p.size());
  EXPECT_FALSE(tokenize_example(tok, nullptr, ex, o, st, row));
  EXPECT_EQ(st.truncated, 1u);
  EXPECT_EQ(st.dropped_fully_masked, 1u);
}

TEST(Tokenize, AssistantOnlyLossOnGemmaConversations) {
  const Tokenizer& tok = test::golden_tokenizer("gemma3");
  ChatTemplate chat = ChatTemplate::parse(builtin_chat_template("gemma3"), "gemma3");
  Example ex = make_example(read_records(kData + "sharegpt.json")[0], DataFormat::AUTO, {});
  TokenizeOptions o;
  o.assistant_only_loss = true;
  TokenizeStats st;
  TrainRow row;
  ASSERT_TRUE(tokenize_example(tok, &chat, ex, o, st, row));
  // The trained text is exactly each answer and its end of turn.
  std::vector<int32_t> trained;
  for (size_t i = 0; i < row.labels.size(); ++i)
    if (row.labels[i] != -100) trained.push_back(row.input_ids[i]);
  EXPECT_EQ(tok.decode(trained), "4<end_of_turn>\n6<end_of_turn>\n");
  EXPECT_EQ(st.boundary_mismatches, 0u);
  // Without assistant_only_loss every token trains; the template's BOS is not doubled.
  o.assistant_only_loss = false;
  ASSERT_TRUE(tokenize_example(tok, &chat, ex, o, st, row));
  EXPECT_EQ(row.input_ids[0], 2);
  EXPECT_NE(row.input_ids[1], 2);
  EXPECT_EQ(row.labels, row.input_ids);
}

}  // namespace
}  // namespace tuna
