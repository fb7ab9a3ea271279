// Small tokenizer.json fixtures for fuzz targets that need to tokenise text: a byte-level BPE
// (GPT-2 style: every byte is a token, three merges, one special token <|end|> that also ends
// examples), a byte-fallback BPE and a WordPiece.
// Header-only; for fuzz/ only.
#pragma once

#include <cstdio>
#include <nlohmann/json.hpp>

#include "core/utf8.h"

namespace tuna::fuzz {

inline nlohmann::json byte_level_json() {
  nlohmann::json vocab = nlohmann::json::object();
  int id = 0, extra = 0;
  // The 256 byte-level characters, then a few merges' results.
  for (int b = 0; b < 256; ++b) {
    bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE;
    uint32_t cp = printable ? static_cast<uint32_t>(b) : 256 + extra++;
    vocab[tuna::utf8::encode(cp)] = id++;
  }
  vocab["Ġt"] = id++;
  vocab["he"] = id++;
  vocab["Ġthe"] = id++;
  return {{"added_tokens",
           nlohmann::json::array({{{"id", id}, {"content", "<|end|>"}, {"special", true}}})},
          {"pre_tokenizer", {{"type", "ByteLevel"}, {"add_prefix_space", false}}},
          {"decoder", {{"type", "ByteLevel"}}},
          {"model",
           {{"type", "BPE"},
            {"vocab", vocab},
            {"merges", nlohmann::json::array({"Ġ t", "h e", "Ġt he"})}}}};
}

// A byte-fallback BPE (SentencePiece style: ▁ for spaces, <0xNN> byte tokens) and a WordPiece
// (BERT style) tokenizer.json, for the tokenizer targets.
inline nlohmann::json byte_fallback_json() {
  nlohmann::json vocab = {{"<unk>", 0}, {"▁", 1}, {"a", 2}, {"▁a", 3}};
  for (int b = 0; b < 256; ++b) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "<0x%02X>", b);
    vocab[buf] = 4 + b;
  }
  return {
      {"normalizer", {{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", "▁"}}},
      {"decoder",
       {{"type", "Sequence"},
        {"decoders", nlohmann::json::array(
                         {{{"type", "Replace"}, {"pattern", {{"String", "▁"}}}, {"content", " "}},
                          {{"type", "ByteFallback"}},
                          {{"type", "Fuse"}}})}}},
      {"model",
       {{"type", "BPE"},
        {"unk_token", "<unk>"},
        {"byte_fallback", true},
        {"fuse_unk", true},
        {"vocab", vocab},
        {"merges", nlohmann::json::array({"▁ a"})}}}};
}

inline nlohmann::json wordpiece_json() {
  return {{"normalizer", {{"type", "BertNormalizer"}}},
          {"pre_tokenizer", {{"type", "BertPreTokenizer"}}},
          {"decoder", {{"type", "WordPiece"}}},
          {"model",
           {{"type", "WordPiece"},
            {"unk_token", "[UNK]"},
            {"vocab", {{"[UNK]", 0}, {"a", 1}, {"##a", 2}, {"ab", 3}, {"##b", 4}}}}}};
}

}  // namespace tuna::fuzz
