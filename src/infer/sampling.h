// Next-token choice with Hugging Face GenerationConfig semantics: the repetition penalty
// (RepetitionPenaltyLogitsProcessor), then — when sampling — temperature, top-k, top-p and min-p
// (the warpers, in transformers' order), softmax and one draw; greedy takes the argmax of the
// penalised logits. Draws come from core/rng Philox keyed by (seed, step), so a seed reproduces
// a generation exactly, on any thread count. Not here: the decoding loop or stop conditions.
#pragma once

#include <cstdint>
#include <vector>

namespace tuna {

struct SamplingConfig {
  bool do_sample = false;           // false: greedy (argmax)
  float temperature = 1.0f;         // > 0; used when sampling
  int64_t top_k = 50;               // 0: off (transformers' default is 50)
  float top_p = 1.0f;               // 1: off
  float min_p = 0.0f;               // 0: off
  float repetition_penalty = 1.0f;  // 1: off; > 1 discourages tokens already in the context
  uint64_t seed = 0;
};

// HF's repetition penalty on logits [V], in place: for each distinct token of `context` (prompt
// + generated so far) a positive logit is divided by `penalty`, a negative one multiplied.
void apply_repetition_penalty(std::vector<float>& logits, const std::vector<int32_t>& context,
                              float penalty);

// Turns logits [V] into the sampling distribution [V] (zeros for removed tokens): temperature,
// top-k (ties with the k-th kept), top-p (transformers' rule: drop the tokens whose ascending
// cumulative probability is ≤ 1 − top_p, keeping at least one), min-p (drop probabilities below
// min_p × the largest), then softmax over what is left.
std::vector<float> sampling_probabilities(const std::vector<float>& logits,
                                          const SamplingConfig& config);

// The index of the largest logit (the first on ties, as torch.argmax).
int32_t argmax_token(const std::vector<float>& logits);

// One token for decoding step `step` (0-based): the penalty over `context`, then argmax or a
// Philox draw from sampling_probabilities. `logits` is modified (penalised).
int32_t choose_next_token(std::vector<float>& logits, const std::vector<int32_t>& context,
                          const SamplingConfig& config, int64_t step);

}  // namespace tuna
