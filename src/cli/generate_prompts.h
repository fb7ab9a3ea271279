// `tuna generate --prompts FILE.jsonl [--batch-size B] [-o OUT.jsonl]`: offline batched
// generation (evaluation sets, labelling data). Each line of the file is one record,
// {"prompt": "..."} (the text as --prompt takes it) or {"messages": [...]} (a conversation as
// --messages takes it, rendered with the model's chat template), with an optional "id" copied
// to the output. Results are JSON lines in the input's order:
// {"index", "id"?, "output", "finish_reason", "prompt_tokens", "generated_tokens"}.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "app/chat_session.h"

namespace tuna::cli {

// One record of a prompts file.
struct PromptRecord {
  int64_t line = 0;                           // 1-based line in the file
  std::optional<std::string> prompt;          // "prompt"
  std::optional<ChatTemplateInputs> messages;  // "messages"
  nlohmann::ordered_json id;                  // "id", null when absent
};

// The records of `path` (blank lines skipped). A line that is not a JSON object with exactly one
// of a non-empty "prompt" string or a "messages" conversation is a user error naming the file
// and line; so is a file without records.
std::vector<PromptRecord> read_prompts_file(const std::string& path);

// One output line for record `index`.
std::string prompt_result_line(size_t index, const PromptRecord& record, const std::string& output,
                               const std::string& finish_reason, int64_t prompt_tokens,
                               int64_t generated_tokens);

}  // namespace tuna::cli
