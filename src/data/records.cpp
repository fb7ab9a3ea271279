// Record readers (see records.h): the encoding check shared by every format, then JSONL, JSON
// arrays (with the line each element starts on) and RFC 4180 CSV / TSV.
#include "data/records.h"

#include <algorithm>
#include <filesystem>

#include "core/error.h"
#include "core/mmap_file.h"
#include "core/utf8.h"

namespace tuna {
namespace {

using ojson = nlohmann::ordered_json;

constexpr const char* kSkipHint = " (or set skip_invalid: true to skip bad rows)";

bool has_bom(const std::string& s, size_t at = 0) {
  return s.compare(at, 3, "\xEF\xBB\xBF") == 0;
}

std::string hex_byte(unsigned char b) {
  const char* d = "0123456789ABCDEF";
  return std::string("0x") + d[b >> 4] + d[b & 15];
}

// Walks a text forward, turning byte offsets (non-decreasing) into lines and character columns.
class LineCursor {
 public:
  explicit LineCursor(const std::string& t) : t_(t) {}
  TextPosition at(size_t off) {
    off = std::min(off, t_.size());
    if (off < pos_) {
      pos_ = line_start_ = 0;
      line_ = 1;
    }
    for (; pos_ < off; ++pos_)
      if (t_[pos_] == '\n') {
        ++line_;
        line_start_ = pos_ + 1;
      }
    size_t col = 1;
    for (size_t i = line_start_; i < off;
         i += static_cast<size_t>(utf8::seq_len(static_cast<unsigned char>(t_[i]))))
      ++col;
    return {line_, col};
  }

 private:
  const std::string& t_;
  size_t pos_ = 0, line_ = 1, line_start_ = 0;
};

// "invalid UTF-8 byte 0xFF at [line 3, ]column 7 (byte offset 123)[ — the bytes look like
// CP949/EUC-KR (Korean Windows encoding)]": what, where and, when the bytes tell, which encoding.
std::string encoding_problem(const std::string& text, size_t off, TextPosition p, bool with_line,
                             size_t file_offset) {
  return invalid_utf8_at(static_cast<unsigned char>(text[off]), p, with_line, file_offset) +
         encoding_note(text, off);
}

// What nlohmann says after "syntax error while parsing ", as "value: unexpected ']'".
std::string json_detail(const std::exception& e) {
  std::string w = e.what();
  size_t p = w.find("syntax error while parsing ");
  if (p != std::string::npos) {
    w = w.substr(p + 27);
  } else if ((p = w.find(": ")) != std::string::npos) {
    w = w.substr(p + 2);
  }
  if ((p = w.find(" - ")) != std::string::npos) w.replace(p, 3, ": ");
  return w;
}

// A hint for a JSON syntax error at text[off] (a trailing comma, single quotes, ...).
std::string json_hint(const std::string& t, size_t off, const std::string& fallback) {
  if (off < t.size() && (t[off] == '}' || t[off] == ']')) {
    size_t p = off;
    while (p > 0 && std::isspace(static_cast<unsigned char>(t[p - 1]))) --p;
    if (p > 0 && t[p - 1] == ',')
      return "remove the trailing comma before '" + std::string(1, t[off]) + "' (JSON allows none)";
  }
  if (off < t.size() && t[off] == '\'') return "JSON strings use double quotes (\"...\")";
  return fallback;
}

void reject(std::vector<RejectedRecord>* rejects, const std::string& file, size_t line,
            const std::string& raw, const std::string& reason, const std::string& hint,
            size_t record = 0) {
  if (!rejects)
    throw_user_error("data", file + " line " + std::to_string(line) + ": " + reason,
                     hint + kSkipHint);
  rejects->push_back({file, line, reject_preview(raw), reason, record});
}

std::string not_an_object(const ojson& v) {
  return std::string("a JSON ") + v.type_name() + ", not an object";
}

std::vector<Record> read_jsonl(const std::string& path, const std::string& text,
                               std::vector<RejectedRecord>* rejects) {
  std::vector<Record> out;
  size_t line = 0, start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string::npos) nl = text.size();
    ++line;
    const size_t line_offset = start;
    std::string raw = text.substr(start, nl - start);
    start = nl + 1;
    if (!raw.empty() && raw.back() == '\r') raw.pop_back();  // CRLF line endings
    size_t skip = has_bom(raw) ? 3 : 0;                      // a BOM (also of joined files)
    if (raw.find_first_not_of(" \t", skip) == std::string::npos) continue;  // blank line
    if (size_t bad = find_invalid_utf8(raw); bad != std::string::npos) {
      LineCursor c(raw);
      reject(rejects, path, line, raw,
             encoding_problem(raw, bad, c.at(bad), false, line_offset + bad),
             reencode_hint(raw, bad));
      continue;
    }
    ojson v;
    try {
      v = ojson::parse(raw.begin() + static_cast<std::ptrdiff_t>(skip), raw.end());
    } catch (const ojson::exception& e) {
      const auto* pe = dynamic_cast<const ojson::parse_error*>(&e);
      const size_t off =
          std::min(raw.size(), skip + (pe && pe->byte > 0 ? pe->byte - 1 : raw.size()));
      LineCursor c(raw);
      reject(rejects, path, line, raw,
             "not valid JSON at column " + std::to_string(c.at(off).column) + " (" +
                 json_detail(e) + ")",
             json_hint(raw, off, "each line of a .jsonl file is one JSON object"));
      continue;
    }
    if (!v.is_object()) {
      reject(rejects, path, line, raw, not_an_object(v),
             v.is_array() ? "a .jsonl line holds one object; a file that is one JSON array "
                            "[{...}, {...}] is read as .json"
                          : "each line is an object such as {\"instruction\": ..., \"output\": "
                            "...}");
      continue;
    }
    out.push_back({std::move(v), path, line, out.size()});
  }
  return out;
}

// Skipping through JSON already known to be valid (so no checks): whitespace, a string, a value.
size_t skip_ws(const std::string& t, size_t i) {
  while (i < t.size() && std::isspace(static_cast<unsigned char>(t[i]))) ++i;
  return i;
}
size_t skip_string(const std::string& t, size_t i) {
  for (++i; i < t.size() && t[i] != '"'; ++i)
    if (t[i] == '\\') ++i;
  return i + 1;
}
size_t skip_value(const std::string& t, size_t i) {
  if (i >= t.size()) return i;
  if (t[i] == '"') return skip_string(t, i);
  if (t[i] != '{' && t[i] != '[') {
    while (i < t.size() && std::string_view(",]} \t\r\n").find(t[i]) == std::string_view::npos) ++i;
    return i;
  }
  int depth = 0;
  while (i < t.size()) {
    const char c = t[i];
    if (c == '"') {
      i = skip_string(t, i);
      continue;
    }
    if (c == '{' || c == '[') ++depth;
    if ((c == '}' || c == ']') && --depth == 0) return i + 1;
    ++i;
  }
  return i;
}

// [begin, end) of each record of a valid JSON document: the elements of the top-level array, or
// of the array under a top-level "data" key.
std::vector<std::pair<size_t, size_t>> element_spans(const std::string& t, size_t i) {
  std::vector<std::pair<size_t, size_t>> spans;
  i = skip_ws(t, i);
  if (i < t.size() && t[i] == '{') {
    size_t open = std::string::npos;
    for (i = skip_ws(t, i + 1); i < t.size() && t[i] == '"';) {
      const size_t key_end = skip_string(t, i);
      const bool is_data = t.compare(i, key_end - i, "\"data\"") == 0;
      i = skip_ws(t, skip_ws(t, key_end) + 1);  // past ':'
      if (is_data && i < t.size() && t[i] == '[') open = i;
      i = skip_ws(t, skip_value(t, i));
      if (i < t.size() && t[i] == ',') i = skip_ws(t, i + 1);
    }
    if (open == std::string::npos) return spans;
    i = open;
  }
  if (i >= t.size() || t[i] != '[') return spans;
  for (i = skip_ws(t, i + 1); i < t.size() && t[i] != ']';) {
    const size_t b = i;
    i = skip_value(t, i);
    spans.emplace_back(b, i);
    i = skip_ws(t, i);
    if (i < t.size() && t[i] == ',') i = skip_ws(t, i + 1);
  }
  return spans;
}

std::vector<Record> read_json(const std::string& path, const std::string& text, size_t body,
                              const std::vector<size_t>& invalid,
                              std::vector<RejectedRecord>* rejects) {
  // Bytes that are not UTF-8 become '?' (same offsets); the records holding them are rejected.
  std::string clean = text;
  for (size_t at : invalid) clean[at] = '?';
  ojson v;
  try {
    v = ojson::parse(clean.begin() + static_cast<std::ptrdiff_t>(body), clean.end());
  } catch (const ojson::exception& e) {
    const auto* pe = dynamic_cast<const ojson::parse_error*>(&e);
    const size_t off = std::min(text.size(), body + (pe && pe->byte > 0 ? pe->byte - 1 : 0));
    const TextPosition p = LineCursor(text).at(off);
    throw_user_error("data",
                     path + " line " + std::to_string(p.line) + ": not valid JSON at column " +
                         std::to_string(p.column) + " (" + json_detail(e) + ")",
                     json_hint(text, off,
                               "a .json dataset is one array of objects [{...}, {...}]; use "
                               ".jsonl for one object per line"));
  }
  const bool wrapped = v.is_object() && v.contains("data") && v["data"].is_array();
  if (wrapped) v = v["data"];
  if (!v.is_array())
    throw_user_error("data",
                     path + ": the file is " + (v.is_object() ? "one JSON object" : "a JSON ") +
                         (v.is_object() ? "" : v.type_name()) + ", not an array of records",
                     "write [{\"instruction\": ..., \"output\": ...}, ...] (or one object per "
                     "line in a .jsonl file)");
  std::vector<std::pair<size_t, size_t>> spans = element_spans(clean, body);
  if (spans.size() != v.size()) spans.assign(v.size(), {0, 0});  // lines unknown
  std::vector<Record> out;
  LineCursor cursor(text);
  auto bad = invalid.begin();
  for (size_t i = 0; i < v.size(); ++i) {
    const auto [b, e] = spans[i];
    const size_t line = e > 0 ? cursor.at(b).line : 0;
    const std::string where = "record " + std::to_string(i + 1);
    while (bad != invalid.end() && *bad < b) ++bad;
    if (bad != invalid.end() && *bad < e) {
      const TextPosition p = cursor.at(*bad);
      // Only reached with rejects: without them the first invalid byte already stopped the run.
      rejects->push_back({path, line, reject_preview(std::string_view(text).substr(b, e - b)),
                          where + ": " + encoding_problem(text, *bad, p, true, *bad), i + 1});
      continue;
    }
    if (!v[i].is_object()) {
      const std::string at = where + (line ? " (line " + std::to_string(line) + ")" : "");
      if (!rejects)
        throw_user_error("data", path + " " + at + ": " + not_an_object(v[i]),
                         std::string("every element of the array is an object {...}") + kSkipHint);
      rejects->push_back(
          {path, line, reject_preview(v[i].dump(-1, ' ', false, ojson::error_handler_t::replace)),
           at + ": " + not_an_object(v[i]), i + 1});
      continue;
    }
    out.push_back({std::move(v[i]), path, line, i, true});
  }
  return out;
}

struct CsvRow {
  size_t line, begin;  // 1-based line and byte offset where the row starts
  std::vector<std::string> fields;
};

// RFC 4180 CSV (or TSV): rows of fields with the line and offset each row starts at.
std::vector<CsvRow> split_csv(const std::string& path, const std::string& text, size_t body,
                              char sep) {
  std::vector<CsvRow> rows;
  std::vector<std::string> fields;
  std::string field;
  bool quoted = false, any = false;
  size_t line = 1, row_line = 1, row_begin = body;
  for (size_t i = body; i < text.size(); ++i) {
    char c = text[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          field += '"';
          ++i;
        } else {
          quoted = false;
        }
      } else {
        if (c == '\n') ++line;
        field += c;
      }
      continue;
    }
    if (c == '"' && field.empty()) {
      quoted = true;
      any = true;
    } else if (c == sep) {
      fields.push_back(std::move(field));
      field.clear();
      any = true;
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      if (any || !field.empty()) {
        fields.push_back(std::move(field));
        rows.push_back({row_line, row_begin, std::move(fields)});
      }
      fields.clear();
      field.clear();
      any = false;
      row_line = ++line;
      row_begin = i + 1;
    } else {
      field += c;
      any = true;
    }
  }
  if (quoted)
    throw_user_error("data",
                     path + " line " + std::to_string(row_line) + ": a quoted field never closes",
                     "close the quote, or double a quote inside a field (\"\")");
  if (any || !field.empty()) {
    fields.push_back(std::move(field));
    rows.push_back({row_line, row_begin, std::move(fields)});
  }
  return rows;
}

std::vector<Record> read_csv(const std::string& path, const std::string& text, size_t body,
                             char sep, const std::vector<size_t>& invalid,
                             std::vector<RejectedRecord>* rejects) {
  std::string clean = text;
  for (size_t at : invalid) clean[at] = '?';
  const std::vector<CsvRow> rows = split_csv(path, clean, body, sep);
  if (rows.empty()) return {};
  if (!invalid.empty() && (rows.size() == 1 || invalid[0] < rows[1].begin)) {
    const TextPosition p = position_of(text, invalid[0]);  // a header is never skipped
    throw_user_error("data",
                     path + " line " + std::to_string(p.line) + ": the header: " +
                         encoding_problem(text, invalid[0], p, false, invalid[0]),
                     reencode_hint(text, invalid[0]));
  }
  const std::vector<std::string>& header = rows[0].fields;
  for (size_t k = 0; k < header.size(); ++k)
    for (size_t j = 0; j < k; ++j)
      if (header[j] == header[k])
        throw_user_error("data",
                         path + " line " + std::to_string(rows[0].line) + ": column '" + header[k] +
                             "' appears twice in the header",
                         "give every column its own name");
  const std::string sep_name = sep == ',' ? "a comma" : "a tab";
  std::vector<Record> out;
  LineCursor cursor(text);
  auto bad = invalid.begin();
  for (size_t r = 1; r < rows.size(); ++r) {
    const CsvRow& row = rows[r];
    const size_t end = r + 1 < rows.size() ? rows[r + 1].begin : text.size();
    const std::string raw =
        reject_preview(std::string_view(text).substr(row.begin, end - row.begin));
    while (bad != invalid.end() && *bad < row.begin) ++bad;
    if (bad != invalid.end() && *bad < end) {  // only with rejects (else stopped before)
      const TextPosition p = cursor.at(*bad);
      rejects->push_back({path, row.line, raw, encoding_problem(text, *bad, p, true, *bad)});
      continue;
    }
    if (row.fields.size() != header.size()) {
      reject(rejects, path, row.line, raw,
             std::to_string(row.fields.size()) + " fields where the header (line " +
                 std::to_string(rows[0].line) + ") has " + std::to_string(header.size()),
             "every row has one field per header column; quote fields that contain " + sep_name +
                 " or a newline (\"a, b\")");
      continue;
    }
    ojson obj = ojson::object();
    for (size_t k = 0; k < row.fields.size(); ++k) obj[header[k]] = row.fields[k];
    out.push_back({std::move(obj), path, row.line, out.size()});
  }
  return out;
}

}  // namespace

std::string reject_preview(std::string_view raw) {
  return std::string(utf8::truncate_bytes(raw, kRejectPreviewBytes));
}

size_t find_invalid_utf8(const std::string& s, size_t from) {
  if (from >= s.size()) return std::string::npos;
  const size_t at = utf8::first_invalid(std::string_view(s).substr(from));
  return at == std::string_view::npos ? std::string::npos : from + at;
}

TextPosition position_of(const std::string& text, size_t offset) {
  return LineCursor(text).at(offset);
}

std::string Record::where() const {
  if (in_array)
    return file + " record " + std::to_string(index + 1) +
           (line > 0 ? " (line " + std::to_string(line) + ")" : "");
  return line > 0 ? file + " line " + std::to_string(line)
                  : file + " record " + std::to_string(index + 1);
}

std::string data_file_extension(const std::string& path) {
  size_t dot = path.find_last_of('.');
  size_t slash = path.find_last_of('/');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash)) return "";
  std::string e = path.substr(dot + 1);
  std::transform(e.begin(), e.end(), e.begin(), [](unsigned char c) { return std::tolower(c); });
  return e;
}

bool readable_data_file(const std::string& path) {
  const std::string e = data_file_extension(path);
  return e == "jsonl" || e == "ndjson" || e == "json" || e == "csv" || e == "tsv";
}

std::vector<Record> read_records(const std::string& path, std::vector<RejectedRecord>* rejects,
                                 const std::string& key) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    throw_user_error("data", key + ": " + path + " is a directory; tuna reads one dataset file",
                     "name one .jsonl, .json or .csv file (join several with: cat " + path +
                         "/*.jsonl > train.jsonl)");
  const std::string ext = data_file_extension(path);
  if (!readable_data_file(path))
    throw_user_error("data", key + ": cannot tell the format of " + path,
                     ext == "txt" ? "plain text goes one row per line as JSON Lines: {\"text\": "
                                    "\"...\"} in a .jsonl file"
                                  : "name the file .jsonl, .json, .csv or .tsv (docs/data.md)");
  if (!std::filesystem::exists(path, ec))
    throw_user_error("data", key + ": " + path + " does not exist",
                     "check the path (a relative path starts at the current directory)");
  const std::string text = read_file_bytes(path);
  if (text.size() >= 2 &&
      ((text[0] == '\xFF' && text[1] == '\xFE') || (text[0] == '\xFE' && text[1] == '\xFF')))
    throw_user_error("data",
                     key + ": " + path + " is UTF-16 text (byte-order mark " +
                         hex_byte(static_cast<unsigned char>(text[0])) + " " +
                         hex_byte(static_cast<unsigned char>(text[1])) + "), not UTF-8",
                     "re-save it as UTF-8, e.g. iconv -f utf-16 -t utf-8 IN > OUT");
  const size_t body = has_bom(text) ? 3 : 0;
  if (ext == "jsonl" || ext == "ndjson") return read_jsonl(path, text, rejects);

  // JSON and CSV: every byte that is not UTF-8 stops the run here, or (skip_invalid) rejects
  // the record it falls in.
  std::vector<size_t> invalid;
  for (size_t at = find_invalid_utf8(text, body); at != std::string::npos;
       at = find_invalid_utf8(text, at + 1))
    invalid.push_back(at);
  if (!invalid.empty() && !rejects) {
    const TextPosition p = position_of(text, invalid[0]);
    throw_user_error("data",
                     path + " line " + std::to_string(p.line) + ": " +
                         encoding_problem(text, invalid[0], p, false, invalid[0]),
                     reencode_hint(text, invalid[0]) + kSkipHint);
  }
  if (ext == "json") {
    // A .json file may hold JSON Lines too (datasets' load_dataset("json") reads both).
    size_t first = text.find_first_not_of(" \t\r\n", body);
    if (first != std::string::npos && text[first] == '{') {
      size_t nl = text.find('\n', first);
      if (nl != std::string::npos && text.find_first_not_of(" \t\r\n", nl) != std::string::npos &&
          !ojson::parse(utf8::lossy(std::string_view(text).substr(first, nl - first)), nullptr,
                        false)
               .is_discarded())
        return read_jsonl(path, text, rejects);
    }
    return read_json(path, text, body, invalid, rejects);
  }
  return read_csv(path, text, body, ext == "csv" ? ',' : '\t', invalid, rejects);
}

}  // namespace tuna
