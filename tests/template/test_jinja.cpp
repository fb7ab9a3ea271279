// The Jinja engine on its own (template/jinja_*: parse_template, Interpreter, Value), without the
// chat-template front end of tokenizer/chat_template.h: rendering under transformers' settings,
// Python value semantics, {% generation %} spans, and the exception class and position of each
// error. Expected strings are jinja2 3.1's (ImmutableSandboxedEnvironment, trim_blocks,
// lstrip_blocks, loopcontrols). Golden parity lives in tests/tokenizer/test_chat_template.cpp.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "template/jinja_interp.h"

namespace tuna::jinja {
namespace {

using ojson = nlohmann::ordered_json;

// Renders `source` with `context` (a JSON object of template variables) and the chat globals.
std::string render(const std::string& source, const ojson& context = ojson::object()) {
  Body body = parse_template(source);
  Interpreter interp(make_globals(), Value::from_json(context));
  interp.render(body);
  return interp.out();
}

// The error a template raises while parsing or rendering, as "Type line:column message".
std::string error_of(const std::string& source, const ojson& context = ojson::object()) {
  try {
    render(source, context);
  } catch (const TemplateError& e) {
    return e.type() + " " + std::to_string(e.line()) + ":" + std::to_string(e.column()) + " " +
           e.what();
  }
  return "rendered";
}

TEST(Jinja, LoopsAndWhitespaceControlFollowTransformersSettings) {
  ojson ctx = {
      {"messages",
       {{{"role", "user"}, {"content", "hi"}}, {{"role", "assistant"}, {"content", "yo"}}}}};
  // trim_blocks drops the newline after a tag, lstrip_blocks the indentation before it.
  EXPECT_EQ(render("{% for m in messages %}\n  {% if m.role == 'user' %}\n"
                   "<{{ loop.index }}:{{ m['content'] }}>\n  {% endif %}\n{% endfor %}\n",
                   ctx),
            "<1:hi>\n");
  EXPECT_EQ(render("{%- for m in messages -%} [{{ m.role }}] {%- endfor %}", ctx),
            "[user][assistant]");
  EXPECT_EQ(render("{% for i in range(5) %}{% if i == 3 %}{% break %}{% endif %}"
                   "{% if i == 1 %}{% continue %}{% endif %}{{ i }}{% endfor %}"),
            "02");
  // Only a namespace carries state out of a loop (jinja2 scoping).
  EXPECT_EQ(render("{% set n = 0 %}{% set ns = namespace(n=0) %}{% for i in [1, 2, 3] %}"
                   "{% set n = n + i %}{% set ns.n = ns.n + i %}{% endfor %}{{ n }} {{ ns.n }}"),
            "0 6");
  EXPECT_EQ(render("{% macro tag(name, v='x') %}<{{ name }}={{ v }}>{% endmacro %}"
                   "{{ tag('a') }}{{ tag('b', v=2) }}"),
            "<a=x><b=2>");
  // One trailing newline of the template is dropped (keep_trailing_newline=False).
  EXPECT_EQ(render("a\n\n"), "a\n");
}

TEST(Jinja, ValuesBehaveAsPythonObjects) {
  EXPECT_EQ(render("{{ [1, 'a', none, true, 1.5] }}"), "[1, 'a', None, True, 1.5]");
  EXPECT_EQ(render("{{ {'k': [1, 2]} }}"), "{'k': [1, 2]}");
  EXPECT_EQ(render("{{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % -3 }} {{ 1 / 2 }} {{ 2 ** 10 }}"),
            "3 -4 -2 0.5 1024");
  // 64-bit ints: results that fit are Python's; one that does not is an OverflowError (found by
  // fuzz_chat_template: wrapped signed overflow; `2 ** 10**18` looped for ever).
  EXPECT_EQ(render("{{ (-9223372036854775807 - 1) % -1 }} {{ -7 % 3 }} {{ 3 ** 39 }} "
                   "{{ (-2) ** 63 }} {{ 1 ** 1000000000000000000 }}"),
            "0 2 4052555153018976267 -9223372036854775808 1");
  for (const char* overflow : {"{{ 9223372036854775807 + 1 }}", "{{ -(-9223372036854775807 - 1) }}",
                               "{{ 2 ** 1000000000000000000 }}", "{{ 4294967296 * 4294967296 }}",
                               "{{ (-9223372036854775807 - 1) // -1 }}"})
    EXPECT_EQ(error_of(overflow).rfind("OverflowError ", 0), 0u) << overflow;
  EXPECT_EQ(render("{{ 0.1 + 0.2 }} {{ 1e20 }} {{ 3.0 }}"), "0.30000000000000004 1e+20 3.0");
  // Strings are UTF-8 but count, index and slice in code points.
  EXPECT_EQ(render("{{ s | length }} {{ s[1] }} {{ s[::-1] }}", {{"s", "한국어"}}), "3 국 어국한");
  EXPECT_EQ(render("{{ ('\u3000x\u3000').strip() }}|{{ 'a,b'.split(',') }}"), "x|['a', 'b']");
  EXPECT_EQ(render("{{ 'ß' | upper }} {{ 'Hello World' | lower }}"), "SS hello world");
  EXPECT_EQ(render("{{ x is defined }} {{ y is none }} {{ 3 is odd }} {{ 'b' in ['a', 'b'] }}",
                   {{"y", nullptr}}),
            "False True True True");
  EXPECT_EQ(render("{{ x }}|{{ x | default('d') }}"), "|d");  // Undefined prints as nothing
}

TEST(Jinja, TojsonIsTransformersFilter) {
  ojson ctx = {{"t", {{"name", "f"}, {"desc", "é \"q\""}, {"args", {1, 2.5, nullptr}}}}};
  EXPECT_EQ(render("{{ t | tojson }}", ctx),
            R"({"name": "f", "desc": "é \"q\"", "args": [1, 2.5, null]})");
  EXPECT_EQ(render("{{ {'b': 1, 'a': [true]} | tojson(indent=2) }}"),
            "{\n  \"b\": 1,\n  \"a\": [\n    true\n  ]\n}");
}

TEST(Jinja, GenerationSpansAreByteRangesOfTheOutput) {
  Body body = parse_template(
      "ab{% generation %}cd{% endgeneration %}e{% generation %}한{% "
      "endgeneration %}");
  Interpreter interp(make_globals(), Value::dict());
  interp.render(body);
  EXPECT_EQ(interp.out(), "abcde한");
  std::vector<std::pair<size_t, size_t>> want = {{2, 4}, {5, 8}};
  EXPECT_EQ(interp.generation_spans(), want);
}

// A runtime error's position is the operator that raised it: the call's '(', the binary
// operator, the attribute's '.'.
TEST(Jinja, ErrorsCarryPythonTypeAndPosition) {
  EXPECT_EQ(error_of("x\n{% if a %}\n{% endfor %}"),
            "TemplateSyntaxError 3:4 unexpected '{% endfor %}' (the innermost open block is 'if' "
            "from line 2)");
  EXPECT_EQ(error_of("{{ raise_exception('no system role') }}"),
            "TemplateError 1:19 no system role");
  EXPECT_EQ(error_of("line\n{{ 'a' + 1 }}"),
            "TypeError 2:8 can only concatenate str (not \"int\") to str");
  EXPECT_EQ(error_of("{{ m.content.x }}", {{"m", ojson::object()}}),
            "UndefinedError 1:13 'dict object' has no attribute 'content'");
  // The immutable sandbox: methods that modify a list are refused.
  EXPECT_EQ(error_of("{% set l = [] %}{{ l.append(1) }}").rfind("SecurityError ", 0), 0u)
      << error_of("{% set l = [] %}{{ l.append(1) }}");
}

}  // namespace
}  // namespace tuna::jinja

namespace tuna::jinja {
namespace {

// A template must not hang tuna or exhaust its memory (found by fuzz_chat_template: nested loops
// over a long string ran for minutes). Work past kMaxSteps is a RuntimeError; a string past
// kMaxStringBytes (64 MiB) a MemoryError — each raised fast, before the work or the memory.
TEST(Jinja, RenderBudgetStopsRunawayTemplates) {
  const std::string steps =
      error_of("{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}");
  EXPECT_EQ(steps.rfind("RuntimeError ", 0), 0u) << steps;
  EXPECT_NE(steps.find("1000000 steps"), std::string::npos) << steps;
  for (const char* big :
       {"{{ 'ab' * 1000000000000 }}", "{{ [1, 2] * 1000000000000 }}",
        "{% set ns = namespace(s='abcdefgh') %}{% for i in range(40) %}"
        "{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s }}",
        "{% set ns = namespace(s='abcdefgh') %}{% for i in range(40) %}"
        "{% set ns.s = ns.s + ns.s %}{% endfor %}{{ ns.s }}",
        "{{ 'x' | center(1000000000000) }}", "{{ 'a\nb' | indent(1000000000000) }}",
        "{{ ('a' * 1000) | replace('a', 'b' * 100000) }}",
        "{{ ('a' * 1000).replace('a', 'b' * 100000) }}",
        "{{ (['x' * 1000] * 100000) | join }}", "{{ ''.join(['x' * 1000] * 100000) }}",
        "{% for i in range(100000) %}{{ 'y' * 1000 }}{% endfor %}"}) {
    const std::string e = error_of(big);
    EXPECT_EQ(e.rfind("MemoryError ", 0), 0u) << big << ": " << e;
  }
  // An empty sequence times a huge count is empty at once, as in Python (fuzz_chat_template: a
  // 69-byte `{{ 12222…2 * messag|items }}` looped 10¹⁸ times).
  EXPECT_EQ(render("{{ '' * 1000000000000000000 }}|{{ ([] * 1000000000000000000) | length }}|"
                   "{{ (() * 1000000000000000000) | length }}|{{ 'ab' * -3 }}|{{ [1] * 0 }}"),
            "|0|0||[]");
  // A non-string strip/split argument is a TypeError, as in Python (fuzz_chat_template: UBSan
  // null reference in 'x'.strip(444…4)).
  EXPECT_EQ(error_of("{{ 'abc'.strip(5) }}").rfind("TypeError ", 0), 0u);
  EXPECT_EQ(error_of("{{ 'a b'.split(1) }}").rfind("TypeError ", 0), 0u);
  EXPECT_EQ(render("{{ 'xabcx'.strip('x') }}|{{ 'a b'.split() | length }}"), "abc|2");
  // Below the budgets nothing changes: a 1 MiB output and 10⁵ iterations render.
  EXPECT_EQ(render("{% for i in range(1024) %}{{ 'z' * 1024 }}{% endfor %}").size(), 1u << 20);
  EXPECT_EQ(render("{% for i in range(50000) %}{% endfor %}done"), "done");
}

}  // namespace
}  // namespace tuna::jinja
