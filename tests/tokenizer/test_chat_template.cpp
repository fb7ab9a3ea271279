// Chat-template parity with transformers' apply_chat_template (jinja2): every golden conversation
// of tests/golden/chat_template renders to the same bytes, the same {% generation %} spans, or
// the same error (jinja2's exception class and message).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "golden_util.h"
#include "test_util.h"
#include "tokenizer/builtin_templates.h"
#include "tokenizer/chat_template.h"

namespace tuna {
namespace {

using test::cat;
using test::show;
using ojson = nlohmann::ordered_json;

std::string chat_golden(const std::string& rel) {
  return std::string(TUNA_GOLDEN_DIR) + "/chat_template/" + rel;
}

std::vector<ojson> read_records(const std::string& name) {
  std::string all = test::read_gz(chat_golden(name + ".jsonl.gz"));
  std::vector<ojson> rows;
  size_t start = 0;
  while (start < all.size()) {
    size_t nl = all.find('\n', start);
    if (nl == std::string::npos) nl = all.size();
    if (nl > start) rows.push_back(ojson::parse(all.substr(start, nl - start)));
    start = nl + 1;
  }
  return rows;
}

ChatTemplateInputs inputs_of(const ojson& r) {
  ChatTemplateInputs in;
  in.messages = r["messages"];
  in.tools = r["tools"];
  in.add_generation_prompt = r["add_generation_prompt"].get<bool>();
  // A null bos/eos was not passed: the template sees it undefined.
  for (const char* k : {"bos_token", "eos_token"})
    if (!r[k].is_null()) in.variables[k] = r[k];
  for (const auto& [k, v] : r["kwargs"].items()) in.variables[k] = v;
  return in;
}

// Checks one template's goldens; returns the number of records checked.
size_t check_template(const std::string& name) {
  std::string source = tuna_test::read_file(chat_golden("templates/" + name + ".jinja"));
  ChatTemplate tmpl = ChatTemplate::parse(source, name + ".jinja");
  std::vector<ojson> records = read_records(name);
  test::Mismatches bad;
  bad.total = 0;
  for (const ojson& r : records) {
    ++bad.total;
    std::string id = r["id"].get<std::string>();
    ChatTemplateInputs in = inputs_of(r);
    if (!r["error"].is_null()) {
      std::string want_type = r["error"]["type"].get<std::string>();
      std::string want = r["error"]["message"].get<std::string>();
      try {
        ChatRender got = tmpl.render(in);
        bad.add(cat(id, ": expected ", want_type, ": ", want, ", rendered ", show(got.text)));
      } catch (const ChatTemplateError& e) {
        if (e.raw_message() != want || e.python_type() != want_type)
          bad.add(cat(id, ": expected ", want_type, ": ", show(want), ", got ", e.python_type(),
                      ": ", show(e.raw_message())));
        EXPECT_EQ(e.exit_status(), 2);
      }
      continue;
    }
    std::string want = r["rendered"].get<std::string>();
    try {
      ChatRender got = tmpl.render(in);
      if (got.text != want) {
        size_t at = 0;
        while (at < want.size() && at < got.text.size() && want[at] == got.text[at]) ++at;
        size_t from = at > 40 ? at - 40 : 0;
        bad.add(cat(id, ": differs at byte ", std::to_string(at), ": want ",
                    show(want.substr(from, 120)), " got ", show(got.text.substr(from, 120))));
        continue;
      }
      std::vector<std::pair<size_t, size_t>> spans;
      for (const auto& s : r["generation_spans"]) spans.emplace_back(s[0], s[1]);
      if (spans != got.generation_spans)
        bad.add(cat(id, ": generation spans differ (", std::to_string(spans.size()), " vs ",
                    std::to_string(got.generation_spans.size()), ")"));
    } catch (const ChatTemplateError& e) {
      bad.add(cat(id, ": unexpected error ", e.what()));
    }
  }
  EXPECT_EQ(bad.count, 0u) << bad.report(name);
  return records.size();
}

class ChatTemplateParity : public ::testing::TestWithParam<std::string> {};

TEST_P(ChatTemplateParity, MatchesTransformers) {
  size_t n = check_template(GetParam());
  EXPECT_GE(n, 50u) << "the golden set must hold at least 50 conversations";
}

INSTANTIATE_TEST_SUITE_P(Goldens, ChatTemplateParity,
                         ::testing::Values("gemma3", "qwen3", "llama3", "llama4", "mistral",
                                           "exaone3", "chatml", "phi3", "generation"));

// One construct per template (tools/reference/make_jinja_feature_goldens.py), rendered by
// transformers' jinja2 environment: output formatting, arithmetic, scoping, loops, macros,
// whitespace control, filters, tests, methods, globals and the errors of each.
TEST(JinjaFeatures, MatchJinja2) {
  std::string all = test::read_gz(chat_golden("features.jsonl.gz"));
  test::Mismatches bad;
  size_t start = 0;
  while (start < all.size()) {
    size_t nl = all.find('\n', start);
    if (nl == std::string::npos) nl = all.size();
    ojson r = ojson::parse(all.substr(start, nl - start));
    start = nl + 1;
    ++bad.total;
    std::string id = r["id"].get<std::string>();
    ChatTemplateInputs in;
    in.messages = nullptr;  // "messages" is whatever the context says (undefined when absent)
    in.variables = r["context"];
    std::string src = r["template"].get<std::string>();
    try {
      ChatRender got = ChatTemplate::parse(src, id).render(in);
      if (!r["error"].is_null())
        bad.add(cat(id, " ", show(src), ": expected ", r["error"]["type"].get<std::string>(), ": ",
                    r["error"]["message"].get<std::string>(), ", rendered ", show(got.text)));
      else if (got.text != r["rendered"].get<std::string>())
        bad.add(cat(id, " ", show(src), ": want ", show(r["rendered"].get<std::string>(), 400),
                    " got ", show(got.text, 400)));
    } catch (const ChatTemplateError& e) {
      if (r["error"].is_null())
        bad.add(cat(id, " ", show(src), ": unexpected error ", e.what()));
      else if (e.python_type() != r["error"]["type"].get<std::string>() ||
               e.raw_message() != r["error"]["message"].get<std::string>())
        bad.add(cat(id, " ", show(src), ": expected ", r["error"]["type"].get<std::string>(), ": ",
                    r["error"]["message"].get<std::string>(), ", got ", e.python_type(), ": ",
                    e.raw_message()));
    }
  }
  EXPECT_GE(bad.total, 100u);
  EXPECT_EQ(bad.count, 0u) << bad.report("jinja features");
}

TEST(BuiltinTemplates, MatchTheGoldenCopies) {
  for (const std::string& name : builtin_chat_template_names()) {
    EXPECT_EQ(std::string(builtin_chat_template(name)),
              tuna_test::read_file(chat_golden("templates/" + name + ".jinja")))
        << name;
  }
  EXPECT_EQ(builtin_chat_template("nope"), nullptr);
  EXPECT_EQ(std::string(builtin_chat_template_for_architecture("gemma3")),
            builtin_chat_template("gemma3"));
  EXPECT_EQ(builtin_chat_template_for_architecture("llama"), nullptr);  // Llama 2, 3, Mistral...
}

// A template that is not UTF-8 (jinja2 never sees one: Python decodes the file first) is named
// with the shared encoding-error wording: byte, line, column in characters, byte offset.
TEST(ChatTemplateErrors, InvalidUtf8NamesTheByteAndItsPosition) {
  try {
    ChatTemplate::parse("{{ bos_token }}\n\xed\x95\x9c caf\xe9", "t.jinja");
    FAIL() << "parsed";
  } catch (const ChatTemplateError& e) {
    EXPECT_EQ(e.exit_status(), 2);
    EXPECT_EQ(e.python_type(), "UnicodeDecodeError");
    EXPECT_EQ(e.line(), 2);
    EXPECT_EQ(e.column(), 6);
    EXPECT_NE(std::string(e.what()).find(
                  "t.jinja: invalid UTF-8 byte 0xE9 at line 2, column 6 (byte offset 23)"),
              std::string::npos)
        << e.what();
  }
}

// Our own messages (no jinja2 counterpart to compare): positions and the open block.
TEST(ChatTemplateErrors, SyntaxErrorsNameLineAndColumn) {
  auto error_of = [](const std::string& src) {
    try {
      ChatTemplate::parse(src, "t.jinja");
    } catch (const ChatTemplateError& e) {
      EXPECT_EQ(e.exit_status(), 2);
      EXPECT_EQ(e.python_type(), "TemplateSyntaxError");
      return cat(std::to_string(e.line()), ":", std::to_string(e.column()), " ", e.raw_message());
    }
    return std::string("parsed");
  };
  EXPECT_EQ(error_of("a\n{% if x %}\n  {% endfor %}"),
            "3:6 unexpected '{% endfor %}' (the innermost open block is 'if' from line 2)");
  EXPECT_EQ(error_of("{% for m in messages %}"),
            "1:24 unexpected end of template: looking for 'else' or 'endfor' (the innermost open "
            "block is 'for' from line 1)");
  EXPECT_EQ(error_of("{{ x | nosuch }}"), "1:8 no filter named 'nosuch' in tuna's template engine");
  EXPECT_EQ(error_of("{{ x is nosuch }}"), "1:9 no test named 'nosuch' in tuna's template engine");
  EXPECT_EQ(error_of("{% include 'x' %}"),
            "1:4 the '{% include %}' tag is not supported by tuna's chat-template engine");
  EXPECT_EQ(error_of("한국어 {{ 'abc }}"), "1:8 unterminated string literal");
  EXPECT_NE(error_of("{{ (1 }}"), "parsed");
  EXPECT_EQ(error_of("{% break %}"), "1:4 'break' outside of a for loop");
  std::string deep = error_of("{{ " + std::string(300, '(') + "1" + std::string(300, ')') + " }}");
  EXPECT_NE(deep.find("expression nested too deeply"), std::string::npos) << deep;
}

TEST(ChatTemplateErrors, RuntimeErrorsCarryThePosition) {
  ChatTemplate t = ChatTemplate::parse("line 1\n{{ messages[0].content + 1 }}", "t.jinja");
  ChatTemplateInputs in;
  in.messages = ojson::parse(R"([{"role": "user", "content": "hi"}])");
  try {
    t.render(in);
    FAIL() << "rendered";
  } catch (const ChatTemplateError& e) {
    EXPECT_EQ(e.python_type(), "TypeError");
    EXPECT_EQ(e.raw_message(), "can only concatenate str (not \"int\") to str");
    EXPECT_EQ(e.line(), 2);
    EXPECT_NE(std::string(e.what()).find("t.jinja line 2, column"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(t.has_generation_blocks());
  EXPECT_TRUE(ChatTemplate::parse("{% generation %}x{% endgeneration %}").has_generation_blocks());
}

}  // namespace
}  // namespace tuna
