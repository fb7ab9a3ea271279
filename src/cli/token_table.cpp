// The token table (see token_table.h).
#include "cli/token_table.h"

#include <cstdio>

namespace tuna::cli {

// Printable form of a piece: control characters and invalid bytes escaped.
static std::string printable_piece(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (c == '\n')
      out += "\\n";
    else if (c == '\t')
      out += "\\t";
    else if (c == '\r')
      out += "\\r";
    else if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

void print_token_table(const Tokenizer& tok, const Tokenizer::Encoding& enc) {
  for (size_t i = 0; i < enc.ids.size(); ++i) {
    const int32_t id = enc.ids[i];
    const bool special = tok.is_special(id) || (i < enc.special_mask.size() && enc.special_mask[i]);
    std::printf("%6d  %s%s\n", id, printable_piece(tok.id_to_piece(id)).c_str(),
                special ? "  [special]" : "");
  }
}

}  // namespace tuna::cli
