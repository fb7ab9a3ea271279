// `tuna template --model M --messages FILE [--add-generation-prompt] [--template FILE|NAME]
// [--var KEY=VALUE]... [--ids | --raw]`: renders a conversation with the model's chat template
// exactly as transformers' apply_chat_template(tokenize=False) would, then shows its token
// count (encoded without adding special tokens, as apply_chat_template(tokenize=True) does).
#include <cstdio>

#include "app/chat_session.h"
#include "app/model_handle.h"
#include "cli/commands.h"
#include "cli/flag_names.h"
#include "cli/token_table.h"
#include "core/error.h"
#include "tokenizer/chat_template.h"

namespace tuna::cli {

using ojson = nlohmann::ordered_json;

// The note `tuna template` and `tuna generate` print when a GGUF model's family template stands in.
void note_family_template(const ChosenTemplate& t, const std::string& model) {
  if (t.family_builtin)
    std::fprintf(stderr,
                 "note: %s carries no tokenizer.chat_template; using tuna's built-in '%s' "
                 "template (the one the model family ships in tokenizer_config.json)\n",
                 model.c_str(), t.architecture.c_str());
}

namespace {

struct Options {
  std::string model, messages, tmpl;
  std::vector<std::string> vars;
  bool add_generation_prompt = false, ids = false, raw = false;
};

int run_template(const Options& o) {
  ChatTemplateInputs in = read_conversation(o.messages);
  if (o.add_generation_prompt) in.add_generation_prompt = true;
  Tokenizer tok = load_model_tokenizer(o.model);
  ojson vars = tok.special_tokens_map();
  for (auto& [k, v] : in.variables.items()) vars[k] = v;
  for (const std::string& kv : o.vars) {
    size_t eq = kv.find('=');
    if (eq == std::string::npos || eq == 0)
      throw_user_error("template", "--var " + kv + " is not KEY=VALUE",
                       "e.g. --var enable_thinking=false");
    std::string value = kv.substr(eq + 1);
    ojson parsed = ojson::parse(value, nullptr, false);
    vars[kv.substr(0, eq)] = parsed.is_discarded() ? ojson(value) : parsed;
  }
  in.variables = std::move(vars);
  const ChosenTemplate chosen = choose_chat_template(o.tmpl, o.model, tok);
  note_family_template(chosen, o.model);
  ChatRender r = ChatTemplate::parse(chosen.source, chosen.origin).render(in);
  std::fwrite(r.text.data(), 1, r.text.size(), stdout);
  if (o.raw) return 0;
  if (r.text.empty() || r.text.back() != '\n') std::printf("\n");
  Tokenizer::Encoding enc = tok.encode_full(r.text, false);
  std::printf("---\n");
  if (o.ids) print_token_table(tok, enc);
  std::printf("%zu tokens (encoded without adding special tokens, as apply_chat_template does)\n",
              enc.ids.size());
  for (const auto& [b, e] : r.generation_spans)
    std::printf("assistant span: bytes [%zu, %zu)\n", b, e);
  const auto bos = tok.options().bos_token;
  if (tok.add_bos() && bos && !bos->empty() && r.text.compare(0, bos->size(), *bos) == 0)
    std::fprintf(stderr,
                 "note: the prompt already starts with %s; encode it without adding special "
                 "tokens (tuna does) or the model sees two BOS tokens\n",
                 bos->c_str());
  return 0;
}

}  // namespace

Runner register_template(CLI::App& app) {
  auto o = std::make_shared<Options>();
  app.add_option("-m,--model", o->model,
                 "model directory, HF repo id in the local cache, or GGUF file")
      ->required();
  app.add_option("--messages", o->messages,
                 "JSON file: a list of {role, content} messages, or {\"messages\": [...], "
                 "\"tools\": [...], other template variables}")
      ->required();
  app.add_flag("--add-generation-prompt", o->add_generation_prompt,
               "end with the assistant header, as for generation");
  app.add_option("--template", o->tmpl,
                 "a .jinja file or a built-in template name instead of the model's own");
  app.add_option("--var", o->vars,
                 "extra template variable KEY=VALUE (VALUE as JSON, else text), "
                 "e.g. --var enable_thinking=false");
  auto* ids = app.add_flag("--ids", o->ids, "also list every token (id, piece, special)");
  app.add_flag("--raw", o->raw, "print the rendered prompt only")->excludes(ids);
  return [o]() {
    return run_with_flag_names({{"template", "--template"}}, [&] { return run_template(*o); });
  };
}

}  // namespace tuna::cli
