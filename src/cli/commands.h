// The `tuna` subcommands. Each registers its options on a CLI11 app and returns a runner;
// runners throw tuna::Error for user errors (exit status 2), never call exit().
#pragma once

#include <CLI/CLI.hpp>
#include <functional>

namespace tuna {
class CancelToken;
struct ChosenTemplate;
}  // namespace tuna

namespace tuna::cli {

using Runner = std::function<int()>;

Runner register_info(CLI::App& app);
Runner register_score(CLI::App& app);
Runner register_tokenize(CLI::App& app);
Runner register_template(CLI::App& app);
Runner register_train(CLI::App& app);
Runner register_generate(CLI::App& app);

// The note printed when a GGUF model's family template stands in for its own (cmd_template.cpp).
void note_family_template(const ChosenTemplate& chosen, const std::string& model);

// Ctrl-C (SIGINT) trips `token` while it is set (nullptr: Ctrl-C ends the process as usual).
// The handler lives in main.cpp, the one place the CLI handles signals.
void set_interrupt_target(CancelToken* token);

}  // namespace tuna::cli
