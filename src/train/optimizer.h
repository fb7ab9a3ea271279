// Optimizers with Hugging Face Trainer semantics on F32 CPU parameters: the `optim` names of
// transformers 4.57's OptimizerNames that tuna supports, torch.optim.AdamW / SGD update rules in
// torch's float operation order, and optimizer state save/load (optimizer.safetensors). AdamW's
// and SGD's state is one flat F32 buffer per state name; when the parameters are views of one
// flat buffer (train/param_buffer.h), AdamW and SGD update them all in one multi-tensor call. Does
// not schedule the learning rate (scheduler.h) nor clip gradients (grad_clip.h).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "train/optimizer_names.h"

namespace tuna {

// One trainable tensor. `param` and `grad` are F32, CPU, same shape; `param` is writable and
// updated in place. `name` keys its state in optimizer.safetensors.
struct TrainableParam {
  std::string name;
  Tensor param;
  Tensor grad;
  bool apply_weight_decay = true;  // hf_weight_decay_applies() decides it the way HF does
};

// TrainingArguments fields (same names and defaults) plus SGD's own options, which the HF
// Trainer leaves at torch's defaults (momentum 0).
struct OptimizerOptions {
  double learning_rate = 5e-5;  // base lr, for messages; step() takes the scheduled value
  double adam_beta1 = 0.9, adam_beta2 = 0.999, adam_epsilon = 1e-8;
  double weight_decay = 0.0;  // applied only to params with apply_weight_decay
  double momentum = 0.0, dampening = 0.0;
  bool nesterov = false;
};

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  // One update of every parameter from its current `grad`, with learning rate `lr` (the
  // scheduled value for this step, LrSchedule::lr(step)).
  virtual void step(double lr) = 0;
  int64_t steps_taken() const { return steps_; }
  const std::vector<TrainableParam>& params() const { return params_; }
  const std::string& name() const { return name_; }

  // State per parameter: AdamW "exp_avg", "exp_avg_sq"; SGD with momentum "momentum_buffer"
  // (absent until the first step, as in torch); 8-bit AdamW "state1", "state2", "absmax1",
  // "absmax2" (bitsandbytes' names; see optimizer_8bit.h).
  virtual std::vector<std::string> state_names() const = 0;
  Tensor state(const std::string& param, const std::string& state_name) const;
  // Bytes held by all state tensors (not the parameters or gradients).
  int64_t state_bytes() const;

  // optimizer.safetensors: "<param>.<state>" tensors in parameter order (F32, or as
  // state_layout() says), metadata {"format": "tuna-optimizer", "optimizer": kind, "step": N}.
  // Written atomically.
  void save(const std::string& path) const;
  // Loads a file written by save() for the same parameters (names and shapes) and optimizer
  // kind; anything else is a user error naming the file and the mismatch.
  void load(const std::string& path);

 protected:
  Optimizer(std::string name, std::vector<TrainableParam> params, OptimizerOptions options);
  // Zero-filled state tensors for every parameter; called by subclasses' constructors. A state
  // that is F32 with every parameter's shape (AdamW's exp_avg / exp_avg_sq, SGD's momentum) is
  // one flat buffer [N] in parameter order, each parameter's state a view into it.
  void allocate_state();
  // Whether state_names()[k] lives in one flat buffer (see allocate_state).
  bool state_is_flat(size_t k) const;
  // The view of params_[i] in state k's flat buffer (allocated, zero-filled, on first use).
  Tensor flat_state_view(size_t k, size_t i);
  struct StateLayout {
    DType dtype;
    Shape shape;
  };
  // What state_names()[k] of params_[i] is, in memory and in optimizer.safetensors, or nullopt
  // where that parameter has no such state. Default: F32 with the parameter's shape.
  virtual std::optional<StateLayout> state_layout(size_t i, size_t k) const;

  std::string name_;
  std::vector<TrainableParam> params_;
  OptimizerOptions options_;
  int64_t steps_ = 0;
  // state_[i][k]: state_names()[k] of params_[i]; undefined until first written where torch
  // creates it lazily (SGD's momentum buffer).
  std::vector<std::vector<Tensor>> state_;
  bool state_lazy_ = false;         // the first step defines state (SGD momentum), not zeros
  std::vector<Tensor> flat_state_;  // [N] F32 per flat state name (state_is_flat), else undefined
  std::vector<int64_t> offsets_;    // params_[i]'s first element in the flat buffers
  int64_t numel_ = 0;               // N: elements of all parameters
  // params' values and grads as [N] when they lie back to back in one buffer each
  // (train/param_buffer.h); undefined otherwise (the update then runs tensor by tensor).
  Tensor flat_params_, flat_grads_;
};

// Builds the optimizer for a TrainingArguments `optim` name. Every param must be F32 on the
// CPU with a grad of the same shape (internal error otherwise); names must be unique.
// Extension point: a new OptimizerKind gets a class (here or in its own file, like
// optimizer_8bit.h) and a case in make_optimizer.
std::unique_ptr<Optimizer> make_optimizer(const std::string& optim,
                                          std::vector<TrainableParam> params,
                                          const OptimizerOptions& options);

}  // namespace tuna
