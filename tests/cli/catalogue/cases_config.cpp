// Bad-input catalogue, area "config": YAML config keys: unknown keys (top level and inside every nested mapping), wrong types, out-of-range values, contradictory settings.
// Each case: see catalogue.h.
#include "cli/catalogue/catalogue.h"

namespace tuna_test::catalogue {

std::vector<BadInput> config_cases() {
  std::vector<BadInput> cases;
  cases.push_back({.id = "config.top_level_key_typo",
                   .what = "a misspelled top-level key",
                   .args = "train {dir}/c.yaml",
                   .files = {{"c.yaml", "model: {gguf}\nlearnig_rate: 1e-4\n"}},
                   .expect = {"learnig_rate", "did you mean 'learning_rate'"}});
  cases.push_back({.id = "config.lora_dropout_above_one",
                   .what = "lora_dropout outside [0, 1)",
                   .args = "train {dir}/c.yaml",
                   .files = {{"c.yaml", "model: {gguf}\nlora_dropout: 2\n"}},
                   .expect = {"lora_dropout", "between 0 and 1"}});
  return cases;
}

}  // namespace tuna_test::catalogue
