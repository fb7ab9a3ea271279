// `tuna train CONFIG.yaml [key=value ...]`: LoRA / QLoRA fine-tuning from a YAML config whose
// keys are TrainingArguments / SFTConfig / LoraConfig / BitsAndBytesConfig names (docs/config.md).
#include <cstdio>

#include "cli/commands.h"
#include "cli/model_tokenizer.h"
#include "core/error.h"
#include "model/model.h"
#include "train/run.h"

namespace tuna::cli {

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
    Model model = Model::load(model_arg);
    Tokenizer tok = load_model_tokenizer(model_arg);
    try {
      run_training(cfg, model, tok, model_arg);
    } catch (const TrainingInterrupted& e) {
      std::fprintf(stderr, "%s\n", e.what());
      return 130;
    }
    return 0;
  };
}

}  // namespace tuna::cli
