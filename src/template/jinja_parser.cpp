// Parser of tuna's Jinja engine (our own; see jinja_ast.h; tokens come from jinja_lexer.h).
// Grammar and precedence follow jinja2's parser.py: condexpr < or < and < not < compare < + - <
// ~ < * / // % < ** < unary < postfix (. [] ()) < filters and tests, which bind tighter than every
// binary operator.
#include <algorithm>
#include <cstdlib>
#include <set>

#include "core/utf8.h"
#include "template/jinja_ast.h"
#include "template/jinja_lexer.h"

namespace tuna::jinja {
namespace {

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
    if (tag.starts_with("end") || tag == "elif" || tag == "else")
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
    toks = lex_template(src);
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
