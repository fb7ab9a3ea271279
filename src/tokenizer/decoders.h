// tokenizer.json decoders with HF tokenizers' semantics: ByteLevel, ByteFallback, Fuse, Replace,
// Strip, Metaspace, WordPiece (with cleanup), BPEDecoder, Sequence. Each maps a list of pieces to
// a list of pieces; the tokenizer joins the result. CTC is not supported.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "tokenizer/json_util.h"

namespace tuna::tok {

class Decoder {
 public:
  virtual ~Decoder() = default;
  virtual void decode_chain(std::vector<std::string>& tokens) const = 0;
};

std::unique_ptr<Decoder> make_decoder(const json& j, const JsonWhere& w);

// transformers' PreTrainedTokenizerBase.clean_up_tokenization (also WordPiece's cleanup minus
// its " do not" rule).
std::string clean_up_tokenization(std::string s, bool wordpiece_rules);

}  // namespace tuna::tok
