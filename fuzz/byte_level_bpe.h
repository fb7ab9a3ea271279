// A small byte-level BPE tokenizer.json (GPT-2 style: every byte is a token, three merges, one
// special token <|end|> that also ends examples) for fuzz targets that need to tokenise text.
// Header-only; for fuzz/ only.
#pragma once

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

}  // namespace tuna::fuzz
