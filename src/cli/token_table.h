// The token table `tuna tokenize` and `tuna template --ids` print.
#pragma once

#include "tokenizer/tokenizer.h"

namespace tuna::cli {

// One line per token: id, piece (control characters escaped), "[special]" for special tokens.
void print_token_table(const Tokenizer& tok, const Tokenizer::Encoding& enc);

}  // namespace tuna::cli
