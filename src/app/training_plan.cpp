// Planning a training job (see training_plan.h).
#include "app/training_plan.h"

#include <algorithm>

#include "core/error.h"
#include "model/model.h"
#include "model/train_step.h"
#include "tokenizer/tokenizer.h"
#include "train/special_tokens.h"
#include "train/trainable_set.h"

namespace tuna {

using ojson = nlohmann::ordered_json;

TrainingPlan plan_training(const TrainConfig& cfg, const Tokenizer& tok) {
  TrainingPlan p;
  TrainerArgs& ta = p.trainer;
  ta.per_device_train_batch_size = cfg.at("per_device_train_batch_size").get<int64_t>();
  ta.gradient_accumulation_steps = cfg.at("gradient_accumulation_steps").get<int64_t>();
  ta.num_train_epochs = cfg.at("num_train_epochs").get<double>();
  ta.max_steps = cfg.at("max_steps").get<int64_t>();
  ta.learning_rate = cfg.at("learning_rate").get<double>();
  ta.lr_scheduler_type = cfg.at("lr_scheduler_type").get<std::string>();
  ta.lr_scheduler_kwargs = schedule_kwargs(cfg);
  ta.warmup_steps = cfg.at("warmup_steps").get<double>();
  ta.warmup_ratio = cfg.at("warmup_ratio").get<double>();
  ta.max_grad_norm = cfg.at("max_grad_norm").get<double>();
  ta.optim = cfg.at("optim").get<std::string>();
  ta.optimizer.learning_rate = ta.learning_rate;
  ta.optimizer.weight_decay = cfg.at("weight_decay").get<double>();
  ta.optimizer.adam_beta1 = cfg.at("adam_beta1").get<double>();
  ta.optimizer.adam_beta2 = cfg.at("adam_beta2").get<double>();
  ta.optimizer.adam_epsilon = cfg.at("adam_epsilon").get<double>();
  ta.pad_token_id = run_pad_id(cfg, tok);
  ta.shuffle_seed = cfg.at("data_seed").is_number() ? cfg.at("data_seed").get<int64_t>()
                                                    : cfg.at("seed").get<int64_t>();

  p.logging_strategy = cfg.at("logging_strategy").get<std::string>();
  p.eval_strategy = cfg.at("eval_strategy").get<std::string>();
  p.save_strategy = cfg.at("save_strategy").get<std::string>();
  p.logging_steps = cfg.at("logging_steps").get<int64_t>();
  p.eval_steps =
      cfg.at("eval_steps").is_number() ? cfg.at("eval_steps").get<int64_t>() : p.logging_steps;
  p.save_steps = cfg.at("save_steps").get<int64_t>();
  p.eval_batch_size = static_cast<size_t>(cfg.at("per_device_eval_batch_size").get<int64_t>());
  p.gradient_checkpointing = cfg.at("gradient_checkpointing").get<bool>();
  p.seed = static_cast<uint64_t>(cfg.at("seed").get<int64_t>());
  if (cfg.at("save_total_limit").is_number())
    p.save_total_limit = cfg.at("save_total_limit").get<size_t>();
  return p;
}

DeviceChoice choose_training_device(const TrainConfig& cfg, bool gpu_visible) {
  DeviceChoice d;
  if (cfg.at("use_cpu").get<bool>())
    d.line = "device: CPU (use_cpu: true)";
  else if (gpu_visible)
    d.line =
        "device: CPU — a GPU is visible, but tuna does not train on GPUs yet (use_cpu: true says "
        "CPU on purpose)";
  else
    d.line = "device: CPU (no GPU visible to this build)";
  return d;
}

MemoryEstimate estimate_job_memory(const TrainingPlan& plan, const Model& model,
                                   const TrainableSet& ts, const std::vector<TrainRow>& train) {
  const TrainerArgs& ta = plan.trainer;
  size_t longest = 1;
  for (const TrainRow& r : train) longest = std::max(longest, r.input_ids.size());
  const OptimizerChoice oc = resolve_optimizer(ta.optim);
  int64_t base_trainable_numel = 0;  // full FT / modules_to_save / biases: master + grad + state
  for_each_weight_slot(
      ts.grads, [&](const std::string&, const Tensor& g) { base_trainable_numel += g.numel(); });
  return estimate_training_memory(
      model, ts.adapters,
      static_cast<int64_t>(longest) *
          std::min<int64_t>(ta.per_device_train_batch_size, static_cast<int64_t>(train.size())),
      plan.gradient_checkpointing,
      oc.kind == OptimizerKind::ADAMW_8BIT ? 2.03
      : oc.kind == OptimizerKind::SGD      ? 4.0
                                           : 8.0,
      base_trainable_numel,
      (model.spec().tied_embeddings ? ts.grads.embed : ts.grads.lm_head).defined());
}

void check_memory_fits(const MemoryEstimate& need) {
  if (const int64_t avail = available_memory_bytes(); avail > 0 && need.total() > avail)
    throw_user_error("train",
                     "this run needs about " + need.describe() + " but " +
                         std::to_string(avail >> 20) + " MiB are available",
                     "lower per_device_train_batch_size (raise gradient_accumulation_steps to "
                     "keep the batch), lower max_length, or set gradient_checkpointing: true");
}

}  // namespace tuna
