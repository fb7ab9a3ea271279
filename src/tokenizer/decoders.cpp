// Decoder implementations; see decoders.h.
#include "tokenizer/decoders.h"

#include "core/utf8.h"
#include "tokenizer/byte_level.h"
#include "tokenizer/pre_tokenizers.h"

namespace tuna::tok {

namespace {

void replace_all(std::string& s, std::string_view from, std::string_view to) {
  if (from.empty() || s.find(from) == std::string::npos) return;
  std::string out;
  out.reserve(s.size());
  size_t prev = 0;
  for (size_t p = s.find(from); p != std::string::npos; p = s.find(from, prev)) {
    out.append(s, prev, p - prev);
    out.append(to);
    prev = p + from.size();
  }
  out.append(s, prev);
  s.swap(out);
}

// All tokens become one string of bytes (per token: its byte-level bytes when every char is in
// the alphabet, else its own UTF-8), then lossy UTF-8.
class ByteLevelDecoder : public Decoder {
 public:
  void decode_chain(std::vector<std::string>& tokens) const override {
    std::string bytes, tok_bytes;
    for (const auto& t : tokens) {
      tok_bytes.clear();
      bool ok = true;
      for (size_t i = 0; i < t.size();) {
        int b = byte_level_decode_char(utf8::next(t, i));
        if (b < 0) {
          ok = false;
          break;
        }
        tok_bytes.push_back(static_cast<char>(b));
      }
      bytes += ok ? tok_bytes : t;
    }
    tokens.assign(1, utf8::lossy(bytes));
  }
};

class ByteFallbackDecoder : public Decoder {
 public:
  void decode_chain(std::vector<std::string>& tokens) const override {
    std::vector<std::string> out;
    std::string pending;
    size_t pending_count = 0;
    auto flush = [&]() {
      if (pending_count == 0) return;
      if (utf8::is_valid(pending)) {
        out.push_back(pending);
      } else {
        for (size_t k = 0; k < pending_count; ++k) out.emplace_back("\xEF\xBF\xBD");
      }
      pending.clear();
      pending_count = 0;
    };
    for (auto& t : tokens) {
      int byte = parse_byte(t);
      if (byte >= 0) {
        pending.push_back(static_cast<char>(byte));
        ++pending_count;
      } else {
        flush();
        out.push_back(std::move(t));
      }
    }
    flush();
    tokens.swap(out);
  }

 private:
  static int hex(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  }
  // "<0xAB>" → 0xAB (Rust u8::from_str_radix accepts either case).
  static int parse_byte(const std::string& t) {
    if (t.size() != 6 || t.compare(0, 3, "<0x") != 0 || t[5] != '>') return -1;
    int h = hex(t[3]), l = hex(t[4]);
    if (h < 0 || l < 0) return -1;
    return h * 16 + l;
  }
};

class FuseDecoder : public Decoder {
 public:
  void decode_chain(std::vector<std::string>& tokens) const override {
    std::string all;
    for (const auto& t : tokens) all += t;
    tokens.assign(1, std::move(all));
  }
};

class ReplaceDecoder : public Decoder {
 public:
  ReplaceDecoder(Pattern p, std::string content) : p_(std::move(p)), content_(std::move(content)) {}
  void decode_chain(std::vector<std::string>& tokens) const override {
    for (auto& t : tokens) t = p_.replace_all(t, content_);
  }

 private:
  Pattern p_;
  std::string content_;
};

class StripDecoder : public Decoder {
 public:
  StripDecoder(uint32_t content, size_t start, size_t stop)
      : content_(content), start_(start), stop_(stop) {}
  void decode_chain(std::vector<std::string>& tokens) const override {
    std::vector<uint32_t> chars;
    for (auto& t : tokens) {
      chars.clear();
      for (size_t i = 0; i < t.size();) chars.push_back(utf8::next(t, i));
      size_t start_cut = 0;
      for (size_t i = 0; i < start_ && i < chars.size(); ++i) {
        if (chars[i] != content_) break;
        start_cut = i + 1;
      }
      size_t stop_cut = chars.size();
      for (size_t i = 0; i < stop_ && i < chars.size(); ++i) {
        size_t index = chars.size() - i - 1;
        if (chars[index] != content_) break;
        stop_cut = index;
      }
      std::string out;
      for (size_t i = start_cut; i < stop_cut; ++i) utf8::append(out, chars[i]);
      t.swap(out);
    }
  }

 private:
  uint32_t content_;
  size_t start_, stop_;
};

class MetaspaceDecoder : public Decoder {
 public:
  MetaspaceDecoder(std::string rep, bool prepend) : rep_(std::move(rep)), prepend_(prepend) {}
  void decode_chain(std::vector<std::string>& tokens) const override {
    for (size_t i = 0; i < tokens.size(); ++i)
      replace_all(tokens[i], rep_, i == 0 && prepend_ ? "" : " ");
  }

 private:
  std::string rep_;
  bool prepend_;
};

class WordPieceDecoder : public Decoder {
 public:
  WordPieceDecoder(std::string prefix, bool cleanup)
      : prefix_(std::move(prefix)), cleanup_(cleanup) {}
  void decode_chain(std::vector<std::string>& tokens) const override {
    for (size_t i = 0; i < tokens.size(); ++i) {
      std::string& t = tokens[i];
      if (i != 0) {
        if (t.starts_with(prefix_))
          t.erase(0, prefix_.size());
        else
          t = std::string(" ").append(t);
      }
      if (cleanup_) t = clean_up_tokenization(std::move(t), true);
    }
  }

 private:
  std::string prefix_;
  bool cleanup_;
};

class BpeDecoder : public Decoder {
 public:
  explicit BpeDecoder(std::string suffix) : suffix_(std::move(suffix)) {}
  void decode_chain(std::vector<std::string>& tokens) const override {
    for (size_t i = 0; i < tokens.size(); ++i)
      replace_all(tokens[i], suffix_, i + 1 == tokens.size() ? "" : " ");
  }

 private:
  std::string suffix_;
};

class SequenceDecoder : public Decoder {
 public:
  explicit SequenceDecoder(std::vector<std::unique_ptr<Decoder>> v) : v_(std::move(v)) {}
  void decode_chain(std::vector<std::string>& tokens) const override {
    for (const auto& d : v_) d->decode_chain(tokens);
  }

 private:
  std::vector<std::unique_ptr<Decoder>> v_;
};

}  // namespace

std::string clean_up_tokenization(std::string s, bool wordpiece_rules) {
  replace_all(s, " .", ".");
  replace_all(s, " ?", "?");
  replace_all(s, " !", "!");
  replace_all(s, " ,", ",");
  replace_all(s, " ' ", "'");
  replace_all(s, " n't", "n't");
  replace_all(s, " 'm", "'m");
  if (wordpiece_rules) replace_all(s, " do not", " don't");
  replace_all(s, " 's", "'s");
  replace_all(s, " 've", "'ve");
  replace_all(s, " 're", "'re");
  return s;
}

std::unique_ptr<Decoder> make_decoder(const json& j, const JsonWhere& w) {
  static const std::vector<std::string> kSupported = {"ByteLevel", "ByteFallback", "Fuse",
                                                      "Replace",   "Strip",        "Metaspace",
                                                      "WordPiece", "BPEDecoder",   "Sequence"};
  std::string type = get_type(j, w);
  if (type == "ByteLevel") return std::make_unique<ByteLevelDecoder>();
  if (type == "ByteFallback") return std::make_unique<ByteFallbackDecoder>();
  if (type == "Fuse") return std::make_unique<FuseDecoder>();
  if (type == "Replace")
    return std::make_unique<ReplaceDecoder>(
        parse_pattern(require(j, "pattern", w), w.at("pattern")), get_string(j, "content", w));
  if (type == "Strip") {
    std::string c = get_string(j, "content", w);
    if (utf8::count_chars(c) != 1) json_fail(w.at("content"), "expected one character");
    size_t i = 0;
    return std::make_unique<StripDecoder>(utf8::next(c, i),
                                          static_cast<size_t>(get_int_or(j, "start", 0, w)),
                                          static_cast<size_t>(get_int_or(j, "stop", 0, w)));
  }
  if (type == "Metaspace") {
    std::string rep = get_string_or(j, "replacement", "\xE2\x96\x81", w);
    bool prepend = true;
    if (j.contains("prepend_scheme") && !j["prepend_scheme"].is_null())
      prepend = get_string(j, "prepend_scheme", w) != "never";
    else if (j.contains("add_prefix_space"))
      prepend = get_bool_or(j, "add_prefix_space", true, w);
    return std::make_unique<MetaspaceDecoder>(rep, prepend);
  }
  if (type == "WordPiece")
    return std::make_unique<WordPieceDecoder>(get_string_or(j, "prefix", "##", w),
                                              get_bool_or(j, "cleanup", true, w));
  if (type == "BPEDecoder")
    return std::make_unique<BpeDecoder>(get_string_or(j, "suffix", "</w>", w));
  if (type == "Sequence") {
    const json& arr = require(j, "decoders", w);
    if (!arr.is_array()) json_fail(w.at("decoders"), "expected an array");
    std::vector<std::unique_ptr<Decoder>> v;
    for (size_t i = 0; i < arr.size(); ++i)
      v.push_back(make_decoder(arr[i], w.at("decoders").at(i)));
    return std::make_unique<SequenceDecoder>(std::move(v));
  }
  unknown_type(w.at("type"), "decoder", type, kSupported);
}

}  // namespace tuna::tok
