// The one tokenizer of tuna (DESIGN.md §8 "Tokenizer ownership"): encode / decode / streaming
// decode with ids identical to Hugging Face (tokenizers 0.22 pipeline + what transformers does on
// load and decode), built from tokenizer.json (+ tokenizer_config.json) or from C++ parts (GGUF
// vocabularies). Invalid UTF-8 input is repaired to U+FFFD first (Python errors="replace").
// Chat templates render through tokenizer/chat_template.h with special_tokens_map() as variables.
// Not here: truncation and padding.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/added_vocabulary.h"
#include "tokenizer/decoders.h"
#include "tokenizer/model.h"
#include "tokenizer/normalizers.h"
#include "tokenizer/post_processors.h"
#include "tokenizer/pre_tokenizers.h"

namespace tuna {

// What tokenizer_config.json (or a GGUF header) says around the pipeline.
struct TokenizerOptions {
  std::optional<std::string> bos_token, eos_token, unk_token, pad_token;
  // transformers' decode(): apply clean_up_tokenization after the decoder.
  bool clean_up_tokenization_spaces = false;
  int64_t model_max_length = INT64_MAX;  // transformers' VERY_LARGE_INTEGER when unset
  std::string padding_side = "right";
  // Named chat templates ("default" for a single one), kept verbatim.
  std::map<std::string, std::string> chat_templates;
};

// Cheap to copy (the pipeline is shared, immutable) and safe to use from several threads. A
// default-constructed Tokenizer is empty: assign one from a factory before use.
class Tokenizer {
 public:
  struct Encoding {
    std::vector<int32_t> ids;
    std::vector<uint8_t> special_mask;  // 1 for added special tokens and post-processor tokens
    size_t invalid_utf8_replaced = 0;   // ill-formed sequences replaced by U+FFFD
  };

  // The pieces of a pipeline, for building a tokenizer in C++ (GGUF vocabularies). Only `model`
  // is required. `added_tokens` ids must not collide with different model pieces.
  struct Parts {
    std::unique_ptr<tok::Normalizer> normalizer;
    std::unique_ptr<tok::PreTokenizer> pre_tokenizer;
    std::unique_ptr<tok::Model> model;
    std::unique_ptr<tok::PostProcessor> post_processor;
    std::unique_ptr<tok::Decoder> decoder;
    std::vector<tok::AddedToken> added_tokens;
  };

  // tokenizer.json and (optional, "" to skip) tokenizer_config.json. User errors (exit 2) name
  // the file and JSON path for malformed input and unsupported components.
  static Tokenizer from_files(const std::string& tokenizer_json,
                              const std::string& tokenizer_config_json = "");
  // tokenizer.json + tokenizer_config.json + chat_template.jinja of a Hugging Face directory.
  static Tokenizer from_model_dir(const std::string& dir);
  // From parsed JSON; `config` may be null. `source` names the file in errors.
  static Tokenizer from_json(const nlohmann::json& tokenizer, const nlohmann::json* config,
                             const std::string& source, const std::string& config_source = "");
  // From C++ parts. When add_bos/add_eos are set and parts has no post-processor, one is built
  // that adds options.bos_token / eos_token.
  static Tokenizer from_parts(Parts parts, TokenizerOptions options, bool add_bos = false,
                              bool add_eos = false);

  std::vector<int32_t> encode(std::string_view text, bool add_special_tokens = true) const;
  Encoding encode_full(std::string_view text, bool add_special_tokens = true) const;

  // transformers' tokenizer.decode(ids, skip_special_tokens): the decoder pipeline, then
  // clean_up_tokenization when the config asks for it. Unknown ids are skipped (as HF does).
  std::string decode(const std::vector<int32_t>& ids, bool skip_special_tokens = false) const;
  // HF tokenizers' Tokenizer.decode (no transformers cleanup).
  std::string decode_pipeline(const std::vector<int32_t>& ids, bool skip_special_tokens) const;

  // The vocabulary piece of an id (added tokens included), "" when unknown.
  std::string id_to_piece(int32_t id) const;
  std::optional<int32_t> piece_to_id(std::string_view piece) const;
  int64_t vocab_size() const;  // len(tokenizer) in transformers: model + added tokens
  bool is_special(int32_t id) const;

  std::optional<int32_t> bos_id() const;
  std::optional<int32_t> eos_id() const;
  std::optional<int32_t> pad_id() const;
  std::optional<int32_t> unk_id() const;
  // Whether encode(..., true) adds BOS in front / EOS at the end.
  bool add_bos() const;
  bool add_eos() const;
  const TokenizerOptions& options() const;
  // The "default" chat template, or nullopt.
  std::optional<std::string> chat_template() const;
  // The template variables transformers' apply_chat_template adds from the special-tokens map:
  // bos_token, eos_token, unk_token, pad_token (those that are set).
  nlohmann::ordered_json special_tokens_map() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;  // never mutated once built
  friend class StreamingDecoder;
};

// Incremental decode for generation: push ids one at a time; each call returns the new text,
// only ever whole UTF-8 characters (it waits while the text ends in an incomplete sequence, e.g.
// the first byte-fallback tokens of a Hangul syllable). The concatenation of all pushes and
// flush() equals tokenizer.decode(all ids). Same windowing as HF tokenizers' DecodeStream.
class StreamingDecoder {
 public:
  explicit StreamingDecoder(const Tokenizer& tokenizer, bool skip_special_tokens = false);
  std::string push(int32_t id);
  // Whatever is still held back (incomplete characters become U+FFFD, as in decode).
  std::string flush();

 private:
  std::string decode_window() const;
  Tokenizer tokenizer_;
  bool skip_;
  std::vector<int32_t> ids_;  // window: context tokens + pending tokens
  std::string prefix_;        // text of the window already emitted
  size_t prefix_count_ = 0;   // tokens of the window whose text is in prefix_
};

}  // namespace tuna
