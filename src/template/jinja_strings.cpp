// Python str operations for tuna's Jinja engine (our own; see jinja_strings.h). Case mapping
// uses utf8proc's simple mappings plus Python's full upper-case of U+00DF (ß → SS); other
// multi-character case mappings are not reproduced.
#include "template/jinja_strings.h"

#include <utf8proc.h>

#include <algorithm>

#include "core/utf8.h"
#include "template/jinja_value.h"

namespace tuna::jinja {
namespace {

std::vector<uint32_t> decode(std::string_view s) {
  std::vector<uint32_t> cps;
  cps.reserve(s.size());
  for (size_t i = 0; i < s.size();) cps.push_back(utf8::next(s, i));
  return cps;
}

std::string encode(const std::vector<uint32_t>& cps, size_t b, size_t e) {
  std::string out;
  for (size_t i = b; i < e; ++i) utf8::append(out, cps[i]);
  return out;
}

bool is_cased_letter(uint32_t cp) {
  auto c = utf8proc_category(static_cast<utf8proc_int32_t>(cp));
  return c == UTF8PROC_CATEGORY_LU || c == UTF8PROC_CATEGORY_LL || c == UTF8PROC_CATEGORY_LT;
}

void append_upper(std::string& out, uint32_t cp) {
  if (cp == 0xDF) {
    out += "SS";
    return;
  }
  utf8::append(out, static_cast<uint32_t>(utf8proc_toupper(static_cast<utf8proc_int32_t>(cp))));
}

void append_lower(std::string& out, uint32_t cp) {
  utf8::append(out, static_cast<uint32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(cp))));
}

}  // namespace

std::vector<std::string> py_split(const std::string& s, const std::string* sep, int64_t maxsplit,
                                  bool from_right) {
  std::vector<std::string> parts;
  if (sep) {
    if (sep->empty()) raise("ValueError", "empty separator");
    if (!from_right) {
      size_t pos = 0;
      while (maxsplit < 0 || static_cast<int64_t>(parts.size()) < maxsplit) {
        size_t p = s.find(*sep, pos);
        if (p == std::string::npos) break;
        parts.push_back(s.substr(pos, p - pos));
        pos = p + sep->size();
      }
      parts.push_back(s.substr(pos));
    } else {
      size_t end = s.size();
      while (maxsplit < 0 || static_cast<int64_t>(parts.size()) < maxsplit) {
        if (end < sep->size()) break;
        size_t p = s.rfind(*sep, end - sep->size());
        if (p == std::string::npos) break;
        parts.push_back(s.substr(p + sep->size(), end - p - sep->size()));
        end = p;
      }
      parts.push_back(s.substr(0, end));
      std::reverse(parts.begin(), parts.end());
    }
    return parts;
  }
  std::vector<uint32_t> cps = decode(s);
  size_t n = cps.size();
  if (!from_right) {
    size_t i = 0;
    while (true) {
      while (i < n && py_isspace(cps[i])) ++i;
      if (i >= n) break;
      if (maxsplit >= 0 && static_cast<int64_t>(parts.size()) >= maxsplit) {
        size_t e = n;
        while (e > i && py_isspace(cps[e - 1])) --e;
        parts.push_back(encode(cps, i, e));
        break;
      }
      size_t j = i;
      while (j < n && !py_isspace(cps[j])) ++j;
      parts.push_back(encode(cps, i, j));
      i = j;
    }
  } else {
    size_t e = n;
    while (true) {
      while (e > 0 && py_isspace(cps[e - 1])) --e;
      if (e == 0) break;
      if (maxsplit >= 0 && static_cast<int64_t>(parts.size()) >= maxsplit) {
        size_t b = 0;
        while (b < e && py_isspace(cps[b])) ++b;
        parts.push_back(encode(cps, b, e));
        break;
      }
      size_t b = e;
      while (b > 0 && !py_isspace(cps[b - 1])) --b;
      parts.push_back(encode(cps, b, e));
      e = b;
    }
    std::reverse(parts.begin(), parts.end());
  }
  return parts;
}

std::string py_strip(const std::string& s, const std::string* chars, int mode) {
  std::vector<uint32_t> cps = decode(s);
  std::vector<uint32_t> set = chars ? decode(*chars) : std::vector<uint32_t>{};
  auto strip_it = [&](uint32_t cp) {
    return chars ? std::find(set.begin(), set.end(), cp) != set.end() : py_isspace(cp);
  };
  size_t b = 0, e = cps.size();
  if (mode & 1)
    while (b < e && strip_it(cps[b])) ++b;
  if (mode & 2)
    while (e > b && strip_it(cps[e - 1])) --e;
  return encode(cps, b, e);
}

std::string py_case(const std::string& s, const std::string& which) {
  std::string out;
  out.reserve(s.size());
  bool prev_cased = false;
  bool first = true;
  for (size_t i = 0; i < s.size();) {
    uint32_t cp = utf8::next(s, i);
    if (which == "upper") {
      append_upper(out, cp);
    } else if (which == "lower") {
      append_lower(out, cp);
    } else if (which == "title") {
      if (prev_cased)
        append_lower(out, cp);
      else
        utf8::append(out,
                     static_cast<uint32_t>(utf8proc_totitle(static_cast<utf8proc_int32_t>(cp))));
      prev_cased = is_cased_letter(cp);
    } else if (which == "capitalize") {
      if (first)
        utf8::append(out,
                     static_cast<uint32_t>(utf8proc_totitle(static_cast<utf8proc_int32_t>(cp))));
      else
        append_lower(out, cp);
    } else {  // swapcase
      auto c = utf8proc_category(static_cast<utf8proc_int32_t>(cp));
      if (c == UTF8PROC_CATEGORY_LU)
        append_lower(out, cp);
      else if (c == UTF8PROC_CATEGORY_LL)
        append_upper(out, cp);
      else
        utf8::append(out, cp);
    }
    first = false;
  }
  return out;
}

std::string py_replace(const std::string& s, const std::string& old_s, const std::string& new_s,
                       int64_t count) {
  std::string out;
  int64_t done = 0;
  if (old_s.empty()) {
    // Python inserts `new` before every character and at the end.
    std::vector<size_t> off = char_offsets(s);
    for (size_t i = 0; i + 1 < off.size(); ++i) {
      if (count < 0 || done < count) {
        check_string_size(out.size() + new_s.size() + s.size());
        out += new_s;
        ++done;
      }
      out.append(s, off[i], off[i + 1] - off[i]);
    }
    if (count < 0 || done < count) out += new_s;
    return out;
  }
  size_t pos = 0;
  while (count < 0 || done < count) {
    size_t p = s.find(old_s, pos);
    if (p == std::string::npos) break;
    out.append(s, pos, p - pos);
    check_string_size(out.size() + new_s.size() + (s.size() - p));
    out += new_s;
    pos = p + old_s.size();
    ++done;
  }
  out.append(s, pos);
  return out;
}

std::vector<std::string> py_splitlines(const std::string& s, bool keepends) {
  std::vector<std::string> lines;
  size_t start = 0;
  for (size_t i = 0; i < s.size();) {
    size_t at = i;
    uint32_t cp = utf8::next(s, i);
    bool brk = cp == '\n' || cp == '\r' || cp == 0x0B || cp == 0x0C || cp == 0x1C || cp == 0x1D ||
               cp == 0x1E || cp == 0x85 || cp == 0x2028 || cp == 0x2029;
    if (!brk) continue;
    if (cp == '\r' && i < s.size() && s[i] == '\n') ++i;
    lines.push_back(s.substr(start, (keepends ? i : at) - start));
    start = i;
  }
  if (start < s.size()) lines.push_back(s.substr(start));
  return lines;
}

bool py_is(const std::string& s, const std::string& which) {
  if (s.empty()) return false;
  bool any_cased = false;
  for (size_t i = 0; i < s.size();) {
    uint32_t cp = utf8::next(s, i);
    auto c = utf8proc_category(static_cast<utf8proc_int32_t>(cp));
    bool letter = c >= UTF8PROC_CATEGORY_LU && c <= UTF8PROC_CATEGORY_LO;
    bool digit = c == UTF8PROC_CATEGORY_ND;
    bool numeric = digit || c == UTF8PROC_CATEGORY_NL || c == UTF8PROC_CATEGORY_NO;
    if (which == "isspace" && !py_isspace(cp)) return false;
    if ((which == "isdigit" || which == "isdecimal") && !digit) return false;
    if (which == "isnumeric" && !numeric) return false;
    if (which == "isalpha" && !letter) return false;
    if (which == "isalnum" && !letter && !numeric) return false;
    if (which == "islower") {
      if (c == UTF8PROC_CATEGORY_LU || c == UTF8PROC_CATEGORY_LT) return false;
      any_cased = any_cased || c == UTF8PROC_CATEGORY_LL;
    }
    if (which == "isupper") {
      if (c == UTF8PROC_CATEGORY_LL || c == UTF8PROC_CATEGORY_LT) return false;
      any_cased = any_cased || c == UTF8PROC_CATEGORY_LU;
    }
  }
  return (which == "islower" || which == "isupper") ? any_cased : true;
}

}  // namespace tuna::jinja
