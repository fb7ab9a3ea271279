// WordPiece model; see wordpiece.h.
#include "tokenizer/wordpiece.h"

#include <unordered_map>

#include "core/utf8.h"

namespace tuna::tok {

namespace {

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

class WordPieceModel : public Model {
 public:
  WordPieceModel(const std::vector<std::pair<std::string, int32_t>>& vocab, std::string unk,
                 std::string prefix, size_t max_chars, const std::string& where)
      : unk_(std::move(unk)), prefix_(std::move(prefix)), max_chars_(max_chars) {
    int32_t max_id = -1;
    for (const auto& [p, id] : vocab) {
      if (id < 0) throw_user_error("tokenizer", "negative id for \"" + p + "\", " + where);
      vocab_[p] = id;
      max_id = std::max(max_id, id);
    }
    pieces_.assign(static_cast<size_t>(max_id + 1), std::string());
    has_.assign(pieces_.size(), false);
    for (const auto& [p, id] : vocab_) {
      pieces_[id] = p;
      has_[id] = true;
    }
    auto it = vocab_.find(unk_);
    if (it == vocab_.end())
      throw_user_error("tokenizer", "unk_token \"" + unk_ + "\" is not in the vocabulary, " + where,
                       "WordPiece needs its unk token in the vocabulary");
    unk_id_ = it->second;
  }

  void tokenize(std::string_view word, std::vector<int32_t>& out) const override {
    if (utf8::count_chars(word) > max_chars_) {
      out.push_back(unk_id_);
      return;
    }
    size_t before = out.size();
    thread_local std::string sub;
    size_t start = 0;
    while (start < word.size()) {
      size_t end = word.size();
      int32_t found = -1;
      while (start < end) {
        sub.clear();
        if (start > 0) sub += prefix_;
        sub.append(word.substr(start, end - start));
        auto it = vocab_.find(std::string_view(sub));
        if (it != vocab_.end()) {
          found = it->second;
          break;
        }
        size_t e = end;
        utf8::prev(word, e);
        end = e;
      }
      if (found < 0) {
        out.resize(before);
        out.push_back(unk_id_);
        return;
      }
      out.push_back(found);
      start = end;
    }
  }
  std::optional<int32_t> token_to_id(std::string_view piece) const override {
    auto it = vocab_.find(piece);
    if (it == vocab_.end()) return std::nullopt;
    return it->second;
  }
  const std::string* id_to_token(int32_t id) const override {
    if (id < 0 || static_cast<size_t>(id) >= pieces_.size() || !has_[id]) return nullptr;
    return &pieces_[id];
  }
  int64_t vocab_size() const override { return static_cast<int64_t>(pieces_.size()); }
  int64_t entry_count() const override { return static_cast<int64_t>(vocab_.size()); }

 private:
  std::unordered_map<std::string, int32_t, StringHash, std::equal_to<>> vocab_;
  std::vector<std::string> pieces_;
  std::vector<bool> has_;
  std::string unk_, prefix_;
  size_t max_chars_;
  int32_t unk_id_ = -1;
};

}  // namespace

std::unique_ptr<Model> make_wordpiece_model(
    const std::vector<std::pair<std::string, int32_t>>& vocab, std::string unk_token,
    std::string prefix, size_t max_input_chars_per_word, const std::string& where) {
  return std::make_unique<WordPieceModel>(vocab, std::move(unk_token), std::move(prefix),
                                          max_input_chars_per_word, where);
}

std::unique_ptr<Model> make_wordpiece_model(const json& j, const JsonWhere& w) {
  const std::vector<std::pair<std::string, int32_t>> vocab = read_vocab_object(j, w);
  int64_t max_chars = get_int_or(j, "max_input_chars_per_word", 100, w);
  return make_wordpiece_model(vocab, get_string_or(j, "unk_token", "[UNK]", w),
                              get_string_or(j, "continuing_subword_prefix", "##", w),
                              static_cast<size_t>(std::max<int64_t>(0, max_chars)), w.describe());
}

}  // namespace tuna::tok
