// Error formatting. See error.h.
#include "core/error.h"

namespace tuna {

static std::string format_error(const std::string& component, const std::string& what,
                                const std::string& hint) {
  std::string s = "[" + component + "] " + what;
  if (!hint.empty()) s += " (hint: " + hint + ")";
  return s;
}

Error::Error(ErrorKind kind, std::string component, std::string what, std::string hint)
    : std::runtime_error(format_error(component, what, hint)),
      kind_(kind),
      component_(std::move(component)),
      message_(std::move(what)),
      hint_(std::move(hint)) {}

void throw_user_error(const std::string& component, const std::string& what,
                      const std::string& hint) {
  throw Error(ErrorKind::USER, component, what, hint);
}

void throw_internal_error(const std::string& component, const std::string& what) {
  throw Error(ErrorKind::INTERNAL, component, what,
              "this is a bug in tuna; please report it with the command that triggered it");
}

void assert_fail(const char* expr, const char* file, int line, const std::string& msg) {
  std::string what =
      std::string("assertion failed: ") + expr + " at " + file + ":" + std::to_string(line);
  if (!msg.empty()) what += ": " + msg;
  throw_internal_error("assert", what);
}

}  // namespace tuna
