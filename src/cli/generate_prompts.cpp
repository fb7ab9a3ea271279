// The prompts file of `tuna generate --prompts` and its result lines (see generate_prompts.h).
#include "cli/generate_prompts.h"

#include <fstream>
#include <sstream>

#include "core/error.h"
#include "core/message.h"
#include "core/utf8.h"

namespace tuna::cli {

namespace {

using ojson = nlohmann::ordered_json;

constexpr const char* kShape =
    "each line is {\"prompt\": \"...\"} or {\"messages\": [{\"role\": \"user\", \"content\": "
    "\"...\"}]} (and optionally \"id\")";

}  // namespace

std::vector<PromptRecord> read_prompts_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw_user_error("generate", "cannot read --prompts " + path,
                     "check that the file exists and is readable");
  std::vector<PromptRecord> records;
  std::string text;
  size_t line_offset = 0, next_offset = 0;  // of this line, of the next one, in the file
  for (int64_t line = 1; std::getline(in, text); ++line) {
    line_offset = next_offset;
    next_offset += text.size() + 1;
    if (!text.empty() && text.back() == '\r') text.pop_back();
    if (text.find_first_not_of(" \t") == std::string::npos) continue;
    const std::string where = path + " line " + std::to_string(line);
    if (const size_t bad = utf8::first_invalid(text); bad != std::string::npos)
      throw_user_error("generate",
                       where + ": " +
                           invalid_utf8_at(static_cast<unsigned char>(text[bad]),
                                           text_position(text, bad), false, line_offset + bad),
                       "save the file as UTF-8");
    ojson j = ojson::parse(text, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded())
      throw_user_error("generate", where + ": not valid JSON", kShape);
    if (!j.is_object()) throw_user_error("generate", where + ": not a JSON object", kShape);
    for (const auto& [key, value] : j.items())
      if (key != "prompt" && key != "messages" && key != "id")
        throw_user_error("generate", where + ": unknown key " + quote(key), kShape);
    PromptRecord r;
    r.line = line;
    const bool has_prompt = j.contains("prompt"), has_messages = j.contains("messages");
    if (has_prompt == has_messages)
      throw_user_error("generate",
                       where + (has_prompt ? ": both \"prompt\" and \"messages\""
                                           : ": neither \"prompt\" nor \"messages\""),
                       kShape);
    if (has_prompt) {
      if (!j["prompt"].is_string() || j["prompt"].get<std::string>().empty())
        throw_user_error("generate", where + ": \"prompt\" must be a non-empty string", kShape);
      r.prompt = j["prompt"].get<std::string>();
    } else {
      r.messages = parse_conversation(ojson{{"messages", j["messages"]}}.dump(), where);
    }
    if (j.contains("id")) r.id = j["id"];
    records.push_back(std::move(r));
  }
  if (records.empty())
    throw_user_error("generate", "--prompts " + path + " holds no records", kShape);
  return records;
}

std::string prompt_result_line(size_t index, const PromptRecord& record, const std::string& output,
                               const std::string& finish_reason, int64_t prompt_tokens,
                               int64_t generated_tokens) {
  ojson j;
  j["index"] = index;
  if (!record.id.is_null()) j["id"] = record.id;
  j["output"] = output;
  j["finish_reason"] = finish_reason;
  j["prompt_tokens"] = prompt_tokens;
  j["generated_tokens"] = generated_tokens;
  return j.dump(-1, ' ', false, ojson::error_handler_t::replace) + "\n";
}

}  // namespace tuna::cli
