// `tuna generate --model M [--adapter A] [--prompt P | --messages FILE] [--template alpaca]
// [--max-new-tokens N] [--do-sample | --greedy] [--temperature T] [--top-k K] [--top-p P]
// [--min-p P] [--repetition-penalty R] [--seed S] [--stop STR]... [--no-merge] [--compare-base]`:
// text generation with a KV cache, streamed to stdout as it is produced; with neither --prompt
// nor --messages, an interactive chat over stdin. Settings not given come
// from the model's generation_config.json, as transformers' generate() takes them. The adapter is
// merged into a copy of the weights it touches, or with --no-merge applied on the fly. Statistics
// go to stderr.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <optional>

#include "app/chat_session.h"
#include "app/model_handle.h"
#include "cli/commands.h"
#include "cli/flag_names.h"
#include "core/error.h"
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
                          {"template", "--template"},
                          {"prompt", "--prompt"},
                          {"messages", "--messages"}};

struct Options {
  std::string model, adapter, prompt, messages, tmpl;
  GenerationRequest req;  // unset settings come from generation_config.json, else HF's defaults
  std::vector<std::string> stops;
  bool compare_base = false, no_merge = false, do_sample = false, greedy = false;
};

void check_options(const Options& o) {
  auto bad = [](const std::string& what, const std::string& hint) {
    throw_user_error("generate", what, hint);
  };
  check_generation_request(o.req);
  if (o.do_sample && o.greedy) bad("--do-sample and --greedy exclude each other", "pass one");
  if (o.no_merge && o.adapter.empty())
    bad("--no-merge needs --adapter", "pass --adapter DIR (a PEFT adapter directory)");
  if (o.compare_base && o.adapter.empty())
    bad("--compare-base needs --adapter", "pass --adapter DIR (a PEFT adapter directory)");
  parse_prompt_format(o.tmpl);
  if (!o.tmpl.empty() && !o.messages.empty())
    bad("--template applies to --prompt, not --messages",
        "--messages uses the model's chat template");
  for (const std::string& s : o.stops)
    if (s.empty())
      bad("--stop is empty", "pass the text that ends a generation, e.g. --stop '###'");
}

// The model's chat template (or the built-in one of its family, noted on stderr).
ChatTemplate model_chat(const ModelHandle& model) {
  const ChosenTemplate t = model_template(model);
  note_family_template(t, model.name());
  return ChatTemplate::parse(t.source, t.origin);
}

// The prompt ids: the --messages conversation or the plain / alpaca-wrapped prompt.
std::vector<int32_t> prompt_ids(const Options& o, const ModelHandle& model) {
  if (o.messages.empty())
    return text_prompt_ids(model.tokenizer(), parse_prompt_format(o.tmpl), o.prompt);
  return chat_prompt_ids(model_chat(model), model.tokenizer(), read_conversation(o.messages));
}

void print_piece(const std::string& piece) {
  std::fwrite(piece.data(), 1, piece.size(), stdout);
  std::fflush(stdout);
}

// After a generation streamed to stdout: a closing newline, and the statistics on stderr.
void finish_output(size_t prompt_tokens, const Generation& out, double seconds) {
  if (out.text.empty() || out.text.back() != '\n') std::printf("\n");
  std::fflush(stdout);
  const std::string reused =
      out.reused_prompt_tokens > 0
          ? " (" + std::to_string(out.reused_prompt_tokens) + " cached from the last turn)"
          : "";
  std::fprintf(stderr, "[%zu prompt%s + %zu generated tokens, stop: %s, %.1f tokens/s]\n",
               prompt_tokens, reused.c_str(), out.ids.size(), out.finish_reason.c_str(),
               seconds > 0 ? static_cast<double>(out.ids.size()) / seconds : 0.0);
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

void run_one(const ModelHandle& model, const ModelWeights* weights,
             const std::vector<LoraAdapter>* adapters, const std::vector<int32_t>& prompt,
             const GenerationOptions& g) {
  const auto t0 = std::chrono::steady_clock::now();
  const Generation out =
      generate(model.model(), weights, adapters, model.tokenizer(), prompt, g, print_piece);
  finish_output(prompt.size(), out, seconds_since(t0));
}

// One line per turn from stdin; the reply streams to stdout. Chat models keep the conversation
// (with --template alpaca each line stands alone); /reset starts over.
void chat_over_stdin(const Options& o, const std::shared_ptr<const ModelHandle>& model,
                     const ModelWeights* weights, const std::vector<LoraAdapter>* adapters,
                     const GenerationOptions& g) {
  const bool tty = isatty(STDIN_FILENO) != 0;
  if (tty)
    std::fprintf(stderr,
                 "interactive: type a message and press Enter (/reset starts over, an "
                 "empty line or Ctrl-D ends)\n");
  const PromptFormat format = parse_prompt_format(o.tmpl);
  std::optional<ChatTemplate> chat;
  if (format != PromptFormat::ALPACA) chat = model_chat(*model);
  ChatSession session(model, chat ? PromptFormat::CHAT : format, std::move(chat), weights, adapters,
                      g);
  for (std::string line;;) {
    if (tty) std::fprintf(stderr, "> "), std::fflush(stderr);
    if (!std::getline(std::cin, line) || line.empty()) break;
    if (line == "/reset") {
      session.reset();
      continue;
    }
    const auto t0 = std::chrono::steady_clock::now();
    const Generation reply = session.send(line, print_piece);
    finish_output(session.last_prompt().size(), reply, seconds_since(t0));
  }
}

int run_generate(Options& o) {
  check_options(o);
  const bool interactive = o.prompt.empty() && o.messages.empty();
  if (interactive && o.compare_base)
    throw_user_error("generate", "--compare-base needs --prompt or --messages",
                     "pass the prompt to compare on, e.g. --prompt 'Hello'");
  const std::shared_ptr<const ModelHandle> handle = ModelHandle::load(o.model);
  const Model& model = handle->model();
  const Tokenizer& tok = handle->tokenizer();
  const std::vector<int32_t> prompt = interactive ? std::vector<int32_t>{} : prompt_ids(o, *handle);

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

  std::optional<LoraSet> lora;
  std::optional<ModelWeights> merged;
  if (!o.adapter.empty()) {
    lora = load_peft_adapter(o.adapter, model);
    check_generation_adapter(*lora);
    if (!o.no_merge) merged = merged_adapter_weights(model, *lora);
  }
  const ModelWeights* weights = merged ? &*merged : nullptr;
  const std::vector<LoraAdapter>* applied = lora && o.no_merge ? &lora->adapters : nullptr;
  if (interactive) {
    chat_over_stdin(o, handle, weights, applied, g);
    return 0;
  }
  if (o.compare_base) {
    std::printf("=== base ===\n");
    run_one(*handle, nullptr, nullptr, prompt, g);
    std::printf("=== adapter (%s) ===\n", o.adapter.c_str());
  }
  run_one(*handle, weights, applied, prompt, g);
  return 0;
}

}  // namespace

Runner register_generate(CLI::App& app) {
  auto o = std::make_shared<Options>();
  app.add_option("-m,--model", o->model,
                 "model directory, HF repo id in the local cache, or GGUF file")
      ->required();
  app.add_option("--adapter", o->adapter, "PEFT LoRA adapter directory (merged into the weights)");
  auto* prompt = app.add_option("-p,--prompt", o->prompt, "the prompt text");
  auto* messages = app.add_option(
      "--messages", o->messages,
      "JSON conversation file, rendered with the model's chat template + generation prompt");
  prompt->excludes(messages);
  app.add_option("--template", o->tmpl,
                 "wrap --prompt in a training format: alpaca (### Instruction/### Input/### "
                 "Response)");
  // Unset settings come from the model's generation_config.json, else GenerationConfig's defaults.
  GenerationRequest& r = o->req;
  app.add_option("-n,--max-new-tokens", r.max_new_tokens, "tokens to generate at most (256)");
  app.add_option("--temperature", r.temperature,
                 "0: greedy; > 0: sample at this temperature (default 1)");
  app.add_flag("--do-sample", o->do_sample, "sample (HF do_sample=True)");
  app.add_flag("--greedy", o->greedy, "decode greedily even if generation_config.json samples");
  app.add_option("--top-k", r.top_k, "sampling: keep the K most likely tokens (50; 0 off)");
  app.add_option("--top-p", r.top_p, "sampling: nucleus probability mass (1 = off)");
  app.add_option("--min-p", r.min_p, "sampling: drop tokens below min-p × the top (0 = off)");
  app.add_option("--repetition-penalty", r.repetition_penalty,
                 "HF repetition penalty over prompt + output (1 = off)");
  app.add_option("--seed", r.seed, "sampling seed (same seed, same output)");
  app.add_option("--stop", o->stops, "stop when the output contains this text (repeatable)");
  app.add_flag("--no-merge", o->no_merge,
               "apply the adapter on the fly (x·Wᵀ + s·x·Aᵀ·Bᵀ) instead of merging it");
  app.add_flag("--compare-base", o->compare_base,
               "print the base model's answer, then the adapter's");
  return [o]() { return run_with_flag_names(kFlags, [&] { return run_generate(*o); }); };
}

}  // namespace tuna::cli
