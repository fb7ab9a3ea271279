// Post-processor implementations; see post_processors.h.
#include "tokenizer/post_processors.h"

namespace tuna::tok {

namespace {

class TemplateProcessor : public PostProcessor {
 public:
  explicit TemplateProcessor(std::vector<TemplateItem> single) : single_(std::move(single)) {}
  void process(std::vector<int32_t>& ids, std::vector<uint8_t>& mask,
               bool add_special) const override {
    if (!add_special) return;
    std::vector<int32_t> out;
    std::vector<uint8_t> out_mask;
    out.reserve(ids.size() + 4);
    for (const auto& item : single_) {
      if (item.is_sequence) {
        out.insert(out.end(), ids.begin(), ids.end());
        out_mask.insert(out_mask.end(), mask.begin(), mask.end());
      } else {
        out.insert(out.end(), item.ids.begin(), item.ids.end());
        out_mask.insert(out_mask.end(), item.ids.size(), 1);
      }
    }
    ids.swap(out);
    mask.swap(out_mask);
  }

 private:
  std::vector<TemplateItem> single_;
};

class NoopProcessor : public PostProcessor {
 public:
  void process(std::vector<int32_t>&, std::vector<uint8_t>&, bool) const override {}
};

class SequenceProcessor : public PostProcessor {
 public:
  explicit SequenceProcessor(std::vector<std::unique_ptr<PostProcessor>> v) : v_(std::move(v)) {}
  void process(std::vector<int32_t>& ids, std::vector<uint8_t>& mask,
               bool add_special) const override {
    for (const auto& p : v_) p->process(ids, mask, add_special);
  }

 private:
  std::vector<std::unique_ptr<PostProcessor>> v_;
};

// ["[SEP]", 102] as BertProcessing / RobertaProcessing store their tokens.
int32_t token_pair_id(const json& j, const char* key, const JsonWhere& w) {
  const json& v = require(j, key, w);
  if (!v.is_array() || v.size() != 2 || !v[1].is_number_integer())
    json_fail(w.at(key), "expected [\"token\", id]");
  return v[1].get<int32_t>();
}

}  // namespace

std::unique_ptr<PostProcessor> make_template_processor(std::vector<TemplateItem> single) {
  return std::make_unique<TemplateProcessor>(std::move(single));
}

std::unique_ptr<PostProcessor> make_post_processor(const json& j, const JsonWhere& w) {
  static const std::vector<std::string> kSupported = {"TemplateProcessing", "BertProcessing",
                                                      "RobertaProcessing", "ByteLevel", "Sequence"};
  std::string type = get_type(j, w);
  if (type == "ByteLevel") return std::make_unique<NoopProcessor>();
  if (type == "BertProcessing" || type == "RobertaProcessing") {
    int32_t cls = token_pair_id(j, "cls", w), sep = token_pair_id(j, "sep", w);
    std::vector<TemplateItem> t = {{false, {cls}}, {true, {}}, {false, {sep}}};
    return make_template_processor(std::move(t));
  }
  if (type == "TemplateProcessing") {
    const json& single = require(j, "single", w);
    const json& specials = j.contains("special_tokens") ? j["special_tokens"] : json::object();
    if (!single.is_array()) json_fail(w.at("single"), "expected an array");
    std::vector<TemplateItem> items;
    for (size_t i = 0; i < single.size(); ++i) {
      const json& p = single[i];
      JsonWhere wi = w.at("single").at(i);
      if (p.is_object() && p.contains("Sequence")) {
        std::string id = get_string(p["Sequence"], "id", wi.at("Sequence"));
        if (id != "A") json_fail(wi, "a single-sequence template can only use $A");
        items.push_back({true, {}});
      } else if (p.is_object() && p.contains("SpecialToken")) {
        std::string id = get_string(p["SpecialToken"], "id", wi.at("SpecialToken"));
        if (!specials.is_object() || !specials.contains(id))
          json_fail(wi, "special token \"" + id + "\" is missing from special_tokens");
        const json& st = specials[id];
        const json& ids = require(st, "ids", w.at("special_tokens").at(id));
        TemplateItem item;
        for (const auto& x : ids) {
          if (!x.is_number_integer())
            json_fail(w.at("special_tokens").at(id).at("ids"), "expected integer ids");
          item.ids.push_back(x.get<int32_t>());
        }
        items.push_back(std::move(item));
      } else {
        json_fail(wi, "expected {\"Sequence\": ...} or {\"SpecialToken\": ...}");
      }
    }
    return make_template_processor(std::move(items));
  }
  if (type == "Sequence") {
    const json& arr = require(j, "processors", w);
    if (!arr.is_array()) json_fail(w.at("processors"), "expected an array");
    std::vector<std::unique_ptr<PostProcessor>> v;
    for (size_t i = 0; i < arr.size(); ++i)
      v.push_back(make_post_processor(arr[i], w.at("processors").at(i)));
    return std::make_unique<SequenceProcessor>(std::move(v));
  }
  unknown_type(w.at("type"), "post-processor", type, kSupported);
}

}  // namespace tuna::tok
