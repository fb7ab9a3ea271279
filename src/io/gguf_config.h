// Generic reading of GGUF architecture metadata ("{arch}.*" keys) into a ModelSpec: typed keys
// with errors that say what is missing, the fields every GGUF decoder shares (shapes, norm eps,
// vocab, tied head, special ids) and the global RoPE. Which architectures exist and what else each
// one sets is model/families/' business; tokenizer keys are the tokenizer's.
#pragma once

#include <string>

#include "io/gguf.h"
#include "io/model_spec.h"

namespace tuna {

// Keys of one architecture: key("block_count") is "{arch}.block_count".
struct GgufKeys {
  const GgufFile& f;
  std::string arch;

  std::string key(const std::string& k) const { return arch + "." + k; }
  int64_t required_int(const std::string& k) const;  // present and positive
  int64_t int_or(const std::string& k, int64_t d) const { return f.get_int_or(key(k), d); }
  double float_or(const std::string& k, double d) const { return f.get_float_or(key(k), d); }
};

// The shared fields (llama.cpp's loader, src/llama-model.cpp): hidden, layers, ffn, heads,
// kv heads, head dim, context, rms eps, vocab (token_embd rows), tied head (no output.weight),
// attn_scale 1/sqrt(head_dim), bos/eos/pad ids; source and model_type (= arch). No layers.
ModelSpec gguf_base_spec(const GgufKeys& k);

// The global RoPE: rope.dimension_count, rope.freq_base (else `default_theta`), linear scaling.
// User errors: other scalings, llama3 rope_freqs, partial rotary dims.
RopeConfig gguf_rope(const GgufKeys& k, const ModelSpec& s, double default_theta);

}  // namespace tuna
