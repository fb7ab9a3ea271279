// The tokenization model interface (BPE, WordPiece): turns one pre-tokenized word into ids and
// maps ids <-> pieces. Implementations: bpe.h, wordpiece.h. Unigram is not implemented (no
// supported model uses it).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tuna::tok {

class Model {
 public:
  virtual ~Model() = default;
  // Appends the ids of `word` (non-empty, valid UTF-8) to `out`.
  virtual void tokenize(std::string_view word, std::vector<int32_t>& out) const = 0;
  virtual std::optional<int32_t> token_to_id(std::string_view piece) const = 0;
  // nullptr when the id has no piece.
  virtual const std::string* id_to_token(int32_t id) const = 0;
  // One past the largest id.
  virtual int64_t vocab_size() const = 0;
  // Number of pieces (HF's get_vocab_size(); differs from vocab_size() only with id holes).
  virtual int64_t entry_count() const { return vocab_size(); }
};

}  // namespace tuna::tok
