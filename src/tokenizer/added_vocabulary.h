// Added tokens (tokenizer.json "added_tokens"): the tokens cut out of the text before the model
// sees it, with HF tokenizers' rules (added_vocabulary.rs): leftmost-longest matching, tokens
// with normalized=false matched on the raw text and normalized=true ones on the normalized text
// (their content normalized too), single_word / lstrip / rstrip. Does not normalize text itself.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace tuna::tok {

class Normalizer;

struct AddedToken {
  std::string content;
  int32_t id = -1;
  bool special = false;
  bool normalized = false;
  bool lstrip = false;
  bool rstrip = false;
  bool single_word = false;
};

class AddedVocabulary {
 public:
  // A run of text (id < 0) or one added token, as byte offsets into the split string.
  struct Piece {
    size_t begin, end;
    int32_t id;
  };

  void add(AddedToken t);
  // Builds the two matchers; `normalizer` (may be null) normalizes normalized tokens' content.
  void build(const Normalizer* normalizer);

  // Splits `text` by the non-normalized tokens (`normalized_set` false) or by the normalized
  // ones (true). Pieces cover the text in order (minus what lstrip/rstrip absorbed); empty text
  // pieces are dropped.
  void split(std::string_view text, bool normalized_set, std::vector<Piece>& out) const;
  bool has_tokens(bool normalized_set) const;

  const AddedToken* find_id(int32_t id) const;
  std::optional<int32_t> find_content(std::string_view content) const;
  const std::vector<AddedToken>& tokens() const { return tokens_; }

 private:
  struct Trie {
    struct Node {
      int32_t token = -1;                                       // index into tokens_
      std::vector<std::pair<unsigned char, int32_t>> children;  // sorted by byte
    };
    std::vector<Node> nodes;
    bool first_byte[256] = {};
    void insert(std::string_view key, int32_t token);
    // Longest token starting at s[pos]: returns its index and sets len, or -1.
    int32_t longest(std::string_view s, size_t pos, size_t& len) const;
  };
  std::vector<AddedToken> tokens_;
  std::unordered_map<int32_t, size_t> by_id_;
  std::unordered_map<std::string, int32_t> by_content_;
  Trie raw_, normalized_;
};

}  // namespace tuna::tok
