// `tuna score --model M (--text T | --ids FILE) [--out FILE.json] [--top-k K]`: per-token
// log-probabilities, top-K alternatives, NLL and perplexity as JSON (app/scorer.h computes
// them); written to stdout or atomically to --out.
#include <cstdio>
#include <nlohmann/json.hpp>
#include <optional>

#include "app/model_handle.h"
#include "app/scorer.h"
#include "cli/commands.h"
#include "cli/progress.h"
#include "core/error.h"
#include "core/file_io.h"
#include "core/log.h"
#include "model/model.h"

namespace tuna::cli {

Runner register_score(CLI::App& app) {
  struct Options {
    std::string model, text, ids, out;
    int top_k = 5;
  };
  auto o = std::make_shared<Options>();
  app.add_option("-m,--model", o->model,
                 "model directory, HF repo id in the local cache, or GGUF file")
      ->required();
  auto* text = app.add_option("--text", o->text,
                              "text to score, tokenized with the model's tokenizer (BOS added as "
                              "the model's tokenizer adds it)");
  auto* ids =
      app.add_option("--ids", o->ids, "file of token ids: one sequence per line, or a JSON array");
  text->excludes(ids);
  app.add_option("-o,--out", o->out, "write the JSON here instead of stdout");
  app.add_option("--top-k", o->top_k, "alternatives listed per token, 0 to 1000 (default 5)")
      ->check(CLI::Range(0, 1000));
  return [o, text, ids]() {
    if (text->count() > 0 && o->text.empty())
      throw_user_error("score", "--text is empty", "pass the text to score, e.g. --text 'Hello'");
    if (ids->count() > 0 && o->ids.empty())
      throw_user_error("score", "--ids is empty", "pass a file of token ids, e.g. --ids ids.txt");
    if (o->text.empty() && o->ids.empty())
      throw_user_error("score", "nothing to score", "pass --text TEXT or --ids FILE");
    std::vector<std::vector<int32_t>> seqs;
    std::optional<Tokenizer> tok;
    if (!o->text.empty()) {
      tok = load_model_tokenizer(o->model);
      seqs.push_back(tok->encode(o->text, true));
      if (seqs[0].empty())
        throw_user_error("score", "the text gives no tokens", "pass a non-empty text");
    } else {
      seqs = read_ids_file(o->ids);
      try {  // pieces in the output when the model has a tokenizer; ids are scored either way
        tok = load_model_tokenizer(o->model);
      } catch (const Error& e) {
        log_info("no pieces in the output: {}", e.what());
        tok.reset();
      }
    }
    std::optional<Model> loaded;
    {
      SlowWorkNotice notice("loading " + o->model);
      loaded.emplace(Model::load(o->model));
    }
    const Model& model = *loaded;
    nlohmann::json result = score_sequences(model, tok ? &*tok : nullptr, seqs, o->top_k);
    const std::string text = result.dump(1) + "\n";
    if (o->out.empty()) {
      std::fwrite(text.data(), 1, text.size(), stdout);
    } else {
      write_file_atomic("score", o->out,
                        [&](const WriteBytes& sink) { sink(text.data(), text.size()); });
      std::fprintf(stderr, "scored %lld tokens: perplexity %.4f → %s\n",
                   static_cast<long long>(result["n_scored"].get<int64_t>()),
                   result["perplexity"].is_null() ? 0.0 : result["perplexity"].get<double>(),
                   o->out.c_str());
    }
    return 0;
  };
}

}  // namespace tuna::cli
