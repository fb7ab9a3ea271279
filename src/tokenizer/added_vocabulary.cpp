// Added-token matching; see added_vocabulary.h. A byte trie with a first-byte filter finds the
// leftmost-longest match (what HF's Aho-Corasick LeftmostLongest automaton returns).
#include "tokenizer/added_vocabulary.h"

#include <algorithm>

#include "core/utf8.h"
#include "tokenizer/normalizers.h"

namespace tuna::tok {

void AddedVocabulary::Trie::insert(std::string_view key, int32_t token) {
  if (key.empty()) return;
  if (nodes.empty()) nodes.emplace_back();
  first_byte[static_cast<unsigned char>(key[0])] = true;
  int32_t n = 0;
  for (char ch : key) {
    auto c = static_cast<unsigned char>(ch);
    auto& kids = nodes[n].children;
    auto it = std::lower_bound(kids.begin(), kids.end(), c,
                               [](const auto& p, unsigned char v) { return p.first < v; });
    if (it != kids.end() && it->first == c) {
      n = it->second;
    } else {
      int32_t child = static_cast<int32_t>(nodes.size());
      kids.insert(it, {c, child});
      nodes.emplace_back();
      n = child;
    }
  }
  if (nodes[n].token < 0) nodes[n].token = token;
}

int32_t AddedVocabulary::Trie::longest(std::string_view s, size_t pos, size_t& len) const {
  int32_t n = 0, best = -1;
  for (size_t i = pos; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    const auto& kids = nodes[n].children;
    auto it = std::lower_bound(kids.begin(), kids.end(), c,
                               [](const auto& p, unsigned char v) { return p.first < v; });
    if (it == kids.end() || it->first != c) break;
    n = it->second;
    if (nodes[n].token >= 0) {
      best = nodes[n].token;
      len = i + 1 - pos;
    }
  }
  return best;
}

void AddedVocabulary::add(AddedToken t) {
  if (by_content_.count(t.content)) return;  // HF ignores a token it already has
  by_id_[t.id] = tokens_.size();
  by_content_[t.content] = t.id;
  tokens_.push_back(std::move(t));
}

void AddedVocabulary::build(const Normalizer* normalizer) {
  raw_ = Trie();
  normalized_ = Trie();
  for (size_t i = 0; i < tokens_.size(); ++i) {
    const AddedToken& t = tokens_[i];
    if (t.normalized) {
      std::string content = t.content;
      if (normalizer) normalizer->normalize(content);
      normalized_.insert(content, static_cast<int32_t>(i));
    } else {
      raw_.insert(t.content, static_cast<int32_t>(i));
    }
  }
}

bool AddedVocabulary::has_tokens(bool normalized_set) const {
  return !(normalized_set ? normalized_ : raw_).nodes.empty();
}

const AddedToken* AddedVocabulary::find_id(int32_t id) const {
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : &tokens_[it->second];
}

std::optional<int32_t> AddedVocabulary::find_content(std::string_view content) const {
  auto it = by_content_.find(std::string(content));
  if (it == by_content_.end()) return std::nullopt;
  return it->second;
}

void AddedVocabulary::split(std::string_view s, bool normalized_set,
                            std::vector<Piece>& out) const {
  const Trie& trie = normalized_set ? normalized_ : raw_;
  size_t start_offset = 0;
  if (!trie.nodes.empty()) {
    for (size_t pos = 0; pos < s.size();) {
      if (!trie.first_byte[static_cast<unsigned char>(s[pos])]) {
        ++pos;
        continue;
      }
      size_t len = 0;
      int32_t ti = trie.longest(s, pos, len);
      if (ti < 0) {
        ++pos;
        continue;
      }
      size_t start = pos, stop = pos + len;
      pos = stop;  // matches never overlap, even when this one is rejected below
      const AddedToken& t = tokens_[ti];
      if (t.single_word) {
        bool start_space = true, stop_space = true;
        if (start > 0) {
          size_t k = start;
          start_space = !utf8::is_word_char(utf8::prev(s, k));
        }
        if (stop < s.size()) {
          size_t k = stop;
          stop_space = !utf8::is_word_char(utf8::next(s, k));
        }
        if (!start_space || !stop_space) continue;
      }
      if (t.lstrip) {
        size_t k = start;
        while (k > 0) {
          size_t j = k;
          if (!utf8::is_whitespace(utf8::prev(s, j))) break;
          k = j;
        }
        start = std::max(k, start_offset);
      }
      if (t.rstrip) {
        while (stop < s.size()) {
          size_t j = stop;
          if (!utf8::is_whitespace(utf8::next(s, j))) break;
          stop = j;
        }
      }
      if (start > start_offset) out.push_back({start_offset, start, -1});
      out.push_back({start, stop, t.id});
      start_offset = stop;
      pos = std::max(pos, stop);
    }
  }
  if (start_offset < s.size()) out.push_back({start_offset, s.size(), -1});
}

}  // namespace tuna::tok
