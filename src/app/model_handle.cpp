// Model handles and the model argument → tokenizer rule (see model_handle.h).
#include "app/model_handle.h"

#include <filesystem>

#include "core/error.h"
#include "io/gguf.h"
#include "io/hf_model_dir.h"
#include "tokenizer/gguf_vocab.h"

namespace tuna {

Tokenizer load_model_tokenizer(const std::string& model_arg) {
  std::error_code ec;
  if (std::filesystem::is_regular_file(model_arg, ec)) {
    if (!is_gguf_file(model_arg))
      throw_user_error("tokenizer", model_arg + " is neither a GGUF file nor a model directory",
                       "pass a Hugging Face model directory or a .gguf file");
    return tokenizer_from_gguf(GgufFile::open(model_arg));
  }
  const std::string dir = resolve_model_dir(model_arg);
  if (!std::filesystem::exists(std::filesystem::path(dir) / "tokenizer.json", ec))
    throw_user_error(
        "tokenizer", "no tokenizer.json in " + dir,
        "copy the model's tokenizer.json (and tokenizer_config.json) into the directory");
  return Tokenizer::from_model_dir(dir);
}

std::string gguf_architecture(const Model& model) {
  const GgufFile* g = model.gguf();
  return g && g->has("general.architecture") ? g->get_string("general.architecture") : "";
}

std::shared_ptr<const ModelHandle> ModelHandle::load(const std::string& model_arg) {
  Model model = Model::load(model_arg);
  Tokenizer tok = load_model_tokenizer(model_arg);
  return std::make_shared<const ModelHandle>(model_arg, std::move(model), std::move(tok));
}

ModelHandle::ModelHandle(std::string name, Model model, Tokenizer tokenizer)
    : name_(std::move(name)), model_(std::move(model)), tokenizer_(std::move(tokenizer)) {
  chat_template_ = model_chat_template(tokenizer_, gguf_architecture(model_), name_);
}

std::shared_ptr<const ModelHandle> ModelHandle::quantized_4bit(const Bnb4bitConfig& config,
                                                               QuantizedBase* quantized) const {
  Model model = model_;  // shares every tensor; quantizing replaces the copy's slots only
  const QuantizedBase q = model.quantize_base_4bit(config);
  if (quantized) *quantized = q;
  return std::make_shared<const ModelHandle>(name_, std::move(model), tokenizer_);
}

}  // namespace tuna
