// Planning a training job from its config, before any step runs: the Trainer's arguments
// (TrainingArguments fields, the pad id), the logging / eval / save schedule, the device it runs
// on, the run's length once the data is known, and whether the job fits in memory (the estimate for
// the longest micro-batch the data can form, a user error when it exceeds what the machine has).
// Not here: running it (training_job.h).
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
  TrainerArgs trainer;  // batch, accumulation, schedule, optimizer, shuffling
  std::string logging_strategy = "steps", eval_strategy, save_strategy;  // "no"/"steps"/"epoch"
  int64_t logging_steps = 1, eval_steps = 1, save_steps = 1;
  size_t eval_batch_size = 1;
  bool gradient_checkpointing = false;
  uint64_t seed = 0;  // dropout streams
  std::optional<size_t> save_total_limit;
  // Known once the training rows are: optimizer steps of the run and of one epoch.
  int64_t total_steps = 0, steps_per_epoch = 0;

  // A logged step: every logging_steps (and the last) for "steps", each epoch's last step (and
  // the run's last, which ends a partial epoch under max_steps: the HF Trainer's on_epoch_end
  // runs after its loop breaks) for "epoch", never for "no" (the final summary is still written).
  bool logs_at(int64_t step, bool epoch_end) const {
    if (logging_strategy == "no") return false;
    if (logging_strategy == "epoch") return epoch_end || step == total_steps;
    return step % logging_steps == 0 || step == total_steps;
  }
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

// Everything the config decides (total_steps / steps_per_epoch stay 0). The pad id is TRL's:
// pad_token, else the tokenizer's pad, else the run's EOS (eos_token, else the tokenizer's), else
// 0; a pad_token or eos_token that is not in the vocabulary is a user error.
TrainingPlan plan_training(const TrainConfig& cfg, const Tokenizer& tok);

// Where the run trains and why, as the run's first lines say it. tuna trains on the CPU only
// today: `use_cpu: true` (TrainingArguments' "train on the CPU even where a GPU is available")
// is therefore always honoured; without it, a visible GPU gets a notice that it stays unused.
struct DeviceChoice {
  bool cpu = true;   // always true until GPU training lands
  std::string line;  // "device: CPU (...)"
};
DeviceChoice choose_training_device(const TrainConfig& cfg, bool gpu_visible);

// The memory the run needs for its longest micro-batch of `train` rows.
MemoryEstimate estimate_job_memory(const TrainingPlan& plan, const Model& model,
                                   const TrainableSet& trainable,
                                   const std::vector<TrainRow>& train);
// User error when `need` is more than the available memory (with what to lower).
void check_memory_fits(const MemoryEstimate& need);

}  // namespace tuna
