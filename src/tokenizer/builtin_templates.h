// Chat templates built into tuna (see builtin_templates.cpp for their sources).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace tuna {

// The template named `name` ("gemma3", "qwen3", "llama3", "chatml"), or nullptr.
const char* builtin_chat_template(std::string_view name);
std::vector<std::string> builtin_chat_template_names();
// The family template for a GGUF general.architecture when it is unambiguous, or nullptr.
const char* builtin_chat_template_for_architecture(std::string_view gguf_architecture);

}  // namespace tuna
