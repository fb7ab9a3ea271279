// Tokens of tuna's Jinja engine and the lexer that makes them (jinja_lexer.cpp; our own, see
// jinja_ast.h). Internal to the engine.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "template/jinja_value.h"

namespace tuna::jinja {

struct Token {
  enum Type { DATA, VAR_BEGIN, VAR_END, BLOCK_BEGIN, BLOCK_END, NAME, STRING, INT, FLOAT, OP, END };
  Type type;
  std::string text;  // DATA text, NAME, unescaped STRING, OP
  int64_t ival = 0;
  double fval = 0;
  size_t pos = 0;  // byte offset in the normalised source
};

// Tokens of a template whose newlines are already normalised. A lexing error is a
// TemplateError("TemplateSyntaxError") whose line() holds the byte offset (the caller turns it
// into line and column).
std::vector<Token> lex_template(std::string_view normalized_source);

}  // namespace tuna::jinja
