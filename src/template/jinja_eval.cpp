// Interpreter of tuna's Jinja engine (our own; see jinja_interp.h): statements, expressions,
// Python arithmetic, attribute/item lookup with jinja2's sandbox rules and Undefined messages.
#include <cmath>

#include "template/jinja_interp.h"

namespace tuna::jinja {

Interpreter::Interpreter(Value globals, Value context) {
  scopes_.resize(3);
  for (auto& [k, v] : globals.entries().entries) scopes_[0].emplace_back(k, v);
  for (auto& [k, v] : context.entries().entries) scopes_[1].emplace_back(k, v);
}

void Interpreter::render(const Body& body) {
  exec(body);
}

Value Interpreter::lookup(const std::string& name) const {
  for (size_t s = scopes_.size(); s-- > 0;)
    for (const auto& [k, v] : scopes_[s])
      if (k == name) return v;
  return Value::undefined("'" + name + "' is undefined");
}

void Interpreter::set_local(const std::string& name, Value v) {
  for (auto& kv : scopes_.back()) {
    if (kv.first == name) {
      kv.second = std::move(v);
      return;
    }
  }
  scopes_.back().emplace_back(name, std::move(v));
}

void Interpreter::assign(const std::vector<std::string>& targets, const Value& v) {
  if (targets.size() == 1) {
    set_local(targets[0], v);
    return;
  }
  List items = iterate(v);
  if (items.size() < targets.size())
    raise("ValueError", "not enough values to unpack (expected " + std::to_string(targets.size()) +
                            ", got " + std::to_string(items.size()) + ")");
  if (items.size() > targets.size())
    raise("ValueError",
          "too many values to unpack (expected " + std::to_string(targets.size()) + ")");
  for (size_t i = 0; i < targets.size(); ++i) set_local(targets[i], items[i]);
}

std::string Interpreter::capture(const Body& body) {
  std::string saved;
  saved.swap(out_);
  ++capture_depth_;
  try {
    exec(body);
  } catch (...) {
    --capture_depth_;
    out_.swap(saved);
    throw;
  }
  --capture_depth_;
  out_.swap(saved);
  return saved;
}

Interpreter::Flow Interpreter::exec(const Body& body) {
  for (const auto& n : body) {
    Flow f = exec_node(*n);
    if (f != Flow::NORMAL) return f;
  }
  return Flow::NORMAL;
}

namespace {
[[noreturn]] void over_budget() {
  raise("RuntimeError", "the template ran more than " + std::to_string(kMaxSteps) +
                            " steps (tags and expressions): a loop that grows without end?");
}
}  // namespace

Interpreter::Flow Interpreter::exec_node(const Node& n) {
  try {
    if (++steps_ > kMaxSteps) over_budget();
    switch (n.kind) {
      case Node::Kind::TEXT:
        check_string_size(out_.size() + n.text.size());
        out_ += n.text;
        break;
      case Node::Kind::OUTPUT: {
        const std::string text = eval(*n.expr).str();
        check_string_size(out_.size() + text.size());
        out_ += text;
        break;
      }
      case Node::Kind::IF:
        for (const auto& [cond, body] : n.branches)
          if (!cond || eval(*cond).truthy()) return exec(body);
        break;
      case Node::Kind::FOR:
        exec_for(n);
        break;
      case Node::Kind::SET: {
        Value v = eval(*n.expr);
        if (n.attr.empty()) {
          assign(n.targets, v);
        } else {
          Value ns = lookup(n.targets[0]);
          if (!ns.is_namespace())
            raise("TemplateRuntimeError", "cannot assign attribute on non-namespace object");
          ns.entries().set(n.attr, v);
        }
        break;
      }
      case Node::Kind::SET_BLOCK:
        set_local(n.targets[0], Value(capture(n.body)));
        break;
      case Node::Kind::MACRO:
        set_local(n.name, make_macro(n));
        break;
      case Node::Kind::BREAK:
        return Flow::BREAK;
      case Node::Kind::CONTINUE:
        return Flow::CONTINUE;
      case Node::Kind::GENERATION: {
        // transformers' AssistantTracker renders the body as a call block (its own scope) and
        // records where its output lands in the rendered text.
        size_t begin = out_.size();
        scopes_.emplace_back();
        try {
          exec(n.body);
        } catch (...) {
          scopes_.pop_back();
          throw;
        }
        scopes_.pop_back();
        if (capture_depth_ == 0) spans_.emplace_back(begin, out_.size());
        break;
      }
      case Node::Kind::FILTER_BLOCK: {
        std::string body = capture(n.body);
        scopes_.emplace_back();
        scopes_.back().emplace_back("__filter_block_body", Value(std::move(body)));
        Value v;
        try {
          v = eval(*n.expr);
        } catch (...) {
          scopes_.pop_back();
          throw;
        }
        scopes_.pop_back();
        out_ += v.str();
        break;
      }
    }
  } catch (TemplateError& e) {
    if (e.line() == 0) e.set_position(n.line, n.column);
    throw;
  }
  return Flow::NORMAL;
}

void Interpreter::exec_for(const Node& n) {
  List all = iterate(eval(*n.expr));
  List items;
  if (n.filter) {
    for (const Value& item : all) {
      scopes_.emplace_back();
      assign(n.targets, item);
      bool keep = eval(*n.filter).truthy();
      scopes_.pop_back();
      if (keep) items.push_back(item);
    }
  } else {
    items = std::move(all);
  }
  if (items.empty()) {
    exec(n.else_body);
    return;
  }
  const int64_t len = static_cast<int64_t>(items.size());
  auto cycle_state = std::make_shared<int64_t>(0);
  for (int64_t i = 0; i < len; ++i) {
    steps_ += kLoopIterationSteps;
    if (steps_ > kMaxSteps) over_budget();
    Value loop = Value::dict();
    Dict& d = loop.entries();
    d.entries.reserve(13);
    d.entries.emplace_back("index", Value(i + 1));
    d.entries.emplace_back("index0", Value(i));
    d.entries.emplace_back("revindex", Value(len - i));
    d.entries.emplace_back("revindex0", Value(len - i - 1));
    d.entries.emplace_back("first", Value(i == 0));
    d.entries.emplace_back("last", Value(i == len - 1));
    d.entries.emplace_back("length", Value(len));
    d.entries.emplace_back("depth", Value(1));
    d.entries.emplace_back("depth0", Value(0));
    d.entries.emplace_back("previtem",
                           i > 0 ? items[i - 1] : Value::undefined("there is no previous item"));
    d.entries.emplace_back("nextitem",
                           i + 1 < len ? items[i + 1] : Value::undefined("there is no next item"));
    d.entries.emplace_back("cycle", Value::function("loop.cycle", [i](Interpreter&, Args& a) {
                             if (a.positional.empty())
                               raise("TypeError", "no items for cycling given");
                             return a.positional[static_cast<size_t>(i) % a.positional.size()];
                           }));
    scopes_.emplace_back();
    Flow f;
    try {
      assign(n.targets, items[i]);
      set_local("loop", loop);
      f = exec(n.body);
    } catch (...) {
      scopes_.pop_back();
      throw;
    }
    scopes_.pop_back();
    if (f == Flow::BREAK) break;
  }
}

Value Interpreter::make_macro(const Node& n) {
  const Node* node = &n;
  return Value::function(n.name, [node](Interpreter& in, Args& args) -> Value {
    const auto& params = node->params;
    if (args.positional.size() > params.size())
      raise("TypeError", "macro '" + node->name + "' takes not more than " +
                             std::to_string(params.size()) + " argument(s)");
    for (const auto& [k, v] : args.keywords) {
      bool known = false;
      for (const auto& p : params) known = known || p.first == k;
      if (!known)
        raise("TypeError", "macro '" + node->name + "' takes no keyword argument '" + k + "'");
    }
    if (in.macro_depth_ > 200) raise("RecursionError", "maximum macro recursion depth exceeded");
    // A macro sees the globals, the render arguments and the template's top level, not the
    // caller's locals.
    std::vector<Scope> saved(in.scopes_.begin() + 3, in.scopes_.end());
    in.scopes_.resize(3);
    in.scopes_.emplace_back();
    ++in.macro_depth_;
    std::string text;
    try {
      for (size_t i = 0; i < params.size(); ++i) {
        const auto& [pname, pdefault] = params[i];
        Value v;
        if (i < args.positional.size()) {
          v = args.positional[i];
        } else if (args.has(static_cast<size_t>(-1), pname)) {
          v = args.get(static_cast<size_t>(-1), pname);
        } else if (pdefault) {
          v = in.eval(*pdefault);
        } else {
          v = Value::undefined("parameter '" + pname + "' was not provided");
        }
        in.set_local(pname, v);
      }
      text = in.capture(node->body);
    } catch (...) {
      --in.macro_depth_;
      in.scopes_.resize(3);
      in.scopes_.insert(in.scopes_.end(), saved.begin(), saved.end());
      throw;
    }
    --in.macro_depth_;
    in.scopes_.resize(3);
    in.scopes_.insert(in.scopes_.end(), saved.begin(), saved.end());
    return Value(std::move(text));
  });
}

// ---- expressions ----

Value Interpreter::eval(const Expr& e) {
  try {
    if (++steps_ > kMaxSteps) over_budget();
    return eval_inner(e);
  } catch (TemplateError& err) {
    if (err.line() == 0) err.set_position(e.line, e.column);
    throw;
  }
}

namespace {

// 64-bit integer arithmetic: Python's ints never overflow, so a result that does not fit is an
// OverflowError (a template error), never a wrapped value.
int64_t int_arith(char op, int64_t a, int64_t b) {
  int64_t r = 0;
  const bool over = op == '+'   ? __builtin_add_overflow(a, b, &r)
                    : op == '-' ? __builtin_sub_overflow(a, b, &r)
                                : __builtin_mul_overflow(a, b, &r);
  if (over) raise("OverflowError", "integer result does not fit in 64 bits");
  return r;
}

Args make_args(Interpreter& in, const Expr& e, size_t first) {
  Args a;
  for (size_t i = first; i < e.args.size(); ++i) a.positional.push_back(in.eval(*e.args[i]));
  for (const auto& [k, v] : e.kwargs) a.keywords.emplace_back(k, in.eval(*v));
  return a;
}

}  // namespace

Value Interpreter::eval_inner(const Expr& e) {
  switch (e.kind) {
    case Expr::Kind::LITERAL:
      return e.literal;
    case Expr::Kind::NAME:
      return lookup(e.name);
    case Expr::Kind::LIST:
    case Expr::Kind::TUPLE: {
      List items;
      for (const auto& a : e.args) items.push_back(eval(*a));
      return e.kind == Expr::Kind::LIST ? Value::list(std::move(items))
                                        : Value::tuple(std::move(items));
    }
    case Expr::Kind::DICT: {
      Value d = Value::dict();
      for (size_t i = 0; i + 1 < e.args.size(); i += 2) {
        Value k = eval(*e.args[i]);
        if (!k.is_string())
          raise("TypeError",
                "tuna's template engine supports only string dict keys, not " + k.type_name());
        d.entries().set(k.as_string(), eval(*e.args[i + 1]));
      }
      return d;
    }
    case Expr::Kind::GETATTR:
      return getattr(eval(*e.args[0]), e.name);
    case Expr::Kind::GETITEM: {
      Value obj = eval(*e.args[0]);
      return getitem(obj, eval(*e.args[1]));
    }
    case Expr::Kind::SLICE: {
      Value obj = eval(*e.args[0]);
      Value parts[3];
      const Value* p[3] = {nullptr, nullptr, nullptr};
      for (int i = 0; i < 3; ++i) {
        if (e.args[1 + i]) {
          parts[i] = eval(*e.args[1 + i]);
          p[i] = &parts[i];
        }
      }
      return slice(obj, p[0], p[1], p[2]);
    }
    case Expr::Kind::CALL: {
      Value fn = eval(*e.args[0]);
      Args a = make_args(*this, e, 1);
      return call(fn, a);
    }
    case Expr::Kind::FILTER: {
      Value subject = eval(*e.args[0]);
      Args a = make_args(*this, e, 1);
      return call_filter(*this, e.name, subject, a);
    }
    case Expr::Kind::TEST: {
      Value subject = eval(*e.args[0]);
      Args a = make_args(*this, e, 1);
      bool r = call_test(*this, e.name, subject, a);
      return Value(e.negated ? !r : r);
    }
    case Expr::Kind::NEG:
    case Expr::Kind::POS: {
      Value v = eval(*e.args[0]);
      check_defined(v);
      const char* op = e.kind == Expr::Kind::NEG ? "-" : "+";
      if (!v.is_number())
        raise("TypeError",
              std::string("bad operand type for unary ") + op + ": '" + v.type_name() + "'");
      if (e.kind == Expr::Kind::POS) return v.is_bool() ? Value(v.as_int()) : v;
      return v.is_float() ? Value(-v.as_float()) : Value(int_arith('-', 0, v.as_int()));
    }
    case Expr::Kind::NOT:
      return Value(!eval(*e.args[0]).truthy());
    case Expr::Kind::AND: {
      Value l = eval(*e.args[0]);
      return l.truthy() ? eval(*e.args[1]) : l;
    }
    case Expr::Kind::OR: {
      Value l = eval(*e.args[0]);
      return l.truthy() ? l : eval(*e.args[1]);
    }
    case Expr::Kind::BINARY: {
      Value l = eval(*e.args[0]);
      Value r = eval(*e.args[1]);
      return binary(e.name, l, r);
    }
    case Expr::Kind::COMPARE: {
      Value l = eval(*e.args[0]);
      for (size_t i = 0; i < e.ops.size(); ++i) {
        Value r = eval(*e.args[i + 1]);
        const std::string& op = e.ops[i];
        bool ok;
        if (op == "==")
          ok = equals(l, r);
        else if (op == "!=")
          ok = !equals(l, r);
        else if (op == "in")
          ok = contains(r, l);
        else if (op == "notin")
          ok = !contains(r, l);
        else {
          int c = compare(l, r, op);
          ok = op == "<" ? c < 0 : op == "<=" ? c <= 0 : op == ">" ? c > 0 : c >= 0;
        }
        if (!ok) return Value(false);
        l = std::move(r);
      }
      return Value(true);
    }
    case Expr::Kind::CONDEXPR: {
      if (eval(*e.args[0]).truthy()) return eval(*e.args[1]);
      if (e.args[2]) return eval(*e.args[2]);
      return Value::undefined("the inline if-expression on line " + std::to_string(e.line) +
                              " evaluated to false and no else section was defined.");
    }
  }
  return Value();
}

Value Interpreter::call(const Value& fn, Args& args) {
  if (fn.is_function()) return fn.function().fn(*this, args);
  check_defined(fn);
  raise("TypeError", "'" + fn.type_name() + "' object is not callable");
}

namespace {

[[noreturn]] void unsupported_operands(const std::string& op, const Value& l, const Value& r) {
  raise("TypeError", "unsupported operand type(s) for " + op + ": '" + l.type_name() + "' and '" +
                         r.type_name() + "'");
}

Value repeat(const Value& seq, int64_t n) {
  const size_t unit = seq.is_string() ? seq.as_string().size() : seq.items().size() * sizeof(Value);
  // An empty sequence (or a count ≤ 0) repeats to an empty one at once, as in Python: no loop of
  // n empty appends ('' * 10**18 took forever before).
  if (n <= 0 || unit == 0) n = 0;
  if (n > 0 && unit > 0 && static_cast<uint64_t>(n) > kMaxStringBytes / unit)
    check_string_size(kMaxStringBytes + 1);  // the result would exceed the budget
  if (seq.is_string()) {
    std::string out;
    for (int64_t i = 0; i < n; ++i) out += seq.as_string();
    return Value(std::move(out));
  }
  List out;
  for (int64_t i = 0; i < n; ++i) out.insert(out.end(), seq.items().begin(), seq.items().end());
  return seq.kind() == Value::Kind::TUPLE ? Value::tuple(std::move(out))
                                          : Value::list(std::move(out));
}

int64_t floor_div(int64_t a, int64_t b) {
  if (b == -1) return int_arith('-', 0, a);
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

}  // namespace

Value Interpreter::binary(const std::string& op, const Value& l, const Value& r) {
  if (op == "~") {
    std::string a = l.str(), b = r.str();
    check_string_size(a.size() + b.size());
    return Value(a + b);
  }
  check_defined(l);
  check_defined(r);
  const bool nums = l.is_number() && r.is_number();
  const bool floats = nums && (l.is_float() || r.is_float());
  if (op == "+") {
    if (nums)
      return floats ? Value(l.as_float() + r.as_float())
                    : Value(int_arith('+', l.as_int(), r.as_int()));
    if (l.is_string() && r.is_string()) {
      check_string_size(l.as_string().size() + r.as_string().size());
      return Value(l.as_string() + r.as_string());
    }
    if (l.kind() == r.kind() && l.is_sequence()) {
      List out = l.items();
      out.insert(out.end(), r.items().begin(), r.items().end());
      return l.kind() == Value::Kind::TUPLE ? Value::tuple(std::move(out))
                                            : Value::list(std::move(out));
    }
    if (l.is_string() || l.is_sequence())
      raise("TypeError", "can only concatenate " + l.type_name() + " (not \"" + r.type_name() +
                             "\") to " + l.type_name());
    unsupported_operands(op, l, r);
  }
  if (op == "-") {
    if (nums)
      return floats ? Value(l.as_float() - r.as_float())
                    : Value(int_arith('-', l.as_int(), r.as_int()));
    unsupported_operands(op, l, r);
  }
  if (op == "*") {
    if (nums)
      return floats ? Value(l.as_float() * r.as_float())
                    : Value(int_arith('*', l.as_int(), r.as_int()));
    if ((l.is_string() || l.is_sequence()) && r.is_number() && !r.is_float())
      return repeat(l, r.as_int());
    if ((r.is_string() || r.is_sequence()) && l.is_number() && !l.is_float())
      return repeat(r, l.as_int());
    if ((l.is_string() || l.is_sequence()) && r.is_float())
      raise("TypeError", "can't multiply sequence by non-int of type 'float'");
    unsupported_operands(op, l, r);
  }
  if (op == "/") {
    if (!nums) unsupported_operands(op, l, r);
    if (r.as_float() == 0.0) raise("ZeroDivisionError", "division by zero");
    return Value(l.as_float() / r.as_float());
  }
  if (op == "//") {
    if (!nums) unsupported_operands(op, l, r);
    if (floats) {
      if (r.as_float() == 0.0) raise("ZeroDivisionError", "float floor division by zero");
      return Value(std::floor(l.as_float() / r.as_float()));
    }
    if (r.as_int() == 0) raise("ZeroDivisionError", "integer division or modulo by zero");
    return Value(floor_div(l.as_int(), r.as_int()));
  }
  if (op == "%") {
    if (l.is_string()) return Value(percent_format(l.as_string(), r));
    if (!nums) unsupported_operands(op, l, r);
    if (floats) {
      double b = r.as_float();
      if (b == 0.0) raise("ZeroDivisionError", "float modulo");
      double m = std::fmod(l.as_float(), b);
      if (m != 0.0 && ((m < 0) != (b < 0))) m += b;
      return Value(m);
    }
    if (r.as_int() == 0) raise("ZeroDivisionError", "integer modulo by zero");
    const int64_t a = l.as_int(), b = r.as_int();
    int64_t m = b == -1 ? 0 : a % b;  // C's remainder, then Python's sign (the divisor's)
    if (m != 0 && ((m < 0) != (b < 0))) m += b;
    return Value(m);
  }
  if (op == "**") {
    if (!nums) unsupported_operands(op, l, r);
    if (!floats && r.as_int() >= 0) {
      int64_t result = 1, base = l.as_int();
      for (int64_t k = r.as_int(); k > 0; k >>= 1) {  // by squaring: 2 ** 10**18 ends at once
        if (k & 1) result = int_arith('*', result, base);
        if (k > 1) base = int_arith('*', base, base);
      }
      return Value(result);
    }
    return Value(std::pow(l.as_float(), r.as_float()));
  }
  raise("TemplateError", "unknown operator '" + op + "'");
}

// ---- lookup ----

Value Interpreter::getattr(const Value& obj, const std::string& name) {
  check_defined(obj);
  if (obj.is_namespace()) {
    if (const Value* v = obj.entries().find(name)) return *v;
  } else {
    bool found = false;
    Value m = bound_method(obj, name, &found);
    if (found) return m;
    if (obj.is_dict())
      if (const Value* v = obj.entries().find(name)) return *v;
  }
  std::string hint = "'";  // built by appends: GCC 12 warns (-Wrestrict) on "'" + std::string
  hint += obj.object_type_repr();
  hint += "' has no attribute '";
  hint += name;
  hint += "'";
  return Value::undefined(std::move(hint));
}

Value Interpreter::getitem(const Value& obj, const Value& key) {
  check_defined(obj);
  if (obj.is_dict() && key.is_string()) {
    if (const Value* v = obj.entries().find(key.as_string())) return *v;
  }
  if ((obj.is_sequence() || obj.is_string()) && (key.is_int() || key.is_bool())) {
    int64_t n = obj.is_string() ? static_cast<int64_t>(char_offsets(obj.as_string()).size() - 1)
                                : static_cast<int64_t>(obj.items().size());
    int64_t i = key.as_int();
    if (i < 0) i += n;
    if (i >= 0 && i < n) {
      if (obj.is_sequence()) return obj.items()[static_cast<size_t>(i)];
      Value one(i);
      Value next(i + 1);
      return slice(obj, &one, &next, nullptr);
    }
  }
  if (key.is_string()) return getattr(obj, key.as_string());
  return Value::undefined(obj.object_type_repr() + " has no element " + key.repr());
}

}  // namespace tuna::jinja
