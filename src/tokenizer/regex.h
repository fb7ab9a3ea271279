// Regular expressions for tokenizer.json patterns through PCRE2 (UTF + Unicode properties, JIT
// when available). HF tokenizers compiles these with Oniguruma; `Regex` translates the few
// classes whose meaning differs (\s, \S, \w, \W) so matches agree, and iterates matches with the
// onig crate's rules for empty matches. std::regex cannot express these patterns.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tuna::tok {

class Regex {
 public:
  Regex() = default;
  // Throws a user error naming `where` if the pattern does not compile.
  Regex(const std::string& pattern, const std::string& where);
  static Regex literal(std::string_view text, const std::string& where);

  bool empty() const { return !code_; }
  const std::string& pattern() const { return pattern_; }
  // Appends the [begin, end) byte ranges of all successive non-overlapping matches in `s`
  // (s must be valid UTF-8). Empty matches are reported, except one right after a match.
  void find_all(std::string_view s, std::vector<std::pair<size_t, size_t>>& out) const;
  // Replaces all matches by `content` (HF Replace normalizer/decoder semantics).
  std::string replace_all(std::string_view s, std::string_view content) const;

  static std::string escape(std::string_view literal);
  // Onig → PCRE2 translation of \s \S \w \W (exposed for tests).
  static std::string translate_onig(const std::string& pattern);

 private:
  std::string pattern_;
  std::shared_ptr<void> code_;  // pcre2_code_8
};

// A tokenizer.json "pattern": {"String": "..."} (literal) or {"Regex": "..."}.
class Pattern {
 public:
  Pattern() = default;
  static Pattern from_literal(std::string text) {
    Pattern p;
    p.literal_ = std::move(text);
    return p;
  }
  static Pattern from_regex(const std::string& re, const std::string& where) {
    Pattern p;
    p.regex_ = Regex(re, where);
    p.is_regex_ = true;
    return p;
  }
  bool is_regex() const { return is_regex_; }
  const std::string& literal() const { return literal_; }
  // Successive non-overlapping matches (a literal "" never matches, as in HF).
  void find_all(std::string_view s, std::vector<std::pair<size_t, size_t>>& out) const {
    if (is_regex_) {
      regex_.find_all(s, out);
      return;
    }
    if (literal_.empty()) return;
    for (size_t pos = s.find(literal_); pos != std::string_view::npos;
         pos = s.find(literal_, pos + literal_.size()))
      out.emplace_back(pos, pos + literal_.size());
  }
  std::string replace_all(std::string_view s, std::string_view content) const {
    std::vector<std::pair<size_t, size_t>> m;
    find_all(s, m);
    std::string out;
    out.reserve(s.size() + m.size() * content.size());
    size_t prev = 0;
    for (auto [b, e] : m) {
      out.append(s.substr(prev, b - prev));
      out.append(content);
      prev = e;
    }
    out.append(s.substr(prev));
    return out;
  }

 private:
  std::string literal_;
  Regex regex_;
  bool is_regex_ = false;
};

}  // namespace tuna::tok
