// The rules between config keys (see config_rules.h). Each names the keys, where they were set,
// the peer whose rule it is, and how to fix it. Does not read files or models.
#include "train/config_rules.h"

#include <cmath>
#include <initializer_list>

#include "core/error.h"
#include "core/message.h"
#include "data/example.h"
#include "train/optimizer_names.h"

namespace tuna {
namespace {

using ojson = nlohmann::ordered_json;

bool is_true(const TrainConfig& c, const char* key) {
  return c.at(key).is_boolean() && c.at(key).get<bool>();
}

// "cfg.yaml line 3" or "cfg.yaml lines 3 and 9" or the two origins when they differ in source.
std::string where_both(const TrainConfig& c, const std::string& a, const std::string& b) {
  const std::string wa = c.where(a), wb = c.where(b);
  if (wa == wb || !c.origin.count(b)) return wa;  // b at its default: only a was written
  if (!c.origin.count(a)) return wb;
  const std::string line = c.source + " line ";
  if (wa.rfind(line, 0) == 0 && wb.rfind(line, 0) == 0)
    return c.source + " lines " + wa.substr(line.size()) + " and " + wb.substr(line.size());
  return wa + " and " + wb;
}

[[noreturn]] void conflict(const TrainConfig& c, const std::string& a, const std::string& b,
                           const std::string& what, const std::string& hint) {
  throw_user_error("config", where_both(c, a, b) + ": " + what, hint);
}

// lr_scheduler_kwargs: which schedules take each key (transformers 4.57's get_scheduler passes
// scheduler_specific_kwargs to these functions only; constant, constant_with_warmup and
// inverse_sqrt get none, so a key there would be ignored).
bool takes(const std::string& type, const std::string& key) {
  auto in = [&](std::initializer_list<const char*> types) {
    for (const char* t : types)
      if (type == t) return true;
    return false;
  };
  if (key == "num_cycles")
    return in({"cosine", "cosine_with_restarts", "cosine_with_min_lr", "cosine_warmup_with_min_lr",
               "warmup_stable_decay"});
  if (key == "power" || key == "lr_end") return type == "polynomial";
  if (key == "min_lr" || key == "min_lr_rate")
    return in({"cosine_with_min_lr", "cosine_warmup_with_min_lr"});
  if (key == "warmup_lr_rate") return type == "cosine_warmup_with_min_lr";
  if (key == "num_decay_steps" || key == "num_stable_steps" || key == "warmup_type" ||
      key == "decay_type" || key == "min_lr_ratio")
    return type == "warmup_stable_decay";
  return false;  // timescale: inverse_sqrt's, never passed on
}

void check_scheduler_kwargs(const TrainConfig& c) {
  const std::string type = c.at("lr_scheduler_type").get<std::string>();
  const ojson& kw = c.at("lr_scheduler_kwargs");
  const std::string t = "lr_scheduler_type";
  for (auto it = kw.begin(); it != kw.end(); ++it) {
    const std::string path = "lr_scheduler_kwargs." + it.key();
    if (!takes(type, it.key())) {
      std::vector<std::string> takers;
      for (const char* s : {"cosine", "cosine_with_restarts", "polynomial", "cosine_with_min_lr",
                            "cosine_warmup_with_min_lr", "warmup_stable_decay"})
        if (takes(s, it.key())) takers.push_back(s);
      conflict(c, path, t,
               path + " does not apply to lr_scheduler_type " + type +
                   (takers.empty() ? " (transformers' get_scheduler never passes it)"
                                   : " (it is for " + join_names(takers) + ")"),
               "remove it, or change lr_scheduler_type (transformers raises a TypeError or "
               "ignores it)");
    }
  }
  const double lr = c.at("learning_rate").get<double>();
  if (type == "cosine_with_min_lr" || type == "cosine_warmup_with_min_lr") {
    if (kw.contains("min_lr") && kw.contains("min_lr_rate"))
      conflict(c, "lr_scheduler_kwargs.min_lr", "lr_scheduler_kwargs.min_lr_rate",
               "lr_scheduler_kwargs.min_lr and lr_scheduler_kwargs.min_lr_rate are both set",
               "keep one (transformers: only one of min_lr or min_lr_rate should be set)");
    if (!kw.contains("min_lr") && !kw.contains("min_lr_rate"))
      conflict(c, t, t,
               "lr_scheduler_type " + type + " needs lr_scheduler_kwargs.min_lr or min_lr_rate",
               "e.g. lr_scheduler_kwargs: {min_lr_rate: 0.1}");
    if (kw.contains("min_lr") && kw["min_lr"].get<double>() > lr)
      conflict(c, "lr_scheduler_kwargs.min_lr", "learning_rate",
               "lr_scheduler_kwargs.min_lr (" + kw["min_lr"].dump() + ") is above learning_rate (" +
                   c.at("learning_rate").dump() + ")",
               "the floor must not exceed the peak: lower min_lr or use min_lr_rate (0..1)");
  }
  if (type == "warmup_stable_decay" && !kw.contains("num_decay_steps"))
    conflict(c, t, t,
             "lr_scheduler_type warmup_stable_decay needs lr_scheduler_kwargs.num_decay_steps",
             "e.g. lr_scheduler_kwargs: {num_decay_steps: 100}");
  if (type == "polynomial") {
    const double lr_end = kw.contains("lr_end") ? kw["lr_end"].get<double>() : 1e-7;
    if (!(lr > lr_end))
      conflict(c, kw.contains("lr_end") ? "lr_scheduler_kwargs.lr_end" : t, "learning_rate",
               "lr_scheduler_kwargs.lr_end (" +
                   (kw.contains("lr_end") ? kw["lr_end"].dump() : "1e-07") +
                   ") must be below learning_rate (" + c.at("learning_rate").dump() + ")",
               "lower lr_end or raise learning_rate (transformers: lr_end must be smaller than "
               "initial lr)");
  }
}

void check_precision_and_quantization(const TrainConfig& c) {
  if (is_true(c, "bf16") && is_true(c, "fp16"))
    conflict(c, "bf16", "fp16", "bf16 and fp16 are both true",
             "keep one (transformers: at most one of fp16 and bf16 can be true)");
  if (is_true(c, "load_in_4bit") && is_true(c, "load_in_8bit"))
    conflict(c, "load_in_4bit", "load_in_8bit", "load_in_4bit and load_in_8bit are both true",
             "keep one (BitsAndBytesConfig: only one can be used at the same time)");
}

void check_schedule_and_steps(const TrainConfig& c) {
  const double warmup_steps = c.at("warmup_steps").get<double>();
  const double warmup_ratio = c.at("warmup_ratio").get<double>();
  if (warmup_steps > 0 && warmup_ratio > 0)
    conflict(c, "warmup_steps", "warmup_ratio",
             "warmup_steps and warmup_ratio are both set: transformers would silently use "
             "warmup_steps only",
             "keep one: warmup_steps (a count, or a ratio below 1) or warmup_ratio");
  if (warmup_steps >= 1 && warmup_steps != std::floor(warmup_steps))
    conflict(c, "warmup_steps", "warmup_steps",
             "warmup_steps " + c.at("warmup_steps").dump() +
                 " is neither a whole number of steps nor a ratio below 1",
             "use an integer, or a value in (0, 1) for a fraction of the training steps");
  const std::string eval = c.at("eval_strategy").get<std::string>();
  if (eval != "no" && !c.at("eval_dataset").is_string() &&
      c.at("validation_split").get<double>() == 0)
    conflict(c, "eval_strategy", "eval_strategy",
             "eval_strategy is " + eval +
                 " but there is no validation data (no eval_dataset, "
                 "validation_split 0)",
             "set eval_dataset or validation_split (e.g. 0.1), or eval_strategy: \"no\" "
             "(transformers' Trainer refuses this too)");
}

void check_data(const TrainConfig& c) {
  for (const char* k : {"packing", "eval_packing"})
    if (is_true(c, k) && c.at("max_length").is_null())
      conflict(c, k, "max_length", std::string(k) + " needs max_length, which is null",
               "set max_length (the packed sequence length, e.g. 1024) (TRL: when packing is "
               "enabled, max_length can't be None)");
  const std::string format = c.at("dataset_format").get<std::string>();
  if (c.at("template").is_string() && format != "auto" && format != "template")
    conflict(c, "template", "dataset_format",
             "template is set but dataset_format is " + format + ", which does not use it",
             "set dataset_format: template (or auto), or remove template");
  if (c.at("template").is_string()) {
    try {
      check_template_text(c.at("template").get<std::string>());
    } catch (const Error& e) {
      throw_user_error("config", c.where("template") + ": " + e.message(), e.hint());
    }
  }
  if (format == "template" && !c.at("template").is_string())
    conflict(c, "dataset_format", "dataset_format",
             "dataset_format is template but no template is set",
             "e.g. template: \"### context: {input}\\n### question: {target}\"");
  if (is_true(c, "assistant_only_loss") && format != "auto" && format != "messages")
    conflict(c, "assistant_only_loss", "dataset_format",
             "assistant_only_loss needs conversations, but dataset_format is " + format,
             "use messages data (dataset_format: messages or auto), or completion_only_loss for "
             "prompt/completion data");
  if (is_true(c, "completion_only_loss") && format == "text")
    conflict(c, "completion_only_loss", "dataset_format",
             "completion_only_loss: true but dataset_format text has no completion",
             "use prompt/completion or alpaca data, or remove completion_only_loss");
}

void check_lora(const TrainConfig& c) {
  const bool layers = !c.at("layers_to_transform").is_null();
  const bool pattern = !c.at("layers_pattern").is_null();
  if (pattern && !layers)
    conflict(c, "layers_pattern", "layers_pattern",
             "layers_pattern is set without layers_to_transform",
             "set layers_to_transform too, or remove layers_pattern (PEFT: when layers_pattern "
             "is specified, layers_to_transform must also be specified)");
  if ((layers || pattern) && c.at("target_modules").is_string())
    conflict(c, layers ? "layers_to_transform" : "layers_pattern", "target_modules",
             std::string(layers ? "layers_to_transform" : "layers_pattern") +
                 " cannot be used when target_modules is a string (" +
                 c.at("target_modules").get<std::string>() + ")",
             "list the module names, e.g. target_modules: [q_proj, v_proj] (PEFT refuses this "
             "too)");
}

// optim: one of the optimizers tuna runs, found while reading the config (with its line).
void check_optimizer(const TrainConfig& c) {
  const std::string optim = c.at("optim").get<std::string>();
  try {
    resolve_optimizer(optim);
  } catch (const Error& e) {
    const std::string* near = closest_name(optim, supported_optimizer_names());
    throw_user_error("config", c.where("optim") + ": optim: " + e.message(),
                     (near ? "did you mean '" + *near + "'? " : std::string()) + e.hint());
  }
}

}  // namespace

bool peft_enabled(const TrainConfig& cfg) {
  const ojson& use_peft = cfg.at("use_peft");
  if (use_peft.is_boolean()) return use_peft.get<bool>();
  if (cfg.at("adapter").is_string()) return true;
  for (const ConfigKey& k : config_schema())
    if (std::string(k.section) == "lora" && cfg.has(k.key)) return true;
  throw_user_error("config",
                   cfg.where("use_peft") + ": the config names no LoRA key and no use_peft",
                   "say use_peft: true for a LoRA adapter or use_peft: false to fine-tune every "
                   "weight (as the HF Trainer does without a LoraConfig)");
}

void check_config_rules(const TrainConfig& cfg) {
  check_optimizer(cfg);
  check_precision_and_quantization(cfg);
  check_schedule_and_steps(cfg);
  check_scheduler_kwargs(cfg);
  check_data(cfg);
  check_lora(cfg);
}

}  // namespace tuna
