// Record readers (see records.h).
#include "data/records.h"

#include <algorithm>

#include "core/error.h"
#include "core/mmap_file.h"

namespace tuna {
namespace {

using ojson = nlohmann::ordered_json;

std::string extension(const std::string& path) {
  size_t dot = path.find_last_of('.');
  size_t slash = path.find_last_of('/');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash)) return "";
  std::string e = path.substr(dot + 1);
  std::transform(e.begin(), e.end(), e.begin(), [](unsigned char c) { return std::tolower(c); });
  return e;
}

// The file's text without a UTF-8 byte-order mark.
std::string read_all(const std::string& path) {
  std::string s = read_file_bytes(path);
  if (s.size() >= 3 && s.compare(0, 3, "\xEF\xBB\xBF") == 0) s.erase(0, 3);
  return s;
}

void reject(std::vector<RejectedRecord>* rejects, const std::string& file, size_t line,
            const std::string& raw, const std::string& reason, const std::string& hint) {
  if (!rejects)
    throw_user_error("data", file + " line " + std::to_string(line) + ": " + reason,
                     hint + " (or set skip_invalid: true to skip bad rows)");
  rejects->push_back({file, line, raw.substr(0, 500), reason});
}

std::vector<Record> read_jsonl(const std::string& path, const std::string& text,
                               std::vector<RejectedRecord>* rejects) {
  std::vector<Record> out;
  size_t line = 0, start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string::npos) nl = text.size();
    ++line;
    std::string raw = text.substr(start, nl - start);
    start = nl + 1;
    if (!raw.empty() && raw.back() == '\r') raw.pop_back();
    if (raw.find_first_not_of(" \t") == std::string::npos) continue;  // blank line
    ojson v = ojson::parse(raw, nullptr, false);
    if (v.is_discarded()) {
      reject(rejects, path, line, raw, "not valid JSON",
             "each line of a .jsonl file is one JSON object");
      continue;
    }
    if (!v.is_object()) {
      reject(rejects, path, line, raw, "not a JSON object",
             "each line is an object such as {\"instruction\": ..., \"output\": ...}");
      continue;
    }
    out.push_back({std::move(v), path, line, out.size()});
  }
  return out;
}

std::vector<Record> read_json(const std::string& path, const std::string& text,
                              std::vector<RejectedRecord>* rejects) {
  ojson v;
  try {
    v = ojson::parse(text);
  } catch (const ojson::parse_error& e) {
    size_t line =
        1 + static_cast<size_t>(std::count(
                text.begin(),
                text.begin() + static_cast<std::ptrdiff_t>(std::min(e.byte, text.size())), '\n'));
    throw_user_error("data", path + " line " + std::to_string(line) + ": invalid JSON",
                     "a .json dataset is one array of objects; use .jsonl for one object per line");
  } catch (const ojson::out_of_range& e) {  // a number beyond double's range (1e999)
    throw_user_error("data", path + ": invalid JSON: " + e.what(),
                     "write numbers within double's range, or as strings");
  }
  if (v.is_object() && v.contains("data") && v["data"].is_array()) v = v["data"];
  if (!v.is_array())
    throw_user_error("data", path + ": expected a JSON array of records",
                     "write [{\"instruction\": ..., \"output\": ...}, ...]");
  std::vector<Record> out;
  for (size_t i = 0; i < v.size(); ++i) {
    if (!v[i].is_object()) {
      if (!rejects)
        throw_user_error("data", path + " record " + std::to_string(i) + ": not a JSON object",
                         "every element of the array is an object (or set skip_invalid: true)");
      rejects->push_back({path, 0, v[i].dump().substr(0, 500),
                          "record " + std::to_string(i) + " is not an object"});
      continue;
    }
    out.push_back({std::move(v[i]), path, 0, i});
  }
  return out;
}

// RFC 4180 CSV (or TSV): returns rows of fields with the line each row starts on.
std::vector<Record> read_csv(const std::string& path, const std::string& text, char sep,
                             std::vector<RejectedRecord>* rejects) {
  std::vector<std::pair<size_t, std::vector<std::string>>> rows;
  std::vector<std::string> fields;
  std::string field;
  bool quoted = false, any = false;
  size_t line = 1, row_line = 1;
  for (size_t i = 0; i < text.size(); ++i) {
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
        rows.emplace_back(row_line, std::move(fields));
      }
      fields.clear();
      field.clear();
      any = false;
      row_line = ++line;
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
    rows.emplace_back(row_line, std::move(fields));
  }
  if (rows.empty()) return {};
  const std::vector<std::string> header = rows[0].second;
  std::vector<Record> out;
  for (size_t r = 1; r < rows.size(); ++r) {
    const auto& [at, f] = rows[r];
    if (f.size() != header.size()) {
      reject(rejects, path, at, "",
             std::to_string(f.size()) + " fields where the header has " +
                 std::to_string(header.size()),
             "quote fields that contain the separator or newlines");
      continue;
    }
    ojson obj = ojson::object();
    for (size_t k = 0; k < f.size(); ++k) obj[header[k]] = f[k];
    out.push_back({std::move(obj), path, at, out.size()});
  }
  return out;
}

}  // namespace

std::string Record::where() const {
  return line > 0 ? file + " line " + std::to_string(line)
                  : file + " record " + std::to_string(index);
}

std::vector<Record> read_records(const std::string& path, std::vector<RejectedRecord>* rejects) {
  const std::string ext = extension(path);
  if (ext != "jsonl" && ext != "ndjson" && ext != "json" && ext != "csv" && ext != "tsv")
    throw_user_error("data", "cannot tell the format of " + path,
                     "name the file .jsonl, .json, .csv or .tsv");
  const std::string text = read_all(path);
  if (ext == "jsonl" || ext == "ndjson") return read_jsonl(path, text, rejects);
  if (ext == "json") {
    // A .json file may hold JSON Lines too (datasets' load_dataset("json") reads both).
    size_t first = text.find_first_not_of(" \t\r\n");
    if (first != std::string::npos && text[first] == '{') {
      size_t nl = text.find('\n', first);
      if (nl != std::string::npos && text.find_first_not_of(" \t\r\n", nl) != std::string::npos &&
          !ojson::parse(text.substr(first, nl - first), nullptr, false).is_discarded())
        return read_jsonl(path, text, rejects);
    }
    return read_json(path, text, rejects);
  }
  return read_csv(path, text, ext == "csv" ? ',' : '\t', rejects);
}

}  // namespace tuna
