// The tree-walking interpreter of tuna's Jinja engine (our own; see jinja_value.h) and the
// built-ins it calls: jinja2's filters and tests, Python's str/dict/list methods, and the
// globals transformers gives chat templates (raise_exception, strftime_now) plus jinja2's own
// (namespace, range, dict). Scoping is jinja2's: every for-loop iteration and macro call gets a
// fresh scope, `if` does not, namespace() objects are the way to carry state out of a loop.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "template/jinja_ast.h"

namespace tuna::jinja {

// A render's budget: a template is a program, and one from a model file or a user must not hang
// `tuna` or exhaust memory. Past kMaxSteps (a tag run or an expression evaluated: 1 step; a loop
// iteration, which builds the `loop` object: kLoopIterationSteps) a render stops with a
// RuntimeError; a string longer than kMaxStringBytes (jinja_value.h: the output, a concatenation,
// a repetition, a join, a replace or a padded string) raises MemoryError. Real chat templates stay
// far below both: a message costs tens of steps.
constexpr int64_t kMaxSteps = 1'000'000;
constexpr int64_t kLoopIterationSteps = 10;

class Interpreter {
 public:
  // `globals` and `context` are dicts: built-ins, then the render arguments.
  Interpreter(Value globals, Value context);

  // Renders a parsed template into out(); generation_spans() collects the [begin, end) byte
  // ranges of {% generation %} blocks rendered at the top level.
  void render(const Body& body);
  std::string& out() { return out_; }
  const std::vector<std::pair<size_t, size_t>>& generation_spans() const { return spans_; }

  Value eval(const Expr& e);
  Value call(const Value& fn, Args& args);
  Value getattr(const Value& obj, const std::string& name);
  Value getitem(const Value& obj, const Value& key);

 private:
  enum class Flow { NORMAL, BREAK, CONTINUE };
  using Scope = std::vector<std::pair<std::string, Value>>;

  std::vector<Scope> scopes_;  // [0] globals, [1] context, [2] template top level, then locals
  std::string out_;
  std::vector<std::pair<size_t, size_t>> spans_;
  int capture_depth_ = 0;
  int macro_depth_ = 0;
  int64_t steps_ = 0;  // tags run and expressions evaluated so far (the render's work budget)

  Flow exec(const Body& body);
  Flow exec_node(const Node& n);
  void exec_for(const Node& n);
  std::string capture(const Body& body);
  Value lookup(const std::string& name) const;
  void assign(const std::vector<std::string>& targets, const Value& v);
  void set_local(const std::string& name, Value v);
  Value eval_inner(const Expr& e);
  Value binary(const std::string& op, const Value& l, const Value& r);
  Value make_macro(const Node& n);
};

// ---- built-ins (jinja_filters.cpp: filters, tests; jinja_methods.cpp: the rest) ----
Value call_filter(Interpreter& in, std::string_view name, const Value& subject, Args& args);
bool call_test(Interpreter& in, std::string_view name, const Value& subject, Args& args);
// A bound method of a str, dict or list (`found` false when the type has no such method).
Value bound_method(const Value& self, const std::string& name, bool* found);
// raise_exception, strftime_now, namespace, range, dict.
Value make_globals();
// Python iteration: list/tuple items, dict keys, str characters; Undefined is empty.
List iterate(const Value& v);
// Python slicing of a list, tuple or str (null parts are None).
Value slice(const Value& obj, const Value* start, const Value* stop, const Value* step);
// Python's `fmt % args` for str (%s %r %d %i %f %%).
std::string percent_format(const std::string& fmt, const Value& args);

}  // namespace tuna::jinja
