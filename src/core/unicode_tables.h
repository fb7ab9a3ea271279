// Declarations of the generated Unicode tables (unicode_tables.cpp). Sorted, non-overlapping
// inclusive code-point ranges; only code points >= 0x80 are listed where utf8.cpp handles ASCII.
#pragma once

#include <cstddef>
#include <cstdint>

namespace tuna::utf8 {

struct CodepointRange {
  uint32_t lo, hi;
};
struct LowerMapping {
  uint32_t cp;
  uint32_t lower[3];  // zero-padded
};

extern const CodepointRange kWhitespaceRanges[];
extern const size_t kWhitespaceRangesCount;
extern const CodepointRange kWordRanges[];
extern const size_t kWordRangesCount;
extern const CodepointRange kNumericRanges[];
extern const size_t kNumericRangesCount;
extern const CodepointRange kBertPunctuationRanges[];
extern const size_t kBertPunctuationRangesCount;
extern const CodepointRange kBertControlRanges[];
extern const size_t kBertControlRangesCount;
extern const CodepointRange kNonspacingMarkRanges[];
extern const size_t kNonspacingMarkRangesCount;
// Code points Oniguruma's \p{name} has beyond PCRE2's Unicode tables, as PCRE2 class text.
struct OnigExtra {
  const char* name;
  const char* ranges;
};
extern const OnigExtra kOnigExtras[];
extern const size_t kOnigExtrasCount;
// Per normalization form (NFC, NFD, NFKC, NFKD): code points utf8proc would change but HF keeps.
extern const CodepointRange* const kNormalizationKeep[4];
extern const size_t kNormalizationKeepCount[4];
extern const LowerMapping kLowerMappings[];
extern const size_t kLowerMappingsCount;

}  // namespace tuna::utf8
