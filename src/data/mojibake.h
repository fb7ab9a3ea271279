// Garbled training text ("mojibake"): U+FFFD replacement characters (text decoded with the wrong
// encoding and errors="replace", e.g. seed 004's CP949 Korean read as UTF-8) and UTF-8 that was
// read as CP1252 / Latin-1 ("안녕" → "ì•ˆë…•"). Detects, counts and names rows; never repairs.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "data/records.h"

namespace tuna {

struct MojibakeScan {
  size_t replacement_chars = 0;  // U+FFFD
  size_t cp1252_sequences = 0;   // runs of characters that are the CP1252 view of UTF-8 bytes
  bool any() const { return replacement_chars > 0 || cp1252_sequences > 0; }
};

// Scans one text. A CP1252 sequence is a lead character (Â..ô, the bytes C2..F4) followed by the
// continuation characters (bytes 80..BF: € ‚ … ™ ¡..¿, and the C1 controls Latin-1 gives) that
// make it one well-formed UTF-8 character. Counted when it cannot be real text: three or four
// bytes ("â€™"), "Ã"/"Â" + a character (not a closing quote, dash or ellipsis), or two-byte
// sequences back to back ("ÐŸÑ€"); a lone "ß…" or "É" + no-break space (French) is real text.
MojibakeScan scan_mojibake(std::string_view text);

// What a dataset's rows hold: rows with each kind, and where the first few are.
class MojibakeReport {
 public:
  // Scans the string values of `columns` (nested lists and objects too; a message's role is
  // named) of a record.
  void add(const Record& record, const std::vector<std::string>& columns);
  bool empty() const { return replacement_.rows == 0 && cp1252_.rows == 0; }
  size_t replacement_rows() const { return replacement_.rows; }
  size_t cp1252_rows() const { return cp1252_.rows; }
  // One clause for the data summary ("" when nothing was found): kinds, counts, first rows, hint.
  std::string summary() const;

  static constexpr size_t kShown = 3;  // rows named per kind

 private:
  struct Tally {
    size_t rows = 0, count = 0;
    std::vector<std::string> first;  // "train.jsonl line 4 messages[1].content (assistant)"
  };
  Tally replacement_, cp1252_;
};

}  // namespace tuna
