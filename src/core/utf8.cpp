// UTF-8 decoding/encoding, lossy repair with Python/Rust replacement semantics, and lookups into
// the generated Unicode tables. See utf8.h.
#include "core/utf8.h"

#include <algorithm>

#include "core/unicode_tables.h"

namespace tuna::utf8 {

uint32_t prev(std::string_view s, size_t& i) {
  size_t j = i - 1;
  while (j > 0 && (static_cast<unsigned char>(s[j]) & 0xC0) == 0x80) --j;
  size_t k = j;
  uint32_t cp = next(s, k);
  i = j;
  return cp;
}

void append(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

namespace {
bool is_continuation(unsigned char b) {
  return (b & 0xC0) == 0x80;
}
}  // namespace

size_t cut_bytes(std::string_view s, size_t max_bytes) {
  if (max_bytes >= s.size()) return s.size();
  // Back from the byte the cut would start with to the lead of its sequence (at most 3 steps).
  size_t lead = max_bytes;
  while (lead > 0 && max_bytes - lead < 3 && is_continuation(static_cast<unsigned char>(s[lead])))
    --lead;
  const auto b = static_cast<unsigned char>(s[lead]);
  // The sequence that starts at `lead` reaches past the cut: cut before it. Otherwise the byte
  // at the cut starts a character (or is a stray byte that is no character's part).
  if (lead < max_bytes && b >= 0xC2 && b <= 0xF4 &&
      lead + static_cast<size_t>(seq_len(b)) > max_bytes)
    return lead;
  return max_bytes;
}

size_t cut_chars(std::string_view s, size_t max_chars) {
  size_t i = 0;
  for (size_t n = 0; n < max_chars && i < s.size(); ++n) {
    const auto b = static_cast<unsigned char>(s[i]);
    size_t len = b >= 0xC2 && b <= 0xF4 ? static_cast<size_t>(seq_len(b)) : 1;
    // an ill-formed sequence: its lead counts alone, as cut_bytes counts it
    size_t k = 1;
    while (k < len && i + k < s.size() && is_continuation(static_cast<unsigned char>(s[i + k])))
      ++k;
    i += k < len ? 1 : len;
  }
  return i;
}

size_t count_chars(std::string_view s) {
  size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

// Length of the well-formed sequence at in[i], or 0 with `subpart` = length of the maximal
// subpart of an ill-formed sequence (>= 1) to replace by one U+FFFD (Unicode Table 3-7).
static size_t well_formed_len(std::string_view in, size_t i, size_t& subpart) {
  auto b = [&](size_t k) { return static_cast<unsigned char>(in[k]); };
  unsigned char c = b(i);
  if (c < 0x80) return 1;
  size_t need;
  unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (c >= 0xC2 && c <= 0xDF) {
    need = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    need = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    need = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    subpart = 1;
    return 0;
  }
  size_t k = 1;
  for (; k < need; ++k) {
    if (i + k >= in.size()) break;
    unsigned char x = b(i + k);
    bool ok = k == 1 ? (x >= lo && x <= hi) : (x >= 0x80 && x <= 0xBF);
    if (!ok) break;
  }
  if (k == need) return need;
  subpart = k;
  return 0;
}

bool is_valid(std::string_view s) {
  return first_invalid(s) == std::string_view::npos;
}

size_t first_invalid(std::string_view s) {
  size_t i = 0, sub = 0;
  while (i < s.size()) {
    if (static_cast<unsigned char>(s[i]) < 0x80) {
      ++i;
      continue;
    }
    size_t n = well_formed_len(s, i, sub);
    if (n == 0) return i;
    i += n;
  }
  return std::string_view::npos;
}

size_t append_lossy(std::string& out, std::string_view in) {
  size_t i = 0, replaced = 0, sub = 0;
  while (i < in.size()) {
    size_t start = i;
    while (i < in.size() && static_cast<unsigned char>(in[i]) < 0x80) ++i;
    size_t n = 0;
    while (i < in.size() && (n = well_formed_len(in, i, sub)) != 0) i += n;
    out.append(in.substr(start, i - start));
    if (i < in.size()) {
      out.append("\xEF\xBF\xBD");
      i += sub;
      ++replaced;
    }
  }
  return replaced;
}

static bool in_ranges(const CodepointRange* r, size_t n, uint32_t cp) {
  const CodepointRange* end = r + n;
  const CodepointRange* it =
      std::upper_bound(r, end, cp, [](uint32_t v, const CodepointRange& x) { return v < x.lo; });
  return it != r && cp <= (it - 1)->hi;
}

bool is_whitespace(uint32_t cp) {
  if (cp < 0x80) return cp == ' ' || (cp >= 0x09 && cp <= 0x0D);
  return in_ranges(kWhitespaceRanges, kWhitespaceRangesCount, cp);
}

bool is_word_char(uint32_t cp) {
  if (cp < 0x80)
    return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || (cp >= '0' && cp <= '9') ||
           cp == '_';
  return in_ranges(kWordRanges, kWordRangesCount, cp);
}

bool is_numeric(uint32_t cp) {
  if (cp < 0x80) return cp >= '0' && cp <= '9';
  return in_ranges(kNumericRanges, kNumericRangesCount, cp);
}

bool is_bert_punctuation(uint32_t cp) {
  if (cp < 0x80)
    return (cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) ||
           (cp >= 123 && cp <= 126);
  return in_ranges(kBertPunctuationRanges, kBertPunctuationRangesCount, cp);
}

bool is_bert_control(uint32_t cp) {
  return in_ranges(kBertControlRanges, kBertControlRangesCount, cp);
}

bool is_nonspacing_mark(uint32_t cp) {
  if (cp < 0x300) return false;
  return in_ranges(kNonspacingMarkRanges, kNonspacingMarkRangesCount, cp);
}

bool is_chinese_char(uint32_t cp) {
  return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
         (cp >= 0x20000 && cp <= 0x2A6DF) || (cp >= 0x2A700 && cp <= 0x2B73F) ||
         (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B920 && cp <= 0x2CEAF) ||
         (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
}

void append_lower(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp >= 'A' && cp <= 'Z' ? cp + 32 : cp));
    return;
  }
  const LowerMapping* end = kLowerMappings + kLowerMappingsCount;
  const LowerMapping* it = std::lower_bound(
      kLowerMappings, end, cp, [](const LowerMapping& m, uint32_t v) { return m.cp < v; });
  if (it == end || it->cp != cp) {
    append(out, cp);
    return;
  }
  for (uint32_t x : it->lower)
    if (x) append(out, x);
}

}  // namespace tuna::utf8
