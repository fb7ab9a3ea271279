// The tokenizer that belongs to a model argument: tokenizer.json (+ tokenizer_config.json) of a
// Hugging Face directory or repo id, or the tokenizer.ggml.* vocabulary of a GGUF file.
#pragma once

#include <string>

#include "tokenizer/tokenizer.h"

namespace tuna::cli {

Tokenizer load_model_tokenizer(const std::string& model_arg);

// One line per token: id, piece (control characters escaped), "[special]" for special tokens.
void print_token_table(const Tokenizer& tok, const Tokenizer::Encoding& enc);

}  // namespace tuna::cli
