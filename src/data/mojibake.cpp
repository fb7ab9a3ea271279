// Mojibake detection in training text (see mojibake.h). Works on code points; bytes that are not
// well-formed UTF-8 (records are checked before this sees them) end any sequence.
#include "data/mojibake.h"

#include <cstdint>
#include <nlohmann/json.hpp>

namespace tuna {
namespace {

using ojson = nlohmann::ordered_json;

constexpr uint32_t kNone = 0xFFFFFFFFu;

// The code point at s[i] (advancing i), or kNone for a byte that does not start a well-formed
// UTF-8 character (i advances by one).
uint32_t decode(std::string_view s, size_t& i) {
  const auto b = static_cast<unsigned char>(s[i]);
  int n = b < 0x80                 ? 1
          : b >= 0xC2 && b <= 0xDF ? 2
          : b >= 0xE0 && b <= 0xEF ? 3
          : b >= 0xF0 && b <= 0xF4 ? 4
                                   : 0;
  if (n == 0 || i + static_cast<size_t>(n) > s.size()) {
    ++i;
    return n == 1 ? b : kNone;
  }
  uint32_t cp = n == 1 ? b : n == 2 ? b & 0x1Fu : n == 3 ? b & 0x0Fu : b & 0x07u;
  for (int k = 1; k < n; ++k) {
    const auto c = static_cast<unsigned char>(s[i + static_cast<size_t>(k)]);
    if ((c & 0xC0u) != 0x80u) {
      ++i;
      return kNone;
    }
    cp = (cp << 6) | (c & 0x3Fu);
  }
  i += static_cast<size_t>(n);
  return cp;
}

// The byte a Windows-1252 (or, for the C1 controls U+0080..U+009F, Latin-1) decoder turned into
// `cp`, or -1 when no single byte becomes it.
int cp1252_byte(uint32_t cp) {
  // What Windows-1252 gives for the bytes 0x80..0x9F (0: undefined there; Latin-1's C1 control).
  static constexpr uint32_t kHigh[32] = {
      0x20AC, 0,      0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
      0x2039, 0x0152, 0,      0x017D, 0,      0,      0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
      0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0,      0x017E, 0x0178};
  if (cp >= 0x80 && cp <= 0xFF) return static_cast<int>(cp);
  for (int k = 0; k < 32; ++k)
    if (kHigh[k] == cp) return 0x80 + k;
  return -1;
}

// Characters that follow a word in real text: after "Ã" / "Â" (capitals in Portuguese,
// Vietnamese, Romanian: "IRMÃ”") they are not counted alone.
bool closing_punctuation(uint32_t cp) {
  return cp == 0x2019 || cp == 0x201D || cp == 0x00BB || cp == 0x2026 || cp == 0x2013 ||
         cp == 0x2014;
}

struct Sequence {
  size_t start, end;  // character positions [start, end)
  bool strong;
};

}  // namespace

MojibakeScan scan_mojibake(std::string_view text) {
  MojibakeScan scan;
  std::vector<uint32_t> cps;
  cps.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    const uint32_t cp = decode(text, i);
    if (cp == 0xFFFD) ++scan.replacement_chars;
    cps.push_back(cp);
  }
  std::vector<Sequence> seqs;
  for (size_t i = 0; i < cps.size(); ++i) {
    const int lead = cp1252_byte(cps[i]);
    if (lead < 0xC2 || lead > 0xF4) continue;
    const size_t n = lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
    if (i + n > cps.size()) continue;
    bool ok = true;
    for (size_t k = 1; k < n && ok; ++k) {
      const int b = cp1252_byte(cps[i + k]);
      // Second-byte limits of well-formed UTF-8 (no overlongs, surrogates, or above U+10FFFF).
      const int lo = k > 1 ? 0x80 : lead == 0xE0 ? 0xA0 : lead == 0xF0 ? 0x90 : 0x80;
      const int hi = k > 1 ? 0xBF : lead == 0xED ? 0x9F : lead == 0xF4 ? 0x8F : 0xBF;
      // A no-break space only completes "Ã " / "Â " (à, and NBSP itself): after any other lead it
      // is French typography ("à « oui »", "CAFÉ :").
      const bool nbsp_ok = n == 2 && (lead == 0xC2 || lead == 0xC3);
      ok = b >= lo && b <= hi && (cps[i + k] != 0xA0 || nbsp_ok);
    }
    if (!ok) continue;
    const bool strong =
        n > 2 || ((lead == 0xC2 || lead == 0xC3) && !closing_punctuation(cps[i + 1]));
    seqs.push_back({i, i + n, strong});
    i += n - 1;
  }
  for (size_t k = 0; k < seqs.size(); ++k) {
    const bool joined = (k > 0 && seqs[k - 1].end == seqs[k].start) ||
                        (k + 1 < seqs.size() && seqs[k + 1].start == seqs[k].end);
    if (seqs[k].strong || joined) ++scan.cp1252_sequences;
  }
  return scan;
}

namespace {

// Visits the strings of `v` with their path ("context[1]", "messages[2].content") and the role
// of the message they belong to.
template <typename F>
void walk_strings(const ojson& v, const std::string& path, const std::string& role, F&& f) {
  if (v.is_string()) {
    f(v.get_ref<const std::string&>(), path, role);
  } else if (v.is_array()) {
    for (size_t k = 0; k < v.size(); ++k)
      walk_strings(v[k], path + "[" + std::to_string(k) + "]", role, f);
  } else if (v.is_object()) {
    std::string r = role;
    for (const char* key : {"role", "from"})
      if (v.contains(key) && v[key].is_string()) r = v[key].get<std::string>();
    for (const auto& [key, item] : v.items())
      if (key != "role" && key != "from") walk_strings(item, path + "." + key, r, f);
  }
}

}  // namespace

void MojibakeReport::add(const Record& rec, const std::vector<std::string>& columns) {
  bool seen_replacement = false, seen_cp1252 = false;
  for (const std::string& col : columns) {
    if (!rec.value.contains(col)) continue;
    walk_strings(rec.value[col], col, "",
                 [&](const std::string& s, const std::string& path, const std::string& role) {
                   const MojibakeScan scan = scan_mojibake(s);
                   if (!scan.any()) return;
                   const std::string where =
                       rec.where() + " " + path + (role.empty() ? "" : " (" + role + ")");
                   auto note = [&](Tally& t, size_t count, bool& seen) {
                     if (count == 0) return;
                     t.count += count;
                     if (seen) return;
                     seen = true;
                     ++t.rows;
                     if (t.first.size() < kShown) t.first.push_back(where);
                   };
                   note(replacement_, scan.replacement_chars, seen_replacement);
                   note(cp1252_, scan.cp1252_sequences, seen_cp1252);
                 });
  }
}

std::string MojibakeReport::summary() const {
  if (empty()) return "";
  auto clause = [](const Tally& t, const std::string& what) {
    std::string s = what + " (" + std::to_string(t.count) + ") in " + std::to_string(t.rows) +
                    (t.rows == 1 ? " row: " : " rows: ");
    for (size_t k = 0; k < t.first.size(); ++k) s += (k ? ", " : "") + t.first[k];
    if (t.rows > t.first.size()) s += ", ...";
    return s;
  };
  std::string s = "garbled text (mojibake) trains as it is: ";
  if (replacement_.rows) s += clause(replacement_, "U+FFFD replacement characters");
  if (cp1252_.rows)
    s += (replacement_.rows ? "; " : "") +
         clause(cp1252_, "UTF-8 read as CP1252/Latin-1 (\"ì•ˆë…•\" for \"안녕\")");
  s += " (hint: ";
  if (replacement_.rows)
    s += "U+FFFD marks text lost when the source was decoded with the wrong encoding: export it "
         "again from the source as UTF-8; ";
  if (cp1252_.rows)
    s += "text read as CP1252 is undone by encoding it as CP1252 and decoding it as UTF-8 (iconv "
         "-f utf-8 -t windows-1252 when the whole file is affected); ";
  s += "see docs/data.md)";
  return s;
}

}  // namespace tuna
