// Planning a training job from its config, before any step runs: the Trainer's arguments
// (TrainingArguments fields), the logging / eval / save schedule, the run's length once the data
// is known, and whether the job fits in memory (the estimate for the longest micro-batch the data
// can form, a user error when it exceeds what the machine has). Not here: running it
// (training_job.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "train/config.h"
#include "train/memory_estimate.h"
#include "train/trainer.h"

namespace tuna {

class Model;
class Tokenizer;
struct TrainableSet;

struct TrainingPlan {
  TrainerArgs trainer;                       // batch, accumulation, schedule, optimizer, shuffling
  std::string eval_strategy, save_strategy;  // "no" / "steps" / "epoch"
  int64_t logging_steps = 1, eval_steps = 1, save_steps = 1;
  size_t eval_batch_size = 1;
  bool gradient_checkpointing = false;
  uint64_t seed = 0;  // dropout streams
  std::optional<size_t> save_total_limit;
  // Known once the training rows are: optimizer steps of the run and of one epoch.
  int64_t total_steps = 0, steps_per_epoch = 0;

  bool logs_at(int64_t step) const { return step % logging_steps == 0 || step == total_steps; }
  // "epoch" evaluates at the last step too when max_steps ends the run inside an epoch
  // (transformers 4.57 calls on_epoch_end after the break), as saves_at saves there.
  bool evaluates_at(int64_t step, bool epoch_end) const {
    return (eval_strategy == "steps" && step % eval_steps == 0) ||
           (eval_strategy == "epoch" && (epoch_end || step == total_steps));
  }
  // Checkpoints, as transformers 4.57's DefaultFlowCallback asks for them: "steps" every
  // save_steps and at the last step; "epoch" at each epoch's end, the last included (and at the
  // last step when max_steps ends the run inside an epoch: on_epoch_end runs after the break).
  bool saves_at(int64_t step, bool epoch_end) const {
    if (save_strategy == "steps") return step % save_steps == 0 || step == total_steps;
    return save_strategy == "epoch" && (epoch_end || step == total_steps);
  }
};

// Everything the config decides (total_steps / steps_per_epoch stay 0). The pad id comes from
// the tokenizer (pad, else EOS, else 0).
TrainingPlan plan_training(const TrainConfig& cfg, const Tokenizer& tok);

// The memory the run needs for its longest micro-batch of `train` rows.
MemoryEstimate estimate_job_memory(const TrainingPlan& plan, const Model& model,
                                   const TrainableSet& trainable,
                                   const std::vector<TrainRow>& train);
// User error when `need` is more than the available memory (with what to lower).
void check_memory_fits(const MemoryEstimate& need);

}  // namespace tuna
