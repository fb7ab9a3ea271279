// Syntax tree of tuna's Jinja engine and its parser (our own: no packaged C++ Jinja exists on
// this platform). The lexer follows jinja2's with the settings transformers renders chat
// templates with: trim_blocks, lstrip_blocks, `-`/`+` whitespace control, newlines normalised
// and one trailing newline dropped (keep_trailing_newline=False).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "template/jinja_value.h"

namespace tuna::jinja {

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

struct Expr {
  enum class Kind {
    LITERAL,   // literal
    NAME,      // name
    LIST,      // args = items
    TUPLE,     // args = items
    DICT,      // args = k0, v0, k1, v1, ...
    GETATTR,   // args[0] . name
    GETITEM,   // args[0] [ args[1] ]
    SLICE,     // args[0] [ args[1] : args[2] : args[3] ] (null parts allowed)
    CALL,      // args[0] ( args[1..], kwargs )
    FILTER,    // args[0] | name ( args[1..], kwargs )
    TEST,      // args[0] is [not] name ( args[1..] )
    NEG,       // - args[0]
    POS,       // + args[0]
    NOT,       // not args[0]
    BINARY,    // args[0] name args[1]: + - * / // % ** ~
    AND,       // args[0] and args[1]
    OR,        // args[0] or args[1]
    COMPARE,   // args[0] ops[0] args[1] ops[1] args[2] ...
    CONDEXPR,  // args[1] if args[0] else args[2] (args[2] may be null)
  };
  Kind kind;
  int line = 0, column = 0;
  Value literal;
  std::string name;
  bool negated = false;  // TEST: `is not`
  std::vector<ExprPtr> args;
  std::vector<std::pair<std::string, ExprPtr>> kwargs;
  std::vector<std::string> ops;  // COMPARE: == != < <= > >= in notin
};

struct Node;
using Body = std::vector<std::unique_ptr<Node>>;

struct Node {
  enum class Kind {
    TEXT,       // text
    OUTPUT,     // {{ expr }}
    IF,         // branches: (condition, body)...; a final (null, body) is the else
    FOR,        // for targets in expr [if filter]: body [else else_body]
    SET,        // set targets = expr   |  set targets[0].attr = expr (attr non-empty)
    SET_BLOCK,  // set targets[0] %} body {% endset
    MACRO,      // macro name(params): body
    BREAK,
    CONTINUE,
    GENERATION,    // {% generation %} body {% endgeneration %}: marks assistant output
    FILTER_BLOCK,  // {% filter name(args) %} body {% endfilter %}: expr = FILTER over a NAME
  };
  Kind kind;
  int line = 0, column = 0;
  std::string text;
  ExprPtr expr;
  ExprPtr filter;  // FOR: the `if` filter
  std::vector<std::string> targets;
  std::string attr;
  std::vector<std::pair<ExprPtr, Body>> branches;
  Body body, else_body;
  std::string name;                                     // MACRO
  std::vector<std::pair<std::string, ExprPtr>> params;  // MACRO: name, default (may be null)
};

// Parses a template. Throws TemplateError("TemplateSyntaxError", ...) with line and column.
Body parse_template(std::string_view source);

// Every filter and test name the engine implements (the parser rejects others up front).
bool has_filter(std::string_view name);
bool has_test(std::string_view name);
std::vector<std::string> filter_names();
std::vector<std::string> test_names();

}  // namespace tuna::jinja
