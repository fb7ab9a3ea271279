// Values of tuna's Jinja engine (chat templates). No packaged C++ Jinja implementation exists on
// this platform, so tuna carries its own (DESIGN.md rule 5): values behave as the Python objects
// jinja2 hands a template — None, bool, int, float, str, list, tuple, dict, jinja2's Undefined,
// namespace() objects and callables — with Python's str()/repr(), comparisons and json.dumps.
// Strings are UTF-8; lengths, indices and slices count code points as Python does.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tuna::jinja {

class Value;
struct Dict;
struct Args;
class Interpreter;
using List = std::vector<Value>;
using NativeFn = std::function<Value(Interpreter&, Args&)>;

struct Function {
  std::string name;
  NativeFn fn;
};

class Value {
 public:
  enum class Kind : uint8_t {
    UNDEFINED,
    NONE,
    BOOL,
    INT,
    FLOAT,
    STRING,
    LIST,
    TUPLE,
    DICT,
    NAMESPACE,
    FUNCTION
  };

  Value() = default;  // Undefined without a hint
  Value(bool b) : kind_(Kind::BOOL), b_(b) {}
  Value(int v) : kind_(Kind::INT), i_(v) {}
  Value(int64_t v) : kind_(Kind::INT), i_(v) {}
  Value(double v) : kind_(Kind::FLOAT), f_(v) {}
  Value(std::string s);
  Value(const char* s) : Value(std::string(s)) {}

  // Undefined remembering how it came about: jinja2's message when it is used ("'x' is
  // undefined", "'dict object' has no attribute 'y'").
  static Value undefined(std::string hint, bool security = false);
  static Value none();
  static Value list(List items = {});
  static Value tuple(List items);
  static Value dict();
  static Value make_namespace();
  static Value function(std::string name, NativeFn fn);
  // JSON → Python objects as json.loads gives them (object key order kept).
  static Value from_json(const nlohmann::ordered_json& j);

  Kind kind() const { return kind_; }
  bool is_undefined() const { return kind_ == Kind::UNDEFINED; }
  bool is_none() const { return kind_ == Kind::NONE; }
  bool is_bool() const { return kind_ == Kind::BOOL; }
  bool is_int() const { return kind_ == Kind::INT; }
  bool is_float() const { return kind_ == Kind::FLOAT; }
  bool is_number() const { return kind_ == Kind::INT || kind_ == Kind::FLOAT || is_bool(); }
  bool is_string() const { return kind_ == Kind::STRING; }
  bool is_sequence() const { return kind_ == Kind::LIST || kind_ == Kind::TUPLE; }
  bool is_dict() const { return kind_ == Kind::DICT; }
  bool is_namespace() const { return kind_ == Kind::NAMESPACE; }
  bool is_function() const { return kind_ == Kind::FUNCTION; }

  bool as_bool() const { return b_; }
  int64_t as_int() const { return is_bool() ? (b_ ? 1 : 0) : i_; }
  double as_float() const;  // int, bool or float
  const std::string& as_string() const { return *s_; }
  List& items() const { return *list_; }    // LIST or TUPLE (shared, as Python lists are)
  Dict& entries() const { return *dict_; }  // DICT or NAMESPACE
  const Function& function() const { return *fn_; }
  const std::string& undefined_hint() const;  // the UndefinedError message
  // An Undefined standing for an attribute the sandbox forbids: using it is a SecurityError.
  bool undefined_is_security() const { return kind_ == Kind::UNDEFINED && i_ == 1; }

  bool truthy() const;
  std::string str() const;   // Python str(); Undefined renders as ""
  std::string repr() const;  // Python repr()
  // Python's type name as error messages print it: 'str', 'int', 'list', 'dict', 'NoneType'.
  std::string type_name() const;
  // jinja2's object_type_repr: "dict object", "None", ...
  std::string object_type_repr() const;

 private:
  Kind kind_ = Kind::UNDEFINED;
  bool b_ = false;
  int64_t i_ = 0;
  double f_ = 0;
  std::shared_ptr<const std::string> s_;  // STRING text or UNDEFINED hint
  std::shared_ptr<List> list_;
  std::shared_ptr<Dict> dict_;
  std::shared_ptr<const Function> fn_;
};

// Insertion-ordered string-keyed mapping (Python dicts keep insertion order; json.dumps and
// repr print in that order).
struct Dict {
  std::vector<std::pair<std::string, Value>> entries;
  const Value* find(std::string_view key) const;
  void set(const std::string& key, Value v);
};

// Call arguments: positional, then keyword.
struct Args {
  std::vector<Value> positional;
  std::vector<std::pair<std::string, Value>> keywords;
  // The argument at `pos` or named `name`, else `fallback`.
  Value get(size_t pos, std::string_view name, Value fallback = Value()) const;
  bool has(size_t pos, std::string_view name) const;
};

// An error while rendering or parsing, carrying the Python exception class jinja2 would raise
// ("TemplateError" from raise_exception, "UndefinedError", "TypeError", "TemplateSyntaxError",
// "SecurityError", ...) and, once known, the template position (1-based; 0 = unknown).
class TemplateError : public std::runtime_error {
 public:
  TemplateError(std::string type, const std::string& message, int line = 0, int column = 0)
      : std::runtime_error(message), type_(std::move(type)), line_(line), column_(column) {}
  const std::string& type() const { return type_; }
  int line() const { return line_; }
  int column() const { return column_; }
  void set_position(int line, int column) {
    line_ = line;
    column_ = column;
  }

 private:
  std::string type_;
  int line_, column_;
};

[[noreturn]] void raise(const std::string& type, const std::string& message);

// The longest string a render may build (its memory budget; see jinja_interp.h kMaxSteps).
constexpr size_t kMaxStringBytes = size_t{64} << 20;
// Raises MemoryError when a string of `bytes` would exceed kMaxStringBytes.
void check_string_size(size_t bytes);
// Raises jinja2's UndefinedError for `v` when it is Undefined (no-op otherwise).
void check_defined(const Value& v);

// Python semantics.
bool equals(const Value& a, const Value& b);                       // a == b
int compare(const Value& a, const Value& b, std::string_view op);  // <0, 0, >0 or TypeError
bool contains(const Value& container, const Value& item);          // item in container
std::string py_float_repr(double v);
std::string py_string_repr(std::string_view s);
bool py_isspace(uint32_t cp);

// json.dumps(v, ensure_ascii=False, indent=indent (<0: None), separators=(item_sep, key_sep),
// sort_keys) — transformers' tojson filter.
std::string to_json(const Value& v, int indent, std::string_view item_sep, std::string_view key_sep,
                    bool sort_keys);

// Code-point helpers over UTF-8 strings (Python str indexing).
std::vector<size_t> char_offsets(std::string_view s);  // byte offset of each code point + end

}  // namespace tuna::jinja
