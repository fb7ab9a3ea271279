// `tuna template --model M --messages FILE [--add-generation-prompt] [--template FILE|NAME]
// [--var KEY=VALUE]... [--ids | --raw]`: renders a conversation with the model's chat template
// exactly as transformers' apply_chat_template(tokenize=False) would, then shows its token
// count (encoded without adding special tokens, as apply_chat_template(tokenize=True) does).
#include <cstdio>
#include <filesystem>

#include "cli/chat_prompt.h"
#include "cli/commands.h"
#include "cli/model_tokenizer.h"
#include "core/error.h"
#include "core/mmap_file.h"
#include "io/gguf.h"
#include "model/model.h"
#include "tokenizer/builtin_templates.h"
#include "tokenizer/chat_template.h"

namespace tuna::cli {
namespace {

using ojson = nlohmann::ordered_json;

std::string names_list() {
  std::string s;
  for (const auto& n : builtin_chat_template_names()) s += (s.empty() ? "" : ", ") + n;
  return s;
}

}  // namespace

ChatTemplateInputs read_conversation(const std::string& path) {
  std::string text = read_file_bytes(path);
  ojson j;
  try {
    j = ojson::parse(text);
  } catch (const ojson::parse_error& e) {
    size_t line = 1, col = 1;
    for (size_t i = 0; i + 1 < e.byte && i < text.size(); ++i) {
      if (text[i] == '\n') {
        ++line;
        col = 1;
      } else {
        ++col;
      }
    }
    throw_user_error(
        "template",
        path + " line " + std::to_string(line) + ", column " + std::to_string(col) +
            ": invalid JSON",
        "the messages file is JSON: [{\"role\": \"user\", \"content\": \"...\"}, ...]");
  }
  ChatTemplateInputs in;
  if (j.is_object()) {
    if (!j.contains("messages"))
      throw_user_error("template", path + ": the object has no \"messages\" list",
                       "write {\"messages\": [{\"role\": \"user\", \"content\": \"...\"}]}");
    for (auto& [k, v] : j.items()) {
      if (k == "messages")
        in.messages = v;
      else if (k == "tools")
        in.tools = v;
      else if (k == "documents")
        in.documents = v;
      else if (k == "add_generation_prompt" && v.is_boolean())
        in.add_generation_prompt = v.get<bool>();
      else
        in.variables[k] = v;
    }
  } else {
    in.messages = j;
  }
  if (!in.messages.is_array())
    throw_user_error("template", path + ": \"messages\" is not a list",
                     "write [{\"role\": \"user\", \"content\": \"...\"}, ...]");
  for (size_t i = 0; i < in.messages.size(); ++i) {
    const ojson& m = in.messages[i];
    std::string where = path + " message " + std::to_string(i);
    if (!m.is_object())
      throw_user_error("template", where + " is not an object",
                       "each message is {\"role\": \"...\", \"content\": \"...\"}");
    if (!m.contains("role") || !m["role"].is_string())
      throw_user_error("template", where + " has no \"role\" string",
                       "roles are \"system\", \"user\", \"assistant\" (and \"tool\")");
  }
  return in;
}

std::string choose_template(const std::string& option, const std::string& model,
                            const Tokenizer& tok, std::string* origin) {
  std::error_code ec;
  if (!option.empty()) {
    if (std::filesystem::is_regular_file(option, ec)) {
      *origin = option;
      return read_file_bytes(option);
    }
    if (const char* b = builtin_chat_template(option)) {
      *origin = "built-in '" + option + "' template";
      return b;
    }
    throw_user_error("template",
                     "--template " + option + " is neither a file nor a built-in template",
                     "pass a .jinja file or one of: " + names_list());
  }
  std::string arch;
  if (std::filesystem::is_regular_file(model, ec) && is_gguf_file(model)) {
    GgufFile g = GgufFile::open(model);
    if (g.has("general.architecture")) arch = g.get_string("general.architecture");
  }
  if (auto t = model_chat_template(tok, arch, model)) {
    if (t->builtin)
      std::fprintf(stderr,
                   "note: %s carries no tokenizer.chat_template; using tuna's built-in '%s' "
                   "template (the one the model family ships in tokenizer_config.json)\n",
                   model.c_str(), arch.c_str());
    *origin = t->origin;
    return t->source;
  }
  throw_user_error(
      "template", model + " has no chat template",
      "pass --template FILE (a .jinja file) or --template NAME (" + names_list() + ")");
}

Runner register_template(CLI::App& app) {
  struct Options {
    std::string model, messages, tmpl;
    std::vector<std::string> vars;
    bool add_generation_prompt = false, ids = false, raw = false;
  };
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
    ChatTemplateInputs in = read_conversation(o->messages);
    if (o->add_generation_prompt) in.add_generation_prompt = true;
    Tokenizer tok = load_model_tokenizer(o->model);
    ojson vars = tok.special_tokens_map();
    for (auto& [k, v] : in.variables.items()) vars[k] = v;
    for (const std::string& kv : o->vars) {
      size_t eq = kv.find('=');
      if (eq == std::string::npos || eq == 0)
        throw_user_error("template", "--var " + kv + " is not KEY=VALUE",
                         "e.g. --var enable_thinking=false");
      std::string value = kv.substr(eq + 1);
      ojson parsed = ojson::parse(value, nullptr, false);
      vars[kv.substr(0, eq)] = parsed.is_discarded() ? ojson(value) : parsed;
    }
    in.variables = std::move(vars);
    std::string origin;
    std::string source = choose_template(o->tmpl, o->model, tok, &origin);
    ChatRender r = ChatTemplate::parse(source, origin).render(in);
    std::fwrite(r.text.data(), 1, r.text.size(), stdout);
    if (o->raw) return 0;
    if (r.text.empty() || r.text.back() != '\n') std::printf("\n");
    Tokenizer::Encoding enc = tok.encode_full(r.text, false);
    std::printf("---\n");
    if (o->ids) print_token_table(tok, enc);
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
  };
}

}  // namespace tuna::cli
