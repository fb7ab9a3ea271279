// Walks config_schema() (and the keys inside its mappings): every key is either NOT_YET — then a
// non-default value is the user error "not supported yet: KEY" — or proven to change something
// observable. For that, each supported key has a probe below: a context (overrides applied to
// both runs) and a non-default value; the test compares the fingerprint of what the config drives
// — the TrainingPlan, the device line, the console options, and a whole tiny training job (its
// notices, logged steps, evaluations, checkpoints, summary and every file it writes, timing
// removed; or its user error) — with and without the value. A key added to the schema without a
// probe fails here, and so does a probe whose key stopped having an effect.
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <map>
#include <set>
#include <sstream>

#include "app/app_test_util.h"
#include "app/metrics_sinks.h"
#include "app/training_job.h"
#include "app/training_plan.h"
#include "core/error.h"
#include "model/model.h"
#include "test_util.h"

namespace tuna {
namespace {

namespace fs = std::filesystem;
using ojson = nlohmann::ordered_json;

struct Probe {
  std::vector<std::string> context;  // both runs (what the key needs to matter)
  std::vector<std::string> value;    // the run with the key set
  // Run before both, into the same directory (e.g. a checkpoint to resume from); `context` too.
  std::optional<std::vector<std::string>> prior = std::nullopt;
};

// Keys whose every allowed value is the default (an ENUM of one): the loader refuses any other.
const std::set<std::string> kOnlyTheDefault = {"bnb_4bit_quant_storage", "task_type"};
// Keys read before a job exists, with the test that shows their effect.
const std::map<std::string, std::string> kReadElsewhere = {
    {"model",
     "read by `tuna train` to load the base (cli/cmd_train.cpp); tests/cli train different models "
     "through it"},
};
// Accepted with no effect by design, and documented so in their help.
const std::map<std::string, std::string> kInertByDesign = {
    {"gradient_checkpointing_kwargs.use_reentrant",
     "PyTorch's implementation switch; tuna's recomputation gives the same gradients either way"},
};

// ROOT: the run's own directory; DATA*: the data files of the fixture.
const std::map<std::string, Probe>& probes() {
  static const std::map<std::string, Probe> p = {
      // model
      {"use_peft", {{}, {"use_peft=false"}}},
      {"trust_remote_code", {{}, {"trust_remote_code=true"}}},
      {"adapter", {{}, {"adapter=ROOT/ad"}, std::vector<std::string>{"output_dir=ROOT/ad"}}},
      {"torch_dtype", {{}, {"torch_dtype=bfloat16"}}},
      // quantization
      {"load_in_4bit", {{}, {"load_in_4bit=true"}}},
      {"bnb_4bit_quant_type", {{"load_in_4bit=true"}, {"bnb_4bit_quant_type=nf4"}}},
      {"bnb_4bit_compute_dtype", {{"load_in_4bit=true"}, {"bnb_4bit_compute_dtype=bfloat16"}}},
      {"bnb_4bit_use_double_quant", {{"load_in_4bit=true"}, {"bnb_4bit_use_double_quant=true"}}},
      {"llm_int8_skip_modules", {{"load_in_4bit=true"}, {"llm_int8_skip_modules=[q_proj]"}}},
      // lora
      {"r", {{}, {"r=4"}}},
      {"lora_alpha", {{}, {"lora_alpha=32"}}},
      {"lora_dropout", {{}, {"lora_dropout=0.2"}}},
      {"target_modules", {{}, {"target_modules=[q_proj]"}}},
      {"exclude_modules", {{}, {"exclude_modules=[q_proj]"}}},
      {"bias", {{}, {"bias=all"}}},
      {"use_rslora", {{}, {"use_rslora=true"}}},
      {"modules_to_save", {{}, {"modules_to_save=[lm_head]"}}},
      {"layers_to_transform", {{}, {"layers_to_transform=[0]"}}},
      {"layers_pattern", {{"layers_to_transform=[0]"}, {"layers_pattern=layers"}}},
      {"fan_in_fan_out", {{}, {"fan_in_fan_out=true"}}},
      {"init_lora_weights", {{}, {"init_lora_weights=false"}}},
      // data
      {"template_list_separator",
       {{"dataset=DATALIST", "template='Docs {docs} -> {answer}'"},
        {"template_list_separator=' | '"}}},
      {"dataset", {{}, {"dataset=DATA2"}}},
      {"eval_dataset", {{}, {"eval_dataset=DATA2"}}},
      {"dataset_format", {{}, {"dataset_format=text"}}},
      {"template", {{}, {"template='{instruction} => {output}'"}}},
      {"dataset_text_field", {{"dataset_format=text"}, {"dataset_text_field=body"}}},
      {"validation_split", {{}, {"validation_split=0.5"}}},
      {"max_samples", {{}, {"max_samples=2"}}},
      {"skip_invalid", {{"dataset=DATABAD"}, {"skip_invalid=true"}}},
      {"max_length", {{}, {"max_length=12"}}},
      {"truncation_mode", {{"max_length=12"}, {"truncation_mode=keep_end"}}},
      {"packing", {{}, {"packing=true"}}},
      {"packing_strategy", {{"packing=true"}, {"packing_strategy=wrapped"}}},
      {"eval_packing", {{"validation_split=0.5"}, {"eval_packing=true"}}},
      {"completion_only_loss", {{}, {"completion_only_loss=false"}}},
      {"assistant_only_loss", {{}, {"assistant_only_loss=true"}}},
      {"eos_token", {{}, {"eos_token='#'"}}},
      {"pad_token", {{}, {"pad_token='#'"}}},
      // training
      {"output_dir", {{}, {"output_dir=ROOT/elsewhere"}}},
      {"num_train_epochs", {{"max_steps=-1"}, {"num_train_epochs=1"}}},
      {"max_steps", {{}, {"max_steps=2"}}},
      {"per_device_train_batch_size", {{}, {"per_device_train_batch_size=1"}}},
      {"per_device_eval_batch_size", {{"validation_split=0.5"}, {"per_device_eval_batch_size=1"}}},
      {"gradient_accumulation_steps", {{}, {"gradient_accumulation_steps=2"}}},
      {"learning_rate", {{}, {"learning_rate=1e-3"}}},
      {"lr_scheduler_type", {{}, {"lr_scheduler_type=cosine"}}},
      {"lr_scheduler_kwargs.num_cycles",
       {{"lr_scheduler_type=cosine"}, {"lr_scheduler_kwargs.num_cycles=2"}}},
      {"lr_scheduler_kwargs.power",
       {{"lr_scheduler_type=polynomial"}, {"lr_scheduler_kwargs.power=3"}}},
      {"lr_scheduler_kwargs.lr_end",
       {{"lr_scheduler_type=polynomial"}, {"lr_scheduler_kwargs.lr_end=1e-3"}}},
      {"lr_scheduler_kwargs.min_lr",
       {{"lr_scheduler_type=cosine_with_min_lr", "lr_scheduler_kwargs={min_lr: 1e-4}"},
        {"lr_scheduler_kwargs={min_lr: 2e-3}"}}},
      {"lr_scheduler_kwargs.min_lr_rate",
       {{"lr_scheduler_type=cosine_with_min_lr", "lr_scheduler_kwargs={min_lr_rate: 0.1}"},
        {"lr_scheduler_kwargs={min_lr_rate: 0.6}"}}},
      {"lr_scheduler_kwargs.warmup_lr_rate",
       {{"lr_scheduler_type=cosine_warmup_with_min_lr", "warmup_steps=2",
         "lr_scheduler_kwargs.min_lr_rate=0.1"},
        {"lr_scheduler_kwargs.warmup_lr_rate=0.5"}}},
      {"lr_scheduler_kwargs.num_decay_steps",
       {{"lr_scheduler_type=warmup_stable_decay", "lr_scheduler_kwargs={num_decay_steps: 1}"},
        {"lr_scheduler_kwargs={num_decay_steps: 2}"}}},
      {"lr_scheduler_kwargs.num_stable_steps",
       {{"lr_scheduler_type=warmup_stable_decay", "lr_scheduler_kwargs.num_decay_steps=1"},
        {"lr_scheduler_kwargs.num_stable_steps=0"}}},
      {"lr_scheduler_kwargs.warmup_type",
       {{"lr_scheduler_type=warmup_stable_decay", "warmup_steps=2",
         "lr_scheduler_kwargs.num_decay_steps=1"},
        {"lr_scheduler_kwargs.warmup_type=cosine"}}},
      {"lr_scheduler_kwargs.decay_type",
       {{"lr_scheduler_type=warmup_stable_decay", "lr_scheduler_kwargs.num_decay_steps=2"},
        {"lr_scheduler_kwargs.decay_type=linear"}}},
      {"lr_scheduler_kwargs.min_lr_ratio",
       {{"lr_scheduler_type=warmup_stable_decay", "lr_scheduler_kwargs.num_decay_steps=2"},
        {"lr_scheduler_kwargs.min_lr_ratio=0.5"}}},
      {"lr_scheduler_kwargs.timescale",
       {{"lr_scheduler_type=inverse_sqrt"}, {"lr_scheduler_kwargs.timescale=2"}}},
      {"warmup_steps", {{}, {"warmup_steps=1"}}},
      {"warmup_ratio", {{}, {"warmup_ratio=0.5"}}},
      {"weight_decay", {{}, {"weight_decay=0.5"}}},
      {"adam_beta1", {{}, {"adam_beta1=0.5"}}},
      {"adam_beta2", {{}, {"adam_beta2=0.9"}}},
      {"adam_epsilon", {{}, {"adam_epsilon=1e-3"}}},
      {"max_grad_norm", {{}, {"max_grad_norm=0.01"}}},
      {"optim", {{}, {"optim=sgd"}}},
      {"seed", {{}, {"seed=7"}}},
      {"data_seed", {{}, {"data_seed=7"}}},
      {"gradient_checkpointing", {{}, {"gradient_checkpointing=false"}}},
      {"bf16", {{}, {"bf16=true"}}},
      {"fp16", {{}, {"fp16=true"}}},
      {"use_cpu", {{}, {"use_cpu=true"}}},
      {"logging_strategy", {{}, {"logging_strategy=epoch"}}},
      {"logging_steps", {{}, {"logging_steps=2"}}},
      {"eval_strategy", {{"validation_split=0.5"}, {"eval_strategy=steps"}}},
      {"eval_steps", {{"validation_split=0.5", "eval_strategy=steps"}, {"eval_steps=2"}}},
      {"save_strategy", {{"save_steps=1"}, {"save_strategy=no"}}},
      {"save_steps", {{}, {"save_steps=1"}}},
      {"save_total_limit", {{"save_steps=1"}, {"save_total_limit=1"}}},
      {"resume_from_checkpoint",
       {{},
        {"resume_from_checkpoint=ROOT/out/checkpoint-1"},
        std::vector<std::string>{"save_steps=1"}}},
      {"overwrite_output_dir", {{}, {"overwrite_output_dir=true"}, std::vector<std::string>{}}},
      {"disable_tqdm", {{}, {"disable_tqdm=true"}}},
  };
  return p;
}

// A value other than `k`'s default, for NOT_YET keys.
std::string other_value(const ConfigKey& k) {
  const ojson d = ojson::parse(k.default_json);
  switch (k.type) {
    case ConfigType::BOOL:
      return d.is_boolean() && d.get<bool>() ? "false" : "true";
    case ConfigType::ENUM: {
      std::stringstream allowed(k.allowed);
      for (std::string v; std::getline(allowed, v, '|');)
        if (ojson(v) != d) return v;
      return "";
    }
    default:
      return "cuda:0";  // no STRING key honours it (device_map honours "auto")
  }
}

// Every walked name (top-level keys, "map.sub" for the keys inside mappings) with its entry.
std::vector<std::pair<std::string, const ConfigKey*>> walked_keys() {
  std::vector<std::pair<std::string, const ConfigKey*>> out;
  for (const ConfigKey& k : config_schema()) {
    if (const auto* nested = nested_config_schema(k.key)) {
      for (const ConfigKey& n : *nested) out.emplace_back(std::string(k.key) + "." + n.key, &n);
      continue;  // a mapping is its keys
    }
    out.emplace_back(k.key, &k);
  }
  return out;
}

std::string replaced(std::string s, const std::string& from, const std::string& to) {
  for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size()))
    s.replace(at, from.size(), to);
  return s;
}

// A JSON value without the fields that change from run to run (timing).
ojson without_timing(ojson j) {
  static const std::set<std::string> timing = {"train_runtime",
                                               "train_samples_per_second",
                                               "train_steps_per_second",
                                               "tokens_per_second",
                                               "eta_seconds",
                                               "total_flos"};
  if (j.is_object()) {
    ojson out = ojson::object();
    for (auto& [k, v] : j.items())
      if (!timing.count(k)) out[k] = without_timing(v);
    return out;
  }
  if (j.is_array())
    for (auto& v : j) v = without_timing(v);
  return j;
}

struct Fingerprinter : TrainingSink {
  std::string text;
  void on_notice(const std::string& t) override { text += "notice " + t + "\n"; }
  void on_started(const TrainingStarted& e) override {
    text += "started " + std::to_string(e.total_steps) + " " + std::to_string(e.rows) + " " +
            std::to_string(e.packed) + " " + std::to_string(e.batch_size) + "x" +
            std::to_string(e.accumulation) + "\n";
  }
  void on_step(const StepMetrics& m) override {
    text += "step " + without_timing(to_json(m)).dump() + "\n";
  }
  void on_eval(const EvalMetrics& e) override { text += "eval " + to_json(e).dump() + "\n"; }
  void on_checkpoint(const CheckpointSaved& c) override {
    text += "checkpoint " + std::to_string(c.step) + "\n";
  }
  void on_finished(const TrainingFinished& e) override {
    text += "finished " + without_timing(e.results).dump() + " " + e.model_dtype + "\n";
  }
};

std::string plan_text(const TrainingPlan& p) {
  const TrainerArgs& t = p.trainer;
  const ScheduleKwargs& k = t.lr_scheduler_kwargs;
  auto opt = [](const auto& o) {
    std::ostringstream s;
    if (o) s << *o;
    return s.str();
  };
  std::ostringstream s;
  s << t.per_device_train_batch_size << " " << t.gradient_accumulation_steps << " "
    << t.num_train_epochs << " " << t.max_steps << " " << t.learning_rate << " "
    << t.lr_scheduler_type << " " << opt(k.num_cycles) << opt(k.power) << opt(k.lr_end)
    << opt(k.min_lr) << opt(k.min_lr_rate) << opt(k.warmup_lr_rate) << opt(k.num_decay_steps)
    << opt(k.num_stable_steps) << opt(k.warmup_type) << opt(k.decay_type) << opt(k.min_lr_ratio)
    << " " << t.warmup_steps << " " << t.warmup_ratio << " " << t.max_grad_norm << " " << t.optim
    << " " << t.optimizer.weight_decay << " " << t.optimizer.adam_beta1 << " "
    << t.optimizer.adam_beta2 << " " << t.optimizer.adam_epsilon << " pad " << t.pad_token_id
    << " shuffle " << t.shuffle_seed << " | " << p.logging_strategy << " " << p.eval_strategy << " "
    << p.save_strategy << " " << p.logging_steps << " " << p.eval_steps << " " << p.save_steps
    << " " << p.eval_batch_size << " " << p.gradient_checkpointing << " " << p.seed << " "
    << opt(p.save_total_limit);
  return s.str();
}

// The "tuna warn" lines of captured stderr.
std::string warnings(const std::string& err) {
  std::string out;
  std::istringstream in(err);
  for (std::string line; std::getline(in, line);)
    if (line.rfind("tuna warn", 0) == 0) out += line + "\n";
  return out;
}

class ConfigSchemaWalk : public tuna_test::TempDirTest {
 protected:
  ConfigSchemaWalk() : TempDirTest("tuna_app_walk") {}
  void SetUp() override {
    TempDirTest::SetUp();
    const std::string rows[] = {
        R"({"instruction": "Name a fish", "input": "", "output": "tuna", "text": "a tuna swims", "body": "fish"})",
        R"({"instruction": "Say hi", "input": "", "output": "hi there", "text": "hi there you", "body": "hello"})",
        R"({"instruction": "Add", "input": "2+2", "output": "4", "text": "two and two is four", "body": "sum"})",
        R"({"instruction": "Colour of sky", "input": "", "output": "blue", "text": "the sky is blue", "body": "sky"})",
        R"({"instruction": "Opposite of up", "input": "", "output": "down", "text": "up and down", "body": "down"})",
        R"({"instruction": "Capital of France", "input": "", "output": "Paris", "text": "Paris is in France", "body": "city"})"};
    std::string data, bad;
    for (const std::string& r : rows) data += r + "\n";
    tuna_test::write_file(path("data.jsonl"), data);
    tuna_test::write_file(path("data2.jsonl"),
                          "{\"instruction\": \"Count\", \"input\": \"\", \"output\": \"1 2 3\"}\n"
                          "{\"instruction\": \"Greet\", \"input\": \"\", \"output\": \"hello\"}\n");
    tuna_test::write_file(path("list.jsonl"),
                          "{\"docs\": [\"a tuna\", \"a cod\"], \"answer\": \"fish\"}\n"
                          "{\"docs\": [\"sky\", \"sea\", \"sun\"], \"answer\": \"blue\"}\n");
    tuna_test::write_file(path("bad.jsonl"), rows[0] + "\n{\"instruction\": 3}\n" + rows[1] + "\n");
    handle_ = std::make_shared<const ModelHandle>(kLlama, Model::load(kLlama), tok_);
  }

  std::string expand(const std::string& s, const std::string& root) const {
    std::string out = replaced(s, "ROOT", root);
    out = replaced(out, "DATABAD", path("bad.jsonl"));
    out = replaced(out, "DATALIST", path("list.jsonl"));
    out = replaced(out, "DATA2", path("data2.jsonl"));
    return out;
  }

  TrainConfig config(const std::vector<std::string>& overrides, const std::string& root) const {
    std::vector<std::string> o;
    for (const std::string& s : overrides) o.push_back(expand(s, root));
    return parse_train_config("dataset: " + path("data.jsonl") + "\noutput_dir: " + root +
                                  "/out\nmax_length: 64\nuse_peft: true\n"
                                  "training: {max_steps: 3, per_device_train_batch_size: 2, "
                                  "learning_rate: 5e-3, logging_steps: 1}\n",
                              "walk.yaml", o);
  }

  // Everything `overrides` drive, in a fresh directory; `prior` runs first into it.
  std::string fingerprint(const std::vector<std::string>& overrides,
                          const std::optional<std::vector<std::string>>& prior) {
    const std::string root = path("run" + std::to_string(runs_++));
    fs::create_directories(root);
    std::string fp;
    try {
      if (prior) {
        TrainingJob job(config(*prior, root), handle_);
        job.run();
      }
      const TrainConfig cfg = config(overrides, root);
      fp += "plan " + plan_text(plan_training(cfg, tok_)) + "\n";
      fp += choose_training_device(cfg, /*gpu_visible=*/true).line + "\n";
      fp += "bar " + std::to_string(console_options(cfg, /*terminal=*/true).progress_bar) + "\n";
      TrainingJob job(cfg, handle_);
      Fingerprinter sink;
      job.add_sink(sink);
      ::testing::internal::CaptureStderr();  // the warnings the run logs are what a user sees
      try {
        job.run();
      } catch (...) {
        warnings(::testing::internal::GetCapturedStderr());
        throw;
      }
      fp += sink.text + warnings(::testing::internal::GetCapturedStderr());
    } catch (const Error& e) {
      fp += "error " + std::string(e.what()) + "\n";
    }
    std::vector<std::string> files;
    for (const auto& f : fs::recursive_directory_iterator(root)) {
      if (!f.is_regular_file()) continue;
      const std::string rel = fs::relative(f.path(), root).string();
      const std::string bytes = tuna_test::read_file(f.path().string());
      std::string what;
      if (rel.ends_with(".json")) {
        what = without_timing(ojson::parse(bytes)).dump();
      } else if (rel.ends_with(".jsonl")) {
        std::istringstream in(bytes);
        for (std::string line; std::getline(in, line);)
          if (!line.empty()) what += without_timing(ojson::parse(line)).dump();
      } else {
        what = std::to_string(std::hash<std::string>{}(bytes));
      }
      files.push_back("file " + rel + " " + what);
    }
    std::sort(files.begin(), files.end());
    for (const std::string& f : files) fp += f + "\n";
    return replaced(fp, root, "ROOT");
  }

  const Tokenizer tok_ = char_tokenizer();
  std::shared_ptr<const ModelHandle> handle_;
  int runs_ = 0;
};

// Every key is accounted for once: a probe, NOT_YET, one allowed value, or read elsewhere / inert
// with a reason; no probe names a key the schema lacks.
TEST_F(ConfigSchemaWalk, EveryKeyIsCovered) {
  std::set<std::string> names;
  for (const auto& [name, k] : walked_keys()) {
    names.insert(name);
    const int ways = (k->support == ConfigSupport::NOT_YET) + probes().count(name) +
                     kOnlyTheDefault.count(name) + kReadElsewhere.count(name) +
                     kInertByDesign.count(name);
    EXPECT_EQ(ways, 1) << name
                       << ": give the new key a probe in test_config_schema_walk.cpp (a value "
                          "that changes what the run does), or mark it NOT_YET in the schema";
  }
  for (const auto& [name, p] : probes()) EXPECT_TRUE(names.count(name)) << name;
}

// A NOT_YET key set to anything but its default is "not supported yet: KEY" (exit 2); a key with
// one allowed value refuses any other.
TEST_F(ConfigSchemaWalk, NotYetKeysAreRefused) {
  for (const auto& [name, k] : walked_keys()) {
    if (k->support != ConfigSupport::NOT_YET && !kOnlyTheDefault.count(name)) continue;
    const std::string v = k->support == ConfigSupport::NOT_YET ? other_value(*k) : "other";
    ASSERT_FALSE(v.empty()) << name;
    try {
      parse_train_config("dataset: x.jsonl\n", "walk.yaml", {name + "=" + v});
      ADD_FAILURE() << name << "=" << v << " was accepted";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::USER) << e.what();
      if (k->support == ConfigSupport::NOT_YET) {
        EXPECT_NE(std::string(e.what()).find("not supported yet: " + name), std::string::npos)
            << e.what();
      }
    }
  }
}

// Every probed key changes the fingerprint.
TEST_F(ConfigSchemaWalk, EverySupportedKeyChangesWhatTheRunDoes) {
  // context (and prior) → its fingerprint: the runs without a value are shared between probes.
  std::map<std::pair<std::vector<std::string>, std::string>, std::string> baseline;
  for (const auto& [name, probe] : probes()) {
    auto prior = probe.prior;
    if (prior) prior->insert(prior->end(), probe.context.begin(), probe.context.end());
    const auto base_key = std::make_pair(probe.context, prior ? ojson(*prior).dump() : "none");
    if (!baseline.count(base_key)) baseline[base_key] = fingerprint(probe.context, prior);
    const std::string& without = baseline[base_key];
    std::vector<std::string> with = probe.context;
    with.insert(with.end(), probe.value.begin(), probe.value.end());
    const std::string changed = fingerprint(with, prior);
    EXPECT_TRUE(without != changed)
        << name << ": " << probe.value.front() << " changed nothing observable:\n"
        << changed;
    // A value refused by an unrelated check would prove nothing: the error must name the key.
    if (changed.rfind("error ", 0) == 0 || changed.find("\nerror ") != std::string::npos) {
      EXPECT_NE(changed.find(name.substr(name.find('.') + 1)), std::string::npos)
          << name << ": the run failed for another reason:\n"
          << changed;
    }
  }
}

}  // namespace
}  // namespace tuna
