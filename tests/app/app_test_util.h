// Helpers of the app/ tests: the tiny golden Llama (vocab 256) and a character-level tokenizer
// whose ids fit it. Test-only.
#pragma once

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>

#include "tokenizer/tokenizer.h"

namespace tuna {

inline const std::string kLlama = std::string(TUNA_GOLDEN_DIR) + "/models/llama";

// Six alpaca rows (JSONL) whose characters the character tokenizer covers.
inline const char* const kSixAlpacaRows =
    "{\"instruction\": \"Name a fish\", \"input\": \"\", \"output\": \"tuna\"}\n"
    "{\"instruction\": \"Say hi\", \"input\": \"\", \"output\": \"hi there\"}\n"
    "{\"instruction\": \"Add\", \"input\": \"2+2\", \"output\": \"4\"}\n"
    "{\"instruction\": \"Colour of sky\", \"input\": \"\", \"output\": \"blue\"}\n"
    "{\"instruction\": \"Opposite of up\", \"input\": \"\", \"output\": \"down\"}\n"
    "{\"instruction\": \"Capital of France\", \"input\": \"\", \"output\": \"Paris\"}\n";

// One token per printable ASCII character and newline; <pad> 0, <bos> 1, <eos> 2 (the golden
// Llama's bos/eos ids), <unk> 3: tokenizer.json and tokenizer_config.json.
inline std::pair<nlohmann::json, nlohmann::json> char_tokenizer_json() {
  nlohmann::json vocab = nlohmann::json::object();
  nlohmann::json added = nlohmann::json::array();
  const char* specials[] = {"<pad>", "<bos>", "<eos>", "<unk>"};
  for (int i = 0; i < 4; ++i) {
    vocab[specials[i]] = i;
    added.push_back({{"id", i},
                     {"content", specials[i]},
                     {"single_word", false},
                     {"lstrip", false},
                     {"rstrip", false},
                     {"normalized", false},
                     {"special", true}});
  }
  int id = 4;
  for (int c = 32; c < 127; ++c) vocab[std::string(1, static_cast<char>(c))] = id++;
  vocab["\n"] = id++;
  const nlohmann::json tok = {{"version", "1.0"},
                              {"truncation", nullptr},
                              {"padding", nullptr},
                              {"added_tokens", added},
                              {"normalizer", nullptr},
                              {"pre_tokenizer", nullptr},
                              {"post_processor", nullptr},
                              {"decoder", nullptr},
                              {"model",
                               {{"type", "BPE"},
                                {"vocab", vocab},
                                {"merges", nlohmann::json::array()},
                                {"unk_token", "<unk>"}}}};
  const nlohmann::json config = {
      {"bos_token", "<bos>"}, {"eos_token", "<eos>"}, {"pad_token", "<pad>"}};
  return {tok, config};
}

inline Tokenizer char_tokenizer() {
  const auto [tok, config] = char_tokenizer_json();
  return Tokenizer::from_json(tok, &config, "char_tokenizer");
}

// A model directory `tuna` can load: the tiny golden Llama (linked) with the character tokenizer.
inline void write_tiny_model_dir(const std::string& dir) {
  namespace fs = std::filesystem;
  fs::create_directories(dir);
  for (const char* f : {"config.json", "generation_config.json", "model.safetensors"})
    fs::create_symlink(fs::path(kLlama) / f, fs::path(dir) / f);
  const auto [tok, config] = char_tokenizer_json();
  std::ofstream(fs::path(dir) / "tokenizer.json") << tok.dump();
  std::ofstream(fs::path(dir) / "tokenizer_config.json") << config.dump();
}

}  // namespace tuna
