// Python's str/dict/list methods, iteration, slicing and %-formatting, and the globals chat
// templates get, for tuna's Jinja engine (our own; see jinja_interp.h). jinja2's immutable
// sandbox forbids methods that modify lists and dicts: using one is a SecurityError.
#include <utf8proc.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <set>

#include "core/utf8.h"
#include "template/jinja_interp.h"
#include "template/jinja_strings.h"

namespace tuna::jinja {

// ---- iteration and slicing ----

List iterate(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::UNDEFINED:
      return {};
    case Value::Kind::LIST:
    case Value::Kind::TUPLE:
      return v.items();
    case Value::Kind::DICT: {
      List keys;
      for (const auto& kv : v.entries().entries) keys.emplace_back(kv.first);
      return keys;
    }
    case Value::Kind::STRING: {
      List chars;
      const std::string& s = v.as_string();
      std::vector<size_t> off = char_offsets(s);
      for (size_t i = 0; i + 1 < off.size(); ++i)
        chars.emplace_back(s.substr(off[i], off[i + 1] - off[i]));
      return chars;
    }
    default:
      raise("TypeError", "'" + v.type_name() + "' object is not iterable");
  }
}

namespace {

int64_t slice_arg(const Value* v, const char* what) {
  if (!v->is_int() && !v->is_bool())
    raise("TypeError", std::string("slice indices must be integers or None, not ") +
                           v->type_name() + " (" + what + ")");
  return v->as_int();
}

}  // namespace

Value slice(const Value& obj, const Value* start, const Value* stop, const Value* step) {
  check_defined(obj);
  if (!obj.is_sequence() && !obj.is_string())
    raise("TypeError", "'" + obj.type_name() + "' object is not subscriptable");
  auto given = [](const Value* v) { return v && !v->is_none(); };
  int64_t st = given(step) ? slice_arg(step, "step") : 1;
  if (st == 0) raise("ValueError", "slice step cannot be zero");
  std::vector<size_t> off;
  int64_t n;
  if (obj.is_string()) {
    off = char_offsets(obj.as_string());
    n = static_cast<int64_t>(off.size()) - 1;
  } else {
    n = static_cast<int64_t>(obj.items().size());
  }
  // Python's PySlice_AdjustIndices.
  auto adjust = [&](const Value* v, int64_t dflt) {
    if (!given(v)) return dflt;
    int64_t x = slice_arg(v, "index");
    if (x < 0) {
      x += n;
      if (x < 0) x = st < 0 ? -1 : 0;
    } else if (x >= n) {
      x = st < 0 ? n - 1 : n;
    }
    return x;
  };
  int64_t b = adjust(start, st < 0 ? n - 1 : 0);
  int64_t e = adjust(stop, st < 0 ? -1 : n);
  std::vector<int64_t> idx;
  for (int64_t i = b; st > 0 ? i < e : i > e; i += st) idx.push_back(i);
  if (obj.is_string()) {
    const std::string& s = obj.as_string();
    std::string out;
    for (int64_t i : idx) out += s.substr(off[i], off[i + 1] - off[i]);
    return Value(std::move(out));
  }
  List out;
  for (int64_t i : idx) out.push_back(obj.items()[static_cast<size_t>(i)]);
  return obj.kind() == Value::Kind::TUPLE ? Value::tuple(std::move(out))
                                          : Value::list(std::move(out));
}

// ---- %-formatting ----

std::string percent_format(const std::string& fmt, const Value& args) {
  List positional = args.kind() == Value::Kind::TUPLE ? args.items() : List{args};
  size_t next = 0;
  std::string out;
  for (size_t i = 0; i < fmt.size(); ++i) {
    if (fmt[i] != '%') {
      out += fmt[i];
      continue;
    }
    size_t j = i + 1;
    std::string key;
    if (j < fmt.size() && fmt[j] == '(') {
      size_t close = fmt.find(')', j);
      if (close == std::string::npos) raise("ValueError", "incomplete format key");
      key = fmt.substr(j + 1, close - j - 1);
      j = close + 1;
    }
    std::string spec = "%";
    while (j < fmt.size() &&
           std::string_view("-+ #0.123456789").find(fmt[j]) != std::string_view::npos)
      spec += fmt[j++];
    if (j >= fmt.size()) raise("ValueError", "incomplete format");
    char conv = fmt[j];
    i = j;
    if (conv == '%') {
      out += '%';
      continue;
    }
    Value v;
    if (!key.empty()) {
      if (!args.is_dict()) raise("TypeError", "format requires a mapping");
      const Value* f = args.entries().find(key);
      if (!f) raise("KeyError", py_string_repr(key));
      v = *f;
    } else {
      if (next >= positional.size()) raise("TypeError", "not enough arguments for format string");
      v = positional[next++];
    }
    char buf[512];
    switch (conv) {
      case 's':
        out += v.str();
        break;
      case 'r':
        out += v.repr();
        break;
      case 'd':
      case 'i':
        if (!v.is_number())
          raise("TypeError", "%d format: a real number is required, not " + v.type_name());
        std::snprintf(buf, sizeof buf, (spec + "lld").c_str(),
                      static_cast<long long>(v.is_float() ? std::trunc(v.as_float()) : v.as_int()));
        out += buf;
        break;
      case 'f':
      case 'e':
      case 'g':
        if (!v.is_number()) raise("TypeError", "must be real number, not " + v.type_name());
        std::snprintf(buf, sizeof buf, (spec + conv).c_str(), v.as_float());
        out += buf;
        break;
      default:
        raise("ValueError", std::string("unsupported format character '") + conv + "'");
    }
  }
  if (!args.is_dict() && next < positional.size())
    raise("TypeError", "not all arguments converted during string formatting");
  return out;
}

// ---- methods ----

namespace {

Value method(const std::string& name, NativeFn fn) {
  return Value::function(name, std::move(fn));
}

std::string arg_string(const Args& a, size_t pos, std::string_view name, const char* method_name) {
  Value v = a.get(pos, name);
  if (!v.is_string())
    raise("TypeError", std::string(method_name) + "() argument must be str, not " + v.type_name());
  return v.as_string();
}

Value str_method(const Value& self, const std::string& name, bool* found) {
  const std::string s = self.as_string();
  *found = true;
  if (name == "startswith" || name == "endswith") {
    bool starts = name == "startswith";
    return method(name, [s, starts](Interpreter&, Args& a) {
      Value p = a.get(0, "prefix");
      List options = p.kind() == Value::Kind::TUPLE ? p.items() : List{p};
      for (const Value& o : options) {
        if (!o.is_string())
          raise("TypeError", std::string(starts ? "startswith" : "endswith") +
                                 " first arg must be str or a tuple of str, not " + o.type_name());
        const std::string& x = o.as_string();
        if (starts ? s.starts_with(x) : s.ends_with(x)) return Value(true);
      }
      return Value(false);
    });
  }
  if (name == "split" || name == "rsplit") {
    bool right = name == "rsplit";
    return method(name, [s, right](Interpreter&, Args& a) {
      Value sep = a.get(0, "sep", Value::none());
      if (!sep.is_none() && !sep.is_string())
        raise("TypeError", "must be str or None, not " + sep.type_name());
      int64_t maxsplit = a.get(1, "maxsplit", Value(-1)).as_int();
      List out;
      for (auto& part : py_split(s, sep.is_none() ? nullptr : &sep.as_string(), maxsplit, right))
        out.emplace_back(std::move(part));
      return Value::list(std::move(out));
    });
  }
  if (name == "strip" || name == "lstrip" || name == "rstrip") {
    int mode = name == "strip" ? 3 : name == "lstrip" ? 1 : 2;
    return method(name, [s, mode](Interpreter&, Args& a) {
      Value chars = a.get(0, "chars", Value::none());
      if (!chars.is_none() && !chars.is_string())
        raise("TypeError", "strip arg must be None or str");  // as Python (was a null read)
      return Value(py_strip(s, chars.is_none() ? nullptr : &chars.as_string(), mode));
    });
  }
  if (name == "upper" || name == "lower" || name == "title" || name == "capitalize" ||
      name == "swapcase") {
    return method(name, [s, name](Interpreter&, Args&) { return Value(py_case(s, name)); });
  }
  if (name == "replace") {
    return method(name, [s](Interpreter&, Args& a) {
      return Value(py_replace(s, arg_string(a, 0, "old", "replace"),
                              arg_string(a, 1, "new", "replace"),
                              a.get(2, "count", Value(-1)).as_int()));
    });
  }
  if (name == "find" || name == "rfind" || name == "index" || name == "rindex" || name == "count") {
    return method(name, [s, name](Interpreter&, Args& a) {
      std::string sub = arg_string(a, 0, "sub", name.c_str());
      if (name == "count") {
        if (sub.empty()) return Value(static_cast<int64_t>(utf8::count_chars(s) + 1));
        int64_t c = 0;
        for (size_t p = s.find(sub); p != std::string::npos; p = s.find(sub, p + sub.size())) ++c;
        return Value(c);
      }
      size_t p = name[0] == 'r' ? s.rfind(sub) : s.find(sub);
      if (p == std::string::npos) {
        if (name == "index" || name == "rindex") raise("ValueError", "substring not found");
        return Value(-1);
      }
      return Value(static_cast<int64_t>(utf8::count_chars(std::string_view(s).substr(0, p))));
    });
  }
  if (name == "join") {
    return method(name, [s](Interpreter&, Args& a) {
      std::string out;
      bool first = true;
      for (const Value& v : iterate(a.get(0, "iterable"))) {
        if (!v.is_string())
          raise("TypeError", "sequence item: expected str instance, " + v.type_name() + " found");
        check_string_size(out.size() + s.size() + v.as_string().size());
        if (!first) out += s;
        first = false;
        out += v.as_string();
      }
      return Value(std::move(out));
    });
  }
  if (name == "splitlines") {
    return method(name, [s](Interpreter&, Args& a) {
      List out;
      for (auto& line : py_splitlines(s, a.get(0, "keepends", Value(false)).truthy()))
        out.emplace_back(std::move(line));
      return Value::list(std::move(out));
    });
  }
  if (name == "isdigit" || name == "isalpha" || name == "isalnum" || name == "isspace" ||
      name == "islower" || name == "isupper" || name == "isnumeric" || name == "isdecimal") {
    return method(name, [s, name](Interpreter&, Args&) { return Value(py_is(s, name)); });
  }
  if (name == "format" || name == "format_map" || name == "center" || name == "ljust" ||
      name == "rjust" || name == "zfill" || name == "partition" || name == "rpartition" ||
      name == "encode" || name == "expandtabs" || name == "casefold" || name == "removeprefix" ||
      name == "removesuffix" || name == "translate" || name == "istitle") {
    return method(name, [name](Interpreter&, Args&) -> Value {
      raise("TemplateError", "str." + name + "() is not supported by tuna's chat-template engine");
    });
  }
  *found = false;
  return Value();
}

const std::set<std::string, std::less<>> kUnsafeList = {"append", "extend",  "insert", "pop",
                                                        "remove", "reverse", "sort",   "clear"};
const std::set<std::string, std::less<>> kUnsafeDict = {"pop", "popitem", "setdefault", "update",
                                                        "clear"};

}  // namespace

Value bound_method(const Value& self, const std::string& name, bool* found) {
  *found = false;
  if (self.is_string()) return str_method(self, name, found);
  if (self.is_dict()) {
    if (kUnsafeDict.count(name)) {
      *found = true;
      return Value::undefined("access to attribute '" + name + "' of 'dict' object is unsafe.",
                              true);
    }
    *found = true;
    if (name == "items") {
      return method(name, [self](Interpreter&, Args&) {
        List out;
        for (const auto& [k, v] : self.entries().entries)
          out.push_back(Value::tuple({Value(k), v}));
        return Value::list(std::move(out));
      });
    }
    if (name == "keys" || name == "values") {
      bool keys = name == "keys";
      return method(name, [self, keys](Interpreter&, Args&) {
        List out;
        for (const auto& [k, v] : self.entries().entries) out.push_back(keys ? Value(k) : v);
        return Value::list(std::move(out));
      });
    }
    if (name == "get") {
      return method(name, [self](Interpreter&, Args& a) {
        Value k = a.get(0, "key");
        if (k.is_string())
          if (const Value* v = self.entries().find(k.as_string())) return *v;
        return a.get(1, "default", Value::none());
      });
    }
    if (name == "copy") {
      return method(name, [self](Interpreter&, Args&) {
        Value d = Value::dict();
        d.entries() = self.entries();
        return d;
      });
    }
    *found = false;
    return Value();
  }
  if (self.is_sequence()) {
    const char* type = self.kind() == Value::Kind::TUPLE ? "tuple" : "list";
    if (self.kind() == Value::Kind::LIST && kUnsafeList.count(name)) {
      *found = true;
      return Value::undefined(
          "access to attribute '" + name + "' of '" + type + "' object is unsafe.", true);
    }
    if (name == "index" || name == "count") {
      *found = true;
      bool count = name == "count";
      return method(name, [self, count](Interpreter&, Args& a) {
        Value x = a.get(0, "value");
        int64_t c = 0;
        for (size_t i = 0; i < self.items().size(); ++i) {
          if (!equals(self.items()[i], x)) continue;
          if (!count) return Value(static_cast<int64_t>(i));
          ++c;
        }
        if (!count) raise("ValueError", x.repr() + " is not in list");
        return Value(c);
      });
    }
  }
  return Value();
}

// ---- globals ----

Value make_globals() {
  Value g = Value::dict();
  Dict& d = g.entries();
  // transformers' chat-template globals.
  d.set("raise_exception", Value::function("raise_exception", [](Interpreter&, Args& a) -> Value {
          raise("TemplateError", a.get(0, "message").str());
        }));
  d.set("strftime_now", Value::function("strftime_now", [](Interpreter&, Args& a) {
          std::string fmt = a.get(0, "format").str();
          std::time_t t = std::time(nullptr);
          std::tm tm{};
          localtime_r(&t, &tm);
          char buf[512];
          size_t n = fmt.empty() ? 0 : std::strftime(buf, sizeof buf, fmt.c_str(), &tm);
          return Value(std::string(buf, n));
        }));
  // jinja2's default globals.
  d.set("namespace", Value::function("namespace", [](Interpreter&, Args& a) {
          Value ns = Value::make_namespace();
          for (const Value& p : a.positional) {
            if (!p.is_dict())
              raise("TypeError", "namespace() takes mappings as positional arguments");
            for (const auto& [k, v] : p.entries().entries) ns.entries().set(k, v);
          }
          for (const auto& [k, v] : a.keywords) ns.entries().set(k, v);
          return ns;
        }));
  d.set("dict", Value::function("dict", [](Interpreter&, Args& a) {
          Value out = Value::dict();
          for (const auto& [k, v] : a.keywords) out.entries().set(k, v);
          return out;
        }));
  d.set("range", Value::function("range", [](Interpreter&, Args& a) {
          int64_t start = 0, stop, step = 1;
          for (const Value& v : a.positional)
            if (!v.is_int() && !v.is_bool())
              raise("TypeError",
                    "'" + v.type_name() + "' object cannot be interpreted as an integer");
          if (a.positional.size() == 1) {
            stop = a.positional[0].as_int();
          } else if (a.positional.size() == 2 || a.positional.size() == 3) {
            start = a.positional[0].as_int();
            stop = a.positional[1].as_int();
            if (a.positional.size() == 3) step = a.positional[2].as_int();
          } else {
            raise("TypeError",
                  "range expected 1 to 3 arguments, got " + std::to_string(a.positional.size()));
          }
          if (step == 0) raise("ValueError", "range() arg 3 must not be zero");
          List out;
          for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step) {
            if (out.size() >= 100000)
              raise("OverflowError",
                    "Range too big. The sandbox blocks ranges larger than MAX_RANGE (100000).");
            out.emplace_back(i);
          }
          return Value::list(std::move(out));
        }));
  return g;
}

}  // namespace tuna::jinja
