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

#include "cli/chat_prompt.h"
#include "cli/commands.h"
#include "cli/model_tokenizer.h"
#include "core/error.h"
#include "infer/generation.h"
#include "lora/adapter_io.h"
#include "model/model.h"

namespace tuna::cli {

namespace {

// The instruction format of tuna's alpaca data (and seed 001's SFT template), empty input.
std::string alpaca_prompt(const std::string& prompt) {
  return "### Instruction:\n" + prompt + "\n\n### Input:\n\n\n### Response:\n";
}

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
  const GenerationRequest& r = o.req;
  if (r.max_new_tokens && *r.max_new_tokens < 1)
    bad("--max-new-tokens must be at least 1", "e.g. --max-new-tokens 64");
  if (r.temperature && !(*r.temperature >= 0.0))
    bad("--temperature must be >= 0", "0 decodes greedily; e.g. --temperature 0.7 samples");
  if (r.top_k && *r.top_k < 0) bad("--top-k must be >= 0", "0 turns top-k off");
  if (r.top_p && !(*r.top_p > 0.0 && *r.top_p <= 1.0))
    bad("--top-p must be in (0, 1]", "1 turns top-p off");
  if (r.min_p && !(*r.min_p >= 0.0 && *r.min_p <= 1.0))
    bad("--min-p must be in [0, 1]", "0 turns min-p off");
  if (r.repetition_penalty && !(*r.repetition_penalty > 0.0))
    bad("--repetition-penalty must be > 0", "1 turns it off; 1.1–1.3 is typical");
  if (o.do_sample && o.greedy) bad("--do-sample and --greedy exclude each other", "pass one");
  if (o.no_merge && o.adapter.empty())
    bad("--no-merge needs --adapter", "pass --adapter DIR (a PEFT adapter directory)");
  if (o.compare_base && o.adapter.empty())
    bad("--compare-base needs --adapter", "pass --adapter DIR (a PEFT adapter directory)");
  if (!o.tmpl.empty() && o.tmpl != "alpaca")
    bad("--template " + o.tmpl + " is not a known prompt format",
        "the prompt formats are: alpaca (chat templates come from the model with --messages)");
  if (!o.tmpl.empty() && !o.messages.empty())
    bad("--template applies to --prompt, not --messages",
        "--messages uses the model's chat template");
  for (const std::string& s : o.stops)
    if (s.empty())
      bad("--stop is empty", "pass the text that ends a generation, e.g. --stop '###'");
}

// The model's chat template (or the built-in one of its family, noted on stderr).
ChatTemplate model_chat(const std::string& model, const Tokenizer& tok) {
  std::string origin;
  const std::string source = choose_template("", model, tok, &origin);
  return ChatTemplate::parse(source, origin);
}

// A conversation's prompt ids: rendered with the generation prompt and the tokenizer's special
// tokens as variables (the conversation's own variables win), encoded without special tokens
// when the rendering already starts with BOS, as apply_chat_template does.
std::vector<int32_t> chat_ids(const ChatTemplate& chat, const Tokenizer& tok,
                              ChatTemplateInputs in) {
  in.add_generation_prompt = true;
  nlohmann::ordered_json vars = tok.special_tokens_map();
  for (auto& [k, v] : in.variables.items()) vars[k] = v;
  in.variables = std::move(vars);
  const std::string text = chat.render(in).text;
  const auto bos = tok.options().bos_token;
  const bool has_bos = bos && !bos->empty() && text.compare(0, bos->size(), *bos) == 0;
  return tok.encode(text, !has_bos);
}

// The prompt ids: the --messages conversation (chat_ids) or the plain / alpaca-wrapped prompt
// with special tokens.
std::vector<int32_t> prompt_ids(const Options& o, const Tokenizer& tok) {
  if (o.messages.empty()) {
    const std::string text = o.tmpl == "alpaca" ? alpaca_prompt(o.prompt) : o.prompt;
    return tok.encode(text, true);
  }
  return chat_ids(model_chat(o.model, tok), tok, read_conversation(o.messages));
}

Generation run_one(const Model& model, const ModelWeights* weights,
                   const std::vector<LoraAdapter>* adapters, const Tokenizer& tok,
                   const std::vector<int32_t>& prompt, const GenerationOptions& g,
                   KvSession* session = nullptr) {
  const auto t0 = std::chrono::steady_clock::now();
  Generation out = generate(
      model, weights, adapters, tok, prompt, g,
      [](const std::string& piece) {
        std::fwrite(piece.data(), 1, piece.size(), stdout);
        std::fflush(stdout);
      },
      session);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (out.text.empty() || out.text.back() != '\n') std::printf("\n");
  std::fflush(stdout);
  const std::string reused =
      out.reused_prompt_tokens > 0
          ? " (" + std::to_string(out.reused_prompt_tokens) + " cached from the last turn)"
          : "";
  std::fprintf(stderr, "[%zu prompt%s + %zu generated tokens, stop: %s, %.1f tokens/s]\n",
               prompt.size(), reused.c_str(), out.ids.size(), out.finish_reason.c_str(),
               s > 0 ? static_cast<double>(out.ids.size()) / s : 0.0);
  return out;
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
  return [o]() {
    check_options(*o);
    const bool interactive = o->prompt.empty() && o->messages.empty();
    if (interactive && o->compare_base)
      throw_user_error("generate", "--compare-base needs --prompt or --messages",
                       "pass the prompt to compare on, e.g. --prompt 'Hello'");
    Model model = Model::load(o->model);
    Tokenizer tok = load_model_tokenizer(o->model);
    const std::vector<int32_t> prompt = interactive ? std::vector<int32_t>{} : prompt_ids(*o, tok);

    GenerationOptions g;
    if (o->do_sample) o->req.do_sample = true;
    if (o->greedy) o->req.do_sample = false;
    const GenerationDefaults defaults = read_generation_defaults(model);
    resolve_generation_options(o->req, defaults, g);
    if (!defaults.source.empty() && defaults.do_sample.value_or(false) && !o->req.do_sample &&
        !o->req.temperature)
      std::fprintf(stderr,
                   "note: %s samples (do_sample true; temperature %g, top_k %lld, top_p %g); "
                   "pass --greedy for greedy decoding\n",
                   defaults.source.c_str(), static_cast<double>(g.sampling.temperature),
                   static_cast<long long>(g.sampling.top_k), static_cast<double>(g.sampling.top_p));
    g.eos_ids = generation_eos_ids(model, tok);
    g.stop_strings = o->stops;

    std::optional<LoraSet> lora;
    std::optional<ModelWeights> merged;
    if (!o->adapter.empty()) {
      lora = load_peft_adapter(o->adapter, model);
      check_generation_adapter(*lora);
      if (!o->no_merge) merged = merged_adapter_weights(model, *lora);
    }
    const ModelWeights* weights = merged ? &*merged : nullptr;
    const std::vector<LoraAdapter>* applied = lora && o->no_merge ? &lora->adapters : nullptr;
    if (interactive) {
      // One line per turn from stdin; the reply streams to stdout. Chat models keep the
      // conversation (with --template alpaca each line stands alone); /reset starts over.
      const bool tty = isatty(STDIN_FILENO) != 0;
      if (tty)
        std::fprintf(stderr,
                     "interactive: type a message and press Enter (/reset starts over, an "
                     "empty line or Ctrl-D ends)\n");
      std::optional<ChatTemplate> chat;
      if (o->tmpl != "alpaca") chat = model_chat(o->model, tok);
      ChatTemplateInputs conversation;
      // The KV cache stays between turns: each turn prefills only what its prompt adds to the
      // conversation the cache already holds.
      KvSession session{KvDecoder(model, weights, applied), {}};
      for (std::string line;;) {
        if (tty) std::fprintf(stderr, "> "), std::fflush(stderr);
        if (!std::getline(std::cin, line) || line.empty()) break;
        if (line == "/reset") {
          conversation.messages = nlohmann::ordered_json::array();
          session.reset();
          continue;
        }
        std::vector<int32_t> ids;
        if (!chat) {  // --template alpaca
          ids = tok.encode(alpaca_prompt(line), true);
        } else {
          conversation.messages.push_back({{"role", "user"}, {"content", line}});
          ids = chat_ids(*chat, tok, conversation);
        }
        const Generation reply = run_one(model, weights, applied, tok, ids, g, &session);
        if (chat) conversation.messages.push_back({{"role", "assistant"}, {"content", reply.text}});
      }
      return 0;
    }
    if (o->compare_base) {
      std::printf("=== base ===\n");
      run_one(model, nullptr, nullptr, tok, prompt, g);
      std::printf("=== adapter (%s) ===\n", o->adapter.c_str());
    }
    run_one(model, weights, applied, tok, prompt, g);
    return 0;
  };
}

}  // namespace tuna::cli
