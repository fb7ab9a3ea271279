// `tuna train` configs: flat and sectioned YAML, aliases, defaults (TRL SFTConfig / PEFT /
// BitsAndBytesConfig), overrides, and each documented error (unknown key with did-you-mean, wrong
// type, out of range, not supported yet) as a user error naming file, line and key.
#include <gtest/gtest.h>

#include <fstream>

#include "core/error.h"
#include "test_util.h"
#include "train/config.h"

namespace tuna {
namespace {

void expect_config_error(const std::string& yaml, std::initializer_list<std::string> fragments,
                         const std::vector<std::string>& overrides = {}) {
  try {
    parse_train_config(yaml, "cfg.yaml", overrides);
    FAIL() << "accepted:\n" << yaml;
  } catch (const Error& e) {
    EXPECT_EQ(e.exit_status(), 2);
    for (const auto& f : fragments)
      EXPECT_NE(std::string(e.what()).find(f), std::string::npos)
          << "missing '" << f << "' in " << e.what();
  }
}

TEST(TrainConfig, FlatWithAliasesAndDefaults) {
  TrainConfig c = parse_train_config(R"(
model: models/gemma-3-270m-q4_k_m.gguf
dataset: data/koalpaca.jsonl
lr: 2e-4
batch_size: 4
gradient_accumulation_steps: 4
num_train_epochs: 3
target_modules: [q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj]
load_in_4bit: true
bnb_4bit_quant_type: nf4
)",
                                     "cfg.yaml");
  EXPECT_EQ(c.at("learning_rate").get<double>(), 2e-4);
  EXPECT_EQ(c.at("per_device_train_batch_size").get<int64_t>(), 4);
  EXPECT_EQ(c.at("target_modules").size(), 7u);
  EXPECT_TRUE(c.has("learning_rate"));
  EXPECT_FALSE(c.has("seed"));
  // Defaults: SFTConfig overrides, TrainingArguments, PEFT, BitsAndBytesConfig.
  EXPECT_EQ(c.at("logging_steps").get<int64_t>(), 10);
  EXPECT_EQ(c.at("max_length").get<int64_t>(), 1024);
  EXPECT_TRUE(c.at("gradient_checkpointing").get<bool>());
  EXPECT_EQ(c.at("optim").get<std::string>(), "adamw_torch_fused");
  EXPECT_EQ(c.at("r").get<int64_t>(), 8);
  EXPECT_EQ(c.at("bias").get<std::string>(), "none");
  EXPECT_FALSE(c.at("bnb_4bit_use_double_quant").get<bool>());
  EXPECT_TRUE(c.at("target_modules").is_array());
  EXPECT_EQ(c.section("lora")["lora_alpha"].get<int64_t>(), 8);
}

TEST(TrainConfig, SectionedAndOverrides) {
  TrainConfig c =
      parse_train_config(R"(
model: {model: m.gguf}
lora_config:
  r: 16
  lora_alpha: 32
  lora_dropout: 0.05
  target_modules: all-linear
training_args:
  max_steps: 30
  lr_scheduler_type: cosine
  lr_scheduler_kwargs: {num_cycles: 0.25}
)",
                         "cfg.yaml", {"max_steps=5", "lr=1e-3", "target_modules=[q_proj, v_proj]"});
  EXPECT_EQ(c.at("r").get<int64_t>(), 16);
  EXPECT_EQ(c.at("max_steps").get<int64_t>(), 5);
  EXPECT_EQ(c.at("learning_rate").get<double>(), 1e-3);
  EXPECT_EQ(c.at("target_modules").size(), 2u);
  EXPECT_EQ(c.at("lr_scheduler_kwargs")["num_cycles"].get<double>(), 0.25);
  EXPECT_EQ(c.at("model").get<std::string>(), "m.gguf");
}

TEST(TrainConfig, ErrorsNameFileLineAndKey) {
  expect_config_error(
      "learning_rate: 1e-4\nlearnig_rate: 2e-4\n",
      {"cfg.yaml line 2", "unknown key 'learnig_rate'", "did you mean 'learning_rate'"});
  expect_config_error(
      "per_device_train_batch_size: four\n",
      {"cfg.yaml line 1", "per_device_train_batch_size", "expected an integer", "'four'"});
  expect_config_error("lora_dropout: 1.5\n", {"lora_dropout", "between 0 and 1"});
  expect_config_error("lr_scheduler_type: cosin\n", {"'cosin' is not one of", "cosine"});
  expect_config_error("bias: some\n", {"none|all|lora_only"});
  expect_config_error("push_to_hub: true\n", {"not supported yet: push_to_hub"});
  expect_config_error("lora:\n  learning_rate: 1\n", {"belongs in the 'training' section"});
  expect_config_error("lr: 1\nlearning_rate: 2\n", {"set twice"});
  expect_config_error("a: [1, 2\n", {"invalid YAML"});
  expect_config_error("- 1\n- 2\n", {"must be a mapping"});
  expect_config_error("", {"max_steps"}, {"max_steps=lots"});
  expect_config_error("", {"not KEY=VALUE"}, {"max_steps"});
  // Known names at their default are fine (a Python script ported line by line).
  EXPECT_NO_THROW(parse_train_config("push_to_hub: false\nreport_to: none\n", "cfg.yaml"));
}

TEST(TrainConfig, DocsTableIsCurrent) {
  std::string doc = tuna_test::read_file(std::string(TUNA_GOLDEN_DIR) + "/../../docs/config.md");
  EXPECT_NE(doc.find(config_schema_markdown()), std::string::npos)
      << "docs/config.md's key table is stale: paste config_schema_markdown() into it";
}

}  // namespace
}  // namespace tuna
