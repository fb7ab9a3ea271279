// The tokenizer that belongs to a model argument: tokenizer.json (+ tokenizer_config.json) of a
// Hugging Face directory or repo id, or the tokenizer.ggml.* vocabulary of a GGUF file.
#pragma once

#include <string>

#include "tokenizer/tokenizer.h"

namespace tuna::cli {

Tokenizer load_model_tokenizer(const std::string& model_arg);

}  // namespace tuna::cli
