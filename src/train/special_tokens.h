// The config's `eos_token` and `pad_token` (TRL SFTConfig) as token ids of the run's tokenizer:
// the EOS appended to text / completions (and the chat template's eos_token), and the padding id
// of the collator. Not here: appending (data/example.h) or padding (train/trainer.h).
#pragma once

#include <cstdint>
#include <optional>

#include "train/config.h"

namespace tuna {

class Tokenizer;

// The id of the token the config names under `key` ("eos_token" or "pad_token"), nullopt when the
// key is unset. A string that is not one token of the vocabulary (added tokens included) is a
// user error naming the key, where it was set and the tokenizer's own special tokens. TRL raises
// ValueError there for tokenizers without an unknown token; with one, transformers'
// convert_tokens_to_ids silently maps it to <unk> — tuna refuses it either way.
std::optional<int32_t> configured_token_id(const TrainConfig& cfg, const char* key,
                                           const Tokenizer& tok);

// The EOS id of the run: eos_token, else the tokenizer's EOS (nullopt: it has none).
std::optional<int32_t> run_eos_id(const TrainConfig& cfg, const Tokenizer& tok);
// The padding id of the run, as TRL's SFTTrainer picks it: pad_token, else the tokenizer's pad
// token, else the run's EOS (eos_token when set), else 0.
int32_t run_pad_id(const TrainConfig& cfg, const Tokenizer& tok);

}  // namespace tuna
