// Chat templates rendered exactly as transformers' apply_chat_template(tokenize=False) renders
// them with jinja2 (sandboxed, trim_blocks, lstrip_blocks, loop controls, tojson with
// ensure_ascii=False, raise_exception, strftime_now, {% generation %} assistant spans), by
// tuna's own Jinja engine (src/template/jinja_*: no packaged C++ Jinja exists on this platform).
// A feature the engine does not implement is a clear error at parse time, never wrong output.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "core/error.h"

namespace tuna {

namespace jinja {
struct Node;
}

struct ChatTemplateInputs {
  // [{role, content, ...}]; null leaves `messages` undefined in the template.
  nlohmann::ordered_json messages = nlohmann::ordered_json::array();
  nlohmann::ordered_json tools;      // null or a list of JSON schemas
  nlohmann::ordered_json documents;  // null or a list of {title, text}
  bool add_generation_prompt = false;
  // Every other template variable: the tokenizer's special tokens (bos_token, eos_token, ...)
  // and extra keyword arguments such as enable_thinking or date_string.
  nlohmann::ordered_json variables = nlohmann::ordered_json::object();
};

struct ChatRender {
  std::string text;
  // [begin, end) byte ranges of the text rendered inside {% generation %} blocks.
  std::vector<std::pair<size_t, size_t>> generation_spans;
};

// A template error: a user error (exit 2) that also carries what jinja2 would have raised.
class ChatTemplateError : public Error {
 public:
  ChatTemplateError(std::string python_type, std::string raw_message, int line, int column,
                    std::string what, std::string hint)
      : Error(ErrorKind::USER, "chat template", std::move(what), std::move(hint)),
        python_type_(std::move(python_type)),
        raw_message_(std::move(raw_message)),
        line_(line),
        column_(column) {}
  const std::string& python_type() const { return python_type_; }  // e.g. "TemplateError"
  const std::string& raw_message() const { return raw_message_; }  // str(exception) in jinja2
  int line() const { return line_; }
  int column() const { return column_; }

 private:
  std::string python_type_, raw_message_;
  int line_, column_;
};

class ChatTemplate {
 public:
  // Parses `source`; a syntax error or unsupported feature throws ChatTemplateError naming the
  // line and column. `origin` names the template in messages (file or model).
  static ChatTemplate parse(const std::string& source, const std::string& origin = "chat template");

  ChatRender render(const ChatTemplateInputs& inputs) const;
  bool has_generation_blocks() const { return has_generation_; }
  const std::string& source() const { return source_; }

 private:
  std::shared_ptr<const std::vector<std::unique_ptr<jinja::Node>>> body_;
  std::string source_, origin_;
  bool has_generation_ = false;
};

}  // namespace tuna
