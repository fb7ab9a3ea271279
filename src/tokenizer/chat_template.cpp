// ChatTemplate: parse once, render many conversations (see chat_template.h).
#include "tokenizer/chat_template.h"

#include <algorithm>

#include "core/message.h"
#include "core/utf8.h"
#include "template/jinja_interp.h"

namespace tuna {
namespace {

[[noreturn]] void rethrow(const jinja::TemplateError& e, const std::string& origin) {
  std::string where = e.line() > 0 ? origin + " line " + std::to_string(e.line()) + ", column " +
                                         std::to_string(e.column())
                                   : origin;
  std::string what, hint;
  if (e.type() == "TemplateSyntaxError") {
    what = "syntax error at " + where + ": " + e.what();
    hint =
        "fix the template (tokenizer_config.json \"chat_template\" or chat_template.jinja); "
        "docs/chat-templates.md lists what the engine supports";
  } else if (e.type() == "TemplateError") {
    what = "the template refused the conversation (raise_exception at " + where + "): " + e.what();
    hint = "the conversation does not have the shape this model's template requires";
  } else if (e.type() == "RuntimeError" || e.type() == "MemoryError") {
    what = e.type() + " at " + where + ": " + e.what();
    hint = "the template's loops or strings run away (a render may take 1,000,000 steps and "
           "build strings of up to 64 MiB); fix the template";
  } else {
    what = e.type() + " at " + where + ": " + e.what();
    hint = "check the messages (every message needs 'role' and 'content') and the template";
  }
  throw ChatTemplateError(e.type(), e.what(), e.line(), e.column(), what, hint);
}

bool uses_generation(const jinja::Body& body) {
  for (const auto& n : body) {
    if (n->kind == jinja::Node::Kind::GENERATION) return true;
    if (uses_generation(n->body) || uses_generation(n->else_body)) return true;
    for (const auto& br : n->branches)
      if (uses_generation(br.second)) return true;
  }
  return false;
}

}  // namespace

ChatTemplate ChatTemplate::parse(const std::string& source, const std::string& origin) {
  ChatTemplate t;
  t.source_ = source;
  t.origin_ = origin;
  // A Python str is Unicode: jinja2 never sees bytes that are not UTF-8 (the engine assumes it).
  if (const size_t bad = utf8::first_invalid(source); bad != std::string::npos) {
    const TextPosition at = text_position(source, bad);
    throw ChatTemplateError("UnicodeDecodeError", "invalid UTF-8", static_cast<int>(at.line),
                            static_cast<int>(at.column), origin + ": " + invalid_utf8_at(source, bad),
                            "save the template as UTF-8");
  }
  try {
    t.body_ = std::make_shared<const jinja::Body>(jinja::parse_template(source));
  } catch (const jinja::TemplateError& e) {
    rethrow(e, origin);
  }
  t.has_generation_ = uses_generation(*t.body_);
  return t;
}

ChatRender ChatTemplate::render(const ChatTemplateInputs& in) const {
  using jinja::Value;
  Value ctx = Value::dict();
  jinja::Dict& d = ctx.entries();
  // transformers: compiled_template.render(messages=, tools=, documents=,
  // add_generation_prompt=, **special_tokens_map, **kwargs).
  if (!in.messages.is_null()) d.set("messages", Value::from_json(in.messages));
  d.set("tools", Value::from_json(in.tools));
  d.set("documents", Value::from_json(in.documents));
  d.set("add_generation_prompt", Value(in.add_generation_prompt));
  for (const auto& [k, v] : in.variables.items()) d.set(k, Value::from_json(v));
  jinja::Interpreter interp(jinja::make_globals(), ctx);
  try {
    interp.render(*body_);
  } catch (const jinja::TemplateError& e) {
    rethrow(e, origin_);
  }
  ChatRender r;
  r.text = std::move(interp.out());
  r.generation_spans = interp.generation_spans();
  return r;
}

}  // namespace tuna
