// PCRE2 wrapper for tokenizer patterns; see regex.h. A thread-local match data block and JIT
// stack make matching allocation-free after the first call on a thread.
#define PCRE2_CODE_UNIT_WIDTH 8
#include "tokenizer/regex.h"

#include <pcre2.h>

#include "core/error.h"
#include "core/unicode_tables.h"

namespace tuna::tok {

namespace {

// White_Space as Oniguruma (and Rust) define \s; PCRE2's \s also matches U+180E.
const char* kSpaceClass =
    "\\x{9}-\\x{D}\\x{20}\\x{85}\\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{202F}"
    "\\x{205F}\\x{3000}";
// Oniguruma's tables are newer than PCRE2's: the code points its \p{X} has beyond PCRE2's.
std::string onig_extra(const std::string& name) {
  for (size_t i = 0; i < utf8::kOnigExtrasCount; ++i)
    if (name == utf8::kOnigExtras[i].name) return utf8::kOnigExtras[i].ranges;
  return {};
}

// Class items (no brackets) for Oniguruma's \p{name}.
std::string property_items(const std::string& name) {
  return "\\p{" + name + "}" + onig_extra(name);
}

// Oniguruma's Unicode \w: Letter | Mark | Decimal_Number | Connector_Punctuation.
std::string word_items() {
  return property_items("L") + property_items("M") + property_items("Nd") + property_items("Pc");
}

struct ThreadMatchState {
  pcre2_match_data* data = nullptr;
  pcre2_match_context* context = nullptr;
  pcre2_jit_stack* stack = nullptr;
  ThreadMatchState() {
    data = pcre2_match_data_create(1, nullptr);
    context = pcre2_match_context_create(nullptr);
    stack = pcre2_jit_stack_create(64 * 1024, 8 * 1024 * 1024, nullptr);
    if (context && stack) pcre2_jit_stack_assign(context, nullptr, stack);
  }
  ~ThreadMatchState() {
    pcre2_match_data_free(data);
    pcre2_match_context_free(context);
    pcre2_jit_stack_free(stack);
  }
};

ThreadMatchState& thread_state() {
  thread_local ThreadMatchState state;
  return state;
}

}  // namespace

std::string Regex::translate_onig(const std::string& p) {
  std::string out;
  out.reserve(p.size() + 64);
  bool in_class = false;
  for (size_t i = 0; i < p.size(); ++i) {
    char c = p[i];
    if (c == '\\' && i + 1 < p.size()) {
      char e = p[i + 1];
      ++i;
      if (e == 's' || e == 'w' || ((e == 'S' || e == 'W') && !in_class)) {
        bool negated = e == 'S' || e == 'W';
        std::string items = (e == 's' || e == 'S') ? std::string(kSpaceClass) : word_items();
        if (in_class)
          out += items;
        else
          out += (negated ? "[^" : "[") + items + "]";
        continue;
      }
      if ((e == 'p' || e == 'P') && i + 1 < p.size() && p[i + 1] == '{') {
        size_t close = p.find('}', i + 2);
        if (close != std::string::npos) {
          std::string name = p.substr(i + 2, close - i - 2);
          bool negated = e == 'P';
          if (!name.empty() && name[0] == '^') {
            negated = !negated;
            name = name.substr(1);
          }
          std::string extra = onig_extra(name);
          if (!extra.empty() && !(negated && in_class)) {
            std::string items = property_items(name);
            out += in_class ? items : (negated ? "[^" : "[") + items + "]";
            i = close;
            continue;
          }
        }
      }
      out += '\\';
      out += e;
      continue;
    }
    if (!in_class && c == '[') {
      in_class = true;
      out += c;
      // A ']' right after '[' or '[^' is a literal.
      if (i + 1 < p.size() && p[i + 1] == '^') out += p[++i];
      if (i + 1 < p.size() && p[i + 1] == ']') out += p[++i];
      continue;
    }
    if (in_class && c == '[' && i + 1 < p.size() && p[i + 1] == ':') {
      size_t close = p.find(":]", i + 2);
      if (close != std::string::npos) {
        out.append(p, i, close + 2 - i);
        i = close + 1;
        continue;
      }
    }
    if (in_class && c == ']') in_class = false;
    out += c;
  }
  return out;
}

std::string Regex::escape(std::string_view literal) {
  std::string out;
  for (char c : literal) {
    if (std::string_view("\\^$.|?*+()[]{}-#&~ \t\n").find(c) != std::string_view::npos) {
      if (c == '\t') {
        out += "\\t";
      } else if (c == '\n') {
        out += "\\n";
      } else {
        out += '\\';
        out += c;
      }
    } else {
      out += c;
    }
  }
  return out;
}

Regex::Regex(const std::string& pattern, const std::string& where) : pattern_(pattern) {
  std::string translated = translate_onig(pattern);
  int err = 0;
  PCRE2_SIZE err_offset = 0;
  pcre2_code* code =
      pcre2_compile(reinterpret_cast<PCRE2_SPTR>(translated.data()), translated.size(),
                    PCRE2_UTF | PCRE2_UCP | PCRE2_NO_UTF_CHECK, &err, &err_offset, nullptr);
  if (!code) {
    PCRE2_UCHAR msg[256];
    pcre2_get_error_message(err, msg, sizeof msg);
    throw_user_error("tokenizer",
                     "regular expression " + pattern + " does not compile (" +
                         reinterpret_cast<const char*>(msg) + " at offset " +
                         std::to_string(err_offset) + "), " + where,
                     "tuna compiles tokenizer patterns with PCRE2; check the pattern");
  }
  pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);  // falls back to the interpreter if unavailable
  code_ =
      std::shared_ptr<void>(code, [](void* c) { pcre2_code_free(static_cast<pcre2_code*>(c)); });
}

Regex Regex::literal(std::string_view text, const std::string& where) {
  Regex r(escape(text), where);
  r.pattern_ = std::string(text);
  return r;
}

void Regex::find_all(std::string_view s, std::vector<std::pair<size_t, size_t>>& out) const {
  auto* code = static_cast<pcre2_code*>(code_.get());
  ThreadMatchState& st = thread_state();
  size_t start = 0;
  size_t last_match_end = std::string_view::npos;
  while (start <= s.size()) {
    int rc = pcre2_match(code, reinterpret_cast<PCRE2_SPTR>(s.data()), s.size(), start,
                         PCRE2_NO_UTF_CHECK, st.data, st.context);
    if (rc == PCRE2_ERROR_NOMATCH) break;
    if (rc < 0) {
      PCRE2_UCHAR msg[256];
      pcre2_get_error_message(rc, msg, sizeof msg);
      throw_internal_error("tokenizer", "PCRE2 match failed for " + pattern_ + ": " +
                                            reinterpret_cast<const char*>(msg));
    }
    PCRE2_SIZE* ov = pcre2_get_ovector_pointer(st.data);
    size_t b = ov[0], e = ov[1];
    if (b == e && last_match_end == e) {
      // onig's find_iter: no empty match right after the previous match; step one character.
      if (e >= s.size()) break;
      start = e + 1;
      while (start < s.size() && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) ++start;
      continue;
    }
    out.emplace_back(b, e);
    last_match_end = e;
    start = e;
    if (b == e) {
      if (e >= s.size()) break;
      start = e + 1;
      while (start < s.size() && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) ++start;
    }
  }
}

std::string Regex::replace_all(std::string_view s, std::string_view content) const {
  std::vector<std::pair<size_t, size_t>> m;
  find_all(s, m);
  if (m.empty()) return std::string(s);
  std::string out;
  out.reserve(s.size());
  size_t prev = 0;
  for (auto [b, e] : m) {
    out.append(s.substr(prev, b - prev));
    out.append(content);
    prev = e;
  }
  out.append(s.substr(prev));
  return out;
}

}  // namespace tuna::tok
