// Library errors name parameters, not flags: `max_new_tokens` in backticks, so a server can show
// them to API clients as they are. Where the CLI prints them it shows the flag that sets each.
#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace tuna::cli {

// parameter → flag, e.g. {"max_new_tokens", "--max-new-tokens"}.
using FlagNames = std::vector<std::pair<std::string, std::string>>;

// `text` with every backticked `parameter` of `flags` replaced by its flag; other backticked
// spans stay as they are.
std::string with_flags(const std::string& text, const FlagNames& flags);

// Runs `fn`; a tuna::Error it throws is rethrown with its message and hint through with_flags.
int run_with_flag_names(const FlagNames& flags, const std::function<int()>& fn);

}  // namespace tuna::cli
