// `tuna generate --model M [--adapter A] [--prompt P | --messages FILE] [--prompt-format alpaca]
// [--max-new-tokens N] [--do-sample | --greedy] [--temperature T] [--top-k K] [--top-p P]
// [--min-p P] [--repetition-penalty R] [--seed S] [--stop STR]... [--no-merge] [--compare-base]`:
// text generation with a KV cache, streamed to stdout as it is produced; with neither --prompt
// nor --messages, an interactive chat over stdin. Settings not given come
// from the model's generation_config.json, as transformers' generate() takes them. The adapter is
// merged into a copy of the weights it touches, or with --no-merge applied on the fly. Statistics
// go to stderr: the prefill and decode rates, and progress of a long prefill or model load.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <optional>

#include "app/chat_session.h"
#include "app/model_handle.h"
#include "cli/commands.h"
#include "cli/flag_names.h"
#include "cli/generate_prompts.h"
#include "cli/progress.h"
#include "core/error.h"
#include "core/file_io.h"
#include "core/message.h"
#include "infer/generation.h"
#include "lora/adapter_io.h"
#include "model/model.h"

namespace tuna::cli {

namespace {

// The flags that set the parameters library errors name.
const FlagNames kFlags = {{"max_new_tokens", "--max-new-tokens"},
                          {"temperature", "--temperature"},
                          {"do_sample: false", "--greedy"},
                          {"top_k", "--top-k"},
                          {"top_p", "--top-p"},
                          {"min_p", "--min-p"},
                          {"repetition_penalty", "--repetition-penalty"},
                          {"prompt", "--prompt"},
                          {"messages", "--messages"}};

struct Options {
  std::string model, adapter, prompt, messages, tmpl;
  std::string chat_template;  // --chat-template FILE|NAME: instead of the model's own
  std::string prompts, output;  // --prompts FILE.jsonl, -o OUT.jsonl (batched, offline)
  int64_t batch_size = 8;
  const CLI::Option* batch_flag = nullptr;
  std::string old_template;  // --template, the old spelling of --prompt-format (alpaca only)
  const CLI::Option *prompt_flag = nullptr, *messages_flag = nullptr;
  GenerationRequest req;  // unset settings come from generation_config.json, else HF's defaults
  std::vector<std::string> stops;
  bool compare_base = false, no_merge = false, do_sample = false, greedy = false, exact = false;
};

void check_options(const Options& o) {
  auto bad = [](const std::string& what, const std::string& hint) {
    throw_user_error("generate", what, hint);
  };
  check_generation_request(o.req);
  if (o.prompt_flag->count() > 0 && o.prompt.empty())
    bad("--prompt is empty", "pass the text to continue, e.g. --prompt 'Once upon a time'");
  if (o.messages_flag->count() > 0 && o.messages.empty())
    bad("--messages is empty", "pass a JSON conversation file, e.g. --messages chat.json");
  if (o.do_sample && o.greedy) bad("--do-sample and --greedy exclude each other", "pass one");
  if (o.no_merge && o.adapter.empty())
    bad("--no-merge needs --adapter", "pass --adapter DIR (a PEFT adapter directory)");
  if (o.compare_base && o.adapter.empty())
    bad("--compare-base needs --adapter", "pass --adapter DIR (a PEFT adapter directory)");
  if (!o.tmpl.empty() && o.tmpl != "alpaca")  // parse_prompt_format's error names the parameter
    bad("--prompt-format " + quote(o.tmpl) + " is not a known prompt format",
        "the prompt formats are: alpaca (chat templates come from the model with --messages)");
  if (!o.tmpl.empty() && !o.messages.empty())
    bad("--prompt-format applies to --prompt, not --messages",
        "--messages uses the model's chat template");
  if (!o.prompts.empty() && o.compare_base)
    bad("--compare-base does not apply to --prompts", "run the file once with each model instead");
  if (o.prompts.empty() && (!o.output.empty() || o.batch_flag->count() > 0))
    bad(std::string(o.output.empty() ? "--batch-size" : "--output") + " needs --prompts",
        "pass --prompts FILE.jsonl (one {\"prompt\": ...} per line)");
  if (o.batch_size < 1 || o.batch_size > 64)
    bad("--batch-size " + std::to_string(o.batch_size) + " is outside 1..64",
        "pass the number of sequences to decode together, e.g. --batch-size 8");
  if (!o.chat_template.empty() && (!o.prompt.empty() || !o.tmpl.empty()))
    bad("--chat-template applies to --messages and the interactive chat, not to --prompt",
        "pass the conversation with --messages FILE, or drop --chat-template");
  for (const std::string& s : o.stops)
    if (s.empty())
      bad("--stop is empty", "pass the text that ends a generation, e.g. --stop '###'");
}

// --template, generate's old spelling of --prompt-format: only its one value, alpaca, so that it
// never reads as `tuna template --template` (a chat template file or name).
void take_old_template_flag(Options& o) {
  if (o.old_template.empty()) return;
  if (o.old_template != "alpaca")
    throw_user_error("generate",
                     "--template " + quote(o.old_template) +
                         ": generate's --template is now --prompt-format and takes only alpaca",
                     "pass --prompt-format alpaca; chat templates apply to --messages from the "
                     "model (`tuna template --template` renders with another one)");
  if (!o.tmpl.empty() && o.tmpl != o.old_template)
    throw_user_error("generate", "--template and --prompt-format disagree",
                     "pass --prompt-format alpaca only");
  o.tmpl = o.old_template;
}

// The model's chat template (or the built-in one of its family, noted on stderr), or the one
// --chat-template names.
ChatTemplate model_chat(const ModelHandle& model, const std::string& chat_template) {
  const ChosenTemplate t = model_template(model, chat_template);
  note_family_template(t, model.name());
  return ChatTemplate::parse(t.source, t.origin);
}

// The prompt ids: the --messages conversation (read before the model loads) or the plain /
// alpaca-wrapped prompt.
std::vector<int32_t> prompt_ids(const Options& o, const std::optional<ChatTemplateInputs>& chat,
                                const ModelHandle& model) {
  if (!chat) return text_prompt_ids(model.tokenizer(), parse_prompt_format(o.tmpl), o.prompt);
  return chat_prompt_ids(model_chat(model, o.chat_template), model.tokenizer(), *chat);
}

void print_piece(const std::string& piece) {
  std::fwrite(piece.data(), 1, piece.size(), stdout);
  std::fflush(stdout);
}

// "12.3" tokens per second for `n` tokens in `seconds` ("-" when there is nothing to divide):
// never "0.0" for a slow but real rate.
std::string rate(int64_t n, double seconds) {
  if (n <= 0 || !(seconds > 0)) return "-";
  const double r = static_cast<double>(n) / seconds;
  char buf[32];
  std::snprintf(buf, sizeof buf, r >= 10 ? "%.1f" : r >= 0.1 ? "%.2f" : "%.2g", r);
  return buf;
}

// After a generation streamed to stdout: a closing newline, and the statistics on stderr — the
// prompt (and how much of it the cache held), the tokens generated, why it stopped, and the
// prefill and generation rates apart (a long prompt's prefill would drown the decoding rate).
void finish_output(size_t prompt_tokens, const Generation& out) {
  if (out.text.empty() || out.text.back() != '\n') std::printf("\n");
  std::fflush(stdout);
  const std::string reused =
      out.reused_prompt_tokens > 0
          ? " (" + std::to_string(out.reused_prompt_tokens) + " cached from the last turn)"
          : "";
  std::fprintf(stderr,
               "[%zu prompt%s + %zu generated tokens, stop: %s; prefill %s tokens/s, "
               "generation %s tokens/s; KV cache %.1f MiB]\n",
               prompt_tokens, reused.c_str(), out.ids.size(), out.finish_reason.c_str(),
               rate(out.prefilled_tokens, out.prefill_seconds).c_str(),
               rate(static_cast<int64_t>(out.ids.size()), out.decode_seconds).c_str(),
               static_cast<double>(out.kv_cache_bytes) / (1 << 20));
}

// Reports a long prefill's progress (progress.h throttles it; nothing for a short prompt).
// Each generation makes a fresh line: `begin()` before it.
class PrefillProgress {
 public:
  void begin() { line_ = std::make_shared<ProgressLine>(); }
  std::function<void(int64_t, int64_t)> callback() {
    return [this](int64_t done, int64_t total) {
      if (!line_) return;
      const double s = line_->seconds();
      char buf[160];
      const double left =
          done > 0 ? s * static_cast<double>(total - done) / static_cast<double>(done) : 0;
      std::snprintf(
          buf, sizeof buf, "prefill: %lld/%lld prompt tokens (%d%%), %s tokens/s, %.0f s left",
          static_cast<long long>(done), static_cast<long long>(total),
          static_cast<int>(100 * done / std::max<int64_t>(total, 1)), rate(done, s).c_str(), left);
      line_->update(buf, done == total);
      if (done == total) line_.reset();  // the line ends before the output starts
    };
  }

 private:
  std::shared_ptr<ProgressLine> line_;
};

void run_one(const ModelHandle& model, const ModelWeights* weights,
             const std::vector<LoraAdapter>* adapters, const std::vector<int32_t>& prompt,
             const GenerationOptions& g, PrefillProgress& progress) {
  progress.begin();
  const Generation out =
      generate(model.model(), weights, adapters, model.tokenizer(), prompt, g, print_piece);
  finish_output(prompt.size(), out);
}

// One line per turn from stdin; the reply streams to stdout. Chat models keep the conversation
// (with --template alpaca each line stands alone); /reset starts over.
void chat_over_stdin(const Options& o, const std::shared_ptr<const ModelHandle>& model,
                     const ModelWeights* weights, const std::vector<LoraAdapter>* adapters,
                     const GenerationOptions& g, PrefillProgress& progress) {
  const bool tty = isatty(STDIN_FILENO) != 0;
  if (tty)
    std::fprintf(stderr,
                 "interactive: type a message and press Enter (/reset starts over, an "
                 "empty line or Ctrl-D ends)\n");
  const PromptFormat format = parse_prompt_format(o.tmpl);
  std::optional<ChatTemplate> chat;
  if (format != PromptFormat::ALPACA) chat = model_chat(*model, o.chat_template);
  ChatSession session(model, chat ? PromptFormat::CHAT : format, std::move(chat), weights, adapters,
                      g);
  for (std::string line;;) {
    if (tty) std::fprintf(stderr, "> "), std::fflush(stderr);
    if (!std::getline(std::cin, line) || line.empty()) break;
    if (line == "/reset") {
      session.reset();
      continue;
    }
    progress.begin();
    const Generation reply = session.send(line, print_piece);
    finish_output(session.last_prompt().size(), reply);
  }
}

// -o FILE: its directory must exist and FILE must not be a directory (checked before the model
// loads; the file itself is written atomically at the end).
void check_output_file(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::is_directory(path, ec))
    throw_user_error("generate", "--output " + path + " is a directory",
                     "pass a file name, e.g. --output results.jsonl");
  const fs::path parent = fs::path(path).parent_path();
  if (!parent.empty() && !fs::is_directory(parent, ec))
    throw_user_error("generate", "--output " + path + ": no directory " + parent.string(),
                     "create the directory first, or write elsewhere");
}

// --prompts: every record's ids, generate_batch over them, the result lines in input order (to
// -o FILE, written atomically at the end, or to stdout as they complete in order). Progress and
// the totals go to stderr.
void run_prompts_file(const Options& o, const ModelHandle& handle,
                      const std::vector<PromptRecord>& records, const ModelWeights* weights,
                      const std::vector<LoraAdapter>* adapters, GenerationOptions g) {
  const Tokenizer& tok = handle.tokenizer();
  std::optional<ChatTemplate> chat;
  std::vector<std::vector<int32_t>> prompts;
  for (const PromptRecord& r : records) {
    if (r.prompt) {
      prompts.push_back(text_prompt_ids(tok, parse_prompt_format(o.tmpl), *r.prompt));
    } else {
      if (!chat) chat = model_chat(handle, o.chat_template);
      ChatTemplateInputs in = *r.messages;
      prompts.push_back(chat_prompt_ids(*chat, tok, std::move(in)));
    }
  }
  g.on_prefill = nullptr;  // many short prefills: the progress line counts records instead
  std::vector<std::optional<std::string>> lines(records.size());
  size_t written = 0, finished = 0;
  int64_t generated = 0;
  std::string out;  // for -o: the whole file, written at the end
  ProgressLine progress;
  const auto t0 = std::chrono::steady_clock::now();
  generate_batch(handle.model(), weights, adapters, tok, prompts, g, o.batch_size,
                 [&](size_t i, Generation&& r) {
                   lines[i] = prompt_result_line(i, records[i], r.text, r.finish_reason,
                                                 static_cast<int64_t>(prompts[i].size()),
                                                 static_cast<int64_t>(r.ids.size()));
                   generated += static_cast<int64_t>(r.ids.size());
                   ++finished;
                   for (; written < lines.size() && lines[written]; ++written) {
                     if (o.output.empty()) {
                       std::fwrite(lines[written]->data(), 1, lines[written]->size(), stdout);
                       std::fflush(stdout);
                     } else {
                       out += *lines[written];
                     }
                     lines[written].reset();
                   }
                   progress.update("generate: " + std::to_string(finished) + "/" +
                                       std::to_string(records.size()) + " prompts",
                                   finished == records.size());
                 });
  if (!o.output.empty())
    write_file_atomic("generate", o.output,
                      [&](const WriteBytes& sink) { sink(out.data(), out.size()); });
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::fprintf(stderr, "[%zu prompts, %lld generated tokens in %.1f s: %s tokens/s, batch %lld]\n",
               records.size(), static_cast<long long>(generated), secs,
               rate(generated, secs).c_str(), static_cast<long long>(o.batch_size));
}

int run_generate(Options& o) {
  take_old_template_flag(o);
  check_options(o);
  const bool interactive = o.prompt.empty() && o.messages.empty() && o.prompts.empty();
  if (interactive && o.compare_base)
    throw_user_error("generate", "--compare-base needs --prompt or --messages",
                     "pass the prompt to compare on, e.g. --prompt 'Hello'");
  // What can be checked without the model is, first: a mistake there shows at once.
  std::optional<ChatTemplateInputs> conversation;
  if (!o.messages.empty()) conversation = read_conversation(o.messages);
  std::vector<PromptRecord> records;
  if (!o.prompts.empty()) records = read_prompts_file(o.prompts);
  if (!o.output.empty()) check_output_file(o.output);
  if (!o.adapter.empty()) check_peft_adapter_files(o.adapter);
  std::shared_ptr<const ModelHandle> handle;
  {
    SlowWorkNotice notice("loading " + o.model);
    handle = ModelHandle::load(o.model);
  }
  const Model& model = handle->model();
  const Tokenizer& tok = handle->tokenizer();
  const std::vector<int32_t> prompt = interactive || !records.empty()
                                          ? std::vector<int32_t>{}
                                          : prompt_ids(o, conversation, *handle);

  GenerationOptions g;
  if (o.do_sample) o.req.do_sample = true;
  if (o.greedy) o.req.do_sample = false;
  const GenerationDefaults defaults = read_generation_defaults(model);
  resolve_generation_options(o.req, defaults, g);
  if (!defaults.source.empty() && defaults.do_sample.value_or(false) && !o.req.do_sample &&
      !o.req.temperature)
    std::fprintf(stderr,
                 "note: %s samples (do_sample true; temperature %g, top_k %lld, top_p %g); "
                 "pass --greedy for greedy decoding\n",
                 defaults.source.c_str(), static_cast<double>(g.sampling.temperature),
                 static_cast<long long>(g.sampling.top_k), static_cast<double>(g.sampling.top_p));
  g.eos_ids = generation_eos_ids(model, tok);
  g.stop_strings = o.stops;
  g.exact = o.exact;
  PrefillProgress progress;
  g.on_prefill = progress.callback();

  std::optional<LoraSet> lora;
  std::optional<ModelWeights> merged;
  if (!o.adapter.empty()) {
    SlowWorkNotice notice("loading the adapter " + o.adapter);
    lora = load_peft_adapter(o.adapter, model);
    check_generation_adapter(*lora);
    if (!o.no_merge) merged = merged_adapter_weights(model, *lora);
  }
  const ModelWeights* weights = merged ? &*merged : nullptr;
  const std::vector<LoraAdapter>* applied = lora && o.no_merge ? &lora->adapters : nullptr;
  if (interactive) {
    chat_over_stdin(o, handle, weights, applied, g, progress);
    return 0;
  }
  if (!records.empty()) {
    run_prompts_file(o, *handle, records, weights, applied, g);
    return 0;
  }
  if (o.compare_base) {
    std::printf("=== base ===\n");
    run_one(*handle, nullptr, nullptr, prompt, g, progress);
    std::printf("=== adapter (%s) ===\n", o.adapter.c_str());
  }
  run_one(*handle, weights, applied, prompt, g, progress);
  return 0;
}

}  // namespace

Runner register_generate(CLI::App& app) {
  auto o = std::make_shared<Options>();
  app.add_option("-m,--model", o->model,
                 "model directory, HF repo id in the local cache, or GGUF file")
      ->required();
  app.add_option("--adapter", o->adapter, "PEFT LoRA adapter directory (merged into the weights)");
  auto* prompt = app.add_option("-p,--prompt", o->prompt, "the prompt text (not empty)");
  auto* messages = app.add_option(
      "--messages", o->messages,
      "JSON conversation file, rendered with the model's chat template + generation prompt");
  prompt->excludes(messages);
  o->prompt_flag = prompt;
  o->messages_flag = messages;
  app.add_option("--prompt-format", o->tmpl,
                 "wrap --prompt in a training format: alpaca (### Instruction/### Input/### "
                 "Response)");
  auto* prompts = app.add_option(
      "--prompts", o->prompts,
      "JSONL file of prompts ({\"prompt\": ...} or {\"messages\": [...]} per line), generated "
      "in batches; results as JSON lines");
  prompts->excludes(prompt);
  prompts->excludes(messages);
  o->batch_flag = app.add_option("--batch-size", o->batch_size,
                                 "with --prompts: sequences decoded together, 1..64 (8)");
  app.add_option("-o,--output", o->output, "with --prompts: write the JSON lines to this file");
  app.add_option("--chat-template", o->chat_template,
                 "chat template for --messages and the interactive chat: a .jinja file or a "
                 "built-in name (default: the model's own)");
  // The old spelling, hidden: `tuna template --template` names a chat template instead.
  app.add_option("--template", o->old_template, "old spelling of --prompt-format alpaca")
      ->group("");
  // Unset settings come from the model's generation_config.json, else GenerationConfig's defaults.
  GenerationRequest& r = o->req;
  app.add_option("-n,--max-new-tokens", r.max_new_tokens,
                 "tokens to generate at most, 1 or more (default: generation_config.json's, "
                 "else 256)");
  app.add_option("--temperature", r.temperature,
                 "> 0: sample at this temperature; 0: greedy. Without it decoding is greedy "
                 "(HF do_sample=False) unless generation_config.json samples");
  app.add_flag("--do-sample", o->do_sample, "sample (HF do_sample=True)");
  app.add_flag("--greedy", o->greedy, "decode greedily even if generation_config.json samples");
  app.add_option("--top-k", r.top_k, "sampling: keep the K most likely tokens, >= 0 (50; 0 off)");
  app.add_option("--top-p", r.top_p, "sampling: nucleus probability mass in (0, 1] (1 = off)");
  app.add_option("--min-p", r.min_p,
                 "sampling: drop tokens below min-p × the top, in [0, 1] (0 = off)");
  app.add_option("--repetition-penalty", r.repetition_penalty,
                 "HF repetition penalty over prompt + output, > 0 (1 = off)");
  app.add_option("--seed", r.seed, "sampling seed, 0 to 2^64-1 (same seed, same output)")
      ->check(CLI::Validator(
          [](const std::string& v) {
            return v.find('-') != std::string::npos ? v + " is not a seed: seeds are 0 to 2^64-1"
                                                    : std::string();
          },
          ""));
  app.add_option("--stop", o->stops, "stop when the output contains this text (repeatable)");
  app.add_flag("--no-merge", o->no_merge,
               "apply the adapter on the fly (x·Wᵀ + s·x·Aᵀ·Bᵀ) instead of merging it");
  app.add_flag("--exact", o->exact,
               "decode with F32 activations (the exact path) instead of 8-bit ones on quantized "
               "GGUF weights: slower, bitwise the same whatever the batch (docs/generate.md)");
  app.add_flag("--compare-base", o->compare_base,
               "print the base model's answer, then the adapter's");
  return [o]() { return run_with_flag_names(kFlags, [&] { return run_generate(*o); }); };
}

}  // namespace tuna::cli
