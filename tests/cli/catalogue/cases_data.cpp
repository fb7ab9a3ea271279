// Bad-input catalogue, area "data": Dataset files and rows: JSONL / JSON / CSV / text formats,
// fields and roles, encodings. Each case: see catalogue.h. Every case trains the real model
// ({gguf}) for one step, so each error must be found while the data is read and checked, before any
// training step. A run makes its output_dir before it reads the data, so the cases allow "out" to
// appear (empty).
#include "cli/catalogue/catalogue.h"

namespace tuna_test::catalogue {
namespace {

// `tuna train` on the dataset file `name` holding `bytes`, with `extra` config lines.
BadInput train_on(std::string id, std::string what, std::string name, std::string bytes,
                  std::vector<std::string> expect, std::string extra = "") {
  return {.id = "data." + id,
          .what = std::move(what),
          .args = "train {dir}/c.yaml",
          .files = {{"c.yaml", "model: {gguf}\nuse_peft: true\ndataset: {dir}/" + name +
                                   "\noutput_dir: {dir}/out\nmax_steps: 1\n" + extra},
                    {name, std::move(bytes)}},
          .expect = std::move(expect)};
}

const std::string kOk = "{\"instruction\": \"Say hi\", \"input\": \"\", \"output\": \"hi\"}\n";
const std::string kUtf8 = "re-save it as UTF-8";

std::string chat(const std::string& messages) {
  return "{\"messages\": " + messages + "}\n";
}
const std::string kUser = "{\"role\": \"user\", \"content\": \"hi\"}";

}  // namespace

std::vector<BadInput> data_cases() {
  std::vector<BadInput> c;
  // ---- encodings: invalid UTF-8 in every format, an encoding error with line, column, offset
  c.push_back(train_on("jsonl_invalid_utf8", "a JSONL row holding a Latin-1 byte", "d.jsonl",
                       kOk + "{\"instruction\": \"caf\xE9\", \"output\": \"x\"}\n",
                       {"d.jsonl line 2", "invalid UTF-8 byte 0xE9 at column 21",
                        "(byte offset 75)", kUtf8, "skip_invalid"}));
  c.push_back(
      train_on("json_invalid_utf8", "a JSON array element holding an invalid byte", "d.json",
               "[\n" + kOk + ",\n{\"instruction\": \"\xFF\", \"output\": \"x\"}]\n",
               {"d.json line 4", "invalid UTF-8 byte 0xFF at column 18", "byte offset", kUtf8}));
  c.push_back(
      train_on("csv_invalid_utf8", "a CSV field holding an invalid byte", "d.csv",
               "instruction,output\nSay hi,hi\nna\xEFve,x\n",
               {"d.csv line 3", "invalid UTF-8 byte 0xEF at column 3", "byte offset", kUtf8}));
  c.push_back(train_on("tsv_invalid_utf8", "a TSV field holding an invalid byte", "d.tsv",
                       "text\tlabel\n\x80oops\t1\n",
                       {"d.tsv line 2", "invalid UTF-8 byte 0x80 at column 1", kUtf8}));
  c.push_back(train_on("overlong_utf8", "an overlong UTF-8 sequence (C0 AF) in a text row",
                       "d.jsonl", "{\"text\": \"a\xC0\xAF\"}\n",
                       {"d.jsonl line 1", "invalid UTF-8 byte 0xC0 at column 12", kUtf8}));
  c.push_back(train_on("utf16_file", "a dataset saved as UTF-16", "d.jsonl",
                       std::string("\xFF\xFE{\0\"\0t\0", 8),
                       {"dataset: {dir}/d.jsonl is UTF-16 text", "iconv -f utf-16"}));
  c.push_back(train_on("eval_invalid_utf8", "an eval_dataset row with an invalid byte", "d.jsonl",
                       kOk + kOk, {"e.jsonl line 1", "invalid UTF-8 byte 0xFE", kUtf8},
                       "eval_dataset: {dir}/e.jsonl\n"));
  c.back().files.push_back({"e.jsonl", "{\"instruction\": \"\xFE\", \"output\": \"x\"}\n"});
  c.push_back(train_on("skip_invalid_every_row_bad",
                       "skip_invalid with every row unusable (invalid byte, empty output)",
                       "d.jsonl", "{\"text\": \"\xFF\"}\n{\"text\": \"  \"}\n",
                       {"dataset: none of the 2 records of {dir}/d.jsonl is usable",
                        "line 1: invalid UTF-8 byte 0xFF", "needs some good ones"},
                       "skip_invalid: true\n"));

  // ---- JSON syntax and shape
  c.push_back(train_on("jsonl_broken_row", "a JSONL row that is not JSON", "d.jsonl",
                       kOk + "{\"instruction\": \"x\", \"output\": }\n",
                       {"d.jsonl line 2: not valid JSON at column 32", "one JSON object"}));
  c.push_back(
      train_on("jsonl_trailing_comma", "a JSONL row with a trailing comma", "d.jsonl",
               "{\"instruction\": \"x\", \"output\": \"y\",}\n",
               {"d.jsonl line 1: not valid JSON at column 36", "remove the trailing comma"}));
  c.push_back(train_on(
      "json_trailing_comma", "a JSON array with a trailing comma", "d.json", "[\n" + kOk + ",\n]\n",
      {"d.json line 4: not valid JSON at column 1", "remove the trailing comma before ']'"}));
  c.push_back(train_on("jsonl_single_quotes", "a JSONL row written as a Python dict", "d.jsonl",
                       "{'instruction': 'x', 'output': 'y'}\n",
                       {"d.jsonl line 1: not valid JSON at column 2", "double quotes"}));
  c.push_back(train_on("json_truncated", "a JSON array cut off mid-file", "d.json",
                       "[\n" + kOk + ",\n{\"instruction\": \"x\"",
                       {"d.json line 4: not valid JSON at column 20", "unexpected end of input",
                        "one array of objects"}));
  c.push_back(train_on("jsonl_row_is_array", "a .jsonl file holding one JSON array", "d.jsonl",
                       "[" + kOk.substr(0, kOk.size() - 1) + "]\n",
                       {"d.jsonl line 1: a JSON array, not an object", "read as .json"}));
  c.push_back(train_on("jsonl_row_is_string", "a JSONL row that is a bare string", "d.jsonl",
                       kOk + "\"just text\"\n",
                       {"d.jsonl line 2: a JSON string, not an object", "each line is an object"}));
  c.push_back(train_on(
      "json_not_an_array", "a .json file holding one object", "d.json", kOk,
      {"d.json: the file is one JSON object, not an array of records", "[{\"instruction\""}));
  c.push_back(train_on("json_element_not_object", "a JSON array with a number among the rows",
                       "d.json", "[\n" + kOk + ",\n 42]\n",
                       {"d.json record 2 (line 4): a JSON number, not an object",
                        "every element of the array is an object"}));
  c.push_back(train_on("huge_single_line_broken",
                       "one 2 MB JSONL line whose JSON breaks at its end", "d.jsonl",
                       "{\"text\": \"" + std::string(2'000'000, 'a') + "\"\n",
                       {"d.jsonl line 1: not valid JSON at column 2000012", "one JSON object"}));

  // ---- files
  c.push_back({.id = "data.dataset_is_directory",
               .what = "a directory of shards given as the dataset",
               .args = "train {dir}/c.yaml",
               .files = {{"c.yaml",
                          "model: {gguf}\nuse_peft: true\ndataset: {dir}/shards\noutput_dir: "
                          "{dir}/out\nmax_steps: 1\n"},
                         {"shards/part-0.jsonl", kOk}},
               .expect = {"dataset: {dir}/shards is a directory", "cat {dir}/shards/*.jsonl"}});
  c.push_back(train_on("eval_dataset_is_directory", "a directory given as eval_dataset", "d.jsonl",
                       kOk + kOk, {"eval_dataset: {dir}/ev is a directory", "cat "},
                       "eval_dataset: {dir}/ev\n"));
  c.back().setup = "mkdir ev";
  c.push_back(train_on("dataset_missing", "a dataset path that does not exist", "d.jsonl", kOk,
                       {"dataset: {dir}/nope.jsonl does not exist", "check the path"},
                       "dataset: {dir}/nope.jsonl\n"));
  c.back().files[0].second =
      "model: {gguf}\nuse_peft: true\ndataset: {dir}/nope.jsonl\noutput_dir: {dir}/out\n";
  c.push_back(train_on("plain_txt_file", "a plain .txt file as the dataset", "d.txt",
                       "one line of text\n",
                       {"dataset: cannot tell the format of {dir}/d.txt", "{\"text\": \"...\"}"}));
  c.push_back(train_on("empty_file", "an empty JSONL file", "d.jsonl", "",
                       {"dataset: {dir}/d.jsonl holds no records", "add rows"}));
  c.push_back(train_on("csv_header_only", "a CSV file with a header and no rows", "d.csv",
                       "instruction,output\n",
                       {"dataset: {dir}/d.csv holds no records", "header row and at least one"}));

  // ---- CSV
  c.push_back(train_on("csv_ragged_row", "a CSV row with fewer fields than the header", "d.csv",
                       "instruction,input,output\nSay hi,,hi\nSay bye,bye\n",
                       {"d.csv line 3: 2 fields where the header (line 1) has 3",
                        "quote fields that contain a comma"}));
  c.push_back(train_on("csv_unclosed_quote", "a CSV quoted field that never closes", "d.csv",
                       "instruction,output\n\"Say hi,hi\n",
                       {"d.csv line 2: a quoted field never closes", "double a quote"}));
  c.push_back(train_on("csv_duplicate_column", "a CSV header naming a column twice", "d.csv",
                       "instruction,output,output\nSay hi,hi,hello\n",
                       {"d.csv line 1: column 'output' appears twice", "its own name"}));
  c.push_back(train_on("csv_unknown_columns", "CSV columns that fit no format", "d.csv",
                       "question,answer\nWhy?,Because.\n",
                       {"d.csv line 2: cannot tell the dataset format from its fields (question, "
                        "answer)",
                        "template"}));
  c.push_back(train_on(
      "csv_format_column_missing", "dataset_format alpaca on a CSV without an output column",
      "d.csv", "instruction,response\nSay hi,hi\n",
      {"d.csv line 2: no 'output' field (fields: instruction, response)", "another dataset_format"},
      "dataset_format: alpaca\n"));

  // ---- fields: empty texts, wrong types, missing names
  c.push_back(train_on("text_empty", "a text row with an empty text", "d.jsonl",
                       "{\"text\": \"a row\"}\n{\"text\": \"\"}\n",
                       {"d.jsonl line 2: field 'text' is empty", "skip_invalid"}));
  c.push_back(train_on("text_whitespace", "a text row holding only whitespace", "d.jsonl",
                       "{\"text\": \" \\n\\t \"}\n",
                       {"d.jsonl line 1: field 'text' is only whitespace", "fix or remove"}));
  c.push_back(train_on("alpaca_empty", "an alpaca row with empty instruction and output", "d.jsonl",
                       kOk + "{\"instruction\": \"\", \"input\": \"\", \"output\": \"\"}\n",
                       {"d.jsonl line 2: field 'instruction' is empty", "fix or remove"}));
  c.push_back(train_on("alpaca_output_empty", "an alpaca row with an empty output", "d.json",
                       "[{\"instruction\": \"Say hi\", \"output\": \"\"}]",
                       {"d.json record 1 (line 1): field 'output' is empty"}));
  c.push_back(train_on("prompt_empty", "a prompt/completion row with an empty prompt", "d.jsonl",
                       "{\"prompt\": \"\", \"completion\": \"x\"}\n",
                       {"d.jsonl line 1: field 'prompt' is empty"}));
  c.push_back(train_on("completion_whitespace", "a completion that is only whitespace", "d.jsonl",
                       "{\"prompt\": \"2+2=\", \"completion\": \"   \"}\n",
                       {"d.jsonl line 1: field 'completion' is only whitespace"}));
  c.push_back(train_on("template_last_field_empty",
                       "a column template whose trained (last) field is empty", "d.csv",
                       "input,target\nsome context,\n", {"d.csv line 2: field 'target' is empty"},
                       "template: \"### context: {input}\\n### question: {target}\"\n"));
  c.push_back(train_on("template_list_item_not_text", "a RAFT context list holding a number",
                       "d.jsonl", "{\"context\": [\"doc\", 3], \"answer\": \"a\"}\n",
                       {"d.jsonl line 1: field 'context' item 2 (of 2) is a number, not text",
                        "template_list_separator"},
                       "template: \"{context}\\n### answer: {answer}\"\n"));
  c.push_back(train_on("template_last_field_optional",
                       "a template whose last field (the completion) is marked optional", "d.jsonl",
                       "{\"answer\": \"a\", \"cot\": \"c\"}\n",
                       {"template: the last field {cot?} is the completion", "cannot be optional"},
                       "template: \"### answer: {answer}\\n{cot?}\"\n"));
  c.push_back(train_on("field_is_list", "an instruction given as a list", "d.jsonl",
                       "{\"instruction\": [\"a\", \"b\"], \"output\": \"x\"}\n",
                       {"d.jsonl line 1: field 'instruction' is a list, not text", "a string"}));
  c.push_back(train_on("field_is_null", "an output that is null", "d.jsonl",
                       kOk + "{\"instruction\": \"x\", \"output\": null}\n",
                       {"d.jsonl line 2: field 'output' is null, not text"}));
  c.push_back(train_on("text_field_missing", "dataset_text_field naming a column rows lack",
                       "d.jsonl", "{\"text\": \"a\", \"id\": 1}\n",
                       {"d.jsonl line 1: no 'body' field (fields: text, id)", "every row needs it"},
                       "dataset_format: text\ndataset_text_field: body\n"));
  c.push_back(train_on("formats_mixed", "an alpaca file with a chat row in it", "d.jsonl",
                       kOk + chat("[" + kUser + "]"),
                       {"d.jsonl line 2: no 'instruction' field (fields: messages)"}));

  // ---- conversations: shape, roles, contents (before any chat template renders them)
  c.push_back(train_on("messages_empty", "a conversation with no messages", "d.jsonl", chat("[]"),
                       {"d.jsonl line 1: 'messages' is an empty list", "\"role\""}));
  c.push_back(
      train_on("messages_only_system", "a conversation holding only a system message", "d.jsonl",
               chat("[{\"role\": \"system\", \"content\": \"Be brief.\"}]"),
               {"d.jsonl line 1: 'messages' holds only a system message", "assistant reply"}));
  c.push_back(
      train_on("messages_no_assistant", "a conversation without an assistant turn", "d.jsonl",
               chat("[" + kUser + "]"),
               {"d.jsonl line 1: 'messages' has no assistant turn", "\"role\": \"assistant\""}));
  c.push_back(train_on("messages_not_a_list", "messages given as one string", "d.jsonl",
                       chat("\"hi there\""),
                       {"d.jsonl line 1: 'messages' is a string, not a list"}));
  c.push_back(train_on("message_not_an_object", "a message that is a bare string", "d.jsonl",
                       chat("[\"hi\", {\"role\": \"assistant\", \"content\": \"x\"}]"),
                       {"d.jsonl line 1: messages[0] is a string, not an object"}));
  c.push_back(train_on("role_not_a_string", "a role given as a number", "d.jsonl",
                       chat("[{\"role\": 0, \"content\": \"hi\"}]"),
                       {"d.jsonl line 1: messages[0].role is a number, not a string"}));
  c.push_back(train_on("role_unknown", "the role 'model' instead of 'assistant'", "d.jsonl",
                       chat("[" + kUser + ", {\"role\": \"model\", \"content\": \"x\"}]"),
                       {"d.jsonl line 1: messages[1].role 'model' is not a role",
                        "use system, user, assistant or tool", "'assistant'"}));
  c.push_back(train_on("content_number", "a message content that is a number", "d.jsonl",
                       chat("[{\"role\": \"user\", \"content\": 42}]"),
                       {"d.jsonl line 1: messages[0].content is a number, not text"}));
  c.push_back(train_on("content_null", "an assistant content that is null", "d.json",
                       "[{\"messages\": [" + kUser +
                           ", {\"role\": \"assistant\", \"content\": "
                           "null}]}]",
                       {"d.json record 1 (line 1): messages[1].content is null, not text"}));
  c.push_back(train_on("content_list_of_strings", "a message content that is a list of strings",
                       "d.jsonl", chat("[{\"role\": \"user\", \"content\": [\"a\", \"b\"]}]"),
                       {"d.jsonl line 1: messages[0].content[0] is a string",
                        "{\"type\": \"text\", \"text\": \"...\"}"}));
  c.push_back(train_on("content_image_part", "a message with an image part", "d.jsonl",
                       chat("[{\"role\": \"user\", \"content\": [{\"type\": \"image\"}]}]"),
                       {"d.jsonl line 1: messages[0].content[0] is a 'image' part", "text only"}));
  c.push_back(train_on("assistant_content_empty", "an assistant turn with empty content", "d.jsonl",
                       chat("[" + kUser +
                            ", {\"role\": \"assistant\", \"content\": "
                            "\"\"}]"),
                       {"d.jsonl line 1: messages[1].content is empty", "assistant turn"}));
  c.push_back(train_on("sharegpt_unknown_speaker", "a ShareGPT turn from an unknown speaker",
                       "d.json",
                       "[{\"conversations\": [{\"from\": \"narrator\", \"value\": \"Once\"}]}]",
                       {"d.json record 1 (line 1): conversations[0].from 'narrator'",
                        "human, gpt, system or tool"}));
  c.push_back(train_on("sharegpt_value_number", "a ShareGPT value that is a number", "d.json",
                       "[{\"conversations\": [{\"from\": \"human\", \"value\": 7}]}]",
                       {"d.json record 1 (line 1): conversations[0].value is a number"}));
  c.push_back(train_on("sharegpt_no_gpt_turn", "a ShareGPT conversation without a gpt turn",
                       "d.jsonl",
                       "{\"conversations\": [{\"from\": \"human\", \"value\": \"hi\"}]}\n",
                       {"d.jsonl line 1: 'conversations' has no gpt turn", "\"from\": \"gpt\""}));

  c.push_back(
      train_on("roles_not_alternating",
               "two user turns in a row, which the model's chat template refuses", "d.jsonl",
               chat(R"([{"role": "user", "content": "a"}, {"role": "user", "content": "b"}, )"
                    R"({"role": "assistant", "content": "x"}])"),
               {"d.jsonl line 1: the template refused the conversation", "must alternate",
                "shape this model's template requires"}));
  c.push_back(train_on(
      "sharegpt_roles_not_alternating",
      "a ShareGPT conversation opening with gpt, refused by the chat template", "d.json",
      R"([{"conversations": [{"from": "gpt", "value": "x"}, {"from": "human", "value": "y"},
                             {"from": "gpt", "value": "z"}]}])",
      {"d.json record 1 (line 1): the template refused the conversation", "must alternate"},
      "assistant_only_loss: true\n"));

  // ---- validation splits
  c.push_back(
      train_on("validation_split_no_eval_rows", "validation_split too small to hold out one row",
               "d.jsonl", kOk + kOk + kOk,
               {"validation_split 0.1 of the 3 usable rows of {dir}/d.jsonl holds out 0 rows",
                "at least 0.333"},
               "validation_split: 0.1\n"));
  c.push_back(train_on(
      "validation_split_no_train_rows", "validation_split 1.0 holding out every row", "d.jsonl",
      kOk + kOk, {"c.yaml line 6", "validation_split", "1 excluded"}, "validation_split: 1.0\n"));
  return c;
}

}  // namespace tuna_test::catalogue
