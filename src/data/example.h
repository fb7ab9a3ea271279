// Training examples: a dataset record in one of the formats users bring (alpaca, prompt /
// completion, messages incl. ShareGPT conversations, plain text, a column template such as seed
// 002's "### context: {input}\n### question: {target}", whose fields may be lists of documents,
// as seed 003's RAFT `context`, or optional, "{cot?}"), and its tokenised form with the loss
// mask. Masks come from the token boundaries of separately tokenised parts (prompt, completion;
// each conversation turn) — what inference sees — never from searching for a response string
// in token space (DESIGN.md §8 "Loss masks").
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "data/records.h"

namespace tuna {

class Tokenizer;
class ChatTemplate;

enum class DataFormat : uint8_t { AUTO, ALPACA, PROMPT_COMPLETION, MESSAGES, TEXT, TEMPLATE };
DataFormat parse_data_format(const std::string& name);  // "auto", "alpaca", ... (user error else)
const char* data_format_name(DataFormat f);

struct Example {
  enum class Kind : uint8_t { TEXT, PROMPT_COMPLETION, MESSAGES } kind = Kind::TEXT;
  std::string text;                 // TEXT
  std::string prompt, completion;   // PROMPT_COMPLETION (alpaca and templates render to this)
  nlohmann::ordered_json messages;  // MESSAGES: [{role, content}]
};

struct ExampleOptions {
  DataFormat format = DataFormat::AUTO;
  std::string template_text;  // TEMPLATE: "{column}" fields; the last is the completion
  // TEMPLATE: a field whose value is a list of strings renders as them joined by this.
  std::string template_list_separator = "\n\n";
  std::string dataset_text_field = "text";
};

// The alpaca prompt (seed 001's formatting_prompts_func up to where the response starts): the one
// definition training data (make_example) and generation prompts (app/chat_session.h) share.
std::string alpaca_prompt(const std::string& instruction, const std::string& input);

// The format of a dataset from its first record's columns (AUTO resolved); `where` (the record's
// Record::where()) goes into the error when no format fits.
DataFormat detect_format(const nlohmann::ordered_json& record, const ExampleOptions& options,
                         const std::string& where = "");
// One record → an example. A missing or mistyped column, an empty or whitespace-only text the
// format trains on, a conversation that is empty, has only a system message or no assistant
// turn, an unknown role or a content that is not text: a user error naming record.where() and
// the field (docs/data.md), found before any template renders it.
// TEMPLATE: a field's value may be a list of strings (joined by template_list_separator; an item
// that is not a string is an error naming the item); "{name?}" marks a field optional (missing or
// null renders ""), except the last field, the completion (a config error).
Example make_example(const Record& record, DataFormat format, const ExampleOptions& options);
// The template checks make_example does first, for the config loader (train/config_rules) to run
// before a model loads: a field, braces closed, named fields, a last field that is not optional.
// A user error ("[config] template: ...").
void check_template_text(const std::string& template_text);

// The columns whose text a row of `format` (AUTO: none) trains on: what data/mojibake.h scans.
std::vector<std::string> text_columns(DataFormat format, const ExampleOptions& options);

// One tokenised training row (-100: not scored).
struct TrainRow {
  std::vector<int32_t> input_ids;
  std::vector<int32_t> labels;  // same length as input_ids
  // Empty: one sample at positions 0..n-1. A packed row (data/packing.h, bfd) holds several
  // samples: the position of each token within its own sample, 0 where a sample starts.
  std::vector<int32_t> position_ids = {};
};

struct TokenizeOptions {
  int64_t max_length = 1024;      // <= 0: no truncation
  bool keep_end = false;          // truncation_mode keep_end
  int completion_only_loss = -1;  // -1 auto (true for prompt/completion), 0 (one text), 1
  bool assistant_only_loss = false;
  bool append_eos = true;  // EOS after text / completions (TRL does; not after chat templates)
  // The config's eos_token (TRL: it replaces the tokenizer's EOS, appended and in the chat
  // template's eos_token); unset: the tokenizer's.
  std::optional<int32_t> eos_id;
};

struct TokenizeStats {
  size_t rows = 0, truncated = 0, dropped_fully_masked = 0;
  size_t boundary_mismatches = 0;  // joined text tokenises differently from the parts
  size_t invalid_utf8 = 0;
};

// Tokenises one example. `chat` renders MESSAGES (nullptr: messages are an error). Returns false
// when every label ended up masked (the row is dropped, as TRL does; counted in stats).
bool tokenize_example(const Tokenizer& tok, const ChatTemplate* chat, const Example& ex,
                      const TokenizeOptions& options, TokenizeStats& stats, TrainRow& out);

// The tail of tokenize_example: cuts `row` to options.max_length (keep_end: the last tokens;
// counted in stats.truncated) and returns false (counted in stats.dropped_fully_masked) when no
// label after the first token is left. For rows tokenised with max_length 0 and truncated later.
bool truncate_train_row(TrainRow& row, const TokenizeOptions& options, TokenizeStats& stats);

}  // namespace tuna
