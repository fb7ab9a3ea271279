// Chat templates built into tuna (see builtin_templates.cpp for their sources).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tuna {

class Tokenizer;

// The template named `name` ("gemma3", "qwen3", "llama3", "chatml"), or nullptr.
const char* builtin_chat_template(std::string_view name);
std::vector<std::string> builtin_chat_template_names();
// The family template for a GGUF general.architecture when it is unambiguous, or nullptr.
const char* builtin_chat_template_for_architecture(std::string_view gguf_architecture);

struct ChatTemplateSource {
  std::string source;
  std::string origin;    // for messages: "<model> chat template" or "built-in '<arch>' template"
  bool builtin = false;  // the model ships none; the family's built-in one stands in
};
// The template a model renders conversations with: its own (tokenizer_config.json,
// chat_template.jinja or tokenizer.chat_template), else the built-in one of its GGUF
// architecture ("" when not a GGUF); nullopt when there is neither.
std::optional<ChatTemplateSource> model_chat_template(const Tokenizer& tok,
                                                      const std::string& gguf_architecture,
                                                      const std::string& model_name);

}  // namespace tuna
