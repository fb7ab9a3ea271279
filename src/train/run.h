// A whole `tuna train` run from a config: base model (+ load_in_4bit), data, LoRA adapters,
// the Trainer loop with logging (console + output_dir/metrics.jsonl), evaluation, checkpoints
// (output_dir/checkpoint-N, written into a temporary directory and renamed, save_total_limit),
// and the final adapter + trainer_state.json + train_results.json with the HF Trainer's keys.
#pragma once

#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>

#include "train/config.h"

namespace tuna {

class Model;
class Tokenizer;
struct MicroBatch;
struct TrainBatch;

// The trainer's micro-batch as the model's training step takes it.
TrainBatch to_train_batch(const MicroBatch& mb);

struct RunSummary {
  int64_t global_step = 0;
  double train_runtime = 0, train_samples_per_second = 0, train_steps_per_second = 0;
  double train_loss = 0, epoch = 0, mean_token_accuracy = 0;
  int64_t num_tokens = 0;
  double first_loss = 0, last_loss = 0;
  std::string adapter_dir;
};

// Thrown after Ctrl-C once a checkpoint is written (the CLI exits with status 130).
class TrainingInterrupted : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Runs training. `model_arg` is recorded as base_model_name_or_path. Console lines go to
// `print` (stderr by default).
RunSummary run_training(const TrainConfig& cfg, Model& model, const Tokenizer& tokenizer,
                        const std::string& model_arg,
                        const std::function<void(const std::string&)>& print = {});

}  // namespace tuna
