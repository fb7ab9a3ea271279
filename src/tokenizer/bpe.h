// The BPE model, exactly as HF tokenizers (models/bpe/model.rs, word.rs) computes it: per-char
// initial symbols (continuing_subword_prefix / end_of_word_suffix, byte_fallback "<0xXX>",
// unk with fuse_unk), ignore_merges, then the priority-queue merge (lowest rank, then leftmost).
// Written here because no packaged C++ library implements HF's BPE. Dropout is not supported.
// Constructible from C++ data (GGUF "gpt2"/"llama" vocabularies) as well as from tokenizer.json.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "tokenizer/json_util.h"
#include "tokenizer/model.h"

namespace tuna::tok {

struct BpeOptions {
  std::optional<std::string> unk_token;
  std::string continuing_subword_prefix;
  std::string end_of_word_suffix;
  bool fuse_unk = false;
  bool byte_fallback = false;
  bool ignore_merges = false;
};

class BpeModel : public Model {
 public:
  // `vocab`: (piece, id) pairs; `merges`: pairs in rank order. Throws a user error (naming
  // `where`) when a merge part or result is not in the vocabulary.
  BpeModel(const std::vector<std::pair<std::string, int32_t>>& vocab,
           const std::vector<std::pair<std::string, std::string>>& merges, BpeOptions options,
           const std::string& where = "in the BPE model");
  ~BpeModel() override;

  void tokenize(std::string_view word, std::vector<int32_t>& out) const override;
  std::optional<int32_t> token_to_id(std::string_view piece) const override;
  const std::string* id_to_token(int32_t id) const override;
  int64_t vocab_size() const override { return static_cast<int64_t>(pieces_.size()); }
  int64_t entry_count() const override;
  const BpeOptions& options() const { return options_; }

 private:
  struct Impl;
  void merge_word(std::string_view word, std::vector<int32_t>& out) const;
  std::vector<std::string> pieces_;  // by id ("" for holes)
  std::vector<bool> has_piece_;
  BpeOptions options_;
  std::unique_ptr<Impl> impl_;
};

std::unique_ptr<BpeModel> make_bpe_model(const json& j, const JsonWhere& w);

}  // namespace tuna::tok
