// Evaluation loss of a model (+ LoRA adapters) over tokenised rows: the mean token loss and
// token accuracy (TRL's mean_token_accuracy) over every scored label, forward only (no dropout,
// no gradients), in batches of right-padded rows. What a training job runs at eval_steps and what
// `tuna eval` reuses for a held-out set. Not here: generation-based metrics (ROUGE, BLEU).
#pragma once

#include <cstdint>
#include <vector>

#include "data/example.h"
#include "model/lora_adapter.h"
#include "model/weights.h"

namespace tuna {

class Model;

struct EvalResult {
  double loss = 0;                 // sum of token losses / scored tokens (natural log); 0: none
  double mean_token_accuracy = 0;  // argmax == label over scored tokens
  int64_t tokens = 0;              // scored tokens
};

// `weights`: what the forward reads (the model's own, or a training job's with F32 masters);
// `adapters`: applied on the fly, or null. Rows go `batch_size` at a time, padded with `pad_id`.
EvalResult evaluate_loss(const Model& model, const ModelWeights& weights,
                         std::vector<LoraAdapter>* adapters, const std::vector<TrainRow>& rows,
                         size_t batch_size, int32_t pad_id);

}  // namespace tuna
