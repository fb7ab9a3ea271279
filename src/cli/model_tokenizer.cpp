// Model argument → Tokenizer. See model_tokenizer.h.
#include "cli/model_tokenizer.h"

#include <filesystem>

#include "core/error.h"
#include "io/gguf.h"
#include "io/hf_model_dir.h"
#include "model/model.h"
#include "tokenizer/gguf_vocab.h"

namespace tuna::cli {

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

}  // namespace tuna::cli
