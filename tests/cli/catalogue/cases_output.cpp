// Bad-input catalogue, area "output": output directories, checkpoints and resume. Most cases
// fail before the model loads; the rest train the tiny golden Llama (with the character
// tokenizer of app_test_util.h) and fail before anything is written. Each case: see catalogue.h.
#include "app/app_test_util.h"
#include "cli/catalogue/catalogue.h"

namespace tuna_test::catalogue {

namespace {

// {dir}/c.yaml trains the tiny Llama in {dir}/model on {dir}/data.jsonl into {dir}/out: base.yaml
// plus `extra` YAML lines; the model directory's links are made by the setup.
BadInput train_case(std::string id, std::string what, const std::string& extra,
                    std::vector<std::string> expect, std::string setup = "",
                    std::vector<std::pair<std::string, std::string>> files = {},
                    std::string args = "") {
  const auto [tok, tok_config] = tuna::char_tokenizer_json();
  files.emplace_back("model/tokenizer.json", tok.dump());
  files.emplace_back("model/tokenizer_config.json", tok_config.dump());
  files.emplace_back("data.jsonl",
                     "{\"instruction\": \"Name a fish\", \"input\": \"\", \"output\": \"tuna\"}\n"
                     "{\"instruction\": \"Say hi\", \"input\": \"\", \"output\": \"hi there\"}\n"
                     "{\"instruction\": \"Add\", \"input\": \"2+2\", \"output\": \"4\"}\n"
                     "{\"instruction\": \"Sky\", \"input\": \"\", \"output\": \"blue\"}\n");
  const std::string base =
      "model: {dir}/model\ndataset: {dir}/data.jsonl\noutput_dir: {dir}/out\nmax_length: 64\n"
      "lora: {r: 4, lora_alpha: 8, target_modules: [q_proj, v_proj]}\n"
      "training: {max_steps: 2, per_device_train_batch_size: 2, save_steps: 1, logging_steps: 1}\n";
  files.emplace_back("base.yaml", base);
  files.emplace_back("c.yaml", base + extra);
  std::string links = "ln -s {models}/llama/config.json {models}/llama/model.safetensors model/";
  return BadInput{.id = std::move(id),
                  .what = std::move(what),
                  .args = "train {dir}/c.yaml" + (args.empty() ? "" : " " + args),
                  .files = std::move(files),
                  .expect = std::move(expect),
                  .setup = setup.empty() ? links : links + " && " + setup};
}

// A setup that trains the tiny Llama for 3 steps into `out` (checkpoints at steps 1, 2 and 3) with
// `keys` (overrides).
std::string trained_run(const std::string& keys = "", const std::string& out = "{dir}/run") {
  return "OMP_WAIT_POLICY=passive {tuna} train {dir}/base.yaml output_dir=" + out +
         " max_steps=3 " + keys + " >/dev/null 2>&1";
}

// A checkpoint directory {dir}/out/checkpoint-2 with these files.
std::vector<std::pair<std::string, std::string>> checkpoint_files(
    std::vector<std::pair<std::string, std::string>> files) {
  for (auto& [name, bytes] : files) name = "out/checkpoint-2/" + name;
  return files;
}

}  // namespace

std::vector<BadInput> output_cases() {
  std::vector<BadInput> c;
  const std::string hint_nonempty = "set overwrite_output_dir: true to write into it";

  // output_dir itself.
  c.push_back(train_case("output.dir_is_a_file", "output_dir is an existing file", "",
                         {"output_dir {dir}/out is a file, not a directory", "move the file away"},
                         "", {{"out", "a file"}}));
  c.push_back(train_case("output.dir_override_is_a_file",
                         "output_dir=FILE given as a command-line override", "",
                         {"output_dir {dir}/notes.txt is a file", "choose another output_dir"}, "",
                         {{"notes.txt", "a file"}}, "output_dir={dir}/notes.txt"));
  c.push_back(train_case(
      "output.parent_is_a_file", "output_dir's parent is a file", "",
      {"output_dir {dir}/f/out cannot be created: {dir}/f is a file", "parents are directories"},
      "", {{"f", "a file"}}, "output_dir={dir}/f/out"));
  c.push_back(train_case("output.ancestor_is_a_file", "an ancestor of output_dir is a file", "",
                         {"output_dir {dir}/f/a/b/out cannot be created: {dir}/f is a file"}, "",
                         {{"f", "a file"}}, "output_dir={dir}/f/a/b/out"));
  c.push_back(train_case("output.not_writable",
                         "output_dir where nothing can be created (/sys, refused even to root)", "",
                         {"output_dir /sys/tuna_catalogue_out is not writable (its parent /sys",
                          "choose an output_dir you can write to"},
                         "", {}, "output_dir=/sys/tuna_catalogue_out"));
  c.push_back(train_case(
      "output.non_empty_without_overwrite",
      "output_dir holds other files and overwrite_output_dir is false", "",
      {"output_dir {dir}/out already exists and is not empty (it holds notes.txt)", hint_nonempty},
      "", {{"out/notes.txt", "mine"}}));
  c.push_back(train_case(
      "output.holds_a_finished_adapter", "output_dir holds a finished adapter (a second run)", "",
      {"already holds a finished adapter or model: adapter_model.safetensors", hint_nonempty},
      trained_run("", "{dir}/out")));
  c.push_back(train_case("output.overwrite_false_explicit",
                         "overwrite_output_dir: false set explicitly, output_dir non-empty",
                         "overwrite_output_dir: false\n",
                         {"already exists and is not empty", "resume_from_checkpoint: latest"}, "",
                         {{"out/metrics.jsonl", "{}\n"}}));
  c.push_back(train_case("output.only_an_interrupted_run",
                         "output_dir left by a killed run (no complete checkpoint), started again "
                         "without overwrite_output_dir",
                         "", {"already exists and is not empty", "overwrite_output_dir: true"}, "",
                         {{"out/metrics.jsonl", "{\"step\": 1}\n"},
                          {"out/.checkpoint-1.tmp/adapter_config.json", "{}"}}));

  // resume_from_checkpoint: what it names.
  c.push_back(train_case("output.resume_latest_without_checkpoint",
                         "resume_from_checkpoint: latest, output_dir has no checkpoint",
                         "resume_from_checkpoint: latest\n",
                         {"resume_from_checkpoint: latest, but {dir}/out holds no complete "
                          "checkpoint",
                          "without resume_from_checkpoint the run starts afresh"},
                         "", {{"out/metrics.jsonl", "{}\n"}}));
  c.push_back(train_case("output.resume_latest_missing_dir",
                         "resume_from_checkpoint: latest, output_dir does not exist",
                         "resume_from_checkpoint: latest\n",
                         {"{dir}/out holds no complete checkpoint"}));
  c.push_back(train_case(
      "output.resume_latest_only_temporary",
      "resume_from_checkpoint: latest when only a .checkpoint-N.tmp (killed mid-write) exists",
      "resume_from_checkpoint: latest\n", {"{dir}/out holds no complete checkpoint"}, "",
      {{"out/.checkpoint-2.tmp/COMPLETE", ""}, {"out/.checkpoint-2.tmp/tuna_state.json", "{}"}}));
  c.push_back(train_case("output.resume_true",
                         "resume_from_checkpoint: true (as HF's flag) with no checkpoint",
                         "resume_from_checkpoint: \"true\"\n", {"holds no complete checkpoint"}));
  c.push_back(train_case("output.resume_path_missing", "resume_from_checkpoint names nothing",
                         "resume_from_checkpoint: {dir}/nothing\n",
                         {"resume_from_checkpoint: {dir}/nothing does not exist",
                          "output_dir/checkpoint-N directory"}));
  c.push_back(train_case("output.resume_path_is_a_file", "resume_from_checkpoint names a file",
                         "resume_from_checkpoint: {dir}/ckpt.txt\n",
                         {"{dir}/ckpt.txt is not a complete tuna checkpoint: it is a file"}, "",
                         {{"ckpt.txt", "x"}}));
  c.push_back(train_case("output.resume_not_a_checkpoint",
                         "resume_from_checkpoint names a directory that is no checkpoint",
                         "resume_from_checkpoint: {dir}/model\n",
                         {"{dir}/model is not a complete tuna checkpoint: it has no COMPLETE "
                          "marker"}));
  c.push_back(train_case(
      "output.resume_incomplete", "resume_from_checkpoint names a checkpoint without COMPLETE",
      "resume_from_checkpoint: {dir}/out/checkpoint-2\n",
      {"{dir}/out/checkpoint-2 is not a complete tuna checkpoint: it has no COMPLETE marker",
       "resume from an older checkpoint"},
      "", checkpoint_files({{"tuna_state.json", "{\"global_step\": 2}"}})));
  c.push_back(train_case("output.resume_temporary_dir",
                         "resume_from_checkpoint names a .checkpoint-N.tmp directory",
                         "resume_from_checkpoint: {dir}/out/.checkpoint-2.tmp\n",
                         {"{dir}/out/.checkpoint-2.tmp is not a complete tuna checkpoint"}, "",
                         {{"out/.checkpoint-2.tmp/adapter_config.json", "{}"}}));
  c.push_back(train_case(
      "output.resume_damaged_file", "a checkpoint file shorter than its COMPLETE manifest says",
      "resume_from_checkpoint: {dir}/out/checkpoint-2\n",
      {"checkpoint-2 is not a complete tuna checkpoint: optimizer.safetensors has 5 bytes, its "
       "manifest says 900",
       "the checkpoint is damaged", "resume from an older checkpoint"},
      "",
      checkpoint_files({{"tuna_state.json", "{\"global_step\": 2}"},
                        {"optimizer.safetensors", "short"},
                        {"COMPLETE", "{\"files\": {\"optimizer.safetensors\": 900}}"}})));
  c.push_back(train_case(
      "output.resume_missing_file", "a file listed in the COMPLETE manifest is missing",
      "resume_from_checkpoint: {dir}/out/checkpoint-2\n",
      {"adapter_model.safetensors is missing (the checkpoint is damaged)"}, "",
      checkpoint_files({{"tuna_state.json", "{\"global_step\": 2}"},
                        {"COMPLETE", "{\"files\": {\"adapter_model.safetensors\": 14000}}"}})));
  c.push_back(train_case(
      "output.resume_garbage_marker", "COMPLETE holds no manifest",
      "resume_from_checkpoint: {dir}/out/checkpoint-2\n", {"its COMPLETE marker is not a manifest"},
      "",
      checkpoint_files({{"tuna_state.json", "{\"global_step\": 2}"}, {"COMPLETE", "garbage"}})));
  c.push_back(train_case("output.resume_without_state",
                         "a checkpoint (old-style empty COMPLETE) without tuna_state.json",
                         "resume_from_checkpoint: {dir}/out/checkpoint-2\n",
                         {"checkpoint-2 is not a complete tuna checkpoint: it has no "
                          "tuna_state.json"},
                         "", checkpoint_files({{"COMPLETE", ""}})));
  c.push_back(train_case(
      "output.resume_unreadable_state", "tuna_state.json is not JSON",
      "resume_from_checkpoint: {dir}/out/checkpoint-2\n",
      {"{dir}/out/checkpoint-2/tuna_state.json is unreadable", "resume from an older one"}, "",
      checkpoint_files({{"COMPLETE", ""}, {"tuna_state.json", "{oops"}})));
  c.push_back(train_case(
      "output.resume_state_without_step", "tuna_state.json without global_step",
      "resume_from_checkpoint: {dir}/out/checkpoint-2\n",
      {"checkpoint-2/tuna_state.json is unreadable"}, "",
      checkpoint_files({{"COMPLETE", ""}, {"tuna_state.json", "{\"global_step\": \"two\"}"}})));

  // resume_from_checkpoint: a checkpoint of another run.
  c.push_back(train_case(
      "output.resume_other_lora_rank", "resuming a checkpoint written with another LoRA rank",
      "resume_from_checkpoint: {dir}/run/checkpoint-2\n",
      {"{dir}/run/checkpoint-2 was written by a run with another model or LoRA shape",
       "lora_A.weight [8, 64], this run", "resume with the model and lora settings"},
      trained_run("r=8"), {}, "output_dir={dir}/out2 max_steps=4"));
  c.push_back(train_case("output.resume_other_target_modules",
                         "resuming a checkpoint that trained other target_modules",
                         "resume_from_checkpoint: {dir}/run/checkpoint-2\n",
                         {"was written by a run with another model or LoRA shape"},
                         trained_run("target_modules=[q_proj]"), {},
                         "output_dir={dir}/out2 max_steps=4"));
  c.push_back(train_case("output.resume_other_model",
                         "resuming a checkpoint of another base model (Gemma 3 into Llama)",
                         "resume_from_checkpoint: {dir}/run/checkpoint-2\n",
                         {"was written by a run with another model or LoRA shape"},
                         "mkdir g && cp model/tokenizer*.json g/ && ln -s "
                         "{models}/gemma3/config.json {models}/gemma3/model.safetensors g/ && " +
                             trained_run("model={dir}/g"),
                         {}, "output_dir={dir}/out2 max_steps=4"));
  c.push_back(train_case(
      "output.resume_past_the_end", "resuming a checkpoint past the run's last step",
      "resume_from_checkpoint: {dir}/run/checkpoint-2\n",
      {"{dir}/run/checkpoint-2 is at step 2 but this run has 1 steps", "raise max_steps"},
      trained_run(), {}, "output_dir={dir}/out2 max_steps=1"));
  c.push_back(train_case("output.resume_elsewhere_into_non_empty",
                         "resuming another directory's checkpoint into a non-empty output_dir",
                         "resume_from_checkpoint: {dir}/run/checkpoint-2\n",
                         {"output_dir {dir}/out already exists and is not empty", hint_nonempty},
                         trained_run(), {{"out/notes.txt", "mine"}}, "max_steps=4"));

  // Checkpoint settings.
  c.push_back(train_case("output.save_steps_zero", "save_steps=0 on the command line", "",
                         {"save_steps", "got '0'"}, "", {}, "save_steps=0"));
  c.push_back(train_case("output.save_steps_negative", "save_steps=-5 on the command line", "",
                         {"save_steps", "got '-5'"}, "", {}, "save_steps=-5"));
  c.push_back(train_case("output.save_total_limit_zero", "save_total_limit: 0 (keep nothing)",
                         "save_total_limit: 0\n", {"save_total_limit", "got '0'"}));
  c.push_back(train_case("output.save_total_limit_fraction", "save_total_limit: 1.5",
                         "save_total_limit: 1.5\n", {"save_total_limit", "1.5"}));
  c.push_back(train_case("output.save_strategy_unknown", "save_strategy: sometimes",
                         "save_strategy: sometimes\n",
                         {"save_strategy: 'sometimes' is not one of no|steps|epoch"}));
  c.push_back(train_case("output.logging_dir", "logging_dir (TensorBoard) set",
                         "logging_dir: {dir}/logs\n", {"not supported yet: logging_dir"}));
  return c;
}

}  // namespace tuna_test::catalogue
