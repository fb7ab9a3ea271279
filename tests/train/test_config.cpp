// `tuna train` configs: flat and sectioned YAML, aliases, defaults (TRL SFTConfig / PEFT /
// BitsAndBytesConfig), overrides, and each documented error (unknown key with did-you-mean, wrong
// type, out of range, not supported yet) as a user error naming file, line and key.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "test_util.h"
#include "train/config.h"
#include "train/config_rules.h"

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

// Every mapping-valued key is checked like the top level: names (with did-you-mean and the
// path), types, ranges, duplicates; and every accepted key reaches the schedule.
TEST(TrainConfig, NestedMappingsAreValidatedLikeTopLevelKeys) {
  expect_config_error(
      "lr_scheduler_type: cosine_with_min_lr\nlr_scheduler_kwargs: {min_lr_rat: 0.1}\n",
      {"cfg.yaml line 2", "lr_scheduler_kwargs.min_lr_rat", "did you mean 'min_lr_rate'"});
  expect_config_error("training:\n  lr_scheduler_kwargs:\n    num_cycle: 1\n",
                      {"cfg.yaml line 3", "lr_scheduler_kwargs.num_cycle", "'num_cycles'"});
  expect_config_error("lr_scheduler_kwargs: {num_cycles: [1]}\n",
                      {"lr_scheduler_kwargs.num_cycles", "expected a number"});
  expect_config_error("lr_scheduler_kwargs: {num_decay_steps: 2.5}\n",
                      {"lr_scheduler_kwargs.num_decay_steps", "whole number"});
  expect_config_error("lr_scheduler_kwargs:\n  power: 2\n  power: 3\n",
                      {"cfg.yaml line 3", "lr_scheduler_kwargs.power", "appears twice"});
  expect_config_error("lr_scheduler_kwargs: [1, 2]\n", {"expected a mapping"});
  expect_config_error("gradient_checkpointing_kwargs: {use_reentrant: maybe}\n",
                      {"gradient_checkpointing_kwargs.use_reentrant", "true or false"});
  expect_config_error("gradient_checkpointing_kwargs: {debug: true}\n",
                      {"not supported yet: gradient_checkpointing_kwargs.debug"});
  expect_config_error("", {"command-line override", "lr_scheduler_kwargs.min_lr_rat"},
                      {"lr_scheduler_kwargs.min_lr_rat=0.1"});
  expect_config_error("quantization:\n  bnb_4bit_quant_typ: nf4\n",
                      {"cfg.yaml line 2", "did you mean 'bnb_4bit_quant_type'"});
  expect_config_error("peft: 16\n", {"cfg.yaml line 1", "peft", "is a section"});

  // Accepted: every schedule's own keys reach ScheduleKwargs; a JSON string (transformers'
  // command-line form) and dotted overrides work; use_reentrant takes either value.
  TrainConfig wsd = parse_train_config(
      "lr_scheduler_type: warmup_stable_decay\n"
      "lr_scheduler_kwargs: {num_decay_steps: 10, num_stable_steps: 5, warmup_type: cosine, "
      "decay_type: 1-sqrt, min_lr_ratio: 0.1, num_cycles: 0.5}\n"
      "gradient_checkpointing_kwargs: {use_reentrant: false}\nlora:\n",
      "cfg.yaml", {"lr_scheduler_kwargs.num_stable_steps=7"});
  ScheduleKwargs kw = schedule_kwargs(wsd);
  EXPECT_EQ(kw.num_decay_steps, 10);
  EXPECT_EQ(kw.num_stable_steps, 7);
  EXPECT_EQ(kw.warmup_type, "cosine");
  EXPECT_EQ(kw.decay_type, "1-sqrt");
  EXPECT_EQ(kw.min_lr_ratio, 0.1);
  TrainConfig min_lr = parse_train_config(
      "lr_scheduler_type: cosine_warmup_with_min_lr\n"
      "lr_scheduler_kwargs: '{\"min_lr_rate\": 0.1, \"warmup_lr_rate\": 0.2}'\n",
      "cfg.yaml");
  kw = schedule_kwargs(min_lr);
  EXPECT_EQ(kw.min_lr_rate, 0.1);
  EXPECT_EQ(kw.warmup_lr_rate, 0.2);
  EXPECT_EQ(min_lr.where("lr_scheduler_kwargs.min_lr_rate"), "cfg.yaml line 2");
}

// Contradictory settings are refused as the peers refuse them, naming both keys and lines.
TEST(TrainConfig, ContradictionsNameBothKeys) {
  expect_config_error("bf16: true\nfp16: true\n",
                      {"cfg.yaml lines 1 and 2", "bf16 and fp16 are both true"});
  expect_config_error("bf16: true\n", {"command-line override 'fp16=1'", "bf16 and fp16"},
                      {"fp16=1"});
  expect_config_error("load_in_4bit: true\nload_in_8bit: true\n",
                      {"load_in_4bit and load_in_8bit are both true"});
  expect_config_error("warmup_steps: 5\nwarmup_ratio: 0.1\n", {"warmup_steps and warmup_ratio"});
  expect_config_error("eval_strategy: epoch\n", {"eval_strategy is epoch", "no validation data"});
  expect_config_error("packing: true\nmax_length: null\n", {"packing needs max_length"});
  expect_config_error("eval_packing: true\nmax_length: null\n", {"eval_packing needs max_length"});
  expect_config_error("layers_pattern: layers\n", {"layers_pattern is set without"});
  expect_config_error("target_modules: all-linear\nlayers_to_transform: 3\n",
                      {"layers_to_transform cannot be used when target_modules is a string"});
  expect_config_error("template: \"{a}\"\ndataset_format: messages\n",
                      {"template is set but dataset_format is messages"});
  expect_config_error("dataset_format: template\n", {"no template is set"});
  // The template's own checks run at load, before a model loads, naming file and line.
  expect_config_error("r: 8\ntemplate: \"### answer: {answer}\\n{cot?}\"\n",
                      {"cfg.yaml line 2: template: the last field {cot?}", "cannot be optional"});
  expect_config_error("template: \"{question} {\"\n",
                      {"cfg.yaml line 1: template:", "never closed"});
  expect_config_error("assistant_only_loss: true\ndataset_format: alpaca\n",
                      {"assistant_only_loss needs conversations"});
  expect_config_error("completion_only_loss: true\ndataset_format: text\n", {"no completion"});
  expect_config_error(
      "lr_scheduler_kwargs: {num_cycles: 1}\n",
      {"lr_scheduler_kwargs.num_cycles does not apply to lr_scheduler_type linear", "cosine"});
  expect_config_error("lr_scheduler_type: inverse_sqrt\nlr_scheduler_kwargs: {timescale: 10}\n",
                      {"never passes it"});
  expect_config_error(
      "lr_scheduler_type: cosine_with_min_lr\nlr_scheduler_kwargs: {min_lr: 0, min_lr_rate: 0}\n",
      {"are both set"});
  expect_config_error("lr_scheduler_type: cosine_warmup_with_min_lr\n", {"needs"});
  expect_config_error("lr_scheduler_type: warmup_stable_decay\n", {"num_decay_steps"});
  expect_config_error("lr_scheduler_type: polynomial\nlearning_rate: 1e-8\n",
                      {"lr_end", "below learning_rate"});
  expect_config_error("optim: adamw_8bt\n",
                      {"cfg.yaml line 1", "optim", "did you mean 'adamw_8bit'"});
  // Accepted as the peers accept them.
  EXPECT_NO_THROW(parse_train_config("max_steps: 5\nnum_train_epochs: 2\n", "cfg.yaml"));
  EXPECT_NO_THROW(parse_train_config("eval_steps: 5\nsave_strategy: epoch\nsave_steps: 9\n", "c"));
  EXPECT_NO_THROW(parse_train_config("load_in_4bit: false\nbnb_4bit_quant_type: nf4\n", "c"));
  EXPECT_NO_THROW(parse_train_config("eval_strategy: steps\nvalidation_split: 0.1\n", "c"));
  EXPECT_NO_THROW(parse_train_config("bf16: true\nfp16: false\n", "c"));
}

// use_peft unset: LoRA when a lora key or adapter says so; otherwise `tuna train` asks (the HF
// Trainer without a LoraConfig trains every weight, tuna used to train LoRA): exit 2, one line.
TEST(TrainConfig, UsePeftWithoutLoraKeysIsAsked) {
  auto peft = [](const std::string& yaml, const std::vector<std::string>& overrides = {}) {
    return peft_enabled(parse_train_config(yaml, "cfg.yaml", overrides));
  };
  for (const std::string yaml : {"model: m\n", "model: m\nlora:\n  # r: 8\n", "use_peft: null\n"}) {
    try {
      peft(yaml);
      FAIL() << "accepted:\n" << yaml;
    } catch (const Error& e) {
      EXPECT_EQ(e.exit_status(), 2);
      const std::string m = e.what();
      EXPECT_EQ(m.rfind("[config] cfg.yaml", 0), 0u) << m;
      EXPECT_NE(m.find("the config names no LoRA key and no use_peft"), std::string::npos) << m;
      EXPECT_NE(m.find("say use_peft: true for a LoRA adapter or use_peft: false to fine-tune "
                       "every weight (as the HF Trainer does without a LoraConfig)"),
                std::string::npos)
          << m;
      EXPECT_EQ(m.find('\n'), std::string::npos) << m;
    }
  }
  EXPECT_TRUE(peft("use_peft: true\n"));
  EXPECT_FALSE(peft("use_peft: false\n"));
  EXPECT_FALSE(peft("model: m\n", {"use_peft=false"}));
  EXPECT_TRUE(peft("model: m\n", {"use_peft=true"}));
  EXPECT_TRUE(peft("lora:\n  r: 16\n"));
  EXPECT_TRUE(peft("lora_dropout: 0.1\n"));
  EXPECT_TRUE(peft("model: m\n", {"lora.target_modules=all-linear"}));
  EXPECT_TRUE(peft("adapter: out/run1\n"));
  EXPECT_FALSE(peft("use_peft: false\nlearning_rate: 2e-5\n"));
  EXPECT_TRUE(parse_train_config("model: m\n", "c").at("use_peft").is_null());  // honest default
}

// The type rules of docs/config.md: transformers' command-line parser, strictly.
TEST(TrainConfig, TypesAreNotCoerced) {
  TrainConfig c = parse_train_config("packing: yes\nuse_cpu: 1\nskip_invalid: off\n", "c");
  EXPECT_TRUE(c.at("packing").get<bool>());
  EXPECT_TRUE(c.at("use_cpu").get<bool>());
  EXPECT_FALSE(c.at("skip_invalid").get<bool>());
  expect_config_error("packing: \"false\"\n",
                      {"packing", "the string \"false\"", "without quotes"});
  expect_config_error("packing: 2\n", {"expected true or false"});
  expect_config_error("max_steps: 3.7\n", {"max_steps", "expected a whole number"});
  expect_config_error("max_steps: 10.0\n", {"expected a whole number", "e.g. 10"});
  expect_config_error("max_steps: \"10\"\n", {"the string \"10\""});
  expect_config_error("max_steps: 1e400\n", {"max_steps"});
  expect_config_error("learning_rate: \"2e-4\"\n", {"learning_rate", "without quotes"});
  expect_config_error("learning_rate: [1e-4]\n", {"got a list"});
  expect_config_error("learning_rate: {x: 1}\n", {"got a mapping"});
  expect_config_error("output_dir: [a, b]\n", {"output_dir", "expected a string"});
  expect_config_error("lr_scheduler_type: COSINE\n", {"did you mean 'cosine'"});
  expect_config_error("layers_to_transform: [1, \"2\"]\n", {"layers_to_transform"});
  EXPECT_EQ(parse_train_config("learning_rate: 3\n", "c").at("learning_rate").get<double>(), 3.0);
}

// Every numeric key (and every numeric key inside a mapping) at 0, negative, NaN, infinity and
// garbage: accepted exactly when its documented range holds, else an error naming the key —
// in the file and as a command-line override alike.
TEST(TrainConfig, EveryNumericKeyAtItsExtremes) {
  struct Key {
    std::string path;
    const ConfigKey* k;
  };
  std::vector<Key> keys;
  for (const ConfigKey& k : config_schema()) {
    if (k.type == ConfigType::INT || k.type == ConfigType::FLOAT ||
        k.type == ConfigType::OPTIONAL_INT)
      keys.push_back({k.key, &k});
    if (const auto* nested = nested_config_schema(k.key))
      for (const ConfigKey& n : *nested)
        if (n.type == ConfigType::INT || n.type == ConfigType::FLOAT)
          keys.push_back({std::string(k.key) + "." + n.key, &n});
  }
  ASSERT_GT(keys.size(), 30u);
  for (const Key& key : keys) {
    for (const std::string value : {"0", "-1", "-0.5", ".nan", ".inf", "-.inf", "abc", "1e999"}) {
      const std::string path = key.path;
      const size_t dot = path.find('.');
      const std::string yaml =
          dot == std::string::npos
              ? path + ": " + value + "\n"
              : path.substr(0, dot) + ": {" + path.substr(dot + 1) + ": " + value + "}\n";
      for (bool override : {false, true}) {
        try {
          if (override)
            parse_train_config("", "cfg.yaml", {path + "=" + value});
          else
            parse_train_config(yaml, "cfg.yaml");
          // Accepted: only finite numbers inside the range (0 / -1 where documented).
          const std::string allowed = key.k->allowed;
          EXPECT_TRUE(value == "0" || value == "-1" || value == "-0.5") << path << "=" << value;
          if (value == "-0.5") {
            EXPECT_EQ(key.k->type, ConfigType::FLOAT) << path;
          }
          if (value == "0") {
            EXPECT_TRUE(allowed != ">0" && allowed != "-1 or >0") << path;
          }
          if (value == "-1") {
            EXPECT_TRUE(allowed.empty() || allowed == "-1 or >0") << path;
          }
          if (value == "-0.5") {
            EXPECT_TRUE(allowed.empty()) << path;
          }
        } catch (const Error& e) {
          // Refused: a user error naming the key (rules between keys may name it too).
          EXPECT_EQ(e.exit_status(), 2) << e.what();
          const std::string leaf = path.substr(path.rfind('.') + 1);
          EXPECT_NE(std::string(e.what()).find(leaf), std::string::npos)
              << path << "=" << value << ": " << e.what();
          EXPECT_NE(std::string(e.what()).find(override ? "command-line override" : "cfg.yaml"),
                    std::string::npos)
              << e.what();
        }
      }
    }
  }
}

// The file itself: a directory, a missing path, empty, comments only, invalid UTF-8 (offset).
TEST(TrainConfig, FileProblemsAreNamed) {
  const std::string dir = ::testing::TempDir() + "tuna_config_files";
  std::filesystem::create_directories(dir);
  tuna_test::expect_user_error([&] { load_train_config(dir); }, {"is a directory"});
  tuna_test::expect_user_error([&] { load_train_config(dir + "/none.yaml"); }, {"no such file"});
  tuna_test::write_file(dir + "/empty.yaml", "");
  tuna_test::expect_user_error([&] { load_train_config(dir + "/empty.yaml"); }, {"is empty"});
  tuna_test::write_file(dir + "/comments.yaml", "# nothing\n\n");
  tuna_test::expect_user_error([&] { load_train_config(dir + "/comments.yaml"); }, {"is empty"});
  tuna_test::write_file(dir + "/latin1.yaml", "max_steps: 5\noutput_dir: caf\xe9/x\n");
  tuna_test::expect_user_error(
      [&] { load_train_config(dir + "/latin1.yaml"); },
      {"latin1.yaml: invalid UTF-8 byte 0xE9 at line 2, column 16 (byte offset 28)"});
  tuna_test::write_file(dir + "/ok.yaml", "\xef\xbb\xbfmax_steps: 5\n# caf\xc3\xa9\n");
  EXPECT_EQ(load_train_config(dir + "/ok.yaml").at("max_steps").get<int64_t>(), 5);
  expect_config_error("a: 1\n\"a\": 2\n", {"cfg.yaml line 2", "appears twice"});
  expect_config_error("lora: {r: 8}\nlora: {r: 8}\n", {"lora", "appears twice"});
  std::filesystem::remove_all(dir);
}

// device_map as the seeds write it: null and "auto" mean what tuna does anyway (it places the
// model itself); a mapping ({"": 0}, seed 001), "cuda:0" or "cpu" is "not supported yet", never a
// type error, with the hint that the key can go.
TEST(TrainConfig, DeviceMap) {
  EXPECT_NO_THROW(parse_train_config("device_map: auto\n", "cfg.yaml"));
  EXPECT_NO_THROW(parse_train_config("device_map:\n", "cfg.yaml"));
  EXPECT_NO_THROW(parse_train_config("model:\n  device_map: \"auto\"\n", "cfg.yaml"));
  for (const char* v : {"{\"\": 0}", "{'': 0}", "cuda:0", "cpu", "[0, 1]", "balanced"})
    expect_config_error(std::string("max_steps: 1\ndevice_map: ") + v + "\n",
                        {"cfg.yaml line 2", "not supported yet: device_map",
                         "tuna places the model itself", "remove `device_map`", "or to auto"});
  expect_config_error("", {"not supported yet: device_map"}, {"device_map=cuda:0"});
  // Other keys not supported yet given a mapping say so too (not "expected a string").
  expect_config_error("optim_args: {a: 1}\n", {"not supported yet: optim_args"});
}

// trust_remote_code: true (seed 003, for EXAONE) is accepted with a note: tuna runs no Python
// model code and loads EXAONE natively, so the flag changes nothing.
TEST(TrainConfig, TrustRemoteCodeIsANote) {
  TrainConfig c = parse_train_config("trust_remote_code: true\n", "cfg.yaml");
  ASSERT_EQ(c.notes.size(), 1u);
  EXPECT_NE(c.notes[0].find("trust_remote_code: true changes nothing"), std::string::npos);
  EXPECT_NE(c.notes[0].find("no Python model code"), std::string::npos);
  EXPECT_TRUE(parse_train_config("trust_remote_code: false\n", "cfg.yaml").notes.empty());
  EXPECT_TRUE(parse_train_config("max_steps: 1\n", "cfg.yaml").notes.empty());
}

// Seed 004's OpenAI fine-tuning names: a did-you-mean to the Hugging Face name, with what differs.
TEST(TrainConfig, OpenAiFineTuningNames) {
  expect_config_error("max_steps: 1\ntraining_file: train.jsonl\n",
                      {"cfg.yaml line 2", "unknown key 'training_file'", "did you mean 'dataset'?",
                       "OpenAI fine-tuning API's name", "local JSONL"});
  expect_config_error(
      "n_epochs: 3\n",
      {"unknown key 'n_epochs'", "did you mean 'num_train_epochs'?", "the meaning is the same"});
  expect_config_error("learning_rate_multiplier: 0.1\n",
                      {"unknown key 'learning_rate_multiplier'", "did you mean 'learning_rate'?",
                       "not a learning rate"});
  expect_config_error("suffix: my-model\n",
                      {"unknown key 'suffix'", "did you mean 'output_dir'?", "directory"});
  expect_config_error("training:\n  n_epochs: 3\n",
                      {"unknown key 'n_epochs' in the 'training' section", "num_train_epochs"});
  // OpenAI's hyperparameters object: each key it holds, renamed.
  expect_config_error("hyperparameters:\n  n_epochs: 3\n  learning_rate_multiplier: 0.1\n",
                      {"cfg.yaml line 1", "unknown key 'hyperparameters'",
                       "OpenAI fine-tuning API's object", "n_epochs → num_train_epochs",
                       "learning_rate_multiplier → learning_rate (OpenAI's value multiplies"});
  try {
    parse_train_config("hyperparameters: {n_epochs: 3}\n", "cfg.yaml");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()).find("batch_size"), std::string::npos) << e.what();
  }
  // Names that mean the same as in HF's example scripts stay accepted aliases.
  TrainConfig c = parse_train_config("validation_file: v.jsonl\nbatch_size: 4\nmodel: m\nseed: 3\n",
                                     "cfg.yaml");
  EXPECT_EQ(c.at("eval_dataset").get<std::string>(), "v.jsonl");
  EXPECT_EQ(c.at("per_device_train_batch_size").get<int64_t>(), 4);
}

// An encoding error in the config names the encoding when the bytes tell it (CP949: "학습률"
// through Python's 'cp949' codec) and the iconv line for it.
TEST(TrainConfig, Cp949ConfigIsNamed) {
  expect_config_error("max_steps: 5\n# \xC7\xD0\xBD\xC0\xB7\xFC\n",
                      {"cfg.yaml: invalid UTF-8 byte 0xC7 at line 2, column 3 (byte offset 15)",
                       "the bytes look like CP949/EUC-KR (Korean Windows encoding)",
                       "iconv -f cp949 -t utf-8 IN > OUT"});
}

TEST(TrainConfig, DocsTableIsCurrent) {
  std::string doc = tuna_test::read_file(std::string(TUNA_GOLDEN_DIR) + "/../../docs/config.md");
  EXPECT_NE(doc.find(config_schema_markdown()), std::string::npos)
      << "docs/config.md's key table is stale: paste config_schema_markdown() into it";
}

}  // namespace
}  // namespace tuna
