// Model argument → Tokenizer. See model_tokenizer.h.
#include "cli/model_tokenizer.h"

#include <cstdio>
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

// Printable form of a piece: control characters and invalid bytes escaped.
static std::string printable_piece(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (c == '\n')
      out += "\\n";
    else if (c == '\t')
      out += "\\t";
    else if (c == '\r')
      out += "\\r";
    else if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

void print_token_table(const Tokenizer& tok, const Tokenizer::Encoding& enc) {
  for (size_t i = 0; i < enc.ids.size(); ++i) {
    const int32_t id = enc.ids[i];
    const bool special = tok.is_special(id) || (i < enc.special_mask.size() && enc.special_mask[i]);
    std::printf("%6d  %s%s\n", id, printable_piece(tok.id_to_piece(id)).c_str(),
                special ? "  [special]" : "");
  }
}

}  // namespace tuna::cli
