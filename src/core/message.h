// Pieces of error messages about untrusted input (file names, tensor names, keys, parser
// messages): terminal-safe rendering and "did you mean" suggestions. The messages themselves
// (what, where, hint) stay with each component; see error.h.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace tuna {

// `s` with control bytes escaped as \xNN, cut to `max_len` bytes (then marked "...").
std::string printable(std::string_view s, size_t max_len = 200);
// The same, escaping non-ASCII bytes too (for text that may quote arbitrary bytes).
std::string printable_ascii(std::string_view s, size_t max_len = 200);
// printable(s) in single quotes: 'name'.
std::string quote(std::string_view s);

// "a, b, c": the names a message lists (supported values, known keys).
std::string join_names(const std::vector<std::string>& names);

// 1-based line and column (in characters, counting UTF-8 sequences) of byte `offset` of `text`.
struct TextPosition {
  size_t line = 1, column = 1;
};
TextPosition text_position(std::string_view text, size_t offset);

// The one wording of an encoding error, for every reader of UTF-8 text (configs, data, JSON
// files, templates): "invalid UTF-8 byte 0xFF at line 3, column 7 (byte offset 123)". The
// first form finds the position of `offset` itself; the second takes it from a caller that
// tracks positions (with_line false drops "line N, "; `file_offset` is the offset in the file
// when `text` is a part of it).
std::string invalid_utf8_at(std::string_view text, size_t offset);
std::string invalid_utf8_at(unsigned char byte, TextPosition at, bool with_line,
                            size_t file_offset);

// Levenshtein distance.
size_t edit_distance(std::string_view a, std::string_view b);
// The candidate closest to `name` (the first of equals), or nullptr when none is close enough
// to suggest: within max(1, |name| / 3) edits.
const std::string* closest_name(std::string_view name, const std::vector<std::string>& candidates);

}  // namespace tuna
