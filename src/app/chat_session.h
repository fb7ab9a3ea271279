// Chat sessions: the prompts generation sees and the conversations that make them. Prompt
// building for the three formats — plain text, alpaca (data/example.h alpaca_prompt, the very
// text training formats alpaca data with) and chat templates (the model's own, a built-in one or
// a .jinja file) —, conversation reading and validation, and a multi-turn session that keeps its
// KV cache between turns, streams text through a sink and stops when its cancel token trips.
// Not here: decoding and sampling (infer/generation.h), the model (model_handle.h).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "app/cancel_token.h"
#include "app/model_handle.h"
#include "infer/generation.h"
#include "tokenizer/chat_template.h"

namespace tuna {

// A conversation: a JSON list of messages, or an object {"messages": [...], "tools": [...],
// "documents": [...], "add_generation_prompt": bool, other keys = template variables}. Bad JSON
// (with its line and column in `source`), no messages at all or a message without a role: user
// error.
ChatTemplateInputs parse_conversation(const std::string& json_text, const std::string& source);
// The same from a file.
ChatTemplateInputs read_conversation(const std::string& path);

// The template a conversation renders with.
struct ChosenTemplate {
  std::string source, origin;
  // The model ships none; its GGUF family's built-in one (`architecture`) stands in.
  bool family_builtin = false;
  std::string architecture;
};
// `name_or_file` (a .jinja file or a built-in template name) when not empty, else the model's own
// (`model_arg`'s tokenizer, or its GGUF family's built-in one). User error when there is none;
// errors name `param`, the option that takes a template (`tuna template --template`).
ChosenTemplate choose_chat_template(const std::string& name_or_file, const std::string& model_arg,
                                    const Tokenizer& tok, const std::string& param = "--template");
// The handle's template, or `name_or_file` when not empty (as choose_chat_template; `tuna
// generate --chat-template`).
ChosenTemplate model_template(const ModelHandle& model, const std::string& name_or_file = "",
                              const std::string& param = "--chat-template");

enum class PromptFormat : uint8_t {
  PLAIN,   // the text as is
  ALPACA,  // the text as an alpaca instruction with an empty input
  CHAT,    // a conversation rendered by a chat template
};
// "" → PLAIN, "alpaca" → ALPACA; anything else is a user error naming the `template` parameter
// (the CLI's --prompt-format).
PromptFormat parse_prompt_format(const std::string& name);

// A text prompt's ids (PLAIN or ALPACA), with the tokenizer's special tokens.
std::vector<int32_t> text_prompt_ids(const Tokenizer& tok, PromptFormat format,
                                     const std::string& text);
// A conversation's ids: rendered with the generation prompt and the tokenizer's special tokens
// as variables (the conversation's own variables win), encoded without special tokens when the
// rendering already starts with BOS, as apply_chat_template does.
std::vector<int32_t> chat_prompt_ids(const ChatTemplate& chat, const Tokenizer& tok,
                                     ChatTemplateInputs in);

// A multi-turn session over one shared model handle. CHAT keeps the conversation (user and
// assistant turns) and renders it each turn; PLAIN / ALPACA turns stand alone. The KV cache stays
// between turns: each turn prefills only what its prompt adds.
class ChatSession {
 public:
  // `weights`: merged adapter weights, or null for the model's own; `adapters`: applied on the
  // fly, or null. Both must outlive the session. CHAT needs `chat`.
  ChatSession(std::shared_ptr<const ModelHandle> model, PromptFormat format,
              std::optional<ChatTemplate> chat, const ModelWeights* weights,
              const std::vector<LoraAdapter>* adapters, GenerationOptions options);

  // One user turn: the reply, streamed to `sink` as it is produced. `cancel` (the caller's,
  // tripped from any thread) ends it between two tokens with finish_reason "cancelled"; the
  // partial reply still joins the conversation.
  Generation send(const std::string& user_text, const TextSink& sink,
                  const CancelToken* cancel = nullptr);
  // Forgets the conversation and the cache.
  void reset();
  // The prompt ids of the last turn.
  const std::vector<int32_t>& last_prompt() const { return last_prompt_; }

 private:
  std::shared_ptr<const ModelHandle> model_;
  PromptFormat format_;
  std::optional<ChatTemplate> chat_;
  const ModelWeights* weights_;
  const std::vector<LoraAdapter>* adapters_;
  GenerationOptions options_;
  ChatTemplateInputs conversation_;
  KvSession kv_;
  std::vector<int32_t> last_prompt_;
};

}  // namespace tuna
