// Fuzz target for the chat-template engine: parse arbitrary bytes as a template and render it
// with a few fixed conversations (string and list-of-parts content, tools, tool calls). A
// ChatTemplateError (a user error: syntax error, raise_exception, undefined value, ...) is an
// accepted outcome; any other exception, internal error or sanitizer report is a bug.
// With TUNA_FUZZ_REPLAY_MAIN it is a plain program replaying fuzz/corpus/chat_template/ (the
// golden templates and feature snippets) plus deterministic mutations (CTest
// fuzz_chat_template_replay).
#include <cstdint>
#include <string>
#include <vector>

#include "core/utf8.h"
#include "replay_driver.h"
#include "tokenizer/chat_template.h"

namespace {

using ojson = nlohmann::ordered_json;
constexpr const char* kTarget = "fuzz_chat_template";
size_t g_rendered = 0;

const std::vector<tuna::ChatTemplateInputs>& conversations() {
  static const std::vector<tuna::ChatTemplateInputs> c = [] {
    std::vector<tuna::ChatTemplateInputs> v(3);
    v[0].messages = ojson::parse(R"([{"role": "system", "content": " be brief "},
      {"role": "user", "content": "안녕 😀"}, {"role": "assistant", "content": "<think>x</think>hi"}])");
    v[0].variables = {{"bos_token", "<bos>"}, {"eos_token", "<eos>"}};
    v[1].messages = ojson::parse(R"([{"role": "user", "content": [{"type": "text", "text": "a"},
      {"type": "image"}]}])");
    v[1].add_generation_prompt = true;
    v[2].messages = ojson::parse(R"([{"role": "user", "content": "w?"}, {"role": "assistant",
      "content": "", "tool_calls": [{"function": {"name": "f", "arguments": {"x": 1.5}}}]},
      {"role": "tool", "content": "{\"t\": 3}"}])");
    v[2].tools = ojson::parse(R"([{"type": "function", "function": {"name": "f",
      "parameters": {"type": "object", "properties": {"x": {"type": "number"}}}}}])");
    v[2].variables = {{"enable_thinking", false}};
    return v;
  }();
  return c;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  tuna::fuzz::g_input = data;
  tuna::fuzz::g_input_size = size;
  std::string source(reinterpret_cast<const char*>(data), size);
  try {
    tuna::ChatTemplate t = tuna::ChatTemplate::parse(source, "fuzz input");
    for (const auto& conv : conversations()) {
      try {
        tuna::ChatRender r = t.render(conv);
        for (const auto& [b, e] : r.generation_spans)
          if (b > e || e > r.text.size())
            tuna::fuzz::report_bug(kTarget, "generation span out of range");
        ++g_rendered;
      } catch (const tuna::ChatTemplateError&) {
      }
    }
  } catch (const tuna::ChatTemplateError&) {
  } catch (const std::exception& e) {
    tuna::fuzz::report_bug(kTarget, std::string("unexpected exception: ") + e.what());
  }
  return 0;
}

#ifdef TUNA_FUZZ_REPLAY_MAIN

namespace {

// Template-aware edits: insert a tag, delimiter or operator at a random place.
void mutate_template(size_t, tuna::fuzz::Bytes& b, tuna::fuzz::Rng& rng) {
  static const char* const kPieces[] = {"{{",
                                        "}}",
                                        "{%",
                                        "%}",
                                        "{%-",
                                        "-%}",
                                        "{#",
                                        "#}",
                                        "{% if x %}",
                                        "{% endif %}",
                                        "{% for m in messages %}",
                                        "{% endfor %}",
                                        "|trim",
                                        "|tojson(indent=2)",
                                        "[::-1]",
                                        "(",
                                        ")",
                                        "[",
                                        "]",
                                        "'",
                                        "\"",
                                        " is defined",
                                        " not ",
                                        " ~ ",
                                        "loop.index",
                                        "ns.x",
                                        "{% set ns = namespace(x=1) %}",
                                        "{% macro f(a) %}",
                                        "{% endmacro %}",
                                        "{{ f(1) }}",
                                        "{% generation %}",
                                        "{% endgeneration %}",
                                        "{% break %}",
                                        "\n",
                                        "  "};
  const std::string p = kPieces[rng.below(sizeof kPieces / sizeof kPieces[0])];
  b.insert(b.begin() + static_cast<std::ptrdiff_t>(rng.below(b.size() + 1)), p.begin(), p.end());
}

int make_seeds(const std::filesystem::path&) {
  return 0;
}  // the corpus is committed

}  // namespace

int main(int argc, char** argv) {
  return tuna::fuzz::replay_main(argc, argv,
                                 {kTarget, mutate_template, make_seeds, 256, &g_rendered});
}

#endif  // TUNA_FUZZ_REPLAY_MAIN
