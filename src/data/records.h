// Dataset records from JSONL, a JSON array, or CSV / TSV files, each with where it came from
// (file and 1-based line; in a JSON array also the 1-based record number) so every later error
// can point at it. Input must be UTF-8: an invalid byte is an encoding error naming line, column
// and byte offset. CSV follows RFC 4180 (quoted fields, "" escapes, newlines inside quotes;
// header row = column names); our own small parser — none of the project's libraries reads CSV.
// The data rules users read are in docs/data.md.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/message.h"

namespace tuna {

struct Record {
  nlohmann::ordered_json value;  // a JSON object (CSV: column → string)
  std::string file;
  size_t line = 0;        // 1-based line where the record starts (0: unknown)
  size_t index = 0;       // 0-based position in the file (shown 1-based: "record index+1")
  bool in_array = false;  // an element of a JSON array (where() says "record N")

  // "train.jsonl line 12" / "train.json record 3 (line 7)" — every number 1-based.
  std::string where() const;
};

// A record that could not be read or used (bad JSON or encoding, not an object, ragged CSV row,
// a missing or empty field), written to the rejects file with skip_invalid.
struct RejectedRecord {
  std::string file;
  size_t line = 0;     // 1-based line where it starts (0: unknown)
  std::string raw;     // the offending text (reject_preview; may hold invalid UTF-8)
  std::string reason;  // what is wrong
  size_t record = 0;   // 1-based record number in a JSON array (0: not an array element)
};

// The lowercased extension of a file path ("train.JSONL" → "jsonl"; "" when it has none), and
// whether read_records reads a file of that name.
std::string data_file_extension(const std::string& path);
bool readable_data_file(const std::string& path);

// Reads every record of `path` (.jsonl/.ndjson, .json, .csv/.tsv by extension). A malformed
// record is a user error naming file and line, unless `rejects` is given: then it is skipped
// and appended there. `key` names the config key that gave the path (for messages).
std::vector<Record> read_records(const std::string& path,
                                 std::vector<RejectedRecord>* rejects = nullptr,
                                 const std::string& key = "dataset");

// A rejected record's text as the rejects file shows it: its first 500 bytes, never cut inside
// a UTF-8 character (a cut one would be written as U+FFFD).
constexpr size_t kRejectPreviewBytes = 500;
std::string reject_preview(std::string_view raw);

// Offset of the first byte of `s` at or after `from` that is not part of well-formed UTF-8
// (std::string::npos when all is well).
size_t find_invalid_utf8(const std::string& s, size_t from = 0);

// "line 3, column 7" style position of byte `offset` of `text` (core/message.h's TextPosition).
TextPosition position_of(const std::string& text, size_t offset);

}  // namespace tuna
