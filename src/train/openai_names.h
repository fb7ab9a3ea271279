// The OpenAI fine-tuning API's parameter names (fine_tuning.jobs.create: training_file,
// hyperparameters.n_epochs, ...) and the Hugging Face / tuna key each corresponds to, with a
// word where the meaning differs. One table: the config loader's did-you-mean uses it, and a
// server speaking OpenAI's API can map requests with it. Does not read configs itself.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace tuna {

struct OpenAiName {
  const char* openai;       // OpenAI's name, e.g. "n_epochs"
  const char* hf;           // the Hugging Face / tuna config key, e.g. "num_train_epochs"
  const char* differs;      // "" when the meaning is the same; else what differs and what to write
  bool in_hyperparameters;  // OpenAI nests it in `hyperparameters: {...}`
};

// Every OpenAI fine-tuning name with a tuna counterpart (model and seed are spelled alike).
const std::vector<OpenAiName>& openai_fine_tuning_names();
// The entry for `name`, or nullptr.
const OpenAiName* find_openai_name(std::string_view name);
// "did you mean 'num_train_epochs'? (n_epochs is the OpenAI fine-tuning API's name; ...)".
std::string openai_name_hint(const OpenAiName& n);

}  // namespace tuna
