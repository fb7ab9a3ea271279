// jinja2's filters and tests for tuna's Jinja engine (our own; see jinja_interp.h), with the
// argument names and edge cases of jinja2 3.1 (filters.py, tests.py) and transformers' tojson
// (json.dumps with ensure_ascii=False by default).
#include <algorithm>
#include <cmath>
#include <functional>
#include <map>

#include "core/utf8.h"
#include "template/jinja_interp.h"
#include "template/jinja_strings.h"

namespace tuna::jinja {
namespace {

using FilterFn = std::function<Value(Interpreter&, const Value&, Args&)>;
using TestFn = std::function<bool(Interpreter&, const Value&, Args&)>;

std::string soft_str(const Value& v) {
  return v.str();
}

int64_t py_len(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::UNDEFINED:
      return 0;
    case Value::Kind::STRING:
      return static_cast<int64_t>(utf8::count_chars(v.as_string()));
    case Value::Kind::LIST:
    case Value::Kind::TUPLE:
      return static_cast<int64_t>(v.items().size());
    case Value::Kind::DICT:
      return static_cast<int64_t>(v.entries().entries.size());
    default:
      raise("TypeError", "object of type '" + v.type_name() + "' has no len()");
  }
}

// jinja2's make_attrgetter: "a.b.0" looks up item by item (integers as indices).
Value get_attribute(Interpreter& in, const Value& item, const Value& attribute) {
  if (!attribute.is_string()) return in.getitem(item, attribute);
  Value cur = item;
  const std::string& path = attribute.as_string();
  size_t start = 0;
  while (true) {
    size_t dot = path.find('.', start);
    std::string part =
        path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    bool digits = !part.empty() && std::all_of(part.begin(), part.end(), ::isdigit);
    cur = in.getitem(cur, digits ? Value(static_cast<int64_t>(std::stoll(part))) : Value(part));
    if (dot == std::string::npos) return cur;
    start = dot + 1;
  }
}

// Sort key: strings lower-cased unless case_sensitive.
Value sort_key(const Value& v, bool case_sensitive) {
  if (!case_sensitive && v.is_string()) return Value(py_case(v.as_string(), "lower"));
  return v;
}

List sorted(Interpreter& in, const Value& seq, bool reverse, bool case_sensitive,
            const Value& attr) {
  List items = iterate(seq);
  std::vector<std::pair<Value, Value>> keyed;
  for (Value& v : items)
    keyed.emplace_back(sort_key(attr.is_none() ? v : get_attribute(in, v, attr), case_sensitive),
                       v);
  std::stable_sort(keyed.begin(), keyed.end(), [&](const auto& a, const auto& b) {
    return reverse ? compare(b.first, a.first, "<") < 0 : compare(a.first, b.first, "<") < 0;
  });
  List out;
  for (auto& kv : keyed) out.push_back(kv.second);
  return out;
}

std::string tojson_filter(const Value& v, Args& a) {
  bool ensure_ascii = a.get(0, "ensure_ascii", Value(false)).truthy();
  Value indent_v = a.get(1, "indent", Value::none());
  Value seps = a.get(2, "separators", Value::none());
  bool sort_keys = a.get(3, "sort_keys", Value(false)).truthy();
  int indent = -1;
  std::string indent_str;
  if (indent_v.is_int())
    indent = static_cast<int>(std::max<int64_t>(0, indent_v.as_int()));
  else if (!indent_v.is_none())
    raise("TypeError", "tojson: indent must be an integer or None");
  std::string item_sep = indent < 0 ? ", " : ",", key_sep = ": ";
  if (!seps.is_none()) {
    if (!seps.is_sequence() || seps.items().size() != 2 || !seps.items()[0].is_string() ||
        !seps.items()[1].is_string())
      raise("TypeError", "tojson: separators must be a pair of strings");
    item_sep = seps.items()[0].as_string();
    key_sep = seps.items()[1].as_string();
  }
  std::string s = to_json(v, indent, item_sep, key_sep, sort_keys);
  if (!ensure_ascii) return s;
  std::string out;
  for (size_t i = 0; i < s.size();) {
    uint32_t cp = utf8::next(s, i);
    if (cp < 0x80) {
      out += static_cast<char>(cp);
      continue;
    }
    auto hex = [&](uint32_t u) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", u);
      out += buf;
    };
    if (cp >= 0x10000) {
      hex(0xD800 + ((cp - 0x10000) >> 10));
      hex(0xDC00 + ((cp - 0x10000) & 0x3FF));
    } else {
      hex(cp);
    }
  }
  return out;
}

std::string indent_filter(const std::string& s_in, const Value& width, bool first, bool blank) {
  const size_t w = width.is_string() ? width.as_string().size()
                                     : static_cast<size_t>(std::max<int64_t>(0, width.as_int()));
  check_string_size(w);
  std::string ind = width.is_string() ? width.as_string() : std::string(w, ' ');
  std::vector<std::string> lines = py_splitlines(s_in + "\n", false);
  check_string_size(s_in.size() + (lines.size() + 1) * ind.size());
  std::string rv;
  if (blank) {
    for (size_t i = 0; i < lines.size(); ++i) rv += (i ? "\n" + ind : "") + lines[i];
  } else {
    rv = lines.empty() ? "" : lines[0];
    for (size_t i = 1; i < lines.size(); ++i) rv += "\n" + (lines[i].empty() ? "" : ind + lines[i]);
  }
  return first ? ind + rv : rv;
}

Value select_impl(Interpreter& in, const Value& seq, Args& a, bool by_attr, bool keep_when) {
  size_t k = 0;
  Value attr;
  if (by_attr) attr = a.get(k++, "attribute");
  List out;
  std::string test = a.positional.size() > k ? a.positional[k].str() : "";
  Args test_args;
  for (size_t i = k + 1; i < a.positional.size(); ++i)
    test_args.positional.push_back(a.positional[i]);
  for (const Value& item : iterate(seq)) {
    Value subject = by_attr ? get_attribute(in, item, attr) : item;
    bool r = test.empty() ? subject.truthy() : call_test(in, test, subject, test_args);
    if (r == keep_when) out.push_back(item);
  }
  return Value::list(std::move(out));
}

const std::map<std::string, FilterFn, std::less<>>& filters() {
  static const std::map<std::string, FilterFn, std::less<>> table = [] {
    std::map<std::string, FilterFn, std::less<>> f;
    f["trim"] = [](Interpreter&, const Value& v, Args& a) {
      Value chars = a.get(0, "chars", Value::none());
      return Value(py_strip(soft_str(v), chars.is_none() ? nullptr : &chars.as_string(), 3));
    };
    f["length"] = f["count"] = [](Interpreter&, const Value& v, Args&) { return Value(py_len(v)); };
    f["tojson"] = [](Interpreter&, const Value& v, Args& a) { return Value(tojson_filter(v, a)); };
    for (const char* c : {"lower", "upper", "title", "capitalize"}) {
      std::string which = c;
      f[c] = [which](Interpreter&, const Value& v, Args&) {
        return Value(py_case(soft_str(v), which));
      };
    }
    f["replace"] = [](Interpreter&, const Value& v, Args& a) {
      Value count = a.get(2, "count", Value::none());
      return Value(py_replace(soft_str(v), a.get(0, "old").str(), a.get(1, "new").str(),
                              count.is_none() ? -1 : count.as_int()));
    };
    f["join"] = [](Interpreter& in, const Value& v, Args& a) {
      std::string sep = a.get(0, "d", Value("")).str();
      Value attr = a.get(1, "attribute", Value::none());
      std::string out;
      bool first = true;
      for (const Value& item : iterate(v)) {
        if (!first) out += sep;
        first = false;
        const std::string piece = (attr.is_none() ? item : get_attribute(in, item, attr)).str();
        check_string_size(out.size() + piece.size() + sep.size());
        out += piece;
      }
      return Value(std::move(out));
    };
    f["first"] = [](Interpreter&, const Value& v, Args&) {
      List items = iterate(v);
      return items.empty() ? Value::undefined("No first item, sequence was empty.") : items.front();
    };
    f["last"] = [](Interpreter&, const Value& v, Args&) {
      List items = iterate(v);
      return items.empty() ? Value::undefined("No last item, sequence was empty.") : items.back();
    };
    f["default"] = f["d"] = [](Interpreter&, const Value& v, Args& a) {
      bool boolean = a.get(1, "boolean", Value(false)).truthy();
      if (v.is_undefined() || (boolean && !v.truthy())) return a.get(0, "default_value", Value(""));
      return v;
    };
    f["string"] = [](Interpreter&, const Value& v, Args&) { return Value(soft_str(v)); };
    f["int"] = [](Interpreter&, const Value& v, Args& a) {
      Value dflt = a.get(0, "default", Value(0));
      check_defined(v);
      if (v.is_int() || v.is_bool()) return Value(v.as_int());
      if (v.is_float()) {
        if (!std::isfinite(v.as_float())) return dflt;
        return Value(static_cast<int64_t>(std::trunc(v.as_float())));
      }
      if (!v.is_string()) return dflt;
      std::string s = py_strip(v.as_string(), nullptr, 3);
      std::string digits;
      for (char c : s)
        if (c != '_') digits += c;
      char* end = nullptr;
      int base = static_cast<int>(a.get(1, "base", Value(10)).as_int());
      long long x = std::strtoll(digits.c_str(), &end, base);
      if (!digits.empty() && end && *end == '\0') return Value(static_cast<int64_t>(x));
      double d = std::strtod(s.c_str(), &end);
      if (!s.empty() && end && *end == '\0' && std::isfinite(d))
        return Value(static_cast<int64_t>(std::trunc(d)));
      return dflt;
    };
    f["float"] = [](Interpreter&, const Value& v, Args& a) {
      Value dflt = a.get(0, "default", Value(0.0));
      check_defined(v);
      if (v.is_number()) return Value(v.as_float());
      if (!v.is_string()) return dflt;
      std::string s = py_strip(v.as_string(), nullptr, 3);
      char* end = nullptr;
      double d = std::strtod(s.c_str(), &end);
      return (!s.empty() && end && *end == '\0') ? Value(d) : dflt;
    };
    f["items"] = [](Interpreter&, const Value& v, Args&) {
      if (v.is_undefined()) return Value::list();
      if (!v.is_dict()) raise("TypeError", "Can only get item pairs from a mapping.");
      List out;
      for (const auto& [k, x] : v.entries().entries) out.push_back(Value::tuple({Value(k), x}));
      return Value::list(std::move(out));
    };
    f["list"] = [](Interpreter&, const Value& v, Args&) { return Value::list(iterate(v)); };
    f["reverse"] = [](Interpreter&, const Value& v, Args&) {
      if (v.is_string()) {
        Value step(-1);
        return slice(v, nullptr, nullptr, &step);
      }
      List items = iterate(v);
      std::reverse(items.begin(), items.end());
      return Value::list(std::move(items));
    };
    f["abs"] = [](Interpreter&, const Value& v, Args&) {
      check_defined(v);
      if (!v.is_number()) raise("TypeError", "bad operand type for abs(): '" + v.type_name() + "'");
      return v.is_float() ? Value(std::fabs(v.as_float()))
                          : Value(static_cast<int64_t>(std::llabs(v.as_int())));
    };
    f["round"] = [](Interpreter&, const Value& v, Args& a) {
      int64_t precision = a.get(0, "precision", Value(0)).as_int();
      std::string method = a.get(1, "method", Value("common")).str();
      double scale = std::pow(10.0, static_cast<double>(precision));
      double x = v.as_float() * scale;
      double r = method == "ceil"    ? std::ceil(x)
                 : method == "floor" ? std::floor(x)
                                     : std::nearbyint(x);
      return Value(r / scale);
    };
    f["sort"] = [](Interpreter& in, const Value& v, Args& a) {
      return Value::list(sorted(in, v, a.get(0, "reverse", Value(false)).truthy(),
                                a.get(1, "case_sensitive", Value(false)).truthy(),
                                a.get(2, "attribute", Value::none())));
    };
    f["dictsort"] = [](Interpreter&, const Value& v, Args& a) {
      if (!v.is_dict()) raise("TypeError", "dictsort: a dict is required");
      bool cs = a.get(0, "case_sensitive", Value(false)).truthy();
      bool by_value = a.get(1, "by", Value("key")).str() == "value";
      bool reverse = a.get(2, "reverse", Value(false)).truthy();
      List pairs;
      for (const auto& [k, x] : v.entries().entries) pairs.push_back(Value::tuple({Value(k), x}));
      std::stable_sort(pairs.begin(), pairs.end(), [&](const Value& p, const Value& q) {
        const Value& kp = p.items()[by_value ? 1 : 0];
        const Value& kq = q.items()[by_value ? 1 : 0];
        int c = compare(sort_key(kp, cs), sort_key(kq, cs), "<");
        return reverse ? c > 0 : c < 0;
      });
      return Value::list(std::move(pairs));
    };
    f["unique"] = [](Interpreter& in, const Value& v, Args& a) {
      bool cs = a.get(0, "case_sensitive", Value(false)).truthy();
      Value attr = a.get(1, "attribute", Value::none());
      List out, seen;
      for (const Value& item : iterate(v)) {
        Value key = sort_key(attr.is_none() ? item : get_attribute(in, item, attr), cs);
        if (std::any_of(seen.begin(), seen.end(), [&](const Value& s) { return equals(s, key); }))
          continue;
        seen.push_back(key);
        out.push_back(item);
      }
      return Value::list(std::move(out));
    };
    for (const char* m : {"min", "max"}) {
      bool is_max = std::string(m) == "max";
      f[m] = [is_max](Interpreter& in, const Value& v, Args& a) {
        List items = sorted(in, v, is_max, a.get(0, "case_sensitive", Value(false)).truthy(),
                            a.get(1, "attribute", Value::none()));
        return items.empty()
                   ? Value::undefined(std::string("No aggregated item, sequence was empty."))
                   : items.front();
      };
    }
    f["sum"] = [](Interpreter& in, const Value& v, Args& a) {
      Value attr = a.get(0, "attribute", Value::none());
      Value total = a.get(1, "start", Value(0));
      for (const Value& item : iterate(v)) {
        Value x = attr.is_none() ? item : get_attribute(in, item, attr);
        check_defined(x);
        if (!x.is_number() || !total.is_number())
          raise("TypeError", "unsupported operand type(s) for +: '" + total.type_name() +
                                 "' and '" + x.type_name() + "'");
        total = (x.is_float() || total.is_float()) ? Value(total.as_float() + x.as_float())
                                                   : Value(total.as_int() + x.as_int());
      }
      return total;
    };
    f["map"] = [](Interpreter& in, const Value& v, Args& a) {
      List out;
      Value attr = a.get(static_cast<size_t>(-1), "attribute");
      if (!attr.is_undefined()) {
        Value dflt = a.get(static_cast<size_t>(-1), "default");
        for (const Value& item : iterate(v)) {
          Value x = get_attribute(in, item, attr);
          out.push_back(x.is_undefined() && !dflt.is_undefined() ? dflt : x);
        }
        return Value::list(std::move(out));
      }
      if (a.positional.empty()) raise("FilterArgumentError", "map requires a filter argument");
      std::string name = a.positional[0].str();
      if (!has_filter(name)) raise("TemplateRuntimeError", "No filter named '" + name + "'.");
      Args rest;
      rest.positional.assign(a.positional.begin() + 1, a.positional.end());
      rest.keywords = a.keywords;
      for (const Value& item : iterate(v)) out.push_back(call_filter(in, name, item, rest));
      return Value::list(std::move(out));
    };
    f["select"] = [](Interpreter& in, const Value& v, Args& a) {
      return select_impl(in, v, a, false, true);
    };
    f["reject"] = [](Interpreter& in, const Value& v, Args& a) {
      return select_impl(in, v, a, false, false);
    };
    f["selectattr"] = [](Interpreter& in, const Value& v, Args& a) {
      return select_impl(in, v, a, true, true);
    };
    f["rejectattr"] = [](Interpreter& in, const Value& v, Args& a) {
      return select_impl(in, v, a, true, false);
    };
    // Python getattr only: a dict's keys are items, not attributes.
    f["attr"] = [](Interpreter& in, const Value& v, Args& a) {
      std::string name = a.get(0, "name").str();
      bool found = false;
      Value m = bound_method(v, name, &found);
      if (found) return m;
      if (v.is_namespace()) return in.getattr(v, name);
      return Value::undefined("'" + v.object_type_repr() + "' has no attribute '" + name + "'");
    };
    f["indent"] = [](Interpreter&, const Value& v, Args& a) {
      return Value(indent_filter(soft_str(v), a.get(0, "width", Value(4)),
                                 a.get(1, "first", Value(false)).truthy(),
                                 a.get(2, "blank", Value(false)).truthy()));
    };
    f["center"] = [](Interpreter&, const Value& v, Args& a) {
      std::string s = soft_str(v);
      int64_t width = a.get(0, "width", Value(80)).as_int();
      int64_t len = static_cast<int64_t>(utf8::count_chars(s));
      if (width <= len) return Value(s);
      check_string_size(static_cast<size_t>(width - len) + s.size());
      int64_t pad = width - len, left = pad / 2 + (pad & width & 1);
      return Value(std::string(static_cast<size_t>(left), ' ') + s +
                   std::string(static_cast<size_t>(pad - left), ' '));
    };
    f["wordcount"] = [](Interpreter&, const Value& v, Args&) {
      return Value(static_cast<int64_t>(py_split(soft_str(v), nullptr, -1, false).size()));
    };
    f["format"] = [](Interpreter&, const Value& v, Args& a) {
      Value args = a.keywords.empty() ? Value::tuple(a.positional) : Value::dict();
      for (const auto& [k, x] : a.keywords) args.entries().set(k, x);
      return Value(percent_format(soft_str(v), args));
    };
    f["safe"] = [](Interpreter&, const Value& v, Args&) { return v; };
    f["e"] = f["escape"] = [](Interpreter&, const Value& v, Args&) {
      std::string out;
      for (char c : soft_str(v)) {
        switch (c) {
          case '&':
            out += "&amp;";
            break;
          case '<':
            out += "&lt;";
            break;
          case '>':
            out += "&gt;";
            break;
          case '"':
            out += "&#34;";
            break;
          case '\'':
            out += "&#39;";
            break;
          default:
            out += c;
        }
      }
      return Value(std::move(out));
    };
    return f;
  }();
  return table;
}

bool is_iterable(const Value& v) {
  return v.is_undefined() || v.is_string() || v.is_sequence() || v.is_dict();
}

const std::map<std::string, TestFn, std::less<>>& tests() {
  static const std::map<std::string, TestFn, std::less<>> table = [] {
    std::map<std::string, TestFn, std::less<>> t;
    t["defined"] = [](Interpreter&, const Value& v, Args&) { return !v.is_undefined(); };
    t["undefined"] = [](Interpreter&, const Value& v, Args&) { return v.is_undefined(); };
    t["none"] = [](Interpreter&, const Value& v, Args&) { return v.is_none(); };
    t["boolean"] = [](Interpreter&, const Value& v, Args&) { return v.is_bool(); };
    t["true"] = [](Interpreter&, const Value& v, Args&) { return v.is_bool() && v.as_bool(); };
    t["false"] = [](Interpreter&, const Value& v, Args&) { return v.is_bool() && !v.as_bool(); };
    t["integer"] = [](Interpreter&, const Value& v, Args&) { return v.is_int(); };
    t["float"] = [](Interpreter&, const Value& v, Args&) { return v.is_float(); };
    t["number"] = [](Interpreter&, const Value& v, Args&) { return v.is_number(); };
    t["string"] = [](Interpreter&, const Value& v, Args&) { return v.is_string(); };
    t["mapping"] = [](Interpreter&, const Value& v, Args&) { return v.is_dict(); };
    t["iterable"] = [](Interpreter&, const Value& v, Args&) { return is_iterable(v); };
    t["sequence"] = [](Interpreter&, const Value& v, Args&) { return is_iterable(v); };
    t["callable"] = [](Interpreter&, const Value& v, Args&) { return v.is_function(); };
    t["even"] = [](Interpreter&, const Value& v, Args&) {
      check_defined(v);
      return v.as_int() % 2 == 0;
    };
    t["odd"] = [](Interpreter&, const Value& v, Args&) {
      check_defined(v);
      return v.as_int() % 2 != 0;
    };
    t["divisibleby"] = [](Interpreter&, const Value& v, Args& a) {
      int64_t n = a.get(0, "num").as_int();
      if (n == 0) raise("ZeroDivisionError", "integer modulo by zero");
      return v.as_int() % n == 0;
    };
    t["eq"] = t["equalto"] = [](Interpreter&, const Value& v, Args& a) {
      return equals(v, a.get(0, "other"));
    };
    t["ne"] = [](Interpreter&, const Value& v, Args& a) { return !equals(v, a.get(0, "other")); };
    t["lt"] = t["lessthan"] = [](Interpreter&, const Value& v, Args& a) {
      return compare(v, a.get(0, "other"), "<") < 0;
    };
    t["le"] = [](Interpreter&, const Value& v, Args& a) {
      return compare(v, a.get(0, "other"), "<=") <= 0;
    };
    t["gt"] = t["greaterthan"] = [](Interpreter&, const Value& v, Args& a) {
      return compare(v, a.get(0, "other"), ">") > 0;
    };
    t["ge"] = [](Interpreter&, const Value& v, Args& a) {
      return compare(v, a.get(0, "other"), ">=") >= 0;
    };
    t["in"] = [](Interpreter&, const Value& v, Args& a) { return contains(a.get(0, "seq"), v); };
    t["sameas"] = [](Interpreter&, const Value& v, Args& a) {
      Value o = a.get(0, "other");
      if (v.kind() != o.kind()) return false;
      if (v.is_sequence()) return &v.items() == &o.items();
      if (v.is_dict() || v.is_namespace()) return &v.entries() == &o.entries();
      return equals(v, o);
    };
    t["lower"] = [](Interpreter&, const Value& v, Args&) { return py_is(soft_str(v), "islower"); };
    t["upper"] = [](Interpreter&, const Value& v, Args&) { return py_is(soft_str(v), "isupper"); };
    t["filter"] = [](Interpreter&, const Value& v, Args&) { return has_filter(v.str()); };
    t["test"] = [](Interpreter&, const Value& v, Args&) { return has_test(v.str()); };
    t["escaped"] = [](Interpreter&, const Value&, Args&) { return false; };
    return t;
  }();
  return table;
}

}  // namespace

bool has_filter(std::string_view name) {
  return filters().count(name) > 0;
}
bool has_test(std::string_view name) {
  return tests().count(name) > 0;
}

std::vector<std::string> filter_names() {
  std::vector<std::string> out;
  for (const auto& kv : filters()) out.push_back(kv.first);
  return out;
}

std::vector<std::string> test_names() {
  std::vector<std::string> out;
  for (const auto& kv : tests()) out.push_back(kv.first);
  return out;
}

Value call_filter(Interpreter& in, std::string_view name, const Value& subject, Args& args) {
  auto it = filters().find(name);
  if (it == filters().end())
    raise("TemplateRuntimeError", "No filter named '" + std::string(name) + "'.");
  return it->second(in, subject, args);
}

bool call_test(Interpreter& in, std::string_view name, const Value& subject, Args& args) {
  auto it = tests().find(name);
  if (it == tests().end())
    raise("TemplateRuntimeError", "No test named '" + std::string(name) + "'.");
  return it->second(in, subject, args);
}

}  // namespace tuna::jinja
