// tuna command-line entry point: parses the subcommand, maps errors to exit statuses
// (0 success, 2 user error, 70 internal error, 130 interrupted) and prints one-line errors with a
// hint. The one signal handler of the CLI: Ctrl-C trips the cancel token of the running job.
#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <map>
#include <string>

#include "app/cancel_token.h"
#include "cli/commands.h"
#include "cli/parse_error.h"
#include "core/error.h"
#include "core/log.h"
#include "core/message.h"
#include "core/threads.h"

namespace {

std::atomic<tuna::CancelToken*> g_interrupt_target{nullptr};
static_assert(std::atomic<tuna::CancelToken*>::is_always_lock_free);

// With a job running, Ctrl-C asks it to stop at its next step boundary (after a checkpoint);
// without one it ends the process as the default action does.
extern "C" void on_sigint(int) {
  if (tuna::CancelToken* token = g_interrupt_target.load()) {
    token->cancel();
  } else {
    std::signal(SIGINT, SIG_DFL);
    std::raise(SIGINT);
  }
}

// $TUNA_LOG (read when the first message is logged) and --log, checked up front so a misspelt
// level is an error naming where it came from, not a silent "warn".
void set_log_level_from(const std::string& flag) {
  const char* env = std::getenv("TUNA_LOG");
  if (env != nullptr && *env != '\0') {
    try {
      tuna::set_log_level(tuna::parse_log_level(env));
    } catch (const tuna::Error&) {
      tuna::throw_user_error("log", "$TUNA_LOG=" + tuna::quote(env) + " is not a log level",
                             "set TUNA_LOG to error, warn, info or debug, or unset it");
    }
  }
  if (flag.empty()) return;
  try {
    tuna::set_log_level(tuna::parse_log_level(flag));
  } catch (const tuna::Error&) {
    tuna::throw_user_error("log", "--log " + tuna::quote(flag) + " is not a log level",
                           "pass --log error, warn, info or debug");
  }
}

}  // namespace

void tuna::cli::set_interrupt_target(CancelToken* token) {
  g_interrupt_target.store(token);
}

int main(int argc, char** argv) {
  CLI::App app{"tuna — fine-tune open LLMs on your own machine", "tuna"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "tuna 0.1.0");
  int threads = 0;
  std::string log_level;
  app.add_option("-t,--threads", threads,
                 "CPU threads, 1 or more (0 or unset: $TUNA_NUM_THREADS, else $OMP_NUM_THREADS, "
                 "else all cores)");
  app.add_option("--log", log_level, "log level: error, warn, info, debug");

  std::map<CLI::App*, tuna::cli::Runner> runners;
  CLI::App* info =
      app.add_subcommand("info", "show a model's architecture, shapes and parameter count");
  runners[info] = tuna::cli::register_info(*info);
  CLI::App* score =
      app.add_subcommand("score", "per-token log-probabilities and perplexity of a text");
  runners[score] = tuna::cli::register_score(*score);
  CLI::App* tokenize =
      app.add_subcommand("tokenize", "show the token ids and pieces the model sees for a text");
  runners[tokenize] = tuna::cli::register_tokenize(*tokenize);
  CLI::App* tmpl = app.add_subcommand(
      "template", "render a conversation with the model's chat template, as transformers does");
  runners[tmpl] = tuna::cli::register_template(*tmpl);
  CLI::App* train = app.add_subcommand(
      "train", "fine-tuning from a YAML config: LoRA, QLoRA or full (HF/TRL/PEFT key names)");
  runners[train] = tuna::cli::register_train(*train);
  CLI::App* generate = app.add_subcommand(
      "generate", "generate text from a prompt or conversation (KV cache; optional LoRA adapter)");
  runners[generate] = tuna::cli::register_generate(*generate);
  // The global options (--threads, --log) also after the command: `tuna generate ... -t 2`.
  for (auto& entry : runners) entry.first->fallthrough();

  std::signal(SIGINT, on_sigint);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "error: %s\n", tuna::cli::parse_error_message(app, e).c_str());
    return 2;
  }
  try {
    set_log_level_from(log_level);
    tuna::set_num_threads(threads);
    tuna::check_blas_backend();
    for (auto& [sub, run] : runners)
      if (sub->parsed()) return run();
  } catch (const tuna::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return e.exit_status();
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr,
                 "error: [memory] out of memory (hint: use a smaller input or a machine with more "
                 "memory)\n");
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: [internal] %s (hint: this is a bug in tuna; please report it)\n",
                 e.what());
    return 70;
  }
  return 70;
}
