// Dataset records from JSONL, a JSON array, or CSV files, each with where it came from (file and
// line, or index in a JSON array) so every later error can point at it. CSV follows RFC 4180
// (quoted fields, "" escapes, newlines inside quotes; header row = column names); our own small
// parser — none of the project's libraries reads CSV.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace tuna {

struct Record {
  nlohmann::ordered_json value;  // a JSON object (CSV: column → string)
  std::string file;
  size_t line = 0;   // 1-based line where the record starts (0: unknown, see index)
  size_t index = 0;  // 0-based record number in the file

  // "train.jsonl line 12" / "train.json record 3"
  std::string where() const;
};

// A record that could not be read (bad JSON, not an object, ragged CSV row).
struct RejectedRecord {
  std::string file;
  size_t line = 0;
  std::string raw;     // the offending text (cut to 500 bytes)
  std::string reason;  // what is wrong
};

// Reads every record of `path` (.jsonl/.ndjson, .json, .csv/.tsv by extension). A malformed
// record is a user error naming file and line, unless `rejects` is given: then it is skipped
// and appended there.
std::vector<Record> read_records(const std::string& path,
                                 std::vector<RejectedRecord>* rejects = nullptr);

}  // namespace tuna
