// Lexer of tuna's Jinja engine (our own; see jinja_ast.h): jinja2's tokenizer under transformers'
// settings — trim_blocks, lstrip_blocks, `-`/`+` whitespace control, raw blocks, comments.
#include "template/jinja_lexer.h"

#include <cctype>
#include <cstdlib>

#include "core/utf8.h"

namespace tuna::jinja {
namespace {

bool is_space_at(std::string_view s, size_t i, size_t* len) {
  size_t j = i;
  uint32_t cp = utf8::next(s, j);
  *len = j - i;
  return py_isspace(cp);
}

// Python str.rstrip() (Unicode whitespace).
std::string_view rstrip_py(std::string_view s) {
  size_t end = s.size();
  while (end > 0) {
    size_t start = end;
    uint32_t cp = utf8::prev(s, start);
    if (!py_isspace(cp)) break;
    end = start;
  }
  return s.substr(0, end);
}

bool all_space(std::string_view s) {
  for (size_t i = 0, len = 0; i < s.size(); i += len)
    if (!is_space_at(s, i, &len)) return false;
  return true;
}

class Lexer {
 public:
  explicit Lexer(std::string_view src) : src_(src) {}

  std::vector<Token> run() {
    bool line_starting = true;
    while (pos_ < src_.size()) {
      size_t p = find_tag(pos_);
      std::string_view text = src_.substr(pos_, p - pos_);
      if (p == src_.size()) {
        emit_data(text, pos_);
        break;
      }
      char kind = src_[p + 1];
      char sign =
          p + 2 < src_.size() && (src_[p + 2] == '-' || src_[p + 2] == '+') ? src_[p + 2] : 0;
      if (sign == '-') {
        text = rstrip_py(text);
      } else if (sign != '+' && kind != '{') {  // lstrip_blocks (not for {{ }})
        size_t l = text.rfind('\n');
        l = l == std::string_view::npos ? 0 : l + 1;
        if ((l > 0 || line_starting) && l < text.size() && all_space(text.substr(l)))
          text = text.substr(0, l);
      }
      emit_data(text, pos_);
      size_t q = p + 2 + (sign ? 1 : 0);
      if (kind == '#') {
        pos_ = end_of_comment(p, q);
      } else if (kind == '%' && raw_block(p, q)) {
        // handled
      } else {
        tokens_.push_back({kind == '{' ? Token::VAR_BEGIN : Token::BLOCK_BEGIN, {}, 0, 0, p});
        pos_ = q;
        lex_tag(kind == '{' ? '}' : '%');
      }
      line_starting = pos_ > 0 && src_[pos_ - 1] == '\n';
    }
    tokens_.push_back({Token::END, {}, 0, 0, src_.size()});
    return std::move(tokens_);
  }

 private:
  std::string_view src_;
  size_t pos_ = 0;
  std::vector<Token> tokens_;

  [[noreturn]] void fail_at(size_t pos, const std::string& msg) {
    throw TemplateError("TemplateSyntaxError", msg, static_cast<int>(pos), -1);
  }

  size_t find_tag(size_t from) const {
    for (size_t i = src_.find('{', from); i != std::string_view::npos; i = src_.find('{', i + 1)) {
      if (i + 1 < src_.size() && (src_[i + 1] == '{' || src_[i + 1] == '%' || src_[i + 1] == '#'))
        return i;
    }
    return src_.size();
  }

  void emit_data(std::string_view text, size_t pos) {
    if (!text.empty()) tokens_.push_back({Token::DATA, std::string(text), 0, 0, pos});
  }

  // After a block/comment end: `-` strips all following whitespace, `+` nothing, plain ends
  // drop one newline (trim_blocks).
  size_t after_end(size_t end, char sign) {
    if (sign == '-') {
      size_t len = 0;
      while (end < src_.size() && is_space_at(src_, end, &len)) end += len;
    } else if (sign != '+' && end < src_.size() && src_[end] == '\n') {
      ++end;
    }
    return end;
  }

  size_t end_of_comment(size_t begin, size_t from) {
    size_t e = src_.find("#}", from);
    if (e == std::string_view::npos) fail_at(begin, "missing end of comment tag");
    char sign = e > from && (src_[e - 1] == '-' || src_[e - 1] == '+') ? src_[e - 1] : 0;
    return after_end(e + 2, sign);
  }

  // {% raw %}...{% endraw %}: the body is text.
  bool raw_block(size_t begin, size_t q) {
    size_t i = q;
    while (i < src_.size() && (src_[i] == ' ' || src_[i] == '\t' || src_[i] == '\n')) ++i;
    if (src_.compare(i, 3, "raw") != 0) return false;
    i += 3;
    while (i < src_.size() && (src_[i] == ' ' || src_[i] == '\t' || src_[i] == '\n')) ++i;
    char sign = 0;
    if (i < src_.size() && src_[i] == '-') sign = src_[i++];
    if (src_.compare(i, 2, "%}") != 0) return false;
    size_t body = sign == '-' ? after_end(i + 2, '-') : i + 2;
    for (size_t e = src_.find("{%", body); e != std::string_view::npos;
         e = src_.find("{%", e + 2)) {
      size_t j = e + 2;
      char lsign = j < src_.size() && (src_[j] == '-' || src_[j] == '+') ? src_[j++] : 0;
      while (j < src_.size() && (src_[j] == ' ' || src_[j] == '\t' || src_[j] == '\n')) ++j;
      if (src_.compare(j, 6, "endraw") != 0) continue;
      j += 6;
      while (j < src_.size() && (src_[j] == ' ' || src_[j] == '\t' || src_[j] == '\n')) ++j;
      char rsign = j < src_.size() && (src_[j] == '-' || src_[j] == '+') ? src_[j++] : 0;
      if (src_.compare(j, 2, "%}") != 0) continue;
      std::string_view text = src_.substr(body, e - body);
      if (lsign == '-') text = rstrip_py(text);
      emit_data(text, body);
      pos_ = after_end(j + 2, rsign);
      return true;
    }
    fail_at(begin, "missing '{% endraw %}' for this '{% raw %}'");
  }

  void lex_tag(char close) {
    std::vector<char> balance;
    while (true) {
      while (pos_ < src_.size() &&
             (src_[pos_] == ' ' || src_[pos_] == '\t' || src_[pos_] == '\n' || src_[pos_] == '\r'))
        ++pos_;
      if (pos_ >= src_.size())
        fail_at(pos_, close == '}' ? "unexpected end of template: missing '}}'"
                                   : "unexpected end of template: missing '%}'");
      size_t start = pos_;
      if (balance.empty()) {
        char sign = (src_[pos_] == '-' || src_[pos_] == '+') ? src_[pos_] : 0;
        size_t e = pos_ + (sign ? 1 : 0);
        if (e + 1 < src_.size() && src_[e] == close && src_[e + 1] == '}' &&
            !(sign == '+' && close == '}')) {
          tokens_.push_back({close == '}' ? Token::VAR_END : Token::BLOCK_END, {}, 0, 0, start});
          pos_ =
              close == '%' ? after_end(e + 2, sign) : (sign == '-' ? after_end(e + 2, '-') : e + 2);
          return;
        }
      }
      char c = src_[pos_];
      if (c == '\'' || c == '"') {
        tokens_.push_back({Token::STRING, lex_string(), 0, 0, start});
      } else if (c >= '0' && c <= '9') {
        lex_number(start);
      } else if (std::isalpha(static_cast<unsigned char>(c)) || c == '_' ||
                 static_cast<unsigned char>(c) >= 0x80) {
        size_t e = pos_;
        while (e < src_.size() && (std::isalnum(static_cast<unsigned char>(src_[e])) ||
                                   src_[e] == '_' || static_cast<unsigned char>(src_[e]) >= 0x80))
          ++e;
        tokens_.push_back({Token::NAME, std::string(src_.substr(pos_, e - pos_)), 0, 0, start});
        pos_ = e;
      } else {
        static const char* kOps[] = {"//", "**", "==", "!=", "<=", ">=", "+", "-", "/",
                                     "*",  "%",  "~",  "[",  "]",  "(",  ")", "{", "}",
                                     ".",  ":",  ",",  "|",  "=",  "<",  ">", ";"};
        std::string op;
        for (const char* o : kOps) {
          if (src_.compare(pos_, std::char_traits<char>::length(o), o) == 0) {
            op = o;
            break;
          }
        }
        if (op.empty()) fail_at(start, std::string("unexpected char '") + c + "'");
        if (op == "(" || op == "[" || op == "{") {
          balance.push_back(op == "(" ? ')' : op == "[" ? ']' : '}');
        } else if (op == ")" || op == "]" || op == "}") {
          if (balance.empty()) fail_at(start, "unexpected '" + op + "'");
          if (balance.back() != op[0])
            fail_at(start, "unexpected '" + op + "', expected '" + balance.back() + "'");
          balance.pop_back();
        }
        tokens_.push_back({Token::OP, op, 0, 0, start});
        pos_ += op.size();
      }
    }
  }

  // A Python string literal with its escapes (jinja2 decodes them as "unicode-escape").
  std::string lex_string() {
    size_t start = pos_;
    char q = src_[pos_++];
    std::string out;
    while (true) {
      if (pos_ >= src_.size()) fail_at(start, "unterminated string literal");
      char c = src_[pos_++];
      if (c == q) break;
      if (c != '\\') {
        out += c;
        continue;
      }
      if (pos_ >= src_.size()) fail_at(start, "unterminated string literal");
      char e = src_[pos_++];
      auto hex = [&](int n) {
        if (pos_ + n > src_.size()) fail_at(start, "truncated escape in string literal");
        std::string h(src_.substr(pos_, n));
        for (char x : h)
          if (!std::isxdigit(static_cast<unsigned char>(x)))
            fail_at(start, "malformed \\x, \\u or \\U escape in string literal");
        pos_ += n;
        return static_cast<uint32_t>(std::strtoul(h.c_str(), nullptr, 16));
      };
      switch (e) {
        case 'n':
          out += '\n';
          break;
        case 't':
          out += '\t';
          break;
        case 'r':
          out += '\r';
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'v':
          out += '\v';
          break;
        case 'a':
          out += '\a';
          break;
        case '\\':
          out += '\\';
          break;
        case '\'':
          out += '\'';
          break;
        case '"':
          out += '"';
          break;
        case '\n':
          break;  // line continuation
        case 'x':
          utf8::append(out, hex(2));
          break;
        case 'u':
          utf8::append(out, hex(4));
          break;
        case 'U':
          utf8::append(out, hex(8));
          break;
        default:
          if (e >= '0' && e <= '7') {
            uint32_t v = static_cast<uint32_t>(e - '0');
            for (int k = 0; k < 2 && pos_ < src_.size() && src_[pos_] >= '0' && src_[pos_] <= '7';
                 ++k)
              v = v * 8 + static_cast<uint32_t>(src_[pos_++] - '0');
            utf8::append(out, v);
          } else {  // Python keeps unknown escapes verbatim
            out += '\\';
            out += e;
          }
      }
    }
    return out;
  }

  void lex_number(size_t start) {
    auto digits = [&](size_t i) {
      while (i < src_.size() && (std::isdigit(static_cast<unsigned char>(src_[i])) ||
                                 (src_[i] == '_' && i + 1 < src_.size() &&
                                  std::isdigit(static_cast<unsigned char>(src_[i + 1])))))
        ++i;
      return i;
    };
    size_t e = digits(pos_);
    bool is_float = false;
    if (e + 1 < src_.size() && src_[e] == '.' &&
        std::isdigit(static_cast<unsigned char>(src_[e + 1]))) {
      e = digits(e + 1);
      is_float = true;
    }
    if (e < src_.size() && (src_[e] == 'e' || src_[e] == 'E')) {
      size_t k = e + 1;
      if (k < src_.size() && (src_[k] == '+' || src_[k] == '-')) ++k;
      if (k < src_.size() && std::isdigit(static_cast<unsigned char>(src_[k]))) {
        e = digits(k);
        is_float = true;
      }
    }
    std::string text;
    for (size_t i = pos_; i < e; ++i)
      if (src_[i] != '_') text += src_[i];
    Token t{is_float ? Token::FLOAT : Token::INT, text, 0, 0, start};
    if (is_float)
      t.fval = std::strtod(text.c_str(), nullptr);
    else
      t.ival = std::strtoll(text.c_str(), nullptr, 10);
    tokens_.push_back(std::move(t));
    pos_ = e;
  }
};

}  // namespace

std::vector<Token> lex_template(std::string_view normalized_source) {
  return Lexer(normalized_source).run();
}

}  // namespace tuna::jinja
