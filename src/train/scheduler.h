// Learning-rate schedules with transformers' semantics: every SchedulerType of transformers
// 4.57 except reduce_lr_on_plateau, as the LambdaLR multipliers of optimization.py computed in
// double precision in the same operation order, and TrainingArguments.get_warmup_steps.
// Does not touch an optimizer: the trainer passes lr(step) to Optimizer::step().
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace tuna {

enum class ScheduleKind : uint8_t {
  LINEAR,
  COSINE,
  COSINE_WITH_RESTARTS,
  POLYNOMIAL,
  CONSTANT,
  CONSTANT_WITH_WARMUP,
  INVERSE_SQRT,
  COSINE_WITH_MIN_LR,
  COSINE_WARMUP_WITH_MIN_LR,
  WARMUP_STABLE_DECAY,
};

// lr_scheduler_kwargs (transformers' scheduler_specific_kwargs); unset means the function's
// default. Each applies to the schedules whose function takes it; a key another schedule does
// not take is a user error (transformers raises TypeError). As in transformers 4.57's
// get_scheduler, constant, constant_with_warmup and inverse_sqrt ignore every kwarg (so
// inverse_sqrt's timescale is always its default: the warmup steps, or 10000 without warmup).
struct ScheduleKwargs {
  std::optional<double> num_cycles{};             // cosine* 0.5; cosine_with_restarts 1; wsd 0.5
  std::optional<double> power{};                  // polynomial 1.0
  std::optional<double> lr_end{};                 // polynomial 1e-7
  std::optional<double> min_lr{}, min_lr_rate{};  // cosine*_with_min_lr: exactly one
  std::optional<double> warmup_lr_rate{};         // cosine_warmup_with_min_lr
  std::optional<int64_t> num_decay_steps{};       // warmup_stable_decay (required)
  std::optional<int64_t> num_stable_steps{};      // warmup_stable_decay
  std::optional<std::string> warmup_type{};       // warmup_stable_decay: linear|cosine|1-sqrt
  std::optional<std::string> decay_type{};        // warmup_stable_decay: linear|cosine|1-sqrt
  std::optional<double> min_lr_ratio{};           // warmup_stable_decay 0
};

// TrainingArguments.get_warmup_steps: `warmup_steps` when ≥ 1 (it must then be a whole number);
// when 0 < warmup_steps < 1 it is a ratio (transformers ≥ 5 semantics): ceil(total · value);
// when 0, ceil(total · warmup_ratio). warmup_steps wins when both are set, as in transformers.
// Negative values or warmup_ratio outside [0, 1] are user errors.
int64_t hf_warmup_steps(double warmup_steps, double warmup_ratio, int64_t num_training_steps);

class LrSchedule {
 public:
  // `type` is lr_scheduler_type; unknown or unsupported names and invalid kwargs are user
  // errors. `learning_rate` is the optimizer's base lr.
  LrSchedule(const std::string& type, double learning_rate, int64_t num_warmup_steps,
             int64_t num_training_steps, const ScheduleKwargs& kwargs = {});

  // LambdaLR's lambda at optimizer step `step` (0-based: the first update uses multiplier(0)).
  double multiplier(int64_t step) const;
  // The learning rate of optimizer step `step`: base_lr · multiplier(step), as LambdaLR.
  double lr(int64_t step) const { return learning_rate_ * multiplier(step); }

  ScheduleKind kind() const { return kind_; }
  int64_t warmup_steps() const { return warmup_; }

 private:
  ScheduleKind kind_;
  double learning_rate_;
  int64_t warmup_, total_;
  double num_cycles_ = 0.5, power_ = 1.0, lr_end_ = 1e-7, min_lr_rate_ = 0.0, min_lr_ratio_ = 0;
  std::optional<double> warmup_lr_rate_{};
  int64_t timescale_ = 0, stable_ = 0, decay_ = 0;
  int warmup_shape_ = 0, decay_shape_ = 0;  // wsd: 0 linear, 1 cosine, 2 1-sqrt
};

// The lr_scheduler_type names LrSchedule accepts.
const std::vector<std::string>& supported_schedule_names();

}  // namespace tuna
