// GGUF architecture metadata (general.architecture + "{arch}.*" keys) → ModelSpec, for the
// GGUF architectures tuna loads: gemma3, llama, qwen2, qwen3. Anything else is a user error
// listing them. Tokenizer keys are the tokenizer's business, not this file's.
#pragma once

#include <string>
#include <vector>

#include "io/gguf.h"
#include "io/model_spec.h"

namespace tuna {

const std::vector<std::string>& supported_gguf_architectures();
ModelSpec spec_from_gguf(const GgufFile& file);

}  // namespace tuna
