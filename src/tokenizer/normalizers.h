// tokenizer.json normalizers, with HF tokenizers' semantics: NFC/NFD/NFKC/NFKD (utf8proc),
// Lowercase, StripAccents, Replace (string or regex), Prepend, Strip, BertNormalizer, ByteLevel,
// Sequence. They rewrite a UTF-8 string in place; alignment/offset tracking is not kept (tuna's
// Encoding has no offsets). Precompiled (SentencePiece charsmap) and Nmt are not supported.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "tokenizer/json_util.h"

namespace tuna::tok {

class Normalizer {
 public:
  virtual ~Normalizer() = default;
  virtual void normalize(std::string& s) const = 0;
};

enum class UnicodeForm { NFC, NFD, NFKC, NFKD };
std::unique_ptr<Normalizer> make_unicode_normalizer(UnicodeForm form);
std::unique_ptr<Normalizer> make_replace_normalizer(Pattern pattern, std::string content);
std::unique_ptr<Normalizer> make_prepend_normalizer(std::string prepend);
std::unique_ptr<Normalizer> make_sequence_normalizer(std::vector<std::unique_ptr<Normalizer>> v);

// Builds a normalizer from its tokenizer.json object; throws a user error naming `w` for an
// unknown type or a malformed object.
std::unique_ptr<Normalizer> make_normalizer(const json& j, const JsonWhere& w);

// Unicode normalization of a whole string (used by normalizers and tests).
std::string unicode_normalize(const std::string& s, UnicodeForm form);

}  // namespace tuna::tok
