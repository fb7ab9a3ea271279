// The Tokenizer facade: loading tokenizer.json / tokenizer_config.json the way transformers'
// fast tokenizers do, the encode pipeline (added tokens → normalizer → normalized added tokens →
// pre-tokenizer → model → post-processor) and decode. See tokenizer.h.
#include "tokenizer/tokenizer.h"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <unordered_set>

#include "core/error.h"
#include "core/message.h"
#include "core/utf8.h"
#include "tokenizer/bpe.h"
#include "tokenizer/decoders.h"
#include "tokenizer/normalizers.h"
#include "tokenizer/post_processors.h"
#include "tokenizer/pre_tokenizers.h"
#include "tokenizer/wordpiece.h"

namespace tuna {

using nlohmann::json;
using tok::JsonWhere;

struct Tokenizer::Impl {
  std::unique_ptr<tok::Normalizer> normalizer;
  std::unique_ptr<tok::PreTokenizer> pre_tokenizer;
  std::unique_ptr<tok::Model> model;
  std::unique_ptr<tok::PostProcessor> post_processor;
  std::unique_ptr<tok::Decoder> decoder;
  tok::AddedVocabulary added;
  std::unordered_set<std::string> special_contents;
  TokenizerOptions options;
  std::optional<int32_t> bos, eos, pad, unk;
  bool add_bos = false, add_eos = false;

  std::optional<int32_t> token_id(const std::optional<std::string>& t) const {
    if (!t) return std::nullopt;
    if (auto id = added.find_content(*t)) return id;
    return model->token_to_id(*t);
  }
  Encoding encode(std::string_view text, bool add_special) const;
  // HF's AddedVocabulary::add_tokens id rule; an empty content is ignored.
  void add_token(tok::AddedToken t) {
    if (t.content.empty()) return;
    if (auto id = added.find_content(t.content)) {
      t.id = *id;
    } else if (auto mid = model->token_to_id(t.content)) {
      t.id = *mid;
    } else {
      int64_t n = model->entry_count(), max_added = -1;
      for (const auto& a : added.tokens()) max_added = std::max<int64_t>(max_added, a.id);
      t.id =
          static_cast<int32_t>(max_added < 0 ? n : (max_added >= n || n == 0 ? max_added + 1 : n));
    }
    added.add(std::move(t));
  }
  std::string decode_pipeline(const std::vector<int32_t>& ids, bool skip) const;
  void finish();
};

namespace {

std::string read_file(const std::string& path, const char* what) {
  std::ifstream f(path, std::ios::binary);
  if (!f)
    throw_user_error("tokenizer", std::string("cannot read ") + what + " " + path,
                     "check that the file exists and is readable");
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

json parse_json(const std::string& text, const std::string& path) {
  if (const size_t bad = utf8::first_invalid(text); bad != std::string::npos)
    throw_user_error("tokenizer", path + ": " + invalid_utf8_at(text, bad),
                     "the file must be UTF-8 JSON as written by Hugging Face tokenizers; "
                     "re-download or re-save it");
  try {
    return json::parse(text);
  } catch (const json::parse_error& e) {
    const TextPosition at = text_position(text, e.byte > 0 ? e.byte - 1 : 0);
    throw_user_error("tokenizer",
                     path + " line " + std::to_string(at.line) + ", column " +
                         std::to_string(at.column) + ": not valid JSON" +
                         (text.empty() ? " (the file is empty)" : ""),
                     "the file must be valid JSON as written by Hugging Face tokenizers; "
                     "re-download or re-save it");
  }
}

// "<bos>" or {"content": "<bos>", ...} (AddedToken as transformers serialises it) or null.
std::optional<std::string> special_token_string(const json& cfg, const char* key,
                                                const JsonWhere& w) {
  auto it = cfg.find(key);
  if (it == cfg.end() || it->is_null()) return std::nullopt;
  if (it->is_string()) return it->get<std::string>();
  if (it->is_object() && it->contains("content") && (*it)["content"].is_string())
    return (*it)["content"].get<std::string>();
  tok::json_fail(w.at(key), "expected a token string or an AddedToken object");
}

std::unique_ptr<tok::Model> make_model(const json& j, const JsonWhere& w) {
  static const std::vector<std::string> kSupported = {"BPE", "WordPiece"};
  std::string type;
  if (j.is_object() && j.contains("type")) {
    type = tok::get_type(j, w);
  } else if (j.is_object() && j.contains("merges")) {
    type = "BPE";  // older files omit the tag
  } else if (j.is_object() && j.contains("vocab") && j["vocab"].is_object()) {
    type = "WordPiece";
  } else if (j.is_object() && j.contains("vocab") && j["vocab"].is_array()) {
    type = "Unigram";
  } else {
    tok::json_fail(w, "expected a model object");
  }
  if (type == "BPE") return tok::make_bpe_model(j, w);
  if (type == "WordPiece") return tok::make_wordpiece_model(j, w);
  tok::unknown_type(w.at("type"), "model", type, kSupported);
}

const std::vector<std::string>& rebuilding_classes() {
  // transformers' LlamaTokenizerFast / GemmaTokenizerFast call update_post_processor() on load.
  static const std::vector<std::string> v = {"LlamaTokenizer",     "LlamaTokenizerFast",
                                             "GemmaTokenizer",     "GemmaTokenizerFast",
                                             "CodeLlamaTokenizer", "CodeLlamaTokenizerFast"};
  return v;
}

}  // namespace

void Tokenizer::Impl::finish() {
  added.build(normalizer.get());
  special_contents.clear();
  for (const auto& t : added.tokens())
    if (t.special) special_contents.insert(t.content);
  bos = token_id(options.bos_token);
  eos = token_id(options.eos_token);
  pad = token_id(options.pad_token);
  unk = token_id(options.unk_token);
  std::vector<int32_t> ids;
  std::vector<uint8_t> mask;
  if (post_processor) post_processor->process(ids, mask, true);
  add_bos = bos && !ids.empty() && ids.front() == *bos;
  add_eos = eos && !ids.empty() && ids.back() == *eos;
}

Tokenizer Tokenizer::from_json(const json& j, const json* cfg, const std::string& source,
                               const std::string& config_source) {
  auto impl = std::make_shared<Impl>();
  JsonWhere root{source, ""};
  if (!j.is_object())
    tok::json_fail(root, "expected a JSON object (a Hugging Face tokenizer.json)");
  impl->model = make_model(tok::require(j, "model", root), root.at("model"));
  if (j.contains("normalizer") && !j["normalizer"].is_null())
    impl->normalizer = tok::make_normalizer(j["normalizer"], root.at("normalizer"));
  if (j.contains("pre_tokenizer") && !j["pre_tokenizer"].is_null())
    impl->pre_tokenizer = tok::make_pre_tokenizer(j["pre_tokenizer"], root.at("pre_tokenizer"));
  if (j.contains("post_processor") && !j["post_processor"].is_null())
    impl->post_processor = tok::make_post_processor(j["post_processor"], root.at("post_processor"));
  if (j.contains("decoder") && !j["decoder"].is_null())
    impl->decoder = tok::make_decoder(j["decoder"], root.at("decoder"));
  // "truncation" and "padding" are ignored: transformers resets both on every call.

  if (j.contains("added_tokens") && !j["added_tokens"].is_null()) {
    const json& arr = j["added_tokens"];
    if (!arr.is_array()) tok::json_fail(root.at("added_tokens"), "expected an array");
    // HF re-adds the tokens in file order with AddedVocabulary::add_tokens: the stored "id" is
    // only checked (a warning), the id is the existing one for a known content, else the next.
    for (size_t i = 0; i < arr.size(); ++i) {
      JsonWhere w = root.at("added_tokens").at(i);
      const json& a = arr[i];
      tok::AddedToken t;
      t.content = tok::get_string(a, "content", w);
      t.special = tok::get_bool_or(a, "special", false, w);
      t.normalized = tok::get_bool_or(a, "normalized", !t.special, w);
      t.lstrip = tok::get_bool_or(a, "lstrip", false, w);
      t.rstrip = tok::get_bool_or(a, "rstrip", false, w);
      t.single_word = tok::get_bool_or(a, "single_word", false, w);
      impl->add_token(std::move(t));
    }
  }

  TokenizerOptions& o = impl->options;
  if (cfg) {
    JsonWhere cw{config_source.empty() ? "tokenizer_config.json" : config_source, ""};
    if (!cfg->is_object()) tok::json_fail(cw, "expected a JSON object");
    o.bos_token = special_token_string(*cfg, "bos_token", cw);
    o.eos_token = special_token_string(*cfg, "eos_token", cw);
    o.unk_token = special_token_string(*cfg, "unk_token", cw);
    o.pad_token = special_token_string(*cfg, "pad_token", cw);
    o.clean_up_tokenization_spaces =
        tok::get_bool_or(*cfg, "clean_up_tokenization_spaces", false, cw);
    auto mml = cfg->find("model_max_length");
    if (mml != cfg->end() && mml->is_number()) {
      double v = mml->get<double>();
      o.model_max_length = v >= 9.2e18 ? INT64_MAX : static_cast<int64_t>(v);
    }
    o.padding_side = tok::get_string_or(*cfg, "padding_side", "right", cw);
    auto ct = cfg->find("chat_template");
    if (ct != cfg->end() && !ct->is_null()) {
      if (ct->is_string()) {
        o.chat_templates["default"] = ct->get<std::string>();
      } else if (ct->is_array()) {
        for (size_t i = 0; i < ct->size(); ++i) {
          JsonWhere w = cw.at("chat_template").at(i);
          o.chat_templates[tok::get_string((*ct)[i], "name", w)] =
              tok::get_string((*ct)[i], "template", w);
        }
      } else {
        tok::json_fail(cw.at("chat_template"), "expected a string or a list of {name, template}");
      }
    }
    // Special tokens named by the config but absent from the vocabulary are appended as new
    // special tokens, as transformers does on load.
    std::vector<std::optional<std::string>> named = {o.bos_token, o.eos_token, o.unk_token,
                                                     o.pad_token};
    for (const char* k : {"sep_token", "cls_token", "mask_token"})
      named.push_back(special_token_string(*cfg, k, cw));
    if (cfg->contains("additional_special_tokens") &&
        (*cfg)["additional_special_tokens"].is_array())
      for (const auto& t : (*cfg)["additional_special_tokens"]) {
        if (t.is_string())
          named.push_back(t.get<std::string>());
        else if (t.is_object() && t.contains("content"))
          named.push_back(t["content"].get<std::string>());
      }
    for (const auto& n : named) {
      if (!n || impl->added.find_content(*n) || impl->model->token_to_id(*n)) continue;
      tok::AddedToken t;
      t.content = *n;
      t.special = true;
      impl->add_token(std::move(t));
    }
    std::string cls = tok::get_string_or(*cfg, "tokenizer_class", "", cw);
    for (const auto& c : rebuilding_classes()) {
      if (cls != c) continue;
      bool add_bos = tok::get_bool_or(*cfg, "add_bos_token", true, cw);
      bool add_eos = tok::get_bool_or(*cfg, "add_eos_token", false, cw);
      std::vector<tok::TemplateItem> items;
      auto special_item = [&](const std::optional<std::string>& t, const char* name) {
        std::optional<int32_t> id = impl->token_id(t);
        if (!id)
          tok::json_fail(cw.at(std::string("add_") + name + "_token"),
                         std::string("add_") + name + "_token is true but " + name +
                             "_token is not set or not in the vocabulary");
        items.push_back({false, {*id}});
      };
      if (add_bos) special_item(o.bos_token, "bos");
      items.push_back({true, {}});
      if (add_eos) special_item(o.eos_token, "eos");
      impl->post_processor = tok::make_template_processor(std::move(items));
    }
  }
  impl->finish();
  Tokenizer t;
  t.impl_ = std::move(impl);
  return t;
}

Tokenizer Tokenizer::from_files(const std::string& tokenizer_json,
                                const std::string& tokenizer_config_json) {
  json j = parse_json(read_file(tokenizer_json, "tokenizer file"), tokenizer_json);
  if (tokenizer_config_json.empty()) return from_json(j, nullptr, tokenizer_json);
  json c = parse_json(read_file(tokenizer_config_json, "tokenizer config"), tokenizer_config_json);
  return from_json(j, &c, tokenizer_json, tokenizer_config_json);
}

Tokenizer Tokenizer::from_model_dir(const std::string& dir) {
  namespace fs = std::filesystem;
  fs::path d(dir);
  fs::path tj = d / "tokenizer.json", tc = d / "tokenizer_config.json";
  if (!fs::exists(tj))
    throw_user_error("tokenizer", "no tokenizer.json in " + dir,
                     fs::exists(d / "tokenizer.model")
                         ? "only a SentencePiece tokenizer.model is there; convert it with "
                           "transformers (AutoTokenizer.from_pretrained(...).save_pretrained) first"
                         : "use a Hugging Face model directory (with tokenizer.json) as the model");
  Tokenizer t = from_files(tj.string(), fs::exists(tc) ? tc.string() : "");
  fs::path jinja = d / "chat_template.jinja";
  if (fs::exists(jinja)) {
    // transformers prefers chat_template.jinja over the config's chat_template.
    t.impl_->options.chat_templates["default"] = read_file(jinja.string(), "chat template");
  }
  return t;
}

Tokenizer Tokenizer::from_parts(Parts parts, TokenizerOptions options, bool add_bos, bool add_eos) {
  if (!parts.model) throw_internal_error("tokenizer", "from_parts without a model");
  auto impl = std::make_shared<Impl>();
  impl->normalizer = std::move(parts.normalizer);
  impl->pre_tokenizer = std::move(parts.pre_tokenizer);
  impl->model = std::move(parts.model);
  impl->post_processor = std::move(parts.post_processor);
  impl->decoder = std::move(parts.decoder);
  for (auto& a : parts.added_tokens) {
    if (a.id < 0)
      impl->add_token(std::move(a));
    else
      impl->added.add(std::move(a));
  }
  impl->options = std::move(options);
  if (!impl->post_processor && (add_bos || add_eos)) {
    std::vector<tok::TemplateItem> items;
    auto bos = impl->token_id(impl->options.bos_token);
    auto eos = impl->token_id(impl->options.eos_token);
    if (add_bos && !bos) throw_user_error("tokenizer", "add_bos is set but there is no BOS token");
    if (add_eos && !eos) throw_user_error("tokenizer", "add_eos is set but there is no EOS token");
    if (add_bos) items.push_back({false, {*bos}});
    items.push_back({true, {}});
    if (add_eos) items.push_back({false, {*eos}});
    impl->post_processor = tok::make_template_processor(std::move(items));
  }
  impl->finish();
  Tokenizer t;
  t.impl_ = std::move(impl);
  return t;
}

Tokenizer::Encoding Tokenizer::Impl::encode(std::string_view input, bool add_special) const {
  Encoding enc;
  std::string repaired;
  std::string_view text = input;
  if (!utf8::is_valid(input)) {
    enc.invalid_utf8_replaced = utf8::append_lossy(repaired, input);
    text = repaired;
  }
  thread_local std::vector<tok::AddedVocabulary::Piece> raw_pieces, norm_pieces;
  thread_local std::string norm;
  thread_local tok::PreTokenized pt;
  raw_pieces.clear();
  added.split(text, false, raw_pieces);
  auto push_added = [&](int32_t id) {
    enc.ids.push_back(id);
    const tok::AddedToken* t = added.find_id(id);
    enc.special_mask.push_back(t && t->special ? 1 : 0);
  };
  for (const auto& rp : raw_pieces) {
    if (rp.id >= 0) {
      push_added(rp.id);
      continue;
    }
    norm.assign(text.substr(rp.begin, rp.end - rp.begin));
    if (normalizer) normalizer->normalize(norm);
    norm_pieces.clear();
    if (added.has_tokens(true))
      added.split(norm, true, norm_pieces);
    else if (!norm.empty())
      norm_pieces.push_back({0, norm.size(), -1});
    for (const auto& np : norm_pieces) {
      if (np.id >= 0) {
        push_added(np.id);
        continue;
      }
      pt.reset(std::string_view(norm).substr(np.begin, np.end - np.begin),
               rp.begin == 0 && np.begin == 0);
      if (pre_tokenizer) pre_tokenizer->pre_tokenize(pt);
      for (size_t w = 0; w < pt.spans.size(); ++w) model->tokenize(pt.word(w), enc.ids);
      enc.special_mask.resize(enc.ids.size(), 0);
    }
  }
  if (post_processor) post_processor->process(enc.ids, enc.special_mask, add_special);
  return enc;
}

std::string Tokenizer::Impl::decode_pipeline(const std::vector<int32_t>& ids, bool skip) const {
  std::vector<std::string> tokens;
  tokens.reserve(ids.size());
  for (int32_t id : ids) {
    const std::string* piece = nullptr;
    if (const tok::AddedToken* a = added.find_id(id))
      piece = &a->content;
    else
      piece = model->id_to_token(id);
    if (!piece) continue;
    if (skip && special_contents.count(*piece)) continue;
    tokens.push_back(*piece);
  }
  if (decoder) {
    decoder->decode_chain(tokens);
    std::string out;
    for (const auto& t : tokens) out += t;
    return out;
  }
  std::string out;
  for (size_t i = 0; i < tokens.size(); ++i) out += (i ? " " : "") + tokens[i];
  return out;
}

std::vector<int32_t> Tokenizer::encode(std::string_view text, bool add_special_tokens) const {
  return impl_->encode(text, add_special_tokens).ids;
}
Tokenizer::Encoding Tokenizer::encode_full(std::string_view text, bool add_special_tokens) const {
  return impl_->encode(text, add_special_tokens);
}

std::string Tokenizer::decode_pipeline(const std::vector<int32_t>& ids, bool skip) const {
  return impl_->decode_pipeline(ids, skip);
}

std::string Tokenizer::decode(const std::vector<int32_t>& ids, bool skip_special_tokens) const {
  std::string s = impl_->decode_pipeline(ids, skip_special_tokens);
  if (impl_->options.clean_up_tokenization_spaces)
    s = tok::clean_up_tokenization(std::move(s), false);
  return s;
}

std::string Tokenizer::id_to_piece(int32_t id) const {
  if (const tok::AddedToken* a = impl_->added.find_id(id)) return a->content;
  const std::string* p = impl_->model->id_to_token(id);
  return p ? *p : std::string();
}

std::optional<int32_t> Tokenizer::piece_to_id(std::string_view piece) const {
  if (auto id = impl_->added.find_content(piece)) return id;
  return impl_->model->token_to_id(piece);
}

int64_t Tokenizer::vocab_size() const {
  // len(tokenizer): model pieces plus added tokens that are not model pieces.
  int64_t n = impl_->model->entry_count();
  for (const auto& t : impl_->added.tokens())
    if (!impl_->model->token_to_id(t.content)) ++n;
  return n;
}

bool Tokenizer::is_special(int32_t id) const {
  const tok::AddedToken* a = impl_->added.find_id(id);
  return a && a->special;
}

std::optional<int32_t> Tokenizer::bos_id() const {
  return impl_->bos;
}
std::optional<int32_t> Tokenizer::eos_id() const {
  return impl_->eos;
}
std::optional<int32_t> Tokenizer::pad_id() const {
  return impl_->pad;
}
std::optional<int32_t> Tokenizer::unk_id() const {
  return impl_->unk;
}
bool Tokenizer::add_bos() const {
  return impl_->add_bos;
}
bool Tokenizer::add_eos() const {
  return impl_->add_eos;
}
const TokenizerOptions& Tokenizer::options() const {
  return impl_->options;
}

std::optional<std::string> Tokenizer::chat_template() const {
  auto it = impl_->options.chat_templates.find("default");
  if (it == impl_->options.chat_templates.end()) return std::nullopt;
  return it->second;
}

nlohmann::ordered_json Tokenizer::special_tokens_map() const {
  nlohmann::ordered_json m = nlohmann::ordered_json::object();
  const TokenizerOptions& o = impl_->options;
  if (o.bos_token) m["bos_token"] = *o.bos_token;
  if (o.eos_token) m["eos_token"] = *o.eos_token;
  if (o.unk_token) m["unk_token"] = *o.unk_token;
  if (o.pad_token) m["pad_token"] = *o.pad_token;
  return m;
}

}  // namespace tuna
