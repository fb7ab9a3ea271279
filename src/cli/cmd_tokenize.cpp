// `tuna tokenize --model M [--ids] [--no-special] (TEXT | --file F)`: shows exactly what the
// model sees — each token's id and piece, special tokens marked — or, with --ids, the ids only
// (one line, the format `tuna score --ids` reads).
#include <cstdio>

#include "app/model_handle.h"
#include "cli/commands.h"
#include "cli/token_table.h"
#include "core/error.h"
#include "core/mmap_file.h"

namespace tuna::cli {

Runner register_tokenize(CLI::App& app) {
  struct Options {
    std::string model, text, file;
    bool ids_only = false, no_special = false;
  };
  auto o = std::make_shared<Options>();
  app.add_option("-m,--model", o->model,
                 "model directory, HF repo id in the local cache, or GGUF file")
      ->required();
  auto* text = app.add_option("text", o->text, "text to tokenize");
  auto* file = app.add_option("-f,--file", o->file, "read the text from a file (UTF-8)");
  text->excludes(file);
  app.add_flag("--ids", o->ids_only, "print the ids only, space-separated on one line");
  app.add_flag("--no-special", o->no_special, "do not add BOS/EOS (add_special_tokens=False)");
  return [o]() {
    std::string input = o->text;
    if (!o->file.empty()) {
      input = read_file_bytes(o->file);
    }
    Tokenizer tok = load_model_tokenizer(o->model);
    Tokenizer::Encoding enc = tok.encode_full(input, !o->no_special);
    if (enc.invalid_utf8_replaced > 0)
      std::fprintf(stderr,
                   "note: %zu invalid UTF-8 sequence(s) replaced by U+FFFD before tokenizing\n",
                   enc.invalid_utf8_replaced);
    if (o->ids_only) {
      std::string line;
      for (size_t i = 0; i < enc.ids.size(); ++i)
        line += (i ? " " : "") + std::to_string(enc.ids[i]);
      std::printf("%s\n", line.c_str());
      return 0;
    }
    print_token_table(tok, enc);
    std::printf("%zu tokens\n", enc.ids.size());
    return 0;
  };
}

}  // namespace tuna::cli
