// Pre-tokenizer implementations; see pre_tokenizers.h. Splitting follows HF's
// NormalizedString::split: a pattern gives alternating (range, is_match) pieces, `invert` flips
// them, the behavior merges or drops them, and empty pieces disappear.
#include "tokenizer/pre_tokenizers.h"

#include "core/utf8.h"
#include "tokenizer/byte_level.h"

namespace tuna::tok {

const char* const kGpt2Pattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

namespace {

using Ranges = std::vector<std::pair<size_t, size_t>>;
// Appends the matches of a pattern inside `piece` (relative byte ranges).
using MatchFn = std::function<void(std::string_view piece, Ranges& out)>;

struct Segment {
  size_t b, e;
  bool is_match;
};

// Applies `behavior` to one piece; appends the surviving sub-ranges (absolute) to `out`.
void split_piece(std::string_view piece, uint32_t base, const MatchFn& find, SplitBehavior behavior,
                 bool invert, std::vector<Span>& out) {
  thread_local Ranges matches;
  thread_local std::vector<Segment> segs, merged;
  matches.clear();
  segs.clear();
  merged.clear();
  if (piece.empty()) return;
  find(piece, matches);
  size_t prev = 0;
  for (auto [b, e] : matches) {
    if (prev != b) segs.push_back({prev, b, false});
    segs.push_back({b, e, true});
    prev = e;
  }
  if (prev != piece.size()) segs.push_back({prev, piece.size(), false});
  if (invert)
    for (auto& s : segs) s.is_match = !s.is_match;

  switch (behavior) {
    case SplitBehavior::ISOLATED:
      for (auto& s : segs) merged.push_back({s.b, s.e, false});
      break;
    case SplitBehavior::REMOVED:
      merged = segs;
      break;
    case SplitBehavior::CONTIGUOUS: {
      bool previous = false;
      for (auto& s : segs) {
        if (s.is_match == previous && !merged.empty())
          merged.back().e = s.e;
        else
          merged.push_back({s.b, s.e, false});
        previous = s.is_match;
      }
      break;
    }
    case SplitBehavior::MERGED_WITH_PREVIOUS: {
      bool previous = false;
      for (auto& s : segs) {
        if (s.is_match && !previous && !merged.empty())
          merged.back().e = s.e;
        else
          merged.push_back({s.b, s.e, false});
        previous = s.is_match;
      }
      break;
    }
    case SplitBehavior::MERGED_WITH_NEXT: {
      bool previous = false;
      for (size_t k = segs.size(); k-- > 0;) {
        const Segment& s = segs[k];
        if (s.is_match && !previous && !merged.empty())
          merged.back().b = s.b;
        else
          merged.push_back({s.b, s.e, false});
        previous = s.is_match;
      }
      std::reverse(merged.begin(), merged.end());
      break;
    }
  }
  for (auto& s : merged) {
    if (s.is_match || s.b == s.e) continue;  // is_match here means "remove" (REMOVED only)
    out.push_back({static_cast<uint32_t>(base + s.b), static_cast<uint32_t>(base + s.e)});
  }
}

// Splits every word of `pt` in place (the buffer is unchanged).
void split_all(PreTokenized& pt, const MatchFn& find, SplitBehavior behavior, bool invert) {
  thread_local std::vector<Span> out;
  out.clear();
  uint32_t first_begin = pt.spans.empty() ? 0 : pt.spans[0].begin;
  for (size_t i = 0; i < pt.spans.size(); ++i)
    split_piece(pt.word(i), pt.spans[i].begin, find, behavior, invert, out);
  pt.first_at_origin = pt.first_at_origin && !out.empty() && out[0].begin == first_begin;
  pt.spans.swap(out);
}

// Matches of single characters satisfying `pred` (HF's `impl Pattern for Fn(char) -> bool`).
MatchFn char_matches(bool (*pred)(uint32_t)) {
  return [pred](std::string_view s, Ranges& out) {
    for (size_t i = 0; i < s.size();) {
      size_t b = i;
      if (pred(utf8::next(s, i))) out.emplace_back(b, i);
    }
  };
}

class SplitPreTokenizer : public PreTokenizer {
 public:
  SplitPreTokenizer(Pattern p, SplitBehavior b, bool invert)
      : p_(std::move(p)), behavior_(b), invert_(invert) {}
  void pre_tokenize(PreTokenized& pt) const override {
    split_all(
        pt, [this](std::string_view s, Ranges& out) { p_.find_all(s, out); }, behavior_, invert_);
  }

 private:
  Pattern p_;
  SplitBehavior behavior_;
  bool invert_;
};

class ByteLevelPreTokenizer : public PreTokenizer {
 public:
  ByteLevelPreTokenizer(bool add_prefix_space, bool use_regex)
      : add_prefix_space_(add_prefix_space), use_regex_(use_regex) {
    if (use_regex) re_ = Regex(kGpt2Pattern, "the ByteLevel pre-tokenizer");
  }
  void pre_tokenize(PreTokenized& pt) const override {
    thread_local std::string piece, out;
    thread_local std::vector<Span> spans;
    thread_local Ranges parts;
    out.clear();
    spans.clear();
    for (size_t i = 0; i < pt.spans.size(); ++i) {
      piece.clear();
      std::string_view w = pt.word(i);
      if (add_prefix_space_ && (w.empty() || w[0] != ' ')) piece.push_back(' ');
      piece.append(w);
      parts.clear();
      if (use_regex_) {
        thread_local std::vector<Span> sub;
        sub.clear();
        split_piece(
            piece, 0, [this](std::string_view s, Ranges& o) { re_.find_all(s, o); },
            SplitBehavior::ISOLATED, false, sub);
        for (auto& s : sub) parts.emplace_back(s.begin, s.end);
      } else if (!piece.empty()) {
        parts.emplace_back(0, piece.size());
      }
      for (auto [b, e] : parts) {
        uint32_t begin = static_cast<uint32_t>(out.size());
        byte_level_encode(std::string_view(piece).substr(b, e - b), out);
        spans.push_back({begin, static_cast<uint32_t>(out.size())});
      }
    }
    pt.buf.swap(out);
    pt.spans.swap(spans);
  }

 private:
  bool add_prefix_space_, use_regex_;
  Regex re_;
};

class MetaspacePreTokenizer : public PreTokenizer {
 public:
  MetaspacePreTokenizer(std::string replacement, PrependScheme scheme, bool split)
      : rep_(std::move(replacement)), scheme_(scheme), split_(split) {}
  void pre_tokenize(PreTokenized& pt) const override {
    thread_local std::string piece, out;
    thread_local std::vector<Span> spans, sub;
    out.clear();
    spans.clear();
    for (size_t i = 0; i < pt.spans.size(); ++i) {
      piece.clear();
      std::string_view w = pt.word(i);
      for (char c : w) {
        if (c == ' ')
          piece += rep_;
        else
          piece.push_back(c);
      }
      bool starts = piece.starts_with(rep_);
      if (!starts && (scheme_ == PrependScheme::ALWAYS ||
                      (scheme_ == PrependScheme::FIRST && i == 0 && pt.first_at_origin)))
        piece.insert(0, rep_);
      uint32_t base = static_cast<uint32_t>(out.size());
      out += piece;
      if (split_) {
        std::string rep = rep_;
        split_piece(
            piece, base,
            [&rep](std::string_view s, Ranges& o) {
              for (size_t p = s.find(rep); p != std::string_view::npos;
                   p = s.find(rep, p + rep.size()))
                o.emplace_back(p, p + rep.size());
            },
            SplitBehavior::MERGED_WITH_NEXT, false, spans);
      } else if (!piece.empty()) {
        spans.push_back({base, static_cast<uint32_t>(out.size())});
      }
    }
    pt.buf.swap(out);
    pt.spans.swap(spans);
  }

 private:
  std::string rep_;
  PrependScheme scheme_;
  bool split_;
};

// Whitespace: the words of `\w+|[^\w\s]+` (Rust regex classes); whitespace is dropped.
class WhitespacePreTokenizer : public PreTokenizer {
 public:
  void pre_tokenize(PreTokenized& pt) const override {
    split_all(
        pt,
        [](std::string_view s, Ranges& out) {
          int run = 0;  // 0 none, 1 word run, 2 other run
          size_t start = 0;
          for (size_t i = 0; i < s.size();) {
            size_t b = i;
            uint32_t cp = utf8::next(s, i);
            int kind = utf8::is_word_char(cp) ? 1 : utf8::is_whitespace(cp) ? 0 : 2;
            if (kind != run) {
              if (run) out.emplace_back(start, b);
              start = b;
              run = kind;
            }
          }
          if (run) out.emplace_back(start, s.size());
        },
        SplitBehavior::REMOVED, true);
  }
};

class CharSplitPreTokenizer : public PreTokenizer {
 public:
  CharSplitPreTokenizer(bool (*pred)(uint32_t), SplitBehavior b)
      : find_(char_matches(pred)), b_(b) {}
  void pre_tokenize(PreTokenized& pt) const override { split_all(pt, find_, b_, false); }

 private:
  MatchFn find_;
  SplitBehavior b_;
};

class DelimiterPreTokenizer : public PreTokenizer {
 public:
  explicit DelimiterPreTokenizer(uint32_t d) : d_(d) {}
  void pre_tokenize(PreTokenized& pt) const override {
    uint32_t d = d_;
    split_all(
        pt,
        [d](std::string_view s, Ranges& out) {
          for (size_t i = 0; i < s.size();) {
            size_t b = i;
            if (utf8::next(s, i) == d) out.emplace_back(b, i);
          }
        },
        SplitBehavior::REMOVED, false);
  }

 private:
  uint32_t d_;
};

class SequencePreTokenizer : public PreTokenizer {
 public:
  explicit SequencePreTokenizer(std::vector<std::unique_ptr<PreTokenizer>> v) : v_(std::move(v)) {}
  void pre_tokenize(PreTokenized& pt) const override {
    for (const auto& p : v_) p->pre_tokenize(pt);
  }

 private:
  std::vector<std::unique_ptr<PreTokenizer>> v_;
};

bool is_punct(uint32_t cp) {
  return utf8::is_bert_punctuation(cp);
}
bool is_space(uint32_t cp) {
  return utf8::is_whitespace(cp);
}
bool is_num(uint32_t cp) {
  return utf8::is_numeric(cp);
}

class BertPreTokenizer : public PreTokenizer {
 public:
  void pre_tokenize(PreTokenized& pt) const override {
    split_all(pt, char_matches(is_space), SplitBehavior::REMOVED, false);
    split_all(pt, char_matches(is_punct), SplitBehavior::ISOLATED, false);
  }
};

SplitBehavior parse_behavior(const json& j, const char* key, SplitBehavior dflt,
                             const JsonWhere& w) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return dflt;
  std::string b = it->is_string() ? it->get<std::string>() : "";
  if (b == "Removed") return SplitBehavior::REMOVED;
  if (b == "Isolated") return SplitBehavior::ISOLATED;
  if (b == "MergedWithPrevious") return SplitBehavior::MERGED_WITH_PREVIOUS;
  if (b == "MergedWithNext") return SplitBehavior::MERGED_WITH_NEXT;
  if (b == "Contiguous") return SplitBehavior::CONTIGUOUS;
  json_fail(w.at(key), "unknown split behavior \"" + b + "\"",
            "use one of Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous");
}

}  // namespace

std::unique_ptr<PreTokenizer> make_split_pre_tokenizer(Pattern pattern, SplitBehavior behavior,
                                                       bool invert) {
  return std::make_unique<SplitPreTokenizer>(std::move(pattern), behavior, invert);
}
std::unique_ptr<PreTokenizer> make_byte_level_pre_tokenizer(bool add_prefix_space, bool use_regex) {
  return std::make_unique<ByteLevelPreTokenizer>(add_prefix_space, use_regex);
}
std::unique_ptr<PreTokenizer> make_metaspace_pre_tokenizer(std::string replacement,
                                                           PrependScheme scheme, bool split) {
  return std::make_unique<MetaspacePreTokenizer>(std::move(replacement), scheme, split);
}
std::unique_ptr<PreTokenizer> make_sequence_pre_tokenizer(
    std::vector<std::unique_ptr<PreTokenizer>> v) {
  return std::make_unique<SequencePreTokenizer>(std::move(v));
}

std::unique_ptr<PreTokenizer> make_pre_tokenizer(const json& j, const JsonWhere& w) {
  static const std::vector<std::string> kSupported = {
      "Split",       "ByteLevel",       "Metaspace",
      "Whitespace",  "WhitespaceSplit", "BertPreTokenizer",
      "Punctuation", "Digits",          "CharDelimiterSplit",
      "Sequence"};
  std::string type = get_type(j, w);
  if (type == "Split")
    return make_split_pre_tokenizer(parse_pattern(require(j, "pattern", w), w.at("pattern")),
                                    parse_behavior(j, "behavior", SplitBehavior::REMOVED, w),
                                    get_bool_or(j, "invert", false, w));
  if (type == "ByteLevel")
    return make_byte_level_pre_tokenizer(get_bool_or(j, "add_prefix_space", true, w),
                                         get_bool_or(j, "use_regex", true, w));
  if (type == "Metaspace") {
    std::string rep = get_string_or(j, "replacement", "\xE2\x96\x81", w);
    if (utf8::count_chars(rep) != 1) json_fail(w.at("replacement"), "expected one character");
    PrependScheme scheme = PrependScheme::ALWAYS;
    if (j.contains("prepend_scheme") && !j["prepend_scheme"].is_null()) {
      std::string s = get_string(j, "prepend_scheme", w);
      if (s == "always")
        scheme = PrependScheme::ALWAYS;
      else if (s == "first")
        scheme = PrependScheme::FIRST;
      else if (s == "never")
        scheme = PrependScheme::NEVER;
      else
        json_fail(w.at("prepend_scheme"), "unknown prepend_scheme \"" + s + "\"",
                  "use always, first or never");
    } else if (j.contains("add_prefix_space")) {
      scheme = get_bool_or(j, "add_prefix_space", true, w) ? PrependScheme::ALWAYS
                                                           : PrependScheme::NEVER;
    }
    return make_metaspace_pre_tokenizer(rep, scheme, get_bool_or(j, "split", true, w));
  }
  if (type == "Whitespace") return std::make_unique<WhitespacePreTokenizer>();
  if (type == "WhitespaceSplit")
    return std::make_unique<CharSplitPreTokenizer>(is_space, SplitBehavior::REMOVED);
  if (type == "BertPreTokenizer") return std::make_unique<BertPreTokenizer>();
  if (type == "Punctuation")
    return std::make_unique<CharSplitPreTokenizer>(
        is_punct, parse_behavior(j, "behavior", SplitBehavior::ISOLATED, w));
  if (type == "Digits")
    return std::make_unique<CharSplitPreTokenizer>(
        is_num, get_bool_or(j, "individual_digits", false, w) ? SplitBehavior::ISOLATED
                                                              : SplitBehavior::CONTIGUOUS);
  if (type == "CharDelimiterSplit") {
    std::string d = get_string(j, "delimiter", w);
    if (utf8::count_chars(d) != 1) json_fail(w.at("delimiter"), "expected one character");
    size_t i = 0;
    return std::make_unique<DelimiterPreTokenizer>(utf8::next(d, i));
  }
  if (type == "Sequence") {
    const json& arr = require(j, "pretokenizers", w);
    if (!arr.is_array()) json_fail(w.at("pretokenizers"), "expected an array");
    std::vector<std::unique_ptr<PreTokenizer>> v;
    for (size_t i = 0; i < arr.size(); ++i)
      v.push_back(make_pre_tokenizer(arr[i], w.at("pretokenizers").at(i)));
    return make_sequence_pre_tokenizer(std::move(v));
  }
  unknown_type(w.at("type"), "pre-tokenizer", type, kSupported);
}

}  // namespace tuna::tok
