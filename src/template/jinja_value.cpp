// Python object semantics for the Jinja engine: str/repr, truthiness, ==, ordering, `in`,
// float repr and json.dumps. Our own code (see jinja_value.h).
#include "template/jinja_value.h"

#include <utf8proc.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

#include "core/utf8.h"

namespace tuna::jinja {

Value::Value(std::string s)
    : kind_(Kind::STRING), s_(std::make_shared<const std::string>(std::move(s))) {}

Value Value::undefined(std::string hint, bool security) {
  Value v;
  v.i_ = security ? 1 : 0;
  v.s_ = std::make_shared<const std::string>(std::move(hint));
  return v;
}

Value Value::none() {
  Value v;
  v.kind_ = Kind::NONE;
  return v;
}

Value Value::list(List items) {
  Value v;
  v.kind_ = Kind::LIST;
  v.list_ = std::make_shared<List>(std::move(items));
  return v;
}

Value Value::tuple(List items) {
  Value v = list(std::move(items));
  v.kind_ = Kind::TUPLE;
  return v;
}

Value Value::dict() {
  Value v;
  v.kind_ = Kind::DICT;
  v.dict_ = std::make_shared<Dict>();
  return v;
}

Value Value::make_namespace() {
  Value v = dict();
  v.kind_ = Kind::NAMESPACE;
  return v;
}

Value Value::function(std::string name, NativeFn fn) {
  Value v;
  v.kind_ = Kind::FUNCTION;
  v.fn_ = std::make_shared<const Function>(Function{std::move(name), std::move(fn)});
  return v;
}

Value Value::from_json(const nlohmann::ordered_json& j) {
  switch (j.type()) {
    case nlohmann::ordered_json::value_t::null:
      return none();
    case nlohmann::ordered_json::value_t::boolean:
      return Value(j.get<bool>());
    case nlohmann::ordered_json::value_t::number_integer:
      return Value(j.get<int64_t>());
    case nlohmann::ordered_json::value_t::number_unsigned:
      return Value(static_cast<int64_t>(j.get<uint64_t>()));
    case nlohmann::ordered_json::value_t::number_float:
      return Value(j.get<double>());
    case nlohmann::ordered_json::value_t::string:
      return Value(j.get<std::string>());
    case nlohmann::ordered_json::value_t::array: {
      List items;
      items.reserve(j.size());
      for (const auto& e : j) items.push_back(from_json(e));
      return list(std::move(items));
    }
    case nlohmann::ordered_json::value_t::object: {
      Value d = dict();
      for (const auto& [k, e] : j.items()) d.entries().set(k, from_json(e));
      return d;
    }
    default:
      return none();
  }
}

double Value::as_float() const {
  if (kind_ == Kind::FLOAT) return f_;
  return static_cast<double>(as_int());
}

const std::string& Value::undefined_hint() const {
  static const std::string kNone = "undefined value";
  return s_ ? *s_ : kNone;
}

bool Value::truthy() const {
  switch (kind_) {
    case Kind::UNDEFINED:
    case Kind::NONE:
      return false;
    case Kind::BOOL:
      return b_;
    case Kind::INT:
      return i_ != 0;
    case Kind::FLOAT:
      return f_ != 0.0;
    case Kind::STRING:
      return !s_->empty();
    case Kind::LIST:
    case Kind::TUPLE:
      return !list_->empty();
    case Kind::DICT:
      return !dict_->entries.empty();
    case Kind::NAMESPACE:
    case Kind::FUNCTION:
      return true;
  }
  return false;
}

std::string Value::str() const {
  switch (kind_) {
    case Kind::UNDEFINED:
      return "";
    case Kind::STRING:
      return *s_;
    default:
      return repr();
  }
}

std::string Value::repr() const {
  switch (kind_) {
    case Kind::UNDEFINED:
      return "Undefined";
    case Kind::NONE:
      return "None";
    case Kind::BOOL:
      return b_ ? "True" : "False";
    case Kind::INT:
      return std::to_string(i_);
    case Kind::FLOAT:
      return py_float_repr(f_);
    case Kind::STRING:
      return py_string_repr(*s_);
    case Kind::LIST:
    case Kind::TUPLE: {
      bool tuple = kind_ == Kind::TUPLE;
      std::string out = tuple ? "(" : "[";
      for (size_t i = 0; i < list_->size(); ++i) {
        if (i) out += ", ";
        out += (*list_)[i].repr();
      }
      if (tuple && list_->size() == 1) out += ",";
      out += tuple ? ")" : "]";
      return out;
    }
    case Kind::DICT:
    case Kind::NAMESPACE: {
      std::string out = kind_ == Kind::NAMESPACE ? "<Namespace {" : "{";
      bool first = true;
      for (const auto& [k, v] : dict_->entries) {
        if (!first) out += ", ";
        first = false;
        out += py_string_repr(k) + ": " + v.repr();
      }
      out += kind_ == Kind::NAMESPACE ? "}>" : "}";
      return out;
    }
    case Kind::FUNCTION:
      return "<function " + fn_->name + ">";
  }
  return "";
}

std::string Value::type_name() const {
  switch (kind_) {
    case Kind::UNDEFINED:
      return "Undefined";
    case Kind::NONE:
      return "NoneType";
    case Kind::BOOL:
      return "bool";
    case Kind::INT:
      return "int";
    case Kind::FLOAT:
      return "float";
    case Kind::STRING:
      return "str";
    case Kind::LIST:
      return "list";
    case Kind::TUPLE:
      return "tuple";
    case Kind::DICT:
      return "dict";
    case Kind::NAMESPACE:
      return "Namespace";
    case Kind::FUNCTION:
      return "function";
  }
  return "object";
}

std::string Value::object_type_repr() const {
  if (kind_ == Kind::NONE) return "None";
  if (kind_ == Kind::NAMESPACE) return "jinja2.utils.Namespace object";
  return type_name() + " object";
}

const Value* Dict::find(std::string_view key) const {
  for (const auto& e : entries)
    if (e.first == key) return &e.second;
  return nullptr;
}

void Dict::set(const std::string& key, Value v) {
  for (auto& e : entries) {
    if (e.first == key) {
      e.second = std::move(v);
      return;
    }
  }
  entries.emplace_back(key, std::move(v));
}

Value Args::get(size_t pos, std::string_view name, Value fallback) const {
  if (pos < positional.size()) return positional[pos];
  for (const auto& [k, v] : keywords)
    if (k == name) return v;
  return fallback;
}

bool Args::has(size_t pos, std::string_view name) const {
  if (pos < positional.size()) return true;
  for (const auto& kv : keywords)
    if (kv.first == name) return true;
  return false;
}

void raise(const std::string& type, const std::string& message) {
  throw TemplateError(type, message);
}

void check_string_size(size_t bytes) {
  if (bytes > kMaxStringBytes)
    raise("MemoryError", "the template builds a string of more than " +
                             std::to_string(kMaxStringBytes >> 20) + " MiB (" +
                             std::to_string(bytes) + " bytes)");
}

void check_defined(const Value& v) {
  if (v.is_undefined())
    raise(v.undefined_is_security() ? "SecurityError" : "UndefinedError", v.undefined_hint());
}

// ---- comparisons ----

bool equals(const Value& a, const Value& b) {
  if (a.is_undefined() || b.is_undefined()) return a.is_undefined() && b.is_undefined();
  if (a.is_number() && b.is_number()) {
    if (a.is_float() || b.is_float()) return a.as_float() == b.as_float();
    return a.as_int() == b.as_int();
  }
  if (a.kind() != b.kind()) {
    if (a.is_sequence() && b.is_sequence()) return false;  // [1] != (1,)
    return false;
  }
  switch (a.kind()) {
    case Value::Kind::NONE:
      return true;
    case Value::Kind::STRING:
      return a.as_string() == b.as_string();
    case Value::Kind::LIST:
    case Value::Kind::TUPLE: {
      const List &x = a.items(), &y = b.items();
      if (x.size() != y.size()) return false;
      for (size_t i = 0; i < x.size(); ++i)
        if (!equals(x[i], y[i])) return false;
      return true;
    }
    case Value::Kind::DICT: {
      const Dict &x = a.entries(), &y = b.entries();
      if (x.entries.size() != y.entries.size()) return false;
      for (const auto& [k, v] : x.entries) {
        const Value* w = y.find(k);
        if (!w || !equals(v, *w)) return false;
      }
      return true;
    }
    case Value::Kind::NAMESPACE:
      return &a.entries() == &b.entries();
    case Value::Kind::FUNCTION:
      return &a.function() == &b.function();
    default:
      return false;
  }
}

int compare(const Value& a, const Value& b, std::string_view op) {
  check_defined(a);
  check_defined(b);
  if (a.is_number() && b.is_number()) {
    if (a.is_float() || b.is_float()) {
      double x = a.as_float(), y = b.as_float();
      return x < y ? -1 : (x > y ? 1 : 0);
    }
    int64_t x = a.as_int(), y = b.as_int();
    return x < y ? -1 : (x > y ? 1 : 0);
  }
  if (a.is_string() && b.is_string()) {
    // Python compares code points; UTF-8 byte order is the same order.
    int c = a.as_string().compare(b.as_string());
    return c < 0 ? -1 : (c > 0 ? 1 : 0);
  }
  if (a.kind() == b.kind() && a.is_sequence()) {
    const List &x = a.items(), &y = b.items();
    for (size_t i = 0; i < x.size() && i < y.size(); ++i) {
      if (equals(x[i], y[i])) continue;
      return compare(x[i], y[i], op);
    }
    return x.size() < y.size() ? -1 : (x.size() > y.size() ? 1 : 0);
  }
  raise("TypeError", "'" + std::string(op) + "' not supported between instances of '" +
                         a.type_name() + "' and '" + b.type_name() + "'");
}

bool contains(const Value& container, const Value& item) {
  switch (container.kind()) {
    case Value::Kind::UNDEFINED:
      return false;  // Undefined iterates as empty
    case Value::Kind::STRING:
      if (!item.is_string())
        raise("TypeError",
              "'in <string>' requires string as left operand, not " + item.type_name());
      return container.as_string().find(item.as_string()) != std::string::npos;
    case Value::Kind::LIST:
    case Value::Kind::TUPLE:
      for (const Value& v : container.items())
        if (equals(v, item)) return true;
      return false;
    case Value::Kind::DICT:
      if (!item.is_string()) return false;
      return container.entries().find(item.as_string()) != nullptr;
    default:
      raise("TypeError", "argument of type '" + container.type_name() + "' is not iterable");
  }
}

// ---- formatting ----

std::string py_float_repr(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v < 0 ? "-inf" : "inf";
  // Shortest round-trip digits (what Python's repr uses), then Python's layout: positional
  // notation for decimal exponents in [-4, 16), scientific with a 2+ digit exponent otherwise.
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, std::fabs(v), std::chars_format::scientific);
  std::string sci(buf, res.ptr);
  size_t e_pos = sci.find('e');
  std::string digits;
  for (size_t i = 0; i < e_pos; ++i)
    if (sci[i] != '.') digits += sci[i];
  int exp = std::stoi(sci.substr(e_pos + 1));
  std::string out = std::signbit(v) ? "-" : "";
  if (exp >= -4 && exp < 16) {
    if (exp >= 0) {
      std::string int_part = digits.substr(0, std::min<size_t>(digits.size(), exp + 1));
      while (static_cast<int>(int_part.size()) < exp + 1) int_part += '0';
      std::string frac =
          digits.size() > static_cast<size_t>(exp + 1) ? digits.substr(exp + 1) : "0";
      out += int_part + "." + frac;
    } else {
      out += "0." + std::string(static_cast<size_t>(-exp - 1), '0') + digits;
    }
    return out;
  }
  out += digits.substr(0, 1);
  if (digits.size() > 1) out += "." + digits.substr(1);
  char ebuf[16];
  std::snprintf(ebuf, sizeof ebuf, "e%c%02d", exp < 0 ? '-' : '+', std::abs(exp));
  return out + ebuf;
}

bool py_isspace(uint32_t cp) {
  // str.isspace: bidirectional class WS, B or S, or category Zs — Unicode White_Space plus the
  // ASCII information separators U+001C..U+001F.
  return utf8::is_whitespace(cp) || (cp >= 0x1C && cp <= 0x1F);
}

namespace {

// str.isprintable for one non-ASCII code point.
bool py_isprintable(uint32_t cp) {
  switch (utf8proc_category(static_cast<utf8proc_int32_t>(cp))) {
    case UTF8PROC_CATEGORY_CC:
    case UTF8PROC_CATEGORY_CF:
    case UTF8PROC_CATEGORY_CS:
    case UTF8PROC_CATEGORY_CO:
    case UTF8PROC_CATEGORY_CN:
    case UTF8PROC_CATEGORY_ZL:
    case UTF8PROC_CATEGORY_ZP:
    case UTF8PROC_CATEGORY_ZS:
      return false;
    default:
      return true;
  }
}

void append_hex_escape(std::string& out, uint32_t cp) {
  char buf[16];
  if (cp < 0x100)
    std::snprintf(buf, sizeof buf, "\\x%02x", cp);
  else if (cp < 0x10000)
    std::snprintf(buf, sizeof buf, "\\u%04x", cp);
  else
    std::snprintf(buf, sizeof buf, "\\U%08x", cp);
  out += buf;
}

}  // namespace

std::string py_string_repr(std::string_view s) {
  bool has_single = s.find('\'') != std::string_view::npos;
  bool has_double = s.find('"') != std::string_view::npos;
  char q = (has_single && !has_double) ? '"' : '\'';
  std::string out(1, q);
  for (size_t i = 0; i < s.size();) {
    uint32_t cp = utf8::next(s, i);
    if (cp == static_cast<uint32_t>(q) || cp == '\\') {
      out += '\\';
      out += static_cast<char>(cp);
    } else if (cp == '\n') {
      out += "\\n";
    } else if (cp == '\r') {
      out += "\\r";
    } else if (cp == '\t') {
      out += "\\t";
    } else if (cp < 0x20 || cp == 0x7F) {
      append_hex_escape(out, cp);
    } else if (cp < 0x80 || py_isprintable(cp)) {
      utf8::append(out, cp);
    } else {
      append_hex_escape(out, cp);
    }
  }
  out += q;
  return out;
}

namespace {

void json_string(std::string& out, std::string_view s) {
  out += '"';
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        if (u < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", u);
          out += buf;
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

void json_value(std::string& out, const Value& v, int indent, int level, std::string_view item_sep,
                std::string_view key_sep, bool sort_keys) {
  auto newline = [&](int lvl) {
    if (indent < 0) return;
    out += '\n';
    out.append(static_cast<size_t>(indent) * lvl, ' ');
  };
  switch (v.kind()) {
    case Value::Kind::NONE:
      out += "null";
      return;
    case Value::Kind::BOOL:
      out += v.as_bool() ? "true" : "false";
      return;
    case Value::Kind::INT:
      out += std::to_string(v.as_int());
      return;
    case Value::Kind::FLOAT: {
      double f = v.as_float();
      if (std::isnan(f))
        out += "NaN";
      else if (std::isinf(f))
        out += f < 0 ? "-Infinity" : "Infinity";
      else
        out += py_float_repr(f);
      return;
    }
    case Value::Kind::STRING:
      json_string(out, v.as_string());
      return;
    case Value::Kind::LIST:
    case Value::Kind::TUPLE: {
      const List& items = v.items();
      if (items.empty()) {
        out += "[]";
        return;
      }
      out += '[';
      for (size_t i = 0; i < items.size(); ++i) {
        if (i) out += item_sep;
        newline(level + 1);
        json_value(out, items[i], indent, level + 1, item_sep, key_sep, sort_keys);
      }
      newline(level);
      out += ']';
      return;
    }
    case Value::Kind::DICT: {
      std::vector<const std::pair<std::string, Value>*> entries;
      for (const auto& e : v.entries().entries) entries.push_back(&e);
      if (entries.empty()) {
        out += "{}";
        return;
      }
      if (sort_keys)
        std::stable_sort(entries.begin(), entries.end(),
                         [](auto* a, auto* b) { return a->first < b->first; });
      out += '{';
      for (size_t i = 0; i < entries.size(); ++i) {
        if (i) out += item_sep;
        newline(level + 1);
        json_string(out, entries[i]->first);
        out += key_sep;
        json_value(out, entries[i]->second, indent, level + 1, item_sep, key_sep, sort_keys);
      }
      newline(level);
      out += '}';
      return;
    }
    default:
      raise("TypeError", "Object of type " +
                             (v.is_undefined() ? std::string("Undefined") : v.type_name()) +
                             " is not JSON serializable");
  }
}

}  // namespace

std::string to_json(const Value& v, int indent, std::string_view item_sep, std::string_view key_sep,
                    bool sort_keys) {
  std::string out;
  json_value(out, v, indent, 0, item_sep, key_sep, sort_keys);
  return out;
}

std::vector<size_t> char_offsets(std::string_view s) {
  std::vector<size_t> off;
  off.reserve(s.size() + 1);
  for (size_t i = 0; i < s.size();) {
    off.push_back(i);
    i += static_cast<size_t>(utf8::seq_len(static_cast<unsigned char>(s[i])));
  }
  off.push_back(s.size());
  return off;
}

}  // namespace tuna::jinja
