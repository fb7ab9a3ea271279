// Rows that cannot mean what the user wants, refused by make_example before any chat template or
// tokenizer sees them, each naming the record and the field: empty or whitespace-only texts the
// format trains on, conversations that are empty, hold only a system message or no assistant
// turn, roles and contents of the wrong type or unknown, and messages that are not a list.
#include <gtest/gtest.h>

#include "core/error.h"
#include "data/example.h"

namespace tuna {
namespace {

using ojson = nlohmann::ordered_json;

// The user error make_example throws for `row` (line 4 of d.jsonl), or "" when it accepts it.
std::string refusal(const std::string& row, DataFormat f = DataFormat::AUTO,
                    ExampleOptions o = {}) {
  Record rec{ojson::parse(row), "d.jsonl", 4, 3};
  try {
    make_example(rec, f, o);
  } catch (const Error& e) {
    EXPECT_EQ(e.exit_status(), 2);
    EXPECT_FALSE(e.hint().empty()) << e.what();
    return e.what();
  }
  return "";
}

#define EXPECT_REFUSED(row, part)                                                          \
  do {                                                                                     \
    const std::string m_ = refusal(row);                                                   \
    EXPECT_NE(m_.find(std::string("d.jsonl line 4: ") + (part)), std::string::npos) << m_; \
  } while (0)

TEST(ExampleChecks, EmptyOrWhitespaceTextsAreRefusedNamingTheField) {
  EXPECT_REFUSED(R"({"text": ""})", "field 'text' is empty");
  EXPECT_REFUSED(R"({"text": " \n\t"})", "field 'text' is only whitespace");
  EXPECT_REFUSED(R"({"instruction": "", "input": "", "output": ""})",
                 "field 'instruction' is empty");
  EXPECT_REFUSED(R"({"instruction": "Say hi", "output": "  "})",
                 "field 'output' is only whitespace");
  EXPECT_REFUSED(R"({"prompt": "", "completion": "x"})", "field 'prompt' is empty");
  EXPECT_REFUSED(R"({"prompt": "q", "completion": ""})", "field 'completion' is empty");
  // An empty alpaca input is normal.
  EXPECT_EQ(refusal(R"({"instruction": "Say hi", "input": "", "output": "hi"})"), "");
  ExampleOptions t;
  t.template_text = "### q: {input}\n### a: {target}";
  EXPECT_NE(refusal(R"({"input": "", "target": ""})", DataFormat::AUTO, t)
                .find("d.jsonl line 4: field 'target' is empty"),
            std::string::npos);
  EXPECT_EQ(refusal(R"({"input": "", "target": "x"})", DataFormat::AUTO, t), "");
}

TEST(ExampleChecks, FieldsOfTheWrongTypeAreNamed) {
  EXPECT_REFUSED(R"({"text": ["a", "b"]})", "field 'text' is a list, not text");
  EXPECT_REFUSED(R"({"instruction": {"a": 1}, "output": "x"})",
                 "field 'instruction' is an object, not text");
  EXPECT_REFUSED(R"({"instruction": "a", "output": null})", "field 'output' is null, not text");
  EXPECT_REFUSED(R"({"question": "a", "answer": "b"})",
                 "cannot tell the dataset format from its fields (question, answer)");
}

TEST(ExampleChecks, ConversationsAreCheckedBeforeTheTemplate) {
  EXPECT_REFUSED(R"({"messages": []})", "'messages' is an empty list");
  EXPECT_REFUSED(R"({"messages": "hi"})", "'messages' is a string, not a list");
  EXPECT_REFUSED(R"({"messages": {"role": "user"}})", "'messages' is an object, not a list");
  EXPECT_REFUSED(R"({"messages": [{"role": "system", "content": "Be brief."}]})",
                 "'messages' holds only a system message");
  EXPECT_REFUSED(R"({"messages": [{"role": "user", "content": "hi"}]})",
                 "'messages' has no assistant turn");
  EXPECT_REFUSED(R"({"messages": ["hi"]})", "messages[0] is a string, not an object");
  EXPECT_REFUSED(R"({"messages": [{"content": "hi"}]})", "messages[0] has no 'role'");
  EXPECT_REFUSED(R"({"messages": [{"role": 1, "content": "hi"}]})",
                 "messages[0].role is a number, not a string");
  EXPECT_REFUSED(
      R"({"messages": [{"role": "user", "content": "hi"}, {"role": "model", "content": "x"}]})",
      "messages[1].role 'model' is not a role");
  EXPECT_NE(refusal(R"({"messages": [{"role": "bob", "content": "hi"}]})")
                .find("hint: use system, user, assistant or tool"),
            std::string::npos);
  EXPECT_REFUSED(R"({"messages": [{"role": "user"}]})", "messages[0] has no 'content'");
  EXPECT_REFUSED(R"({"messages": [{"role": "user", "content": 5}]})",
                 "messages[0].content is a number, not text");
  EXPECT_REFUSED(R"({"messages": [{"role": "user", "content": null}]})",
                 "messages[0].content is null, not text");
  EXPECT_REFUSED(R"({"messages": [{"role": "user", "content": ["hi"]}]})",
                 "messages[0].content[0] is a string, not a {\"type\": \"text\", ...} part");
  EXPECT_REFUSED(R"({"messages": [{"role": "user", "content": [{"type": "image"}]}]})",
                 "messages[0].content[0] is a 'image' part");
  EXPECT_REFUSED(
      R"({"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": ""}]})",
      "messages[1].content is empty");
  // Text parts and an empty system prompt are fine.
  EXPECT_EQ(refusal(R"({"messages": [{"role": "system", "content": ""},
                     {"role": "user", "content": [{"type": "text", "text": "hi"}]},
                     {"role": "assistant", "content": "hello"}]})"),
            "");
}

TEST(ExampleChecks, ShareGptTurnsAreCheckedToo) {
  EXPECT_REFUSED(R"({"conversations": []})", "'conversations' is an empty list");
  EXPECT_REFUSED(R"({"conversations": [{"from": "human", "value": "hi"}]})",
                 "'conversations' has no gpt turn");
  EXPECT_REFUSED(R"({"conversations": [{"from": "alien", "value": "hi"}]})",
                 "conversations[0].from 'alien' is not a speaker tuna knows");
  EXPECT_REFUSED(R"({"conversations": [{"from": "human", "value": 3}]})",
                 "conversations[0].value is a number, not text");
  EXPECT_REFUSED(R"({"conversations": [{"from": "human"}]})", "conversations[0] has no 'value'");
}

}  // namespace
}  // namespace tuna
