// Bad-input catalogue, area "config": YAML config keys: unknown keys (top level and inside every
// nested mapping), wrong types, out-of-range values, contradictory settings. Each case: see
// catalogue.h.
#include "cli/catalogue/catalogue.h"

namespace tuna_test::catalogue {

namespace {

// A config case: `yaml` (after a `model:` line naming the real GGUF) in {dir}/c.yaml, run as
// `tuna train {dir}/c.yaml OVERRIDES`.
BadInput yaml_case(std::string id, std::string what, const std::string& yaml,
                   std::vector<std::string> expect, const std::string& overrides = "") {
  return {.id = "config." + std::move(id),
          .what = std::move(what),
          .args = "train {dir}/c.yaml" + (overrides.empty() ? "" : " " + overrides),
          .files = {{"c.yaml", "model: {gguf}\n" + yaml}},
          .expect = std::move(expect)};
}

// A numeric key at a value outside its range (or not finite): the key, the line and the range.
BadInput range_case(const std::string& key, const std::string& value, const std::string& range,
                    const std::string& prefix = "") {
  std::string id = key + "_" + value;
  for (char& c : id)
    if (c == '.' || c == '-') c = c == '-' ? 'm' : '_';
  return yaml_case("range." + id, key + ": " + value, prefix + key + ": " + value + "\n",
                   {"c.yaml line " + std::to_string(2 + (prefix.empty() ? 0 : 1)), key, range});
}

}  // namespace

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
  // Neither LoRA nor full fine-tuning named: the HF Trainer would train every weight, so tuna asks
  // rather than guess (before the model loads).
  cases.push_back(
      yaml_case("use_peft_undecided", "no use_peft and no LoRA key: LoRA or full fine-tuning?",
                "dataset: {dir}/d.jsonl\nlearning_rate: 2e-5\n",
                {"c.yaml: the config names no LoRA key and no use_peft",
                 "say use_peft: true for a LoRA adapter or use_peft: false to "
                 "fine-tune every weight (as the HF Trainer does without a LoraConfig)"}));

  // ---- the file itself ----
  cases.push_back({.id = "config.file.empty",
                   .what = "an empty config file",
                   .args = "train {dir}/c.yaml",
                   .files = {{"c.yaml", ""}},
                   .expect = {"{dir}/c.yaml is empty", "key: value"}});
  cases.push_back({.id = "config.file.comments_only",
                   .what = "a config holding only comments",
                   .args = "train {dir}/c.yaml",
                   .files = {{"c.yaml", "# model: x\n# dataset: y\n"}},
                   .expect = {"c.yaml is empty"}});
  cases.push_back({.id = "config.file.list",
                   .what = "a config that is a YAML list",
                   .args = "train {dir}/c.yaml",
                   .files = {{"c.yaml", "- model: {gguf}\n- max_steps: 5\n"}},
                   .expect = {"c.yaml line 1", "must be a mapping", "a list"}});
  cases.push_back({.id = "config.file.scalar",
                   .what = "a config that is a single scalar",
                   .args = "train {dir}/c.yaml",
                   .files = {{"c.yaml", "learning_rate\n"}},
                   .expect = {"c.yaml line 1", "must be a mapping", "'learning_rate'"}});
  cases.push_back({.id = "config.file.directory",
                   .what = "a directory given as the config",
                   .args = "train {dir}/cfg",
                   .expect = {"{dir}/cfg is a directory", "config file itself"},
                   .setup = "mkdir cfg"});
  cases.push_back({.id = "config.file.missing",
                   .what = "a config path that does not exist",
                   .args = "train {dir}/nope.yaml",
                   .expect = {"cannot read {dir}/nope.yaml", "no such file"}});
  cases.push_back({.id = "config.file.invalid_utf8",
                   .what = "a Latin-1 byte in the config (invalid UTF-8)",
                   .args = "train {dir}/c.yaml",
                   .files = {{"c.yaml", "model: {gguf}\noutput_dir: caf\xe9\n"}},
                   .expect = {"invalid UTF-8", "byte 0xE9", "line 2", "byte offset"}});
  cases.push_back({.id = "config.file.invalid_utf8_in_key",
                   .what = "a stray 0xFF byte in a key",
                   .args = "train {dir}/c.yaml",
                   .files = {{"c.yaml",
                              "model: {gguf}\n# note\nmax_\xff"
                              "steps: 5\n"}},
                   .expect = {"invalid UTF-8", "0xFF", "line 3", "byte offset"}});
  cases.push_back({.id = "config.file.invalid_yaml",
                   .what = "a config that is not valid YAML (unclosed list)",
                   .args = "train {dir}/c.yaml",
                   .files = {{"c.yaml", "model: {gguf}\ntarget_modules: [q_proj, v_proj\n"}},
                   .expect = {"invalid YAML", "line", "indentation"}});
  cases.push_back(yaml_case("file.duplicate_key", "the same key twice (YAML keeps one)",
                            "max_steps: 5\nlearning_rate: 1e-4\nmax_steps: 50\n",
                            {"c.yaml line 4", "max_steps", "appears twice", "line 2"}));
  cases.push_back(yaml_case("file.duplicate_section", "the same section twice",
                            "lora:\n  r: 8\ntraining:\n  max_steps: 5\nlora:\n  lora_alpha: 16\n",
                            {"c.yaml line 6", "lora", "appears twice", "line 2"}));
  cases.push_back(yaml_case("file.duplicate_in_section", "the same key twice inside a section",
                            "lora:\n  r: 8\n  r: 16\n",
                            {"c.yaml line 4", "lora.r", "appears twice"}));
  cases.push_back(yaml_case(
      "file.two_spellings", "one key under two of its names (lr, learning_rate)",
      "lr: 1e-4\nlearning_rate: 2e-4\n", {"c.yaml line 3", "learning_rate", "set twice", "'lr'"}));
  cases.push_back(yaml_case("file.complex_key", "a list used as a key", "? [a, b]\n: 1\n",
                            {"c.yaml line 2", "a key must be a name"}));

  // ---- every nested mapping: sections and mapping-valued keys ----
  cases.push_back(
      yaml_case("nested.scheduler_kwargs_typo", "a misspelled key inside lr_scheduler_kwargs",
                "lr_scheduler_type: cosine_with_min_lr\n"
                "lr_scheduler_kwargs: {min_lr_rat: 0.1}\n",
                {"c.yaml line 3", "lr_scheduler_kwargs.min_lr_rat", "did you mean 'min_lr_rate'"}));
  cases.push_back(
      yaml_case("nested.scheduler_kwargs_typo_block",
                "a misspelled lr_scheduler_kwargs key, block style inside training:",
                "training:\n  lr_scheduler_type: cosine\n  lr_scheduler_kwargs:\n"
                "    num_cycle: 2\n",
                {"c.yaml line 5", "lr_scheduler_kwargs.num_cycle", "did you mean 'num_cycles'"}));
  cases.push_back(yaml_case(
      "nested.scheduler_kwargs_type", "a word where a kwarg's number goes",
      "lr_scheduler_type: cosine\nlr_scheduler_kwargs: {num_cycles: half}\n",
      {"c.yaml line 3", "lr_scheduler_kwargs.num_cycles", "expected a number", "'half'"}));
  cases.push_back(
      yaml_case("nested.scheduler_kwargs_range", "min_lr_rate above 1",
                "lr_scheduler_type: cosine_with_min_lr\n"
                "lr_scheduler_kwargs: {min_lr_rate: 1.5}\n",
                {"c.yaml line 3", "lr_scheduler_kwargs.min_lr_rate", "between 0 and 1"}));
  cases.push_back(
      yaml_case("nested.scheduler_kwargs_enum", "an unknown warmup_stable_decay shape",
                "lr_scheduler_type: warmup_stable_decay\n"
                "lr_scheduler_kwargs: {num_decay_steps: 10, decay_type: sqrt}\n",
                {"c.yaml line 3", "lr_scheduler_kwargs.decay_type", "not one of", "1-sqrt"}));
  cases.push_back(yaml_case("nested.scheduler_kwargs_scalar", "lr_scheduler_kwargs given a number",
                            "lr_scheduler_kwargs: 0.1\n",
                            {"c.yaml line 2", "lr_scheduler_kwargs", "expected a mapping"}));
  cases.push_back(yaml_case("nested.scheduler_kwargs_duplicate",
                            "the same lr_scheduler_kwargs key twice",
                            "lr_scheduler_type: cosine\nlr_scheduler_kwargs:\n  num_cycles: 1\n"
                            "  num_cycles: 2\n",
                            {"c.yaml line 5", "lr_scheduler_kwargs.num_cycles", "appears twice"}));
  cases.push_back(yaml_case(
      "nested.scheduler_kwargs_override_typo",
      "a misspelled lr_scheduler_kwargs key on the command line", "",
      {"command-line override", "lr_scheduler_kwargs.min_lr_rat", "did you mean 'min_lr_rate'"},
      "lr_scheduler_kwargs.min_lr_rat=0.1"));
  cases.push_back(yaml_case("nested.checkpointing_kwargs_typo",
                            "a misspelled gradient_checkpointing_kwargs key",
                            "gradient_checkpointing_kwargs: {use_reentrnt: false}\n",
                            {"c.yaml line 2", "gradient_checkpointing_kwargs.use_reentrnt",
                             "did you mean 'use_reentrant'"}));
  cases.push_back(yaml_case(
      "nested.checkpointing_kwargs_not_yet",
      "gradient_checkpointing_kwargs.preserve_rng_state: false",
      "gradient_checkpointing_kwargs: {preserve_rng_state: false}\n",
      {"c.yaml line 2", "not supported yet: gradient_checkpointing_kwargs.preserve_rng_state"}));
  cases.push_back(yaml_case("nested.lora_section_typo", "a misspelled key in the lora: section",
                            "lora:\n  r: 8\n  lora_alpah: 16\n",
                            {"c.yaml line 4", "lora_alpah", "did you mean 'lora_alpha'"}));
  cases.push_back(
      yaml_case("nested.quantization_section_typo", "a misspelled key in the quantization: section",
                "quantization:\n  bnb_4bit_quant_typ: nf4\n",
                {"c.yaml line 3", "bnb_4bit_quant_typ", "did you mean 'bnb_4bit_quant_type'"}));
  cases.push_back(yaml_case("nested.section_not_a_mapping", "a section given a value (lora: 16)",
                            "lora: 16\n", {"c.yaml line 2", "lora", "is a section"}));
  cases.push_back(yaml_case("nested.key_in_wrong_section",
                            "a training key under lora:", "lora:\n  learning_rate: 1e-4\n",
                            {"c.yaml line 3", "learning_rate", "belongs in the 'training'"}));

  // ---- contradictory settings (the peers refuse these too) ----
  cases.push_back(yaml_case("conflict.bf16_fp16", "bf16 and fp16 both true",
                            "bf16: true\nfp16: true\n",
                            {"c.yaml lines 2 and 3", "bf16 and fp16 are both true"}));
  cases.push_back(yaml_case("conflict.4bit_8bit", "load_in_4bit and load_in_8bit both true",
                            "quantization: {load_in_4bit: true, load_in_8bit: true}\n",
                            {"c.yaml line 2", "load_in_4bit and load_in_8bit are both true"}));
  cases.push_back(yaml_case("conflict.warmup_steps_ratio", "warmup_steps and warmup_ratio both set",
                            "warmup_steps: 10\nwarmup_ratio: 0.1\n",
                            {"c.yaml lines 2 and 3", "warmup_steps and warmup_ratio"}));
  cases.push_back(yaml_case(
      "conflict.eval_without_data", "eval_strategy steps with no eval_dataset or validation_split",
      "eval_strategy: steps\n",
      {"c.yaml line 2", "eval_strategy is steps", "no validation data", "eval_dataset"}));
  cases.push_back(yaml_case("conflict.packing_no_max_length", "packing with max_length: null",
                            "packing: true\nmax_length: null\n",
                            {"c.yaml lines 2 and 3", "packing needs max_length"}));
  cases.push_back(
      yaml_case("conflict.layers_pattern_alone", "layers_pattern without layers_to_transform",
                "layers_pattern: layers\n",
                {"c.yaml line 2", "layers_pattern is set without layers_to_transform"}));
  cases.push_back(yaml_case("conflict.layers_with_string_targets",
                            "layers_to_transform with target_modules all-linear",
                            "target_modules: all-linear\nlayers_to_transform: [0, 1]\n",
                            {"c.yaml lines 3 and 2", "layers_to_transform", "target_modules"}));
  cases.push_back(
      yaml_case("conflict.template_other_format",
                "a template with dataset_format alpaca (it would be ignored)",
                "dataset_format: alpaca\ntemplate: \"Q: {q}\\nA: {a}\"\n",
                {"c.yaml lines 3 and 2", "template is set but dataset_format is alpaca"}));
  cases.push_back(yaml_case("conflict.template_format_alone",
                            "dataset_format template without a template",
                            "dataset_format: template\n",
                            {"c.yaml line 2", "dataset_format is template but no template"}));
  cases.push_back(
      yaml_case("conflict.assistant_loss_text", "assistant_only_loss with plain-text data",
                "dataset_format: text\nassistant_only_loss: true\n",
                {"c.yaml lines 3 and 2", "assistant_only_loss", "dataset_format is text"}));
  cases.push_back(yaml_case("conflict.completion_loss_text",
                            "completion_only_loss: true with plain-text data",
                            "dataset_format: text\ncompletion_only_loss: true\n",
                            {"c.yaml lines 3 and 2", "completion_only_loss", "has no completion"}));
  cases.push_back(yaml_case("conflict.scheduler_kwarg_other_schedule",
                            "num_cycles with lr_scheduler_type linear",
                            "lr_scheduler_kwargs: {num_cycles: 2}\n",
                            {"c.yaml line 2", "lr_scheduler_kwargs.num_cycles",
                             "does not apply to lr_scheduler_type linear"}));
  cases.push_back(yaml_case("conflict.scheduler_kwarg_constant",
                            "lr_scheduler_kwargs with constant (transformers ignores them)",
                            "lr_scheduler_type: constant\nlr_scheduler_kwargs: {power: 2}\n",
                            {"c.yaml lines 3 and 2", "lr_scheduler_kwargs.power",
                             "does not apply to lr_scheduler_type constant"}));
  cases.push_back(
      yaml_case("conflict.min_lr_and_rate", "both min_lr and min_lr_rate",
                "lr_scheduler_type: cosine_with_min_lr\n"
                "lr_scheduler_kwargs: {min_lr: 1e-6, min_lr_rate: 0.1}\n",
                {"c.yaml line 3", "min_lr and lr_scheduler_kwargs.min_lr_rate are both set"}));
  cases.push_back(yaml_case("conflict.min_lr_missing", "cosine_with_min_lr without a floor",
                            "lr_scheduler_type: cosine_with_min_lr\n",
                            {"c.yaml line 2", "needs lr_scheduler_kwargs.min_lr or min_lr_rate"}));
  cases.push_back(yaml_case("conflict.min_lr_above_lr", "min_lr above learning_rate",
                            "learning_rate: 1e-4\nlr_scheduler_type: cosine_with_min_lr\n"
                            "lr_scheduler_kwargs: {min_lr: 1e-3}\n",
                            {"c.yaml lines 4 and 2", "min_lr", "above learning_rate"}));
  cases.push_back(
      yaml_case("conflict.wsd_no_decay_steps", "warmup_stable_decay without num_decay_steps",
                "lr_scheduler_type: warmup_stable_decay\n", {"c.yaml line 2", "num_decay_steps"}));
  cases.push_back(yaml_case("conflict.lr_end_above_lr", "polynomial lr_end above learning_rate",
                            "learning_rate: 1e-4\nlr_scheduler_type: polynomial\n"
                            "lr_scheduler_kwargs: {lr_end: 0.01}\n",
                            {"c.yaml lines 4 and 2", "lr_end", "below learning_rate"}));
  cases.push_back(yaml_case("type.optim_typo", "a misspelled optimizer name",
                            "optim: adamw_torch_fuzed\n",
                            {"c.yaml line 2", "optim", "unknown optimizer 'adamw_torch_fuzed'",
                             "did you mean 'adamw_torch_fused'"}));
  cases.push_back(yaml_case("nested.optim_args", "transformers' optim_args (not supported yet)",
                            "optim_args: \"betas=0.9,0.95\"\n",
                            {"c.yaml line 2", "not supported yet: optim_args"}));
  cases.push_back(yaml_case("conflict.not_supported_yet", "push_to_hub: true (never uploads)",
                            "push_to_hub: true\n",
                            {"c.yaml line 2", "not supported yet: push_to_hub"}));

  // ---- values of the wrong type ----
  cases.push_back(yaml_case("type.float_garbage", "learning_rate: abc", "learning_rate: abc\n",
                            {"c.yaml line 2", "learning_rate", "expected a number", "'abc'"}));
  cases.push_back(yaml_case("type.int_fraction", "max_steps: 3.7", "max_steps: 3.7\n",
                            {"c.yaml line 2", "max_steps", "expected a whole number"}));
  cases.push_back(yaml_case("type.int_quoted", "max_steps: \"10\" (a string)",
                            "max_steps: \"10\"\n",
                            {"c.yaml line 2", "max_steps", "the string \"10\"", "without quotes"}));
  cases.push_back(yaml_case(
      "type.bool_quoted", "packing: \"false\" (a string, truthy in Python)", "packing: \"false\"\n",
      {"c.yaml line 2", "packing", "expected true or false", "without quotes"}));
  cases.push_back(yaml_case("type.bool_number", "packing: 2", "packing: 2\n",
                            {"c.yaml line 2", "packing", "expected true or false", "'2'"}));
  cases.push_back(yaml_case("type.list_for_scalar", "learning_rate given a list",
                            "learning_rate: [1e-4, 2e-4]\n",
                            {"c.yaml line 2", "learning_rate", "got a list"}));
  cases.push_back(yaml_case("type.mapping_for_scalar", "max_steps given a mapping",
                            "max_steps: {steps: 5}\n",
                            {"c.yaml line 2", "max_steps", "got a mapping"}));
  cases.push_back(yaml_case("type.enum_case", "lr_scheduler_type: Cosine (choices are lower case)",
                            "lr_scheduler_type: Cosine\n",
                            {"c.yaml line 2", "'Cosine' is not one of", "did you mean 'cosine'"}));
  cases.push_back(yaml_case("type.null_for_required", "output_dir: (null)", "output_dir:\n",
                            {"c.yaml line 2", "output_dir", "expected a value"}));
  cases.push_back(yaml_case("type.list_of_lists", "target_modules holding a list",
                            "target_modules: [[q_proj], v_proj]\n",
                            {"c.yaml line 2", "target_modules", "list of strings"}));
  cases.push_back(yaml_case("type.int_overflow", "max_steps beyond 64 bits",
                            "max_steps: 99999999999999999999\n",
                            {"c.yaml line 2", "max_steps", "out of range"}));

  // ---- every numeric key family at 0, negative, NaN, infinity ----
  cases.push_back(range_case("learning_rate", "0", "greater than 0"));
  cases.push_back(range_case("learning_rate", "-1e-4", "greater than 0"));
  cases.push_back(range_case("learning_rate", ".nan", "finite"));
  cases.push_back(range_case("num_train_epochs", ".inf", "finite"));
  cases.push_back(range_case("num_train_epochs", "0", "greater than 0"));
  cases.push_back(range_case("max_steps", "0", "-1 (train num_train_epochs) or greater than 0"));
  cases.push_back(range_case("max_steps", "-5", "-1 (train num_train_epochs) or greater than 0"));
  cases.push_back(range_case("per_device_train_batch_size", "0", "greater than 0"));
  cases.push_back(range_case("per_device_eval_batch_size", "-2", "greater than 0"));
  cases.push_back(range_case("gradient_accumulation_steps", "-1", "greater than 0"));
  cases.push_back(range_case("r", "0", "greater than 0", "lora:\n  "));
  cases.push_back(range_case("lora_alpha", "-16", "greater than 0"));
  cases.push_back(range_case("lora_dropout", "1", "1 excluded"));
  cases.push_back(range_case("lora_dropout", "-0.1", "between 0 and 1"));
  cases.push_back(range_case("adam_beta1", "-0.9", "between 0 and 1"));
  cases.push_back(range_case("adam_beta2", "1", "1 excluded"));
  cases.push_back(range_case("adam_epsilon", "0", "greater than 0"));
  cases.push_back(range_case("weight_decay", "-0.01", "0 or more"));
  cases.push_back(range_case("max_grad_norm", "-1", "0 or more"));
  cases.push_back(range_case("max_grad_norm", ".nan", "finite"));
  cases.push_back(range_case("warmup_ratio", "1.5", "between 0 and 1"));
  cases.push_back(range_case("warmup_steps", "-3", "0 or more"));
  cases.push_back(yaml_case("range.warmup_steps_2_5", "warmup_steps: 2.5 (neither steps nor ratio)",
                            "warmup_steps: 2.5\n",
                            {"c.yaml line 2", "warmup_steps 2.5", "neither a whole number"}));
  cases.push_back(range_case("validation_split", "1", "1 excluded"));
  cases.push_back(range_case("seed", "-1", "between 0 and 4294967295"));
  cases.push_back(range_case("seed", "4294967296", "between 0 and 4294967295"));
  cases.push_back(range_case("data_seed", "-7", "between 0 and 4294967295"));
  cases.push_back(range_case("max_length", "0", "greater than 0"));
  cases.push_back(range_case("max_samples", "0", "greater than 0"));
  cases.push_back(range_case("logging_steps", "-10", "greater than 0"));
  cases.push_back(range_case("save_steps", "0", "greater than 0"));
  cases.push_back(range_case("eval_steps", "0", "greater than 0"));
  cases.push_back(range_case("save_total_limit", "0", "greater than 0"));
  cases.push_back(yaml_case("range.layers_to_transform_negative", "layers_to_transform: [-1]",
                            "layers_to_transform: [0, -1]\n",
                            {"c.yaml line 2", "layers_to_transform", "0 or more"}));
  cases.push_back(yaml_case("range.scheduler_num_cycles_zero", "lr_scheduler_kwargs.num_cycles: 0",
                            "lr_scheduler_type: cosine\nlr_scheduler_kwargs: {num_cycles: 0}\n",
                            {"c.yaml line 3", "lr_scheduler_kwargs.num_cycles", "greater than 0"}));

  // ---- command-line overrides are config keys too ----
  cases.push_back(yaml_case("override.garbage", "learning_rate=abc on the command line", "",
                            {"command-line override 'learning_rate=abc'", "expected a number"},
                            "learning_rate=abc"));
  cases.push_back(yaml_case("override.nan", "max_grad_norm=.nan on the command line", "",
                            {"command-line override 'max_grad_norm=.nan'", "finite"},
                            "max_grad_norm=.nan"));
  cases.push_back(
      yaml_case("override.negative", "per_device_train_batch_size=-4", "",
                {"command-line override", "per_device_train_batch_size", "greater than 0"},
                "per_device_train_batch_size=-4"));
  cases.push_back(yaml_case("override.empty_value", "max_steps= (nothing after =)", "",
                            {"command-line override 'max_steps='", "expected a value"},
                            "max_steps="));
  cases.push_back(
      yaml_case("override.unknown", "a misspelled key on the command line", "",
                {"command-line override", "learnig_rate", "did you mean 'learning_rate'"},
                "learnig_rate=1e-4"));
  cases.push_back(yaml_case("override.not_key_value", "an override without =", "",
                            {"override 'max_steps' is not KEY=VALUE"}, "max_steps"));
  cases.push_back(yaml_case("override.section_key", "lora.r=0 on the command line", "",
                            {"command-line override 'lora.r=0'", "greater than 0"}, "lora.r=0"));
  cases.push_back(yaml_case(
      "override.conflict", "fp16=true over a config with bf16: true", "bf16: true\n",
      {"line 2", "command-line override 'fp16=true'", "bf16 and fp16 are both true"}, "fp16=true"));
  return cases;
}

}  // namespace tuna_test::catalogue
