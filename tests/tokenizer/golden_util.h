// Shared helpers of the tokenizer tests: reading the gzip goldens (through `gzip -dc`, so the
// tests need no zlib) and loading the golden tokenizers once per process.
#pragma once

#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "tokenizer/tokenizer.h"

namespace tuna::test {

inline std::string golden_path(const std::string& rel) {
  return std::string(TUNA_GOLDEN_DIR) + "/tokenizer/" + rel;
}

inline std::string read_gz(const std::string& path) {
  std::string cmd = "gzip -dc '" + path + "'";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) throw std::runtime_error("cannot run " + cmd);
  std::string out;
  char buf[1 << 16];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  if (pclose(p) != 0) throw std::runtime_error("failed: " + cmd);
  return out;
}

inline std::vector<nlohmann::json> read_jsonl_gz(const std::string& path) {
  std::string all = read_gz(path);
  std::vector<nlohmann::json> rows;
  size_t start = 0;
  while (start < all.size()) {
    size_t nl = all.find('\n', start);
    if (nl == std::string::npos) nl = all.size();
    if (nl > start) rows.push_back(nlohmann::json::parse(all.substr(start, nl - start)));
    start = nl + 1;
  }
  return rows;
}

inline std::string from_hex(const std::string& hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2)
    out.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  return out;
}

// The corpus strings, raw bytes for the invalid-UTF-8 rows.
inline const std::vector<std::string>& corpus() {
  static const std::vector<std::string> c = [] {
    std::vector<std::string> v;
    for (const auto& r : read_jsonl_gz(golden_path("corpus.jsonl.gz")))
      v.push_back(r.contains("hex") ? from_hex(r["hex"]) : r["text"].get<std::string>());
    return v;
  }();
  return c;
}

inline const Tokenizer& golden_tokenizer(const std::string& name) {
  static std::map<std::string, std::unique_ptr<Tokenizer>> cache;
  auto it = cache.find(name);
  if (it != cache.end()) return *it->second;
  std::string dir = golden_path(name) + "/";
  nlohmann::json tj = nlohmann::json::parse(read_gz(dir + "tokenizer.json.gz"));
  nlohmann::json cj = nlohmann::json::parse(read_gz(dir + "tokenizer_config.json.gz"));
  auto t = std::make_unique<Tokenizer>(
      Tokenizer::from_json(tj, &cj, dir + "tokenizer.json", dir + "tokenizer_config.json"));
  return *cache.emplace(name, std::move(t)).first->second;
}

// Concatenation without `"literal" + std::string` (GCC 12 reports a bogus -Wrestrict there).
template <typename... A>
std::string cat(const A&... parts) {
  std::string s;
  (s.append(std::string_view(parts)), ...);
  return s;
}

// Printable form of a string for failure messages.
inline std::string show(const std::string& s, size_t max = 160) {
  std::string out;
  for (unsigned char c : s) {
    if (out.size() > max) {
      out += "...";
      break;
    }
    if (c == '\n')
      out += "\\n";
    else if (c == '\t')
      out += "\\t";
    else if (c == '\r')
      out += "\\r";
    else if (c < 0x20 || c == 0x7F) {
      char b[8];
      std::snprintf(b, sizeof b, "\\x%02X", c);
      out += b;
    } else
      out.push_back(static_cast<char>(c));
  }
  std::string r = "\"";
  r += out;
  r += '"';
  return r;
}

inline std::string show_ids(const std::vector<int32_t>& ids, size_t max = 40) {
  std::string s = "[";
  for (size_t i = 0; i < ids.size() && i < max; ++i) {
    if (i) s += ',';
    s += std::to_string(ids[i]);
  }
  if (ids.size() > max) {
    s += ",...(";
    s += std::to_string(ids.size());
    s += ')';
  }
  s += ']';
  return s;
}

// Counts mismatches of a parity suite and keeps the first few for the failure message.
struct Mismatches {
  size_t count = 0, total = 0;
  std::string first;
  void add(const std::string& what) {
    if (++count <= 4) first += cat("\n  ", what);
  }
  std::string report(const std::string& name) const {
    return cat(name, ": ", std::to_string(count), " of ", std::to_string(total),
               " mismatched; first:", first);
  }
};

// Runs `f`, expecting a user error (exit status 2) whose message holds every fragment.
template <typename F>
void expect_user_error(F f, std::initializer_list<std::string> fragments) {
  try {
    f();
    FAIL() << "expected a user error";
  } catch (const Error& e) {
    EXPECT_EQ(e.exit_status(), 2) << e.what();
    for (const auto& frag : fragments)
      EXPECT_NE(std::string(e.what()).find(frag), std::string::npos)
          << "missing \"" << frag << "\" in: " << e.what();
  }
}

}  // namespace tuna::test
