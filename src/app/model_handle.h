// A loaded model as sessions share it: the model, its tokenizer and where its chat template
// comes from, behind const methods only, so any number of chat sessions, scorers and generations
// may read one handle at once. Changing the base (QLoRA's 4-bit quantisation) makes a new handle;
// a handle never changes after load. Also the model argument → tokenizer rule every command uses.
// Not here: adapters (per session), prompt building (chat_session.h).
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "model/model.h"
#include "model/quantize_base.h"
#include "tokenizer/builtin_templates.h"
#include "tokenizer/tokenizer.h"

namespace tuna {

// The tokenizer that belongs to a model argument: tokenizer.json (+ tokenizer_config.json) of a
// Hugging Face directory or repo id, or the tokenizer.ggml.* vocabulary of a GGUF file.
Tokenizer load_model_tokenizer(const std::string& model_arg);

// The GGUF architecture of a model ("" when it is not a GGUF or names none).
std::string gguf_architecture(const Model& model);

class ModelHandle {
 public:
  // Model::load(model_arg), then its tokenizer (user errors as those raise).
  static std::shared_ptr<const ModelHandle> load(const std::string& model_arg);
  // From parts already loaded (tests, a server that loads its own way).
  ModelHandle(std::string name, Model model, Tokenizer tokenizer);

  const std::string& name() const { return name_; }  // the model argument it was loaded from
  const Model& model() const { return model_; }
  const Tokenizer& tokenizer() const { return tokenizer_; }
  // The template conversations render with: the model's own, else its GGUF family's built-in
  // one (builtin = true); nullopt when there is neither.
  const std::optional<ChatTemplateSource>& chat_template() const { return chat_template_; }

  // QLoRA's base: a new handle whose linear weights are quantized to 4 bits (transformers'
  // load_in_4bit); the other weights stay shared and this handle is unchanged. `quantized`
  // receives the counts.
  std::shared_ptr<const ModelHandle> quantized_4bit(const Bnb4bitConfig& config,
                                                    QuantizedBase* quantized = nullptr) const;

 private:
  std::string name_;
  Model model_;
  Tokenizer tokenizer_;
  std::optional<ChatTemplateSource> chat_template_;
};

}  // namespace tuna
