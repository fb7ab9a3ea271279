// StreamingDecoder: HF DecodeStream's windowing (decode a short window of recent ids, emit what
// its text gained) plus two guarantees tuna adds: never emit text that ends in U+FFFD (an
// incomplete character) and, when transformers' clean_up_tokenization is on, hold back a tail
// that a later token could still rewrite (" ." → "."), so pushes + flush == decode(all).
// One exception: ByteFallback decodes a run of byte tokens that is not valid UTF-8 as one U+FFFD
// per byte, so a stray byte after a complete character rewrites that character in decode(all);
// the stream has already emitted it (as HF's DecodeStream would) and restarts its window.
#include <array>

#include "tokenizer/decoders.h"
#include "tokenizer/tokenizer.h"

namespace tuna {

namespace {

// Length of the longest tail of `s` that is a proper prefix of a clean-up pattern.
size_t cleanup_hold(const std::string& s) {
  static const std::array<std::string_view, 10> kPatterns = {" .",   " ?",  " !",  " ,",   " ' ",
                                                             " n't", " 'm", " 's", " 've", " 're"};
  for (size_t k = 3; k >= 1; --k) {
    if (s.size() < k) continue;
    std::string_view tail = std::string_view(s).substr(s.size() - k);
    for (auto p : kPatterns)
      if (p.size() > k && p.substr(0, k) == tail) return k;
  }
  return 0;
}

}  // namespace

StreamingDecoder::StreamingDecoder(const Tokenizer& tokenizer, bool skip_special_tokens)
    : tokenizer_(tokenizer), skip_(skip_special_tokens) {}

std::string StreamingDecoder::decode_window() const {
  return tokenizer_.decode(ids_, skip_);
}

std::string StreamingDecoder::push(int32_t id) {
  ids_.push_back(id);
  std::string s = decode_window();
  if (!s.starts_with(prefix_)) {
    // The new token rewrote text already emitted. Only ByteFallback does that: a stray byte
    // after a complete character turns the whole byte run into U+FFFDs. Restart the window.
    ids_.assign(1, id);
    prefix_.clear();
    prefix_count_ = 0;
    s = decode_window();
  }
  if (s.ends_with("\xEF\xBF\xBD")) return {};  // U+FFFD: maybe a character still incomplete
  size_t hold = tokenizer_.options().clean_up_tokenization_spaces ? cleanup_hold(s) : 0;
  size_t end = s.size() - hold;
  if (end <= prefix_.size()) return {};
  std::string out = s.substr(prefix_.size(), end - prefix_.size());
  // Keep only the tokens just emitted as context for the next window.
  ids_.erase(ids_.begin(), ids_.begin() + static_cast<std::ptrdiff_t>(prefix_count_));
  prefix_ = decode_window();
  if (hold && prefix_.size() >= hold &&
      prefix_.compare(prefix_.size() - hold, hold, s, s.size() - hold, hold) == 0)
    prefix_.resize(prefix_.size() - hold);
  prefix_count_ = ids_.size();
  return out;
}

std::string StreamingDecoder::flush() {
  std::string s = decode_window();
  std::string out;
  if (s.size() > prefix_.size() && s.starts_with(prefix_)) out = s.substr(prefix_.size());
  ids_.clear();
  prefix_.clear();
  prefix_count_ = 0;
  return out;
}

}  // namespace tuna
