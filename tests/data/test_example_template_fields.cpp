// Template fields as seed 003's RAFT records have them: `context` a list of documents (joined by
// template_list_separator, "\n\n" unless set; gorilla raft.py's <DOCUMENT> wrapping is a template
// and a separator), `cot` missing from some rows ("{cot?}"); lists of non-strings, objects and
// missing required fields stay errors naming record and field; the last field cannot be optional.
#include <gtest/gtest.h>

#include "core/error.h"
#include "data/example.h"

namespace tuna {
namespace {

using ojson = nlohmann::ordered_json;

const char* kRaftRow = R"({
  "instruction": "다음 문맥을 읽고 질문에 답하세요.",
  "context": ["한국의 수도는 서울이며, 인구는 약 1천만 명입니다.",
              "부산은 한국의 제2의 도시로, 해양 산업과 관광으로 유명합니다."],
  "question": "한국의 수도는 어디인가요?",
  "answer": "한국의 수도는 서울입니다."})";

Example make(const std::string& row, const std::string& tmpl, const std::string& sep = "\n\n") {
  ExampleOptions o;
  o.template_text = tmpl;
  o.template_list_separator = sep;
  return make_example(Record{ojson::parse(row), "raft.jsonl", 3, 2}, DataFormat::AUTO, o);
}

// The user error for `row` under `tmpl`, or "" when it is accepted.
std::string refusal(const std::string& row, const std::string& tmpl) {
  try {
    make(row, tmpl);
  } catch (const Error& e) {
    EXPECT_EQ(e.exit_status(), 2);
    return e.what();
  }
  return "";
}

TEST(TemplateFields, AListOfDocumentsIsJoined) {
  const std::string tmpl =
      "{instruction}\n### context: {context}\n### question: {question}\n"
      "### answer: {answer}";
  Example ex = make(kRaftRow, tmpl);
  EXPECT_EQ(ex.prompt,
            "다음 문맥을 읽고 질문에 답하세요.\n### context: 한국의 수도는 서울이며, 인구는 약 "
            "1천만 명입니다.\n\n부산은 한국의 제2의 도시로, 해양 산업과 관광으로 유명합니다.\n"
            "### question: 한국의 수도는 어디인가요?\n### answer: ");
  EXPECT_EQ(ex.completion, "한국의 수도는 서울입니다.");
  // gorilla raft.py: context += "<DOCUMENT>" + doc + "</DOCUMENT>\n" for each document.
  Example raft = make(kRaftRow, "<DOCUMENT>{context}</DOCUMENT>\n{question}\n{answer}",
                      "</DOCUMENT>\n<DOCUMENT>");
  EXPECT_EQ(raft.prompt,
            "<DOCUMENT>한국의 수도는 서울이며, 인구는 약 1천만 명입니다.</DOCUMENT>\n<DOCUMENT>"
            "부산은 한국의 제2의 도시로, 해양 산업과 관광으로 유명합니다.</DOCUMENT>\n"
            "한국의 수도는 어디인가요?\n");
  // One document and none.
  EXPECT_EQ(make(R"({"context": ["only"], "answer": "a"})", "{context}|{answer}").prompt, "only|");
  EXPECT_EQ(make(R"({"context": [], "answer": "a"})", "{context}|{answer}").prompt, "|");
  // A list as the last field is the completion, joined the same way.
  EXPECT_EQ(make(R"({"q": "x", "a": ["one", "two"]})", "{q}:{a}", " / ").completion, "one / two");
}

TEST(TemplateFields, ListsOfNonStringsAndObjectsAreErrorsNamingRecordAndField) {
  const std::string tmpl = "{context}\n{answer}";
  std::string m = refusal(R"({"context": ["doc", 3], "answer": "a"})", tmpl);
  EXPECT_NE(m.find("raft.jsonl line 3: field 'context' item 2 (of 2) is a number, not text"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("template_list_separator"), std::string::npos) << m;
  m = refusal(R"({"context": [{"title": "t", "text": "x"}], "answer": "a"})", tmpl);
  EXPECT_NE(m.find("field 'context' item 1 (of 1) is an object, not text"), std::string::npos) << m;
  m = refusal(R"({"context": [["nested"]], "answer": "a"})", tmpl);
  EXPECT_NE(m.find("field 'context' item 1 (of 1) is a list, not text"), std::string::npos) << m;
  m = refusal(R"({"context": {"sentences": ["x"]}, "answer": "a"})", tmpl);
  EXPECT_NE(m.find("raft.jsonl line 3: field 'context' is an object, not text"), std::string::npos)
      << m;
  // The completion joined from an empty list (or blank items) has nothing to train on.
  m = refusal(R"({"context": "c", "answer": []})", tmpl);
  EXPECT_NE(m.find("field 'answer' is empty"), std::string::npos) << m;
  m = refusal(R"({"context": "c", "answer": [" ", ""]})", tmpl);
  EXPECT_NE(m.find("field 'answer' is only whitespace"), std::string::npos) << m;
  // Lists stay refused outside templates.
  ExampleOptions o;
  try {
    make_example(Record{ojson::parse(R"({"text": ["a", "b"]})"), "t.jsonl", 1, 0}, DataFormat::AUTO,
                 o);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("field 'text' is a list, not text"), std::string::npos);
  }
}

TEST(TemplateFields, OptionalFieldsRenderEmptyWhenMissingOrNull) {
  const std::string tmpl = "### question: {question}\n### reasoning: {cot?}\n### answer: {answer}";
  Example with = make(R"({"question": "q", "cot": "because", "answer": "a"})", tmpl);
  EXPECT_EQ(with.prompt, "### question: q\n### reasoning: because\n### answer: ");
  EXPECT_EQ(with.completion, "a");
  Example missing = make(R"({"question": "q", "answer": "a"})", tmpl);
  EXPECT_EQ(missing.prompt, "### question: q\n### reasoning: \n### answer: ");
  EXPECT_EQ(make(R"({"question": "q", "cot": null, "answer": "a"})", tmpl).prompt, missing.prompt);
  // An optional field that is there is read like any other: lists join, objects are refused.
  EXPECT_EQ(make(R"({"question": "q", "cot": ["1", "2"], "answer": "a"})", tmpl).prompt,
            "### question: q\n### reasoning: 1\n\n2\n### answer: ");
  EXPECT_NE(refusal(R"({"question": "q", "cot": {"x": 1}, "answer": "a"})", tmpl)
                .find("field 'cot' is an object, not text"),
            std::string::npos);
  // A required field stays required, with the error it always had.
  std::string m = refusal(R"({"cot": "c", "answer": "a"})", tmpl);
  EXPECT_NE(m.find("raft.jsonl line 3: no 'question' field (fields: cot, answer)"),
            std::string::npos)
      << m;
  EXPECT_NE(refusal(R"({"question": null, "answer": "a"})", tmpl)
                .find("field 'question' is null, not text"),
            std::string::npos);
  // "{{cot?}}" is literal text, as in Python's str.format.
  EXPECT_EQ(make(R"({"a": "x"})", "{{cot?}} {a}").prompt, "{cot?} ");
}

TEST(TemplateFields, TheLastFieldIsTheCompletionAndCannotBeOptional) {
  std::string m = refusal(R"({"answer": "a", "cot": "c"})", "### answer: {answer}\n{cot?}");
  EXPECT_NE(m.find("[config] template: the last field {cot?} is the completion the model learns "
                   "and cannot be optional"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("hint:"), std::string::npos) << m;
  m = refusal(R"({"answer": "a"})", "{?} {answer}");
  EXPECT_NE(m.find("has no name"), std::string::npos) << m;
}

TEST(TemplateFields, TextColumnsNameWhatTrains) {
  ExampleOptions o;
  o.template_text = "{instruction} {context} {cot?} {context} {answer}";
  EXPECT_EQ(text_columns(DataFormat::TEMPLATE, o),
            (std::vector<std::string>{"instruction", "context", "cot", "answer"}));
  o.dataset_text_field = "body";
  EXPECT_EQ(text_columns(DataFormat::TEXT, o), std::vector<std::string>{"body"});
  EXPECT_EQ(text_columns(DataFormat::ALPACA, o),
            (std::vector<std::string>{"instruction", "input", "output"}));
  EXPECT_EQ(text_columns(DataFormat::MESSAGES, o),
            (std::vector<std::string>{"messages", "conversations"}));
}

}  // namespace
}  // namespace tuna
