// Typed errors raised at boundaries: "[component] what, where (hint: how)". User errors map to
// exit status 2, internal errors to 70 (DESIGN.md §6, §8). Library code never calls exit().
// Internal invariants use TUNA_ASSERT, which reports file:line.
#pragma once

#include <stdexcept>
#include <string>

namespace tuna {

enum class ErrorKind {
  USER,      // bad input: file, config, model, argument (exit 2)
  INTERNAL,  // a bug or an invariant broken inside tuna (exit 70)
};

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, std::string component, std::string what, std::string hint = {});
  ErrorKind kind() const { return kind_; }
  const std::string& component() const { return component_; }
  const std::string& message() const { return message_; }  // without component and hint
  const std::string& hint() const { return hint_; }
  int exit_status() const { return kind_ == ErrorKind::USER ? 2 : 70; }

 private:
  ErrorKind kind_;
  std::string component_, message_, hint_;
};

// A user error (bad input): `component` is the subsystem ("safetensors", "config", ...).
[[noreturn]] void throw_user_error(const std::string& component, const std::string& what,
                                   const std::string& hint = {});
[[noreturn]] void throw_internal_error(const std::string& component, const std::string& what);
[[noreturn]] void assert_fail(const char* expr, const char* file, int line, const std::string& msg);

}  // namespace tuna

#define TUNA_ASSERT(cond, ...)                                                             \
  do {                                                                                     \
    if (!(cond)) ::tuna::assert_fail(#cond, __FILE__, __LINE__, std::string{__VA_ARGS__}); \
  } while (0)
