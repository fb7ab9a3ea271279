// Bad-input catalogue, area "flag": command-line flags and environment variables — every numeric
// flag at 0, negative, NaN, infinity and garbage where that is not a documented value, missing
// values, unknown flags, empty texts, and the variables tuna reads. Each case: see catalogue.h.
#include "cli/catalogue/catalogue.h"

namespace tuna_test::catalogue {

namespace {

// A model path is never reached: these fail while the flags are checked.
const std::string kGen = "generate --model {models}/llama --prompt x ";

// One case per bad value of a generate flag; `expect` holds the flag and its range.
void generate_values(std::vector<BadInput>& cases, const std::string& flag,
                     const std::vector<std::pair<std::string, std::string>>& values,
                     const std::string& range) {
  for (const auto& [name, value] : values)
    cases.push_back({.id = "flag." + flag.substr(2) + "_" + name,
                     .what = "generate " + flag + " " + value,
                     .args = kGen + flag + " " + value,
                     .expect = {flag, range}});
}

}  // namespace

std::vector<BadInput> flag_cases() {
  std::vector<BadInput> cases;
  // --- parse errors: one line, the flag, a hint to --help ---
  cases.push_back({.id = "flag.unknown_flag",
                   .what = "a misspelt flag",
                   .args = "info --jsn {models}/llama",
                   .expect = {"unknown flag '--jsn'", "`tuna info`", "did you mean --json?",
                              "tuna info --help"}});
  cases.push_back({.id = "flag.unknown_flag_generate",
                   .what = "a misspelt generate flag",
                   .args = "generate --model {models}/llama --promt hi",
                   .expect = {"unknown flag '--promt'", "did you mean --prompt?"}});
  cases.push_back({.id = "flag.extra_argument",
                   .what = "a second model argument",
                   .args = "info {models}/llama {models}/gpt2",
                   .expect = {"unexpected argument", "{models}/gpt2", "tuna info --help"}});
  cases.push_back(
      {.id = "flag.missing_value",
       .what = "a flag at the end without its value",
       .args = "generate --model {models}/llama --prompt x --max-new-tokens",
       .expect = {"--max-new-tokens needs a value (an integer)", "tuna generate --help"}});
  cases.push_back({.id = "flag.missing_required",
                   .what = "generate without --model",
                   .args = "generate --prompt x",
                   .expect = {"--model is required", "tuna generate --help"}});
  cases.push_back(
      {.id = "flag.no_command",
       .what = "tuna without a command",
       .args = "",
       .expect = {"no command given", "info, tokenize, template, score, train, generate"}});
  cases.push_back({.id = "flag.prompt_and_messages",
                   .what = "--prompt and --messages together",
                   .args = kGen + "--messages conv.json",
                   .expect = {"--prompt excludes --messages"}});
  cases.push_back({.id = "flag.sample_and_greedy",
                   .what = "--do-sample and --greedy together",
                   .args = kGen + "--do-sample --greedy",
                   .expect = {"--do-sample and --greedy exclude each other"}});
  // --- numeric flags of generate: 0, negative, NaN, inf, garbage ---
  generate_values(cases, "--max-new-tokens", {{"zero", "0"}, {"negative", "-5"}},
                  "must be at least 1");
  generate_values(cases, "--max-new-tokens",
                  {{"nan", "nan"}, {"inf", "inf"}, {"garbage", "lots"}, {"float", "1e3"}},
                  "is not an integer");
  generate_values(cases, "--temperature",
                  {{"negative", "-0.5"}, {"nan", "nan"}, {"inf", "inf"}, {"minus_inf", "-inf"}},
                  "must be a finite number >= 0");
  generate_values(cases, "--temperature", {{"garbage", "hot"}}, "is not a number");
  generate_values(
      cases, "--top-p",
      {{"zero", "0"}, {"negative", "-0.1"}, {"above_one", "1.5"}, {"nan", "nan"}, {"inf", "inf"}},
      "must be in (0, 1]");
  generate_values(cases, "--top-p", {{"garbage", "most"}}, "is not a number");
  generate_values(cases, "--top-k", {{"negative", "-1"}}, "must be >= 0");
  generate_values(cases, "--top-k", {{"nan", "nan"}, {"inf", "inf"}, {"garbage", "ten"}},
                  "is not an integer");
  generate_values(cases, "--min-p",
                  {{"negative", "-0.1"}, {"above_one", "2"}, {"nan", "nan"}, {"inf", "inf"}},
                  "must be in [0, 1]");
  generate_values(cases, "--repetition-penalty",
                  {{"zero", "0"}, {"negative", "-1"}, {"nan", "nan"}, {"inf", "inf"}},
                  "must be a finite number > 0");
  generate_values(cases, "--seed", {{"negative", "-1"}}, "seeds are 0 to 2^64-1");
  generate_values(cases, "--seed", {{"garbage", "abc"}, {"float", "1.5"}}, "is not an integer");
  // --- other commands' numbers ---
  cases.push_back({.id = "flag.score_top_k_range",
                   .what = "score --top-k above its range",
                   .args = "score --model {models}/llama --text x --top-k 5000",
                   .expect = {"--top-k", "5000", "0 to 1000"}});
  cases.push_back({.id = "flag.score_top_k_negative",
                   .what = "score --top-k negative",
                   .args = "score --model {models}/llama --text x --top-k -1",
                   .expect = {"--top-k", "-1", "0 to 1000"}});
  cases.push_back({.id = "flag.threads_negative",
                   .what = "-t -1",
                   .args = "-t -1 info {models}/llama",
                   .expect = {"-t/--threads -1", "0 to", "0 for all cores"}});
  cases.push_back({.id = "flag.threads_huge",
                   .what = "-t with more threads than tuna accepts",
                   .args = "-t 100000 info {models}/llama",
                   .expect = {"-t/--threads 100000", "out of range 0 to"}});
  cases.push_back({.id = "flag.threads_garbage",
                   .what = "-t with a word",
                   .args = "-t many info {models}/llama",
                   .expect = {"--threads 'many' is not an integer"}});
  cases.push_back({.id = "flag.threads_nan",
                   .what = "-t nan",
                   .args = "-t nan info {models}/llama",
                   .expect = {"--threads 'nan' is not an integer"}});
  cases.push_back({.id = "flag.log_level_unknown",
                   .what = "--log with an unknown level",
                   .args = "--log loud info {models}/llama",
                   .expect = {"--log 'loud' is not a log level", "error, warn, info or debug"}});
  // --- empty texts ---
  cases.push_back({.id = "flag.empty_prompt",
                   .what = "generate --prompt ''",
                   .args = "generate --model {models}/llama --prompt ''",
                   .expect = {"--prompt is empty"}});
  cases.push_back({.id = "flag.empty_messages_path",
                   .what = "generate --messages ''",
                   .args = "generate --model {models}/llama --messages ''",
                   .expect = {"--messages is empty"}});
  const std::string kBatch = "generate --model {models}/llama --prompts p.jsonl ";
  cases.push_back({.id = "flag.prompts_not_json",
                   .what = "a --prompts line that is not JSON",
                   .args = kBatch,
                   .files = {{"p.jsonl", "{\"prompt\": \"a\"}\n{\"prompt\": \"b\"\n"}},
                   .expect = {"p.jsonl line 2: not valid JSON", "{\"prompt\": \"...\"}"}});
  cases.push_back({.id = "flag.prompts_unknown_key",
                   .what = "a --prompts record with a misspelled key",
                   .args = kBatch,
                   .files = {{"p.jsonl", "{\"promt\": \"a\"}\n"}},
                   .expect = {"p.jsonl line 1: unknown key 'promt'"}});
  cases.push_back({.id = "flag.prompts_empty_prompt",
                   .what = "a --prompts record with an empty prompt",
                   .args = kBatch,
                   .files = {{"p.jsonl", "{\"prompt\": \"\"}\n"}},
                   .expect = {"p.jsonl line 1: \"prompt\" must be a non-empty string"}});
  cases.push_back({.id = "flag.prompts_no_messages",
                   .what = "a --prompts record with an empty conversation",
                   .args = kBatch,
                   .files = {{"p.jsonl", "{\"messages\": []}\n"}},
                   .expect = {"p.jsonl line 1: the conversation holds no messages"}});
  cases.push_back({.id = "flag.prompts_no_records",
                   .what = "a --prompts file with only blank lines",
                   .args = kBatch,
                   .files = {{"p.jsonl", "\n  \n"}},
                   .expect = {"p.jsonl holds no records"}});
  cases.push_back({.id = "flag.prompts_not_utf8",
                   .what = "a --prompts file with a Latin-1 byte",
                   .args = kBatch,
                   .files = {{"p.jsonl", "{\"prompt\": \"caf\xe9\"}\n"}},
                   .expect = {"p.jsonl line 1: invalid UTF-8 byte 0xE9 at column 16 (byte offset 15)"}});
  cases.push_back({.id = "flag.prompts_output_is_dir",
                   .what = "generate --prompts with -o naming a directory",
                   .args = kBatch + "-o outdir",
                   .files = {{"p.jsonl", "{\"prompt\": \"a\"}\n"}, {"outdir/keep", ""}},
                   .expect = {"--output outdir is a directory"}});
  cases.push_back({.id = "flag.prompts_batch_size_zero",
                   .what = "generate --prompts --batch-size 0",
                   .args = kBatch + "--batch-size 0",
                   .files = {{"p.jsonl", "{\"prompt\": \"a\"}\n"}},
                   .expect = {"--batch-size 0 is outside 1..64"}});
  cases.push_back({.id = "flag.batch_size_without_prompts",
                   .what = "generate --batch-size without --prompts",
                   .args = kGen + "--batch-size 4",
                   .expect = {"--batch-size needs --prompts"}});
  cases.push_back({.id = "flag.chat_template_with_prompt",
                   .what = "generate --chat-template with --prompt (not a conversation)",
                   .args = kGen + "--chat-template chatml",
                   .expect = {"--chat-template applies to --messages"}});
  cases.push_back({.id = "flag.chat_template_unknown",
                   .what = "generate --chat-template naming neither a file nor a built-in",
                   .args = "generate --model {gguf} --messages conv.json --chat-template chatm",
                   .files = {{"conv.json", "[{\"role\": \"user\", \"content\": \"hi\"}]"}},
                   .expect = {"--chat-template 'chatm' is neither a file nor a built-in template",
                              "chatml, gemma3"}});
  cases.push_back({.id = "flag.chat_template_runaway_loop",
                   .what = "a chat template whose loops never end in practice (10^10 iterations)",
                   .args = "template --model {gguf} --messages conv.json --template run.jinja",
                   .files = {{"conv.json", "[{\"role\": \"user\", \"content\": \"hi\"}]"},
                             {"run.jinja", "{% for i in range(100000) %}{% for j in range(100000) "
                                           "%}x{% endfor %}{% endfor %}"}},
                   .expect = {"RuntimeError", "run.jinja line 1", "more than 1000000 steps",
                              "fix the template"}});
  cases.push_back({.id = "flag.chat_template_huge_string",
                   .what = "a chat template building a string of terabytes",
                   .args = "template --model {gguf} --messages conv.json --template big.jinja",
                   .files = {{"conv.json", "[{\"role\": \"user\", \"content\": \"hi\"}]"},
                             {"big.jinja", "{{ 'ab' * 1000000000000 }}"}},
                   .expect = {"MemoryError", "big.jinja line 1", "more than 64 MiB",
                              "fix the template"}});
  cases.push_back({.id = "flag.empty_conversation",
                   .what = "generate --messages with an empty list",
                   .args = "generate --model {models}/llama --messages conv.json",
                   .files = {{"conv.json", "[]"}},
                   .expect = {"conv.json", "holds no messages"}});
  cases.push_back({.id = "flag.empty_conversation_object",
                   .what = "generate --messages with {\"messages\": []}",
                   .args = "generate --model {models}/llama --messages conv.json",
                   .files = {{"conv.json", "{\"messages\": []}"}},
                   .expect = {"conv.json", "holds no messages"}});
  cases.push_back({.id = "flag.empty_score_text",
                   .what = "score --text ''",
                   .args = "score --model {models}/llama --text ''",
                   .expect = {"--text is empty"}});
  cases.push_back({.id = "flag.empty_stop",
                   .what = "generate --stop ''",
                   .args = kGen + "--stop ''",
                   .expect = {"--stop is empty"}});
  // --- --template: the old spelling of --prompt-format ---
  cases.push_back(
      {.id = "flag.generate_template_not_alpaca",
       .what = "generate --template with a chat template name (it was the prompt format)",
       .args = kGen + "--template chatml",
       .expect = {"--template 'chatml'", "--prompt-format", "alpaca"}});
  cases.push_back({.id = "flag.prompt_format_unknown",
                   .what = "generate --prompt-format with an unknown format",
                   .args = kGen + "--prompt-format vicuna",
                   .expect = {"--prompt-format 'vicuna'", "alpaca"}});
  // --- environment variables ---
  for (const auto& [name, value] :
       std::vector<std::pair<std::string, std::string>>{{"garbage", "many"},
                                                        {"negative", "-2"},
                                                        {"nan", "nan"},
                                                        {"inf", "inf"},
                                                        {"float", "2.5"},
                                                        {"huge", "99999999999"}})
    cases.push_back({.id = "flag.env_tuna_num_threads_" + name,
                     .what = "TUNA_NUM_THREADS=" + value,
                     .args = "info {models}/llama",
                     .expect = {"$TUNA_NUM_THREADS='" + value + "'", "thread count from 0 to",
                                "TUNA_NUM_THREADS=4"},
                     .env = {"TUNA_NUM_THREADS=" + value}});
  cases.push_back({.id = "flag.env_tuna_log_unknown",
                   .what = "TUNA_LOG with an unknown level",
                   .args = "info {models}/llama",
                   .expect = {"$TUNA_LOG='loud' is not a log level", "error, warn, info or debug"},
                   .env = {"TUNA_LOG=loud"}});
  cases.push_back(
      {.id = "flag.env_hf_hub_cache_nowhere",
       .what = "HF_HUB_CACHE pointing at a directory that does not exist",
       .args = "info some-org/some-model",
       .expect = {"'some-org/some-model'", "$HF_HUB_CACHE={dir}/nowhere is not a directory",
                  "point the variable at your Hugging Face cache"},
       .env = {"HF_HUB_CACHE={dir}/nowhere", "HOME={dir}"}});
  cases.push_back({.id = "flag.env_hf_home_nowhere",
                   .what = "HF_HOME pointing at a directory that does not exist",
                   .args = "info some-org/some-model",
                   .expect = {"$HF_HOME={dir}/nowhere is not a directory"},
                   .env = {"HF_HOME={dir}/nowhere", "HOME={dir}"}});
  return cases;
}

}  // namespace tuna_test::catalogue
