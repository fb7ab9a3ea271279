// Pieces of error messages about untrusted input (file names, tensor names, keys, parser
// messages): terminal-safe rendering and "did you mean" suggestions. The messages themselves
// (what, where, hint) stay with each component; see error.h.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace tuna {

// `s` with control bytes escaped as \xNN, cut to at most `max_len` bytes of `s` (then marked
// "...") and never inside a UTF-8 character (utf8::cut_bytes).
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
// first form finds the position of `offset` itself and adds encoding_note; the second takes it from
// a caller that tracks positions (with_line false drops "line N, "; `file_offset` is the offset in
// the file when `text` is a part of it).
std::string invalid_utf8_at(std::string_view text, size_t offset);
std::string invalid_utf8_at(unsigned char byte, TextPosition at, bool with_line,
                            size_t file_offset);

// What text that is not UTF-8 most likely is, judged from the bytes at `offset` (the first
// invalid one) to the end of its line: a UTF-16 byte-order mark at the start, Korean CP949 /
// EUC-KR (double-byte Hangul: leads 0xB0-0xC8 with trails 0xA1-0xFE), else Latin-1 /
// Windows-1252 (one byte per accented letter).
struct EncodingGuess {
  const char* name;   // "CP949/EUC-KR (Korean Windows encoding)"
  const char* iconv;  // the name iconv -f takes: "cp949", "utf-16", "windows-1252"
  bool sure;          // a UTF-16 BOM, or two Hangul pairs or more (not the Latin-1 fallback)
};
EncodingGuess guess_encoding(std::string_view text, size_t offset);
// " — the bytes look like CP949/EUC-KR (Korean Windows encoding)" when the guess is sure, else
// "": appended to an invalid_utf8_at message.
std::string encoding_note(std::string_view text, size_t offset);
// The fix: "re-save it as UTF-8, e.g. iconv -f cp949 -t utf-8 IN > OUT" (a guess that is not
// sure is named first: "the file is not UTF-8 (perhaps Latin-1 or Windows-1252): re-save ...").
std::string reencode_hint(std::string_view text, size_t offset);

// Levenshtein distance.
size_t edit_distance(std::string_view a, std::string_view b);
// The candidate closest to `name` (the first of equals), or nullptr when none is close enough
// to suggest: within max(1, |name| / 3) edits.
const std::string* closest_name(std::string_view name, const std::vector<std::string>& candidates);

}  // namespace tuna
