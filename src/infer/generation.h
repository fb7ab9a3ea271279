// Text generation for `tuna generate`: the decoding loop over a KvDecoder (prefill, then one
// token per step), HF-style sampling (infer/sampling.h), stop at EOS ids or stop strings
// (text-level; the output is cut before the stop string), streaming text through a
// StreamingDecoder so no UTF-8 character is ever split. Also the EOS ids a model stops at and
// a PEFT adapter merged into a copy of the weights it touches. CPU, one sequence.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "infer/kv_decoder.h"
#include "infer/sampling.h"
#include "lora/targets.h"
#include "model/model.h"
#include "tokenizer/tokenizer.h"

namespace tuna {

struct GenerationOptions {
  SamplingConfig sampling;
  int64_t max_new_tokens = 256;
  std::vector<int32_t> eos_ids;           // generation ends when one is produced (not printed)
  std::vector<std::string> stop_strings;  // ends when the text contains one (cut before it)
  // Asked before each new token; true ends the generation ("cancelled"). Empty: never.
  std::function<bool()> should_stop;
  // Called after each chunk of a long prefill with the prompt tokens fed so far and in all (a
  // prompt of more than kPrefillChunk new tokens is fed kPrefillChunk at a time). Empty: none.
  std::function<void(int64_t done, int64_t total)> on_prefill;
  // The decoding steps with F32 activations (the exact path) instead of 8-bit activations on
  // quantized GGUF weights (ops/quant_dot.h, docs/generate.md). Prefill is exact either way.
  bool exact = false;
  // Batched generation: asked before each step for every active sequence (its prompt's index);
  // true ends that sequence ("cancelled", its cache freed at once) while the others go on.
  std::function<bool(size_t index)> should_cancel;
};

// Prompts longer than this many new tokens are prefilled in chunks of this size, so progress can
// be reported and a long prompt never needs all its activations at once.
constexpr int64_t kPrefillChunk = 256;

struct Generation {
  std::vector<int32_t> ids;          // generated ids (an ending EOS id included)
  std::string text;                  // the text printed (cut before a stop string)
  std::string finish_reason;         // "eos", "stop" (a stop string), "length" or "cancelled"
  int64_t reused_prompt_tokens = 0;  // prompt ids whose keys/values came from a KvSession
  int64_t prefilled_tokens = 0;      // prompt ids fed through the model (the rest were cached)
  double prefill_seconds = 0;        // feeding them, up to the first token's logits
  double decode_seconds = 0;         // the rest: choosing tokens and feeding them back
  int64_t kv_cache_bytes = 0;        // the sequence's KV cache at the end (allocated bytes)
};

// A KV cache kept across generate() calls (a chat): `ids` are the tokens whose keys/values the
// decoder holds. A call reuses the longest prefix its prompt shares with them and prefills only
// the rest. The decoder must have been made for the same weights and adapters as the calls.
struct KvSession {
  KvDecoder decoder;
  std::vector<int32_t> ids;
  void reset() {
    decoder.reset();
    ids.clear();
  }
};

// Called with each piece of text as soon as it is final (never a partial UTF-8 character,
// never text that could still turn out to start a stop string).
using TextSink = std::function<void(const std::string&)>;

// Generates after `prompt` (ids, special tokens already in place). `weights`: the model's own
// when null (e.g. merged_adapter_weights otherwise); `adapters`: LoRA adapters applied on the
// fly, or null. Special tokens are not printed. `session`: a cache kept across calls (its
// decoder built for `weights`/`adapters`), or null for a fresh one.
Generation generate(const Model& model, const ModelWeights* weights,
                    const std::vector<LoraAdapter>* adapters, const Tokenizer& tok,
                    const std::vector<int32_t>& prompt, const GenerationOptions& options,
                    const TextSink& sink = {}, KvSession* session = nullptr);

// Batched generation: a continuation for each of `prompts`, up to `batch_size` sequences decoding
// together (each step feeds every active sequence's new token in one pass, at most 8 rows a
// pass); when one finishes, the next prompt takes its place (continuous batching). Each
// sequence's ids, text and finish reason equal generate() on its prompt alone with the same
// options (greedy, or the same seed). `done(i, g)` is called as prompt i finishes, in finishing
// order; prefill_seconds is its own prefill, decode_seconds its time from then to its end.
// `prompt_adapters` (optional, one entry per prompt): prompt i's LoRA adapters, applied on the
// fly over the shared `weights` (null entry: the base model) — several adapters served from one
// base model in the same batch; without it every prompt takes `adapters`.
void generate_batch(const Model& model, const ModelWeights* weights,
                    const std::vector<LoraAdapter>* adapters, const Tokenizer& tok,
                    const std::vector<std::vector<int32_t>>& prompts,
                    const GenerationOptions& options, int64_t batch_size,
                    const std::function<void(size_t, Generation&&)>& done,
                    const std::vector<const std::vector<LoraAdapter>*>* prompt_adapters = nullptr);

// The sampling settings a model directory's generation_config.json sets (HF GenerationConfig
// fields: do_sample, temperature, top_k, top_p, min_p, repetition_penalty, max_new_tokens); a
// field the file does not set stays empty. A GGUF carries none. A wrong type is a user error.
struct GenerationDefaults {
  std::optional<bool> do_sample;
  std::optional<double> temperature, top_p, min_p, repetition_penalty;
  std::optional<int64_t> top_k, max_new_tokens;
  std::string source;  // the file read; empty when there is none
};
GenerationDefaults read_generation_defaults(const Model& model);

// What the caller asked for (unset: not given).
struct GenerationRequest {
  std::optional<bool> do_sample;
  std::optional<double> temperature, top_p, min_p, repetition_penalty;
  std::optional<int64_t> top_k, max_new_tokens;
  uint64_t seed = 0;
};

// User error for a setting out of its range, naming the parameter in backticks (`top_p` must be
// in (0, 1]); cli/ shows the flag instead.
void check_generation_request(const GenerationRequest& request);

// Resolves sampling as transformers' generate() does with a model's generation_config: each
// setting from the request, else the model's generation_config.json, else GenerationConfig's
// default (greedy, temperature 1, top_k 50, top_p 1, no min_p, no penalty; max_new_tokens 256 is
// tuna's, HF's max_length 20 being too short to be useful). A requested temperature of 0 means
// greedy; a requested temperature > 0 turns sampling on unless do_sample is false.
void resolve_generation_options(const GenerationRequest& request,
                                const GenerationDefaults& defaults, GenerationOptions& out);

// The ids that end a generation: the tokenizer's EOS, plus generation_config.json's
// eos_token_id (int or list) in a model directory; for a GGUF, which carries no generation
// config, the end-of-turn tokens llama.cpp also stops at (tokenizer.ggml.eot_token_id /
// eom_token_id, and control tokens such as <end_of_turn>, <|eot_id|>, <|im_end|>).
std::vector<int32_t> generation_eos_ids(const Model& model, const Tokenizer& tok);

// A copy of the model's weights with every adapter of `lora` on a text block merged
// (merge_lora_weight: W + (B·A)·s in F32; GGUF blocks come back F32). Untouched weights stay
// shared views. modules_to_save copies and trainable biases are not supported (user error).
ModelWeights merged_adapter_weights(const Model& model, const LoraSet& lora);
// The user error merged_adapter_weights raises, for adapters applied on the fly.
void check_generation_adapter(const LoraSet& lora);

}  // namespace tuna
