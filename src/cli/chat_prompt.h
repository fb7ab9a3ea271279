// Conversation files and chat-template choice shared by `tuna template` and `tuna generate`
// (defined in cmd_template.cpp).
#pragma once

#include <string>

#include "tokenizer/chat_template.h"
#include "tokenizer/tokenizer.h"

namespace tuna::cli {

// The conversation file: a JSON list of messages, or an object {"messages": [...], "tools":
// [...], "documents": [...], other keys = template variables}. Bad JSON or messages: user error.
ChatTemplateInputs read_conversation(const std::string& path);

// The template source: `option` (a .jinja file or a built-in name) when given, else the model's
// own, else the built-in one of a GGUF architecture that ships none (noted on stderr). `origin`
// receives where it came from.
std::string choose_template(const std::string& option, const std::string& model,
                            const Tokenizer& tok, std::string* origin);

}  // namespace tuna::cli
