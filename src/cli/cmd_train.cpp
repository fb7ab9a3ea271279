// `tuna train CONFIG.yaml [key=value ...]`: LoRA, QLoRA or full fine-tuning from a YAML config
// whose keys are TrainingArguments / SFTConfig / LoraConfig / BitsAndBytesConfig names
// (docs/config.md).
#include <unistd.h>

#include <cstdio>

#include "app/checkpointer.h"
#include "app/metrics_sinks.h"
#include "app/model_handle.h"
#include "app/training_job.h"
#include "cli/commands.h"
#include "cli/progress.h"
#include "core/error.h"
#include "train/trainable_set.h"

namespace tuna::cli {

namespace {

// Ctrl-C cancels the job once its loop runs (before that it ends the process as always); the
// target is cleared when the runner returns or throws.
class InterruptSink : public TrainingSink {
 public:
  explicit InterruptSink(CancelToken& token) : token_(token) {}
  ~InterruptSink() override { set_interrupt_target(nullptr); }
  InterruptSink(const InterruptSink&) = delete;
  InterruptSink& operator=(const InterruptSink&) = delete;
  void on_started(const TrainingStarted&) override { set_interrupt_target(&token_); }

 private:
  CancelToken& token_;
};

}  // namespace

Runner register_train(CLI::App& app) {
  struct Options {
    std::string config;
    std::vector<std::string> overrides;
  };
  auto o = std::make_shared<Options>();
  app.add_option("config", o->config, "YAML config (docs/config.md lists every key)")->required();
  app.add_option("overrides", o->overrides,
                 "key=value overrides, e.g. max_steps=20 learning_rate=1e-4");
  return [o]() {
    TrainConfig cfg = load_train_config(o->config, o->overrides);
    if (!cfg.at("model").is_string())
      throw_user_error("config", o->config + ": no model",
                       "set model: a Hugging Face directory, a cached repo id or a .gguf file");
    const std::string model_arg = cfg.at("model").get<std::string>();
    check_trainable_config(cfg);  // e.g. no use_peft and no LoRA key: asked before loading
    check_output_dir(cfg);  // a bad output_dir or checkpoint is reported before the model loads
    std::shared_ptr<const ModelHandle> model;
    {
      SlowWorkNotice notice("loading " + model_arg);
      model = ModelHandle::load(model_arg);
    }
    // disable_tqdm: no progress bar; the log lines print either way (HF's PrinterCallback).
    const ConsoleOptions console_opts = console_options(cfg, isatty(STDERR_FILENO) != 0);
    TrainingJob job(std::move(cfg), std::move(model));
    ConsoleSink console({}, console_opts);
    InterruptSink interrupt(job.cancel_token());
    job.add_sink(console);
    job.add_sink(interrupt);
    try {
      job.run();
    } catch (const TrainingInterrupted& e) {
      std::fprintf(stderr, "%s\n", e.what());
      return 130;
    }
    return 0;
  };
}

}  // namespace tuna::cli
