// Model argument → Tokenizer. See model_tokenizer.h.
#include "cli/model_tokenizer.h"

#include <filesystem>

#include "core/error.h"
#include "io/gguf.h"
#include "io/hf_model_dir.h"
#include "model/model.h"
#if __has_include("tokenizer/gguf_vocab.h")
#include "tokenizer/gguf_vocab.h"
#define TUNA_HAVE_GGUF_VOCAB 1
#endif

namespace tuna::cli {

Tokenizer load_model_tokenizer(const std::string& model_arg) {
  std::error_code ec;
  if (std::filesystem::is_regular_file(model_arg, ec)) {
    if (!is_gguf_file(model_arg))
      throw_user_error("tokenizer", model_arg + " is neither a GGUF file nor a model directory",
                       "pass a Hugging Face model directory or a .gguf file");
#ifdef TUNA_HAVE_GGUF_VOCAB
    return tokenizer_from_gguf(GgufFile::open(model_arg));
#else
    throw_user_error("tokenizer", "not supported yet: the tokenizer of a GGUF file (" + model_arg + ")",
                     "use the model's Hugging Face directory (tokenizer.json) for text, or pass --ids");
#endif
  }
  const std::string dir = resolve_model_dir(model_arg);
  if (!std::filesystem::exists(std::filesystem::path(dir) / "tokenizer.json", ec))
    throw_user_error("tokenizer", "no tokenizer.json in " + dir,
                     "copy the model's tokenizer.json (and tokenizer_config.json) into the directory");
  return Tokenizer::from_model_dir(dir);
}

}  // namespace tuna::cli
