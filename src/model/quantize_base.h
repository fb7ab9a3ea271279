// load_in_4bit: quantizes a loaded model's linear weights in place to bitsandbytes NF4/FP4
// (ops/quant_bnb4.h), the way transformers' BitsAndBytesConfig(load_in_4bit=True) replaces
// nn.Linear modules with bnb Linear4bit: every projection (q, k, v, o, gate, up, down) except
// modules named in llm_int8_skip_modules (default "lm_head"); embeddings and norms stay as they
// are. Not here: 8-bit (load_in_8bit) weights, GGUF bases (an error, DESIGN.md §8).
#pragma once

#include <string>
#include <vector>

#include "model/weights.h"
#include "ops/quant_bnb4.h"

namespace tuna {

// transformers' BitsAndBytesConfig, 4-bit part, with its defaults (params: quant type fp4, no
// double quant, blocksize 64, compute float32).
struct Bnb4bitConfig {
  Bnb4bitParams params;
  // llm_int8_skip_modules: a module is skipped when its name (e.g. "o_proj") is listed, when it
  // equals a listed path, or when a listed key followed by "." occurs in its path (as
  // transformers matches). Paths are Llama-style: "model.layers.3.self_attn.q_proj",
  // "model.layers.3.mlp.down_proj", "lm_head".
  std::vector<std::string> skip_modules = {"lm_head"};
};

// What quantize_base_4bit did: resident bytes of the quantized weights.
struct QuantizedBase {
  int64_t tensors = 0;       // weights quantized
  int64_t parameters = 0;    // their elements
  int64_t packed_bytes = 0;  // ceil(n / 2) per weight
  int64_t stats_bytes = 0;   // absmax, or double-quant codes + nested absmax + offset
  int64_t resident_bytes() const { return packed_bytes + stats_bytes; }
};

// Replaces the eligible linear weights of `w` by NF4/FP4 tensors (F32/F16/BF16 weights only;
// GGUF block weights are a user error). GPT-2's Conv1D layout is not supported yet.
QuantizedBase quantize_base_4bit(ModelWeights& w, const Bnb4bitConfig& config);

}  // namespace tuna
