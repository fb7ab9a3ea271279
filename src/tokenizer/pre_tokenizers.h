// tokenizer.json pre-tokenizers with HF tokenizers' semantics: Split (Removed, Isolated,
// MergedWithPrevious, MergedWithNext, Contiguous; invert), ByteLevel (add_prefix_space,
// use_regex, GPT-2 regex), Metaspace (prepend_scheme always/first/never, split), Whitespace,
// WhitespaceSplit, BertPreTokenizer, Punctuation, Digits, CharDelimiterSplit, Sequence.
// They cut one normalized segment into words; offsets are not tracked. UnicodeScripts is not
// supported.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/json_util.h"

namespace tuna::tok {

struct Span {
  uint32_t begin, end;
};

// Words of one segment: byte ranges of `buf`. `first_at_origin` is true while spans[0] starts
// at byte 0 of the user's text (what Metaspace's prepend_scheme "first" tests).
struct PreTokenized {
  std::string buf;
  std::vector<Span> spans;
  bool first_at_origin = false;
  std::string_view word(size_t i) const {
    return std::string_view(buf).substr(spans[i].begin, spans[i].end - spans[i].begin);
  }
  void reset(std::string_view text, bool at_origin) {
    buf.assign(text);
    spans.clear();
    if (!buf.empty()) spans.push_back({0, static_cast<uint32_t>(buf.size())});
    first_at_origin = at_origin;
  }
};

enum class SplitBehavior { REMOVED, ISOLATED, MERGED_WITH_PREVIOUS, MERGED_WITH_NEXT, CONTIGUOUS };

class PreTokenizer {
 public:
  virtual ~PreTokenizer() = default;
  virtual void pre_tokenize(PreTokenized& pt) const = 0;
};

std::unique_ptr<PreTokenizer> make_pre_tokenizer(const json& j, const JsonWhere& w);

// Building blocks for code that assembles pipelines in C++ (GGUF vocabularies, tests).
std::unique_ptr<PreTokenizer> make_split_pre_tokenizer(Pattern pattern, SplitBehavior behavior,
                                                       bool invert);
std::unique_ptr<PreTokenizer> make_byte_level_pre_tokenizer(bool add_prefix_space, bool use_regex);
enum class PrependScheme { ALWAYS, FIRST, NEVER };
std::unique_ptr<PreTokenizer> make_metaspace_pre_tokenizer(std::string replacement,
                                                           PrependScheme scheme, bool split);
std::unique_ptr<PreTokenizer> make_sequence_pre_tokenizer(
    std::vector<std::unique_ptr<PreTokenizer>> v);

// The GPT-2 pattern ByteLevel uses when use_regex is true.
extern const char* const kGpt2Pattern;

}  // namespace tuna::tok
