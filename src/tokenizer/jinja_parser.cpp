// Lexer and parser of tuna's Jinja engine (our own; see jinja_ast.h). Grammar and precedence
// follow jinja2's parser.py: condexpr < or < and < not < compare < + - < ~ < * / // % < ** <
// unary < postfix (. [] ()) < filters and tests, which bind tighter than every binary operator.
#include <algorithm>
#include <cstdlib>
#include <set>

#include "tokenizer/jinja_ast.h"
#include "tokenizer/utf8.h"

namespace tuna::jinja {
namespace {

struct Token {
  enum Type { DATA, VAR_BEGIN, VAR_END, BLOCK_BEGIN, BLOCK_END, NAME, STRING, INT, FLOAT, OP, END };
  Type type;
  std::string text;  // DATA text, NAME, unescaped STRING, OP
  int64_t ival = 0;
  double fval = 0;
  size_t pos = 0;  // byte offset in the normalised source
};

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

// ---- parser ----

const std::set<std::string, std::less<>> kUnsupportedTags = {
    "include", "import", "from", "extends", "block", "call", "with", "autoescape", "do", "trans"};

class Parser {
 public:
  Parser(std::string_view src, std::vector<Token> toks) : src_(src), toks_(std::move(toks)) {
    line_starts_.push_back(0);
    for (size_t i = 0; i < src_.size(); ++i)
      if (src_[i] == '\n') line_starts_.push_back(i + 1);
  }

  Body parse() {
    std::string end;
    Body b = parse_body({}, &end);
    return b;
  }

  void position(size_t pos, int* line, int* column) const {
    auto it = std::upper_bound(line_starts_.begin(), line_starts_.end(), pos);
    size_t l = static_cast<size_t>(it - line_starts_.begin());  // 1-based
    size_t ls = line_starts_[l - 1];
    *line = static_cast<int>(l);
    *column =
        static_cast<int>(utf8::count_chars(src_.substr(ls, std::min(pos, src_.size()) - ls))) + 1;
  }

 private:
  std::string_view src_;
  std::vector<Token> toks_;
  std::vector<size_t> line_starts_;
  size_t i_ = 0;
  int loop_depth_ = 0;
  std::vector<std::pair<std::string, int>> open_;  // open blocks: tag, line
  static constexpr int kMaxDepth = 200;
  int depth_ = 0;

  std::string open_block() const {
    if (open_.empty()) return "";
    return " (the innermost open block is '" + open_.back().first + "' from line " +
           std::to_string(open_.back().second) + ")";
  }

  const Token& cur() const { return toks_[i_]; }
  const Token& peek(size_t k = 1) const { return toks_[std::min(i_ + k, toks_.size() - 1)]; }
  bool is_op(std::string_view op) const { return cur().type == Token::OP && cur().text == op; }
  bool is_name(std::string_view n) const { return cur().type == Token::NAME && cur().text == n; }

  static std::string describe(const Token& t) {
    switch (t.type) {
      case Token::DATA:
        return "template text";
      case Token::VAR_BEGIN:
        return "'{{'";
      case Token::VAR_END:
        return "end of print statement '}}'";
      case Token::BLOCK_BEGIN:
        return "'{%'";
      case Token::BLOCK_END:
        return "end of statement block '%}'";
      case Token::NAME:
        return "'" + t.text + "'";
      case Token::STRING:
        return "string " + py_string_repr(t.text);
      case Token::INT:
      case Token::FLOAT:
        return "number " + t.text;
      case Token::OP:
        return "'" + t.text + "'";
      case Token::END:
        return "end of template";
    }
    return "token";
  }

  [[noreturn]] void fail(const std::string& msg, const Token* at = nullptr) {
    int line, col;
    position((at ? *at : cur()).pos, &line, &col);
    throw TemplateError("TemplateSyntaxError", msg, line, col);
  }

  void expect_op(std::string_view op) {
    if (!is_op(op)) fail("expected '" + std::string(op) + "', got " + describe(cur()));
    ++i_;
  }
  void expect_block_end() {
    if (cur().type != Token::BLOCK_END)
      fail("expected end of statement block '%}', got " + describe(cur()));
    ++i_;
  }
  std::string expect_name() {
    if (cur().type != Token::NAME) fail("expected a name, got " + describe(cur()));
    return toks_[i_++].text;
  }

  template <class T>
  std::unique_ptr<T> make(typename T::Kind kind, const Token& at) {
    auto n = std::make_unique<T>();
    n->kind = kind;
    position(at.pos, &n->line, &n->column);
    return n;
  }

  Body parse_body(const std::vector<std::string_view>& ends, std::string* found) {
    Body body;
    while (true) {
      const Token& t = cur();
      if (t.type == Token::END) {
        if (!ends.empty()) {
          std::string want;
          for (auto e : ends) want += (want.empty() ? "'" : " or '") + std::string(e) + "'";
          fail("unexpected end of template: looking for " + want + open_block());
        }
        return body;
      }
      if (t.type == Token::DATA) {
        auto n = make<Node>(Node::Kind::TEXT, t);
        n->text = t.text;
        body.push_back(std::move(n));
        ++i_;
      } else if (t.type == Token::VAR_BEGIN) {
        ++i_;
        auto n = make<Node>(Node::Kind::OUTPUT, t);
        n->expr = parse_tuple(true);
        if (cur().type != Token::VAR_END)
          fail("expected end of print statement '}}', got " + describe(cur()));
        ++i_;
        body.push_back(std::move(n));
      } else if (t.type == Token::BLOCK_BEGIN) {
        ++i_;
        if (cur().type != Token::NAME)
          fail("expected a tag name after '{%', got " + describe(cur()));
        std::string tag = cur().text;
        if (std::find(ends.begin(), ends.end(), tag) != ends.end()) {
          ++i_;
          *found = tag;
          return body;
        }
        body.push_back(parse_statement_tracked());
      } else {
        fail("unexpected " + describe(t));
      }
    }
  }

  Body parse_until(const std::vector<std::string_view>& ends, std::string* found) {
    return parse_body(ends, found);
  }

  std::unique_ptr<Node> parse_statement_tracked() {
    const std::string tag = cur().text;
    if (tag.rfind("end", 0) == 0 || tag == "elif" || tag == "else")
      fail("unexpected '{% " + tag + " %}'" +
           (open_.empty() ? std::string(": no block is open") : open_block()));
    if (open_.size() >= kMaxDepth) fail("blocks nested too deeply");
    int line, col;
    position(cur().pos, &line, &col);
    open_.emplace_back(tag, line);
    auto n = parse_statement();
    open_.pop_back();
    return n;
  }

  std::unique_ptr<Node> parse_statement() {
    const Token& at = cur();
    std::string tag = expect_name();
    std::string found;
    if (tag == "if") {
      auto n = make<Node>(Node::Kind::IF, at);
      ExprPtr cond = parse_tuple(true);
      expect_block_end();
      while (true) {
        Body b = parse_until({"elif", "else", "endif"}, &found);
        n->branches.emplace_back(std::move(cond), std::move(b));
        if (found == "elif") {
          cond = parse_tuple(true);
          expect_block_end();
        } else if (found == "else") {
          expect_block_end();
          n->branches.emplace_back(nullptr, parse_until({"endif"}, &found));
          expect_block_end();
          return n;
        } else {
          expect_block_end();
          return n;
        }
      }
    }
    if (tag == "for") {
      auto n = make<Node>(Node::Kind::FOR, at);
      n->targets = parse_targets();
      if (!is_name("in")) fail("expected 'in' in for loop, got " + describe(cur()));
      ++i_;
      n->expr = parse_tuple(false);
      if (is_name("if")) {
        ++i_;
        n->filter = parse_tuple(true);
      }
      if (is_name("recursive"))
        fail("recursive for loops are not supported by tuna's template engine");
      expect_block_end();
      ++loop_depth_;
      n->body = parse_until({"else", "endfor"}, &found);
      --loop_depth_;
      if (found == "else") {
        expect_block_end();
        n->else_body = parse_until({"endfor"}, &found);
      }
      expect_block_end();
      return n;
    }
    if (tag == "set") {
      const Token& target_at = cur();
      std::vector<std::string> targets = parse_targets();
      std::string attr;
      if (targets.size() == 1 && is_op(".")) {
        ++i_;
        attr = expect_name();
      }
      if (is_op("=")) {
        ++i_;
        auto n = make<Node>(Node::Kind::SET, at);
        n->targets = std::move(targets);
        n->attr = std::move(attr);
        n->expr = parse_tuple(true);
        expect_block_end();
        return n;
      }
      if (targets.size() != 1 || !attr.empty())
        fail("a block assignment '{% set name %}' takes one plain name", &target_at);
      expect_block_end();
      auto n = make<Node>(Node::Kind::SET_BLOCK, at);
      n->targets = std::move(targets);
      n->body = parse_until({"endset"}, &found);
      expect_block_end();
      return n;
    }
    if (tag == "macro") {
      auto n = make<Node>(Node::Kind::MACRO, at);
      n->name = expect_name();
      expect_op("(");
      while (!is_op(")")) {
        if (!n->params.empty()) expect_op(",");
        if (is_op(")")) break;
        std::string p = expect_name();
        ExprPtr def;
        if (is_op("=")) {
          ++i_;
          def = parse_expression(true);
        }
        n->params.emplace_back(std::move(p), std::move(def));
      }
      ++i_;
      expect_block_end();
      int saved = loop_depth_;
      loop_depth_ = 0;
      n->body = parse_until({"endmacro"}, &found);
      loop_depth_ = saved;
      if (cur().type == Token::NAME) ++i_;  // {% endmacro name %}
      expect_block_end();
      return n;
    }
    if (tag == "break" || tag == "continue") {
      if (loop_depth_ == 0) fail("'" + tag + "' outside of a for loop", &at);
      auto n = make<Node>(tag == "break" ? Node::Kind::BREAK : Node::Kind::CONTINUE, at);
      expect_block_end();
      return n;
    }
    if (tag == "generation") {
      auto n = make<Node>(Node::Kind::GENERATION, at);
      expect_block_end();
      n->body = parse_until({"endgeneration"}, &found);
      expect_block_end();
      return n;
    }
    if (tag == "filter") {
      auto n = make<Node>(Node::Kind::FILTER_BLOCK, at);
      auto subject = make<Expr>(Expr::Kind::NAME, at);
      subject->name = "__filter_block_body";
      n->expr = parse_filter(std::move(subject), at, false);
      while (is_op("|")) n->expr = parse_filter(std::move(n->expr), cur());
      expect_block_end();
      n->body = parse_until({"endfilter"}, &found);
      expect_block_end();
      return n;
    }
    if (kUnsupportedTags.count(tag))
      fail("the '{% " + tag + " %}' tag is not supported by tuna's chat-template engine", &at);
    fail("unknown tag '" + tag +
             "' (supported: if/elif/else, for/else, set, macro, break, continue, filter, raw, "
             "generation)",
         &at);
  }

  // name | name, name, ... | (name, name)
  std::vector<std::string> parse_targets() {
    std::vector<std::string> t;
    bool paren = is_op("(");
    if (paren) ++i_;
    t.push_back(expect_name());
    while (is_op(",")) {
      ++i_;
      if (cur().type != Token::NAME) break;
      t.push_back(expect_name());
    }
    if (paren) expect_op(")");
    return t;
  }

  // ---- expressions ----

  static bool ends_tuple(const Token& t) {
    return t.type == Token::VAR_END || t.type == Token::BLOCK_END || t.type == Token::END ||
           (t.type == Token::OP && (t.text == ")" || t.text == "]" || t.text == "}")) ||
           (t.type == Token::NAME && (t.text == "in" || t.text == "if" || t.text == "recursive"));
  }

  // Comma-separated expressions: one without a trailing comma is itself, else a tuple.
  ExprPtr parse_tuple(bool with_condexpr, bool explicit_parens = false) {
    const Token& at = cur();
    std::vector<ExprPtr> items;
    bool comma = false;
    while (true) {
      if (!items.empty()) {
        if (!is_op(",")) break;
        ++i_;
        comma = true;
      }
      if (ends_tuple(cur())) break;
      items.push_back(parse_expression(with_condexpr));
    }
    if (items.empty() && !explicit_parens) fail("expected an expression, got " + describe(cur()));
    if (items.size() == 1 && !comma) return std::move(items[0]);
    auto t = make<Expr>(Expr::Kind::TUPLE, at);
    t->args = std::move(items);
    return t;
  }

  ExprPtr parse_expression(bool with_condexpr) {
    // Bounded recursion: a pathological template is a syntax error, not a stack overflow.
    if (++depth_ > kMaxDepth) fail("expression nested too deeply");
    ExprPtr e = with_condexpr ? parse_condexpr() : parse_or();
    --depth_;
    return e;
  }

  ExprPtr parse_condexpr() {
    ExprPtr e = parse_or();
    while (is_name("if")) {
      const Token& at = cur();
      ++i_;
      auto c = make<Expr>(Expr::Kind::CONDEXPR, at);
      c->args.push_back(parse_or());
      c->args.push_back(std::move(e));
      if (is_name("else")) {
        ++i_;
        c->args.push_back(parse_condexpr());
      } else {
        c->args.push_back(nullptr);
      }
      e = std::move(c);
    }
    return e;
  }

  ExprPtr binary(Expr::Kind kind, const Token& at, ExprPtr l, ExprPtr r, std::string op = {}) {
    auto b = make<Expr>(kind, at);
    b->name = std::move(op);
    b->args.push_back(std::move(l));
    b->args.push_back(std::move(r));
    return b;
  }

  ExprPtr parse_or() {
    ExprPtr l = parse_and();
    while (is_name("or")) {
      const Token& at = cur();
      ++i_;
      l = binary(Expr::Kind::OR, at, std::move(l), parse_and());
    }
    return l;
  }

  ExprPtr parse_and() {
    ExprPtr l = parse_not();
    while (is_name("and")) {
      const Token& at = cur();
      ++i_;
      l = binary(Expr::Kind::AND, at, std::move(l), parse_not());
    }
    return l;
  }

  ExprPtr parse_not() {
    if (is_name("not")) {
      const Token& at = cur();
      ++i_;
      auto n = make<Expr>(Expr::Kind::NOT, at);
      if (++depth_ > kMaxDepth) fail("expression nested too deeply");
      n->args.push_back(parse_not());
      --depth_;
      return n;
    }
    return parse_compare();
  }

  ExprPtr parse_compare() {
    const Token& at = cur();
    ExprPtr first = parse_math1();
    std::unique_ptr<Expr> cmp;
    while (true) {
      std::string op;
      if (cur().type == Token::OP &&
          (cur().text == "==" || cur().text == "!=" || cur().text == "<" || cur().text == "<=" ||
           cur().text == ">" || cur().text == ">=")) {
        op = cur().text;
        ++i_;
      } else if (is_name("in")) {
        op = "in";
        ++i_;
      } else if (is_name("not") && peek().type == Token::NAME && peek().text == "in") {
        op = "notin";
        i_ += 2;
      } else {
        break;
      }
      if (!cmp) {
        cmp = make<Expr>(Expr::Kind::COMPARE, at);
        cmp->args.push_back(std::move(first));
      }
      cmp->ops.push_back(op);
      cmp->args.push_back(parse_math1());
    }
    return cmp ? std::move(cmp) : std::move(first);
  }

  ExprPtr parse_math1() {
    ExprPtr l = parse_concat();
    while (is_op("+") || is_op("-")) {
      const Token& at = cur();
      std::string op = cur().text;
      ++i_;
      l = binary(Expr::Kind::BINARY, at, std::move(l), parse_concat(), op);
    }
    return l;
  }

  ExprPtr parse_concat() {
    ExprPtr l = parse_math2();
    while (is_op("~")) {
      const Token& at = cur();
      ++i_;
      l = binary(Expr::Kind::BINARY, at, std::move(l), parse_math2(), "~");
    }
    return l;
  }

  ExprPtr parse_math2() {
    ExprPtr l = parse_pow();
    while (is_op("*") || is_op("/") || is_op("//") || is_op("%")) {
      const Token& at = cur();
      std::string op = cur().text;
      ++i_;
      l = binary(Expr::Kind::BINARY, at, std::move(l), parse_pow(), op);
    }
    return l;
  }

  ExprPtr parse_pow() {
    ExprPtr l = parse_unary(true);
    while (is_op("**")) {
      const Token& at = cur();
      ++i_;
      l = binary(Expr::Kind::BINARY, at, std::move(l), parse_unary(true), "**");
    }
    return l;
  }

  ExprPtr parse_unary(bool with_filter) {
    const Token& at = cur();
    ExprPtr node;
    if (is_op("-") || is_op("+")) {
      bool neg = is_op("-");
      ++i_;
      node = make<Expr>(neg ? Expr::Kind::NEG : Expr::Kind::POS, at);
      if (++depth_ > kMaxDepth) fail("expression nested too deeply");
      node->args.push_back(parse_unary(false));
      --depth_;
    } else {
      node = parse_primary();
    }
    node = parse_postfix(std::move(node));
    if (with_filter) node = parse_filter_expr(std::move(node));
    return node;
  }

  ExprPtr parse_primary() {
    const Token& t = cur();
    if (t.type == Token::NAME) {
      ++i_;
      if (t.text == "true" || t.text == "True" || t.text == "false" || t.text == "False") {
        auto e = make<Expr>(Expr::Kind::LITERAL, t);
        e->literal = Value(t.text[0] == 't' || t.text[0] == 'T');
        return e;
      }
      if (t.text == "none" || t.text == "None") {
        auto e = make<Expr>(Expr::Kind::LITERAL, t);
        e->literal = Value::none();
        return e;
      }
      auto e = make<Expr>(Expr::Kind::NAME, t);
      e->name = t.text;
      return e;
    }
    if (t.type == Token::STRING) {
      std::string s;
      while (cur().type == Token::STRING) s += toks_[i_++].text;  // 'a' 'b' == 'ab'
      auto e = make<Expr>(Expr::Kind::LITERAL, t);
      e->literal = Value(std::move(s));
      return e;
    }
    if (t.type == Token::INT || t.type == Token::FLOAT) {
      ++i_;
      auto e = make<Expr>(Expr::Kind::LITERAL, t);
      e->literal = t.type == Token::INT ? Value(t.ival) : Value(t.fval);
      return e;
    }
    if (is_op("(")) {
      ++i_;
      ExprPtr e = parse_tuple(true, true);
      expect_op(")");
      return e;
    }
    if (is_op("[")) {
      ++i_;
      auto e = make<Expr>(Expr::Kind::LIST, t);
      while (!is_op("]")) {
        if (!e->args.empty()) expect_op(",");
        if (is_op("]")) break;
        e->args.push_back(parse_expression(true));
      }
      ++i_;
      return e;
    }
    if (is_op("{")) {
      ++i_;
      auto e = make<Expr>(Expr::Kind::DICT, t);
      while (!is_op("}")) {
        if (!e->args.empty()) expect_op(",");
        if (is_op("}")) break;
        e->args.push_back(parse_expression(true));
        expect_op(":");
        e->args.push_back(parse_expression(true));
      }
      ++i_;
      return e;
    }
    fail("unexpected " + describe(t));
  }

  ExprPtr parse_postfix(ExprPtr node) {
    while (true) {
      if (is_op(".") || is_op("[")) {
        node = parse_subscript(std::move(node));
      } else if (is_op("(")) {
        node = parse_call(std::move(node));
      } else {
        return node;
      }
    }
  }

  ExprPtr parse_filter_expr(ExprPtr node) {
    while (true) {
      if (is_op("|")) {
        node = parse_filter(std::move(node), cur());
      } else if (is_name("is")) {
        node = parse_test(std::move(node));
      } else if (is_op("(")) {
        node = parse_call(std::move(node));
      } else {
        return node;
      }
    }
  }

  ExprPtr parse_subscript(ExprPtr node) {
    const Token& at = cur();
    if (is_op(".")) {
      ++i_;
      if (cur().type == Token::INT) {
        auto g = make<Expr>(Expr::Kind::GETITEM, at);
        auto idx = make<Expr>(Expr::Kind::LITERAL, cur());
        idx->literal = Value(cur().ival);
        ++i_;
        g->args.push_back(std::move(node));
        g->args.push_back(std::move(idx));
        return g;
      }
      auto g = make<Expr>(Expr::Kind::GETATTR, at);
      g->name = expect_name();
      g->args.push_back(std::move(node));
      return g;
    }
    ++i_;  // [
    ExprPtr start, stop, step;
    bool is_slice = false;
    if (!is_op(":")) start = parse_tuple(true);
    if (is_op(":")) {
      is_slice = true;
      ++i_;
      if (!is_op("]") && !is_op(":")) stop = parse_expression(true);
      if (is_op(":")) {
        ++i_;
        if (!is_op("]")) step = parse_expression(true);
      }
    }
    expect_op("]");
    auto g = make<Expr>(is_slice ? Expr::Kind::SLICE : Expr::Kind::GETITEM, at);
    g->args.push_back(std::move(node));
    g->args.push_back(std::move(start));
    if (is_slice) {
      g->args.push_back(std::move(stop));
      g->args.push_back(std::move(step));
    }
    return g;
  }

  void parse_call_args(Expr& e) {
    expect_op("(");
    bool first = true;
    while (!is_op(")")) {
      if (!first) expect_op(",");
      first = false;
      if (is_op(")")) break;
      if (is_op("*") || is_op("**"))
        fail("*args and **kwargs in calls are not supported by tuna's template engine");
      if (cur().type == Token::NAME && peek().type == Token::OP && peek().text == "=") {
        std::string k = cur().text;
        i_ += 2;
        e.kwargs.emplace_back(std::move(k), parse_expression(true));
      } else {
        if (!e.kwargs.empty()) fail("positional argument after a keyword argument");
        e.args.push_back(parse_expression(true));
      }
    }
    ++i_;
  }

  ExprPtr parse_call(ExprPtr node) {
    auto c = make<Expr>(Expr::Kind::CALL, cur());
    c->args.push_back(std::move(node));
    parse_call_args(*c);
    return c;
  }

  ExprPtr parse_filter(ExprPtr node, const Token& at, bool after_pipe = true) {
    if (after_pipe) ++i_;  // |
    const Token& name_tok = cur();
    std::string name = expect_name();
    while (is_op(".")) {
      ++i_;
      name += "." + expect_name();
    }
    if (!has_filter(name))
      fail("no filter named '" + name + "' in tuna's template engine", &name_tok);
    auto f = make<Expr>(Expr::Kind::FILTER, at);
    f->name = std::move(name);
    f->args.push_back(std::move(node));
    if (is_op("(")) parse_call_args(*f);
    return f;
  }

  ExprPtr parse_test(ExprPtr node) {
    const Token& at = cur();
    ++i_;  // is
    auto t = make<Expr>(Expr::Kind::TEST, at);
    if (is_name("not")) {
      ++i_;
      t->negated = true;
    }
    const Token& name_tok = cur();
    t->name = expect_name();
    if (!has_test(t->name))
      fail("no test named '" + t->name + "' in tuna's template engine", &name_tok);
    t->args.push_back(std::move(node));
    const Token& c = cur();
    if (is_op("(")) {
      parse_call_args(*t);
    } else if ((c.type == Token::NAME || c.type == Token::STRING || c.type == Token::INT ||
                c.type == Token::FLOAT || is_op("[") || is_op("{")) &&
               !(c.type == Token::NAME &&
                 (c.text == "else" || c.text == "or" || c.text == "and"))) {
      if (is_name("is")) fail("you cannot chain multiple tests with 'is'");
      t->args.push_back(parse_postfix(parse_primary()));
    }
    return t;
  }
};

}  // namespace

Body parse_template(std::string_view source) {
  // jinja2 normalises every newline to "\n" and drops one trailing newline.
  std::string src;
  src.reserve(source.size());
  for (size_t i = 0; i < source.size(); ++i) {
    if (source[i] == '\r') {
      src += '\n';
      if (i + 1 < source.size() && source[i + 1] == '\n') ++i;
    } else {
      src += source[i];
    }
  }
  if (!src.empty() && src.back() == '\n') src.pop_back();
  std::vector<Token> toks;
  Parser* parser = nullptr;
  try {
    toks = Lexer(src).run();
  } catch (TemplateError& e) {
    // The lexer reports a byte offset in line(); turn it into line and column.
    Parser p(src, {});
    int line, col;
    p.position(static_cast<size_t>(e.line()), &line, &col);
    e.set_position(line, col);
    throw;
  }
  Parser p(src, std::move(toks));
  parser = &p;
  return parser->parse();
}

}  // namespace tuna::jinja
