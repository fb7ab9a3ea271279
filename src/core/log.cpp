// Leveled logging. See log.h.
#include "core/log.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <mutex>

#include "core/error.h"

namespace tuna {

static LogLevel initial_level() {
  const char* env = std::getenv("TUNA_LOG");
  if (env == nullptr || *env == '\0') return LogLevel::WARN;
  try {
    return parse_log_level(env);
  } catch (const Error&) {
    return LogLevel::WARN;
  }
}

static std::atomic<int>& level_storage() {
  static std::atomic<int> level{static_cast<int>(initial_level())};
  return level;
}

void set_log_level(LogLevel level) {
  level_storage() = static_cast<int>(level);
}
LogLevel log_level() {
  return static_cast<LogLevel>(level_storage().load());
}

LogLevel parse_log_level(const std::string& name) {
  if (name == "error") return LogLevel::ERROR;
  if (name == "warn" || name == "warning") return LogLevel::WARN;
  if (name == "info") return LogLevel::INFO;
  if (name == "debug") return LogLevel::DEBUG;
  throw_user_error("log", "unknown log level '" + name + "'", "use error, warn, info or debug");
}

void log_write(LogLevel level, const std::string& msg) {
  static std::mutex mu;
  static const char* names[] = {"error", "warn", "info", "debug"};
  std::lock_guard<std::mutex> lock(mu);
  std::fprintf(stderr, "tuna %s: %s\n", names[static_cast<int>(level)], msg.c_str());
}

}  // namespace tuna
