// Command-line parse errors (CLI11's: unknown flag, missing value, bad number, failed range check)
// as tuna's one-line user errors: "[cli] what, where (hint: see `tuna CMD --help`)". Not here:
// errors of the commands themselves (each command throws tuna::Error).
#pragma once

#include <CLI/CLI.hpp>
#include <string>

namespace tuna::cli {

// The message for `e`, raised while `app` (tuna's top-level app) parsed the command line:
// "[cli] what, where (hint: ...)", one line. `e` is not --help / --version (app.exit shows those).
std::string parse_error_message(const CLI::App& app, const CLI::ParseError& e);

}  // namespace tuna::cli
