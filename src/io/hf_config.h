// Hugging Face config.json → ModelSpec, for LlamaForCausalLM, MistralForCausalLM,
// Qwen2ForCausalLM, Qwen3ForCausalLM, Gemma2ForCausalLM, Gemma3ForCausalLM (and the text model
// of Gemma3ForConditionalGeneration), GPT2LMHeadModel and ExaoneForCausalLM. Reads both the
// transformers v4 spellings (rope_theta, rope_scaling, rope_local_base_freq) and v5's
// rope_parameters. Anything else is a user error listing the supported architectures.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "io/model_spec.h"

namespace tuna {

const std::vector<std::string>& supported_architectures();

// Parses `path` (a config.json). Errors name the file and the key.
ModelSpec read_hf_config(const std::string& path);
ModelSpec parse_hf_config(const nlohmann::json& config, const std::string& source);

}  // namespace tuna
