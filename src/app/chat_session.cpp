// Conversations, template choice, prompt building and chat sessions (see chat_session.h).
#include "app/chat_session.h"

#include <filesystem>

#include "core/error.h"
#include "core/message.h"
#include "core/mmap_file.h"
#include "data/example.h"
#include "io/gguf.h"
#include "tokenizer/builtin_templates.h"

namespace tuna {

namespace {

using ojson = nlohmann::ordered_json;

ChosenTemplate chosen(const std::optional<ChatTemplateSource>& t, const std::string& arch,
                      const std::string& model_arg, const std::string& param) {
  if (!t)
    throw_user_error("template", model_arg + " has no chat template",
                     "pass " + param + " FILE (a .jinja file) or " + param + " NAME (" +
                         join_names(builtin_chat_template_names()) + ")");
  ChosenTemplate c;
  c.source = t->source;
  c.origin = t->origin;
  c.family_builtin = t->builtin;
  c.architecture = arch;
  return c;
}

// The template `name_or_file` names: a file, else a built-in name.
ChosenTemplate named_template(const std::string& name_or_file, const std::string& param) {
  std::error_code ec;
  ChosenTemplate c;
  if (std::filesystem::is_regular_file(name_or_file, ec)) {
    c.origin = name_or_file;
    c.source = read_file_bytes(name_or_file);
    return c;
  }
  if (const char* b = builtin_chat_template(name_or_file)) {
    c.origin = "built-in '" + name_or_file + "' template";
    c.source = b;
    return c;
  }
  throw_user_error("template",
                   param + " " + quote(name_or_file) + " is neither a file nor a built-in template",
                   "pass a .jinja file or one of: " + join_names(builtin_chat_template_names()));
}

}  // namespace

ChatTemplateInputs parse_conversation(const std::string& text, const std::string& source) {
  ojson j;
  try {
    j = ojson::parse(text);
  } catch (const ojson::parse_error& e) {
    const TextPosition at = text_position(text, e.byte > 0 ? e.byte - 1 : 0);
    throw_user_error(
        "template",
        source + " line " + std::to_string(at.line) + ", column " + std::to_string(at.column) +
            ": invalid JSON",
        "the messages file is JSON: [{\"role\": \"user\", \"content\": \"...\"}, ...]");
  }
  ChatTemplateInputs in;
  if (j.is_object()) {
    if (!j.contains("messages"))
      throw_user_error("template", source + ": the object has no \"messages\" list",
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
    throw_user_error("template", source + ": \"messages\" is not a list",
                     "write [{\"role\": \"user\", \"content\": \"...\"}, ...]");
  if (in.messages.empty())
    throw_user_error("template", source + ": the conversation holds no messages",
                     "write at least one message: [{\"role\": \"user\", \"content\": \"...\"}]");
  for (size_t i = 0; i < in.messages.size(); ++i) {
    const ojson& m = in.messages[i];
    std::string where = source + " message " + std::to_string(i);
    if (!m.is_object())
      throw_user_error("template", where + " is not an object",
                       "each message is {\"role\": \"...\", \"content\": \"...\"}");
    if (!m.contains("role") || !m["role"].is_string())
      throw_user_error("template", where + " has no \"role\" string",
                       "roles are \"system\", \"user\", \"assistant\" (and \"tool\")");
  }
  return in;
}

ChatTemplateInputs read_conversation(const std::string& path) {
  return parse_conversation(read_file_bytes(path), path);
}

ChosenTemplate choose_chat_template(const std::string& name_or_file, const std::string& model_arg,
                                    const Tokenizer& tok, const std::string& param) {
  if (!name_or_file.empty()) return named_template(name_or_file, param);
  std::error_code ec;
  std::string arch;
  if (std::filesystem::is_regular_file(model_arg, ec) && is_gguf_file(model_arg)) {
    GgufFile g = GgufFile::open(model_arg);
    if (g.has("general.architecture")) arch = g.get_string("general.architecture");
  }
  return chosen(model_chat_template(tok, arch, model_arg), arch, model_arg, param);
}

ChosenTemplate model_template(const ModelHandle& model, const std::string& name_or_file,
                              const std::string& param) {
  if (!name_or_file.empty()) return named_template(name_or_file, param);
  return chosen(model.chat_template(), gguf_architecture(model.model()), model.name(), param);
}

PromptFormat parse_prompt_format(const std::string& name) {
  if (name.empty()) return PromptFormat::PLAIN;
  if (name == "alpaca") return PromptFormat::ALPACA;
  throw_user_error("generate", "`template` " + name + " is not a known prompt format",
                   "the prompt formats are: alpaca (chat templates come from the model with "
                   "`messages`)");
}

std::vector<int32_t> text_prompt_ids(const Tokenizer& tok, PromptFormat format,
                                     const std::string& text) {
  TUNA_ASSERT(format != PromptFormat::CHAT, "text_prompt_ids: a chat needs chat_prompt_ids");
  return tok.encode(format == PromptFormat::ALPACA ? alpaca_prompt(text, "") : text, true);
}

std::vector<int32_t> chat_prompt_ids(const ChatTemplate& chat, const Tokenizer& tok,
                                     ChatTemplateInputs in) {
  in.add_generation_prompt = true;
  ojson vars = tok.special_tokens_map();
  for (auto& [k, v] : in.variables.items()) vars[k] = v;
  in.variables = std::move(vars);
  const std::string text = chat.render(in).text;
  const auto bos = tok.options().bos_token;
  const bool has_bos = bos && !bos->empty() && text.compare(0, bos->size(), *bos) == 0;
  return tok.encode(text, !has_bos);
}

ChatSession::ChatSession(std::shared_ptr<const ModelHandle> model, PromptFormat format,
                         std::optional<ChatTemplate> chat, const ModelWeights* weights,
                         const std::vector<LoraAdapter>* adapters, GenerationOptions options)
    : model_(std::move(model)),
      format_(format),
      chat_(std::move(chat)),
      weights_(weights),
      adapters_(adapters),
      options_(std::move(options)),
      kv_{KvDecoder(model_->model(), weights, adapters), {}} {
  TUNA_ASSERT(format_ != PromptFormat::CHAT || chat_, "ChatSession: CHAT needs a template");
}

Generation ChatSession::send(const std::string& user_text, const TextSink& sink,
                             const CancelToken* cancel) {
  const Tokenizer& tok = model_->tokenizer();
  if (format_ == PromptFormat::CHAT) {
    conversation_.messages.push_back({{"role", "user"}, {"content", user_text}});
    last_prompt_ = chat_prompt_ids(*chat_, tok, conversation_);
  } else {
    last_prompt_ = text_prompt_ids(tok, format_, user_text);
  }
  GenerationOptions o = options_;
  if (cancel) o.should_stop = [cancel] { return cancel->cancelled(); };
  Generation reply =
      generate(model_->model(), weights_, adapters_, tok, last_prompt_, o, sink, &kv_);
  if (format_ == PromptFormat::CHAT)
    conversation_.messages.push_back({{"role", "assistant"}, {"content", reply.text}});
  return reply;
}

void ChatSession::reset() {
  conversation_.messages = nlohmann::ordered_json::array();
  kv_.reset();
}

}  // namespace tuna
