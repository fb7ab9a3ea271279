// The WordPiece model as HF tokenizers computes it (models/wordpiece/mod.rs): greedy
// longest-match-first with "##" continuation pieces; a word longer than
// max_input_chars_per_word, or with any unmatched position, becomes unk as a whole. Written here
// because no packaged C++ library implements it.
#pragma once

#include <memory>

#include "tokenizer/json_util.h"
#include "tokenizer/model.h"

namespace tuna::tok {

std::unique_ptr<Model> make_wordpiece_model(
    const std::vector<std::pair<std::string, int32_t>>& vocab, std::string unk_token,
    std::string prefix, size_t max_input_chars_per_word, const std::string& where);
std::unique_ptr<Model> make_wordpiece_model(const json& j, const JsonWhere& w);

}  // namespace tuna::tok
