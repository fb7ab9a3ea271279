// The optimizer-step loop with the Hugging Face Trainer's semantics: micro-batches of
// per_device_train_batch_size rows, gradient_accumulation_steps of them per optimizer step, the
// loss normalised by the label tokens of the whole accumulated batch (transformers 4.57's
// num_items_in_batch: labels != -100 counted on the unshifted labels), clip_grad_norm, the LR
// schedule, the optimizer, and per-step metrics as the Trainer logs them. What computes the
// gradients is a callback (model/ provides it), so the loop knows nothing about architectures.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "data/example.h"
#include "train/optimizer.h"
#include "train/scheduler.h"

namespace tuna {

// A micro-batch, right-padded to its longest row (packed rows: its longest packed sequence).
struct MicroBatch {
  Tensor input_ids;       // [B, T] I32 (pad_token_id in the padding)
  Tensor attention_mask;  // [B, T] I32 (1 real, 0 padding)
  Tensor labels;          // [B, T] I32 (-100 in the padding)
  // [B, T] I32 when the rows are packed (position within each sample, 0 in the padding as TRL
  // pads), else undefined (0..T-1).
  Tensor position_ids;
  int64_t rows = 0;
};

// What the gradient callback returns for one micro-batch.
struct MicroStats {
  double loss_sum = 0;  // sum of token losses (natural log)
  int64_t counted = 0;  // tokens scored
  int64_t correct = 0;  // of which the argmax was the label (TRL's mean_token_accuracy)
};

// Computes loss and gradients of one micro-batch, adding `grad_scale` × d(loss_sum) into the
// trainable parameters' grads. `step` and `micro` identify the micro-batch (dropout streams).
using GradientFn =
    std::function<MicroStats(const MicroBatch& batch, float grad_scale, int64_t step, int micro)>;

// TrainingArguments fields (same names and defaults where they apply).
struct TrainerArgs {
  int64_t per_device_train_batch_size = 8;
  int64_t gradient_accumulation_steps = 1;
  double num_train_epochs = 3.0;
  int64_t max_steps = -1;  // > 0 overrides num_train_epochs
  double learning_rate = 5e-5;
  std::string lr_scheduler_type = "linear";
  ScheduleKwargs lr_scheduler_kwargs;
  double warmup_steps = 0, warmup_ratio = 0;
  double max_grad_norm = 1.0;
  std::string optim = "adamw_torch_fused";
  OptimizerOptions optimizer;  // adam_beta1/2, adam_epsilon, weight_decay, ...
  int32_t pad_token_id = 0;
  // >= 0: each epoch visits the rows in a seeded permutation (dataset_prep.h
  // seeded_permutation(n, shuffle_seed, epoch)); < 0: in the given order (as a SequentialSampler).
  int64_t shuffle_seed = -1;
  // Resuming: the optimizer steps already taken (the data position, schedule and dropout streams
  // follow from it) and the input tokens seen by then.
  int64_t start_step = 0;
  int64_t start_tokens = 0;
};

// Per optimizer step, as the Trainer logs it (plus the exact loss, unrounded).
struct StepLog {
  int64_t step = 0;          // 1-based global_step after the update
  double loss = 0;           // accumulated loss sum / num_items_in_batch
  double grad_norm = 0;      // before clipping
  double lr_used = 0;        // the learning rate of this update
  double learning_rate = 0;  // what HF logs: the scheduler's lr after stepping
  double epoch = 0;
  bool epoch_end = false;  // the last update of an epoch (save/eval strategy "epoch")
  int64_t num_items_in_batch = 0;
  int64_t num_tokens = 0;          // input tokens (attention_mask) seen so far
  double mean_token_accuracy = 0;  // correct / counted of this step
};

class Trainer {
 public:
  Trainer(TrainerArgs args, std::vector<TrainableParam> params, GradientFn gradients);

  // Steps over `rows` in their order, repeating epochs, until max_steps (or num_train_epochs).
  // `on_step` (optional) sees every step's log. Returns all logs.
  std::vector<StepLog> train(const std::vector<TrainRow>& rows,
                             const std::function<void(const StepLog&)>& on_step = {});

  // Optimizer steps of the run: max_steps, else ceil(num_train_epochs × updates_per_epoch).
  int64_t total_steps(size_t n_rows) const;
  // Updates one epoch makes: full accumulations plus a short one for the remainder (HF's loop).
  int64_t updates_per_epoch(size_t n_rows) const;
  Optimizer& optimizer() { return *optimizer_; }

 private:
  TrainerArgs args_;
  std::vector<TrainableParam> params_;
  GradientFn gradients_;
  std::unique_ptr<Optimizer> optimizer_;
};

// Right-pads rows[first, first + n) — or rows[(*order)[first ...]] when an order is given — into
// a micro-batch.
MicroBatch collate(const std::vector<TrainRow>& rows, size_t first, size_t n, int32_t pad_id,
                   const std::vector<size_t>* order = nullptr);

struct TrainBatch;  // model/train_step.h
// The micro-batch as the model's training step (forward_backward) takes it.
TrainBatch to_train_batch(const MicroBatch& mb);

}  // namespace tuna
