// Leveled logging to stderr. Level comes from set_log_level() or $TUNA_LOG (error, warn, info,
// debug). Messages are fmt-formatted. Not for user-facing results (those go to stdout).
#pragma once

#include <fmt/format.h>

#include <string>

namespace tuna {

enum class LogLevel { ERROR = 0, WARN = 1, INFO = 2, DEBUG = 3 };

void set_log_level(LogLevel level);
LogLevel log_level();
LogLevel parse_log_level(const std::string& name);  // throws a user error on an unknown name
void log_write(LogLevel level, const std::string& msg);

template <typename... Args>
void log_error(fmt::format_string<Args...> f, Args&&... args) {
  log_write(LogLevel::ERROR, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void log_warn(fmt::format_string<Args...> f, Args&&... args) {
  if (log_level() >= LogLevel::WARN)
    log_write(LogLevel::WARN, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void log_info(fmt::format_string<Args...> f, Args&&... args) {
  if (log_level() >= LogLevel::INFO)
    log_write(LogLevel::INFO, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void log_debug(fmt::format_string<Args...> f, Args&&... args) {
  if (log_level() >= LogLevel::DEBUG)
    log_write(LogLevel::DEBUG, fmt::format(f, std::forward<Args>(args)...));
}

}  // namespace tuna
