// The OpenAI fine-tuning name table (see openai_names.h). Meanings from OpenAI's fine-tuning API
// reference (fine_tuning.jobs.create) against transformers' TrainingArguments.
#include "train/openai_names.h"

namespace tuna {

const std::vector<OpenAiName>& openai_fine_tuning_names() {
  static const std::vector<OpenAiName> names = {
      {"model", "model", "", false},
      {"training_file", "dataset",
       "OpenAI takes the id of an uploaded file; tuna reads a local JSONL, JSON or CSV file",
       false},
      {"validation_file", "eval_dataset",
       "OpenAI takes the id of an uploaded file; tuna reads a local file", false},
      {"n_epochs", "num_train_epochs", "", true},
      {"batch_size", "per_device_train_batch_size",
       "the same with one device and gradient_accumulation_steps 1", true},
      {"learning_rate_multiplier", "learning_rate",
       "OpenAI's value multiplies OpenAI's own base learning rate and is not a learning rate: set "
       "learning_rate itself (TRL's default 2e-5; LoRA runs often use 1e-4 to 2e-4)",
       true},
      {"suffix", "output_dir",
       "OpenAI adds the suffix to the fine-tuned model's name; tuna writes the result to the "
       "directory output_dir names",
       false},
      {"seed", "seed", "", false},
  };
  return names;
}

const OpenAiName* find_openai_name(std::string_view name) {
  for (const OpenAiName& n : openai_fine_tuning_names())
    if (name == n.openai) return &n;
  return nullptr;
}

std::string openai_name_hint(const OpenAiName& n) {
  std::string differs = n.differs;
  return "did you mean '" + std::string(n.hf) + "'? (" + n.openai +
         " is the OpenAI fine-tuning API's name" +
         (differs.empty() ? std::string("; the meaning is the same") : "; " + differs) + ")";
}

}  // namespace tuna
