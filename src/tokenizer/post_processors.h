// tokenizer.json post-processors for single sequences: TemplateProcessing, BertProcessing,
// RobertaProcessing, ByteLevel (ids unchanged) and Sequence. They add special tokens when
// add_special_tokens is set. Pair templates ($B) are parsed but not applied (tuna encodes one
// sequence at a time); truncation and padding are not post-processing here.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "tokenizer/json_util.h"

namespace tuna::tok {

class PostProcessor {
 public:
  virtual ~PostProcessor() = default;
  // Rewrites ids (and the parallel special mask) for one sequence.
  virtual void process(std::vector<int32_t>& ids, std::vector<uint8_t>& special_mask,
                       bool add_special_tokens) const = 0;
};

// One item of a single-sequence template: special ids to insert, or the sequence itself.
struct TemplateItem {
  bool is_sequence = false;
  std::vector<int32_t> ids;
};
std::unique_ptr<PostProcessor> make_template_processor(std::vector<TemplateItem> single);
std::unique_ptr<PostProcessor> make_post_processor(const json& j, const JsonWhere& w);

}  // namespace tuna::tok
