// Terminal-safe rendering of untrusted text and name suggestions. See message.h.
#include "core/message.h"

#include <algorithm>
#include <cstdio>

#include "core/utf8.h"

namespace tuna {

namespace {

std::string escape(std::string_view s, size_t max_len, bool ascii_only) {
  std::string out;
  const size_t end = utf8::cut_bytes(s, max_len);
  for (size_t i = 0; i < end; ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7f || (ascii_only && c >= 0x80)) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  if (end < s.size()) out += "...";
  return out;
}

}  // namespace

std::string printable(std::string_view s, size_t max_len) {
  return escape(s, max_len, false);
}

std::string printable_ascii(std::string_view s, size_t max_len) {
  return escape(s, max_len, true);
}

std::string quote(std::string_view s) {
  std::string out(1, '\'');  // appended, not "'" + ...: GCC 12 warns falsely (-Wrestrict)
  out += printable(s);
  out += '\'';
  return out;
}

std::string join_names(const std::vector<std::string>& names) {
  std::string s;
  for (size_t i = 0; i < names.size(); ++i) s += (i ? ", " : "") + names[i];
  return s;
}

TextPosition text_position(std::string_view text, size_t offset) {
  offset = std::min(offset, text.size());
  TextPosition p;
  size_t line_start = 0;
  for (size_t i = 0; i < offset; ++i)
    if (text[i] == '\n') {
      ++p.line;
      line_start = i + 1;
    }
  for (size_t i = line_start; i < offset;
       i += static_cast<size_t>(utf8::seq_len(static_cast<unsigned char>(text[i]))))
    ++p.column;
  return p;
}

std::string invalid_utf8_at(unsigned char byte, TextPosition at, bool with_line,
                            size_t file_offset) {
  char hex[8];
  std::snprintf(hex, sizeof hex, "0x%02X", byte);
  return std::string("invalid UTF-8 byte ") + hex + " at " +
         (with_line ? "line " + std::to_string(at.line) + ", " : std::string()) + "column " +
         std::to_string(at.column) + " (byte offset " + std::to_string(file_offset) + ")";
}

std::string invalid_utf8_at(std::string_view text, size_t offset) {
  const unsigned char byte = offset < text.size() ? static_cast<unsigned char>(text[offset]) : 0;
  return invalid_utf8_at(byte, text_position(text, offset), true, offset) +
         encoding_note(text, offset);
}

EncodingGuess guess_encoding(std::string_view text, size_t offset) {
  if (text.size() >= 2 &&
      ((text[0] == '\xFF' && text[1] == '\xFE') || (text[0] == '\xFE' && text[1] == '\xFF')))
    return {"UTF-16 (it starts with a UTF-16 byte-order mark)", "utf-16", true};
  // The bytes from the first invalid one to the end of its line (at most 4 KiB) read as CP949:
  // every byte >= 0x80 must start a valid pair, and most pairs must be KS X 1001 Hangul.
  size_t pairs = 0, hangul = 0;
  const size_t end = std::min({text.size(), text.find('\n', offset), offset + 4096});
  for (size_t i = offset; i < end; ++i) {
    const auto lead = static_cast<unsigned char>(text[i]);
    if (lead < 0x80) continue;
    const auto trail = i + 1 < text.size() ? static_cast<unsigned char>(text[i + 1]) : 0;
    const bool pair = lead >= 0x81 && lead <= 0xFE &&
                      ((trail >= 0x41 && trail <= 0x5A) || (trail >= 0x61 && trail <= 0x7A) ||
                       (trail >= 0x81 && trail <= 0xFE));
    if (!pair) {
      pairs = hangul = 0;
      break;
    }
    ++pairs;
    hangul += lead >= 0xB0 && lead <= 0xC8 && trail >= 0xA1;
    ++i;
  }
  // Two Hangul pairs at least: one pair alone is as likely two Latin-1 letters or an overlong
  // UTF-8 form (C0 AF).
  if (hangul >= 2 && 2 * hangul >= pairs)
    return {"CP949/EUC-KR (Korean Windows encoding)", "cp949", true};
  return {"Latin-1 or Windows-1252", "windows-1252", false};
}

std::string encoding_note(std::string_view text, size_t offset) {
  const EncodingGuess g = guess_encoding(text, offset);
  return g.sure ? std::string(" — the bytes look like ") + g.name : std::string();
}

std::string reencode_hint(std::string_view text, size_t offset) {
  const EncodingGuess g = guess_encoding(text, offset);
  // A sure guess is in the message already (encoding_note): the hint only says how to convert.
  return (g.sure ? std::string()
                 : std::string("the file is not UTF-8 (perhaps ") + g.name + "): ") +
         "re-save it as UTF-8, e.g. iconv -f " + g.iconv + " -t utf-8 IN > OUT";
}

size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

const std::string* closest_name(std::string_view name, const std::vector<std::string>& candidates) {
  const std::string* best = nullptr;
  size_t best_d = std::max<size_t>(1, name.size() / 3) + 1;
  for (const std::string& c : candidates) {
    // The distance is at least the difference in length: skip the O(n*m) table when that alone
    // rules the candidate out (a long mistyped or garbage key stays cheap).
    size_t diff = name.size() > c.size() ? name.size() - c.size() : c.size() - name.size();
    if (diff >= best_d) continue;
    size_t d = edit_distance(name, c);
    if (d < best_d) best_d = d, best = &c;
  }
  return best;
}

}  // namespace tuna
