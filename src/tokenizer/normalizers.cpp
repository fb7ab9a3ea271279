// Normalizer implementations; see normalizers.h. Unicode normalization is utf8proc's; the
// character classes (whitespace, Mn, controls, lowercase) are HF's own (utf8.h tables).
#include "tokenizer/normalizers.h"

#include <utf8proc.h>

#include <cstdlib>

#include "core/unicode_tables.h"
#include "core/utf8.h"
#include "tokenizer/byte_level.h"

namespace tuna::tok {

namespace {

bool is_ascii(const std::string& s) {
  for (char c : s)
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  return true;
}

class UnicodeNormalizer : public Normalizer {
 public:
  explicit UnicodeNormalizer(UnicodeForm f) : form_(f) {}
  void normalize(std::string& s) const override {
    if (is_ascii(s)) return;
    s = unicode_normalize(s, form_);
  }

 private:
  UnicodeForm form_;
};

class LowercaseNormalizer : public Normalizer {
 public:
  void normalize(std::string& s) const override {
    std::string out;
    out.reserve(s.size());
    for (size_t i = 0; i < s.size();) utf8::append_lower(out, utf8::next(s, i));
    s.swap(out);
  }
};

class StripAccentsNormalizer : public Normalizer {
 public:
  void normalize(std::string& s) const override {
    std::string out;
    out.reserve(s.size());
    for (size_t i = 0; i < s.size();) {
      size_t b = i;
      uint32_t cp = utf8::next(s, i);
      auto cat = utf8proc_category(static_cast<utf8proc_int32_t>(cp));
      if (cat == UTF8PROC_CATEGORY_MN || cat == UTF8PROC_CATEGORY_MC || cat == UTF8PROC_CATEGORY_ME)
        continue;
      out.append(s, b, i - b);
    }
    s.swap(out);
  }
};

class ReplaceNormalizer : public Normalizer {
 public:
  ReplaceNormalizer(Pattern p, std::string content)
      : p_(std::move(p)), content_(std::move(content)) {}
  void normalize(std::string& s) const override { s = p_.replace_all(s, content_); }

 private:
  Pattern p_;
  std::string content_;
};

class PrependNormalizer : public Normalizer {
 public:
  explicit PrependNormalizer(std::string p) : p_(std::move(p)) {}
  void normalize(std::string& s) const override {
    if (!s.empty()) s.insert(0, p_);
  }

 private:
  std::string p_;
};

class StripNormalizer : public Normalizer {
 public:
  StripNormalizer(bool left, bool right) : left_(left), right_(right) {}
  void normalize(std::string& s) const override {
    size_t b = 0, e = s.size();
    if (left_) {
      while (b < e) {
        size_t i = b;
        if (!utf8::is_whitespace(utf8::next(s, i))) break;
        b = i;
      }
    }
    if (right_) {
      while (e > b) {
        size_t i = e;
        if (!utf8::is_whitespace(utf8::prev(s, i))) break;
        e = i;
      }
    }
    s = s.substr(b, e - b);
  }

 private:
  bool left_, right_;
};

class BertNormalizer : public Normalizer {
 public:
  BertNormalizer(bool clean, bool chinese, bool strip, bool lower)
      : clean_(clean), chinese_(chinese), strip_(strip), lower_(lower) {}
  void normalize(std::string& s) const override {
    std::string out;
    out.reserve(s.size() + 8);
    if (clean_ || chinese_) {
      for (size_t i = 0; i < s.size();) {
        size_t b = i;
        uint32_t cp = utf8::next(s, i);
        if (clean_) {
          if (utf8::is_bert_control(cp)) continue;
          if (cp == '\t' || cp == '\n' || cp == '\r' || utf8::is_whitespace(cp)) {
            out.push_back(' ');
            continue;
          }
        }
        if (chinese_ && utf8::is_chinese_char(cp)) {
          out.push_back(' ');
          out.append(s, b, i - b);
          out.push_back(' ');
          continue;
        }
        out.append(s, b, i - b);
      }
      s.swap(out);
    }
    if (strip_) {
      std::string nfd = is_ascii(s) ? s : unicode_normalize(s, UnicodeForm::NFD);
      out.clear();
      for (size_t i = 0; i < nfd.size();) {
        size_t b = i;
        if (utf8::is_nonspacing_mark(utf8::next(nfd, i))) continue;
        out.append(nfd, b, i - b);
      }
      s.swap(out);
    }
    if (lower_) LowercaseNormalizer().normalize(s);
  }

 private:
  bool clean_, chinese_, strip_, lower_;
};

class ByteLevelNormalizer : public Normalizer {
 public:
  void normalize(std::string& s) const override {
    std::string out;
    byte_level_encode(s, out);
    s.swap(out);
  }
};

class SequenceNormalizer : public Normalizer {
 public:
  explicit SequenceNormalizer(std::vector<std::unique_ptr<Normalizer>> v) : v_(std::move(v)) {}
  void normalize(std::string& s) const override {
    for (const auto& n : v_) n->normalize(s);
  }

 private:
  std::vector<std::unique_ptr<Normalizer>> v_;
};

}  // namespace

static std::string utf8proc_normalize(std::string_view s, UnicodeForm form);

// HF's normalization tables are older than utf8proc's: code points utf8proc would change but HF
// keeps (unicode_tables.cpp) are copied as they are, and the text between them normalized.
std::string unicode_normalize(const std::string& s, UnicodeForm form) {
  int f = static_cast<int>(form);
  const utf8::CodepointRange* keep = utf8::kNormalizationKeep[f];
  size_t n = utf8::kNormalizationKeepCount[f];
  std::string out;
  size_t seg = 0;
  for (size_t i = 0; i < s.size();) {
    size_t b = i;
    uint32_t cp = utf8::next(s, i);
    if (cp < keep[0].lo) continue;
    bool kept = false;
    for (size_t k = 0; k < n && !kept; ++k) kept = cp >= keep[k].lo && cp <= keep[k].hi;
    if (!kept) continue;
    out += utf8proc_normalize(std::string_view(s).substr(seg, b - seg), form);
    out.append(s, b, i - b);
    seg = i;
  }
  if (seg == 0) return utf8proc_normalize(s, form);
  out += utf8proc_normalize(std::string_view(s).substr(seg), form);
  return out;
}

static std::string utf8proc_normalize(std::string_view s, UnicodeForm form) {
  if (s.empty()) return {};
  int opts = UTF8PROC_STABLE;
  switch (form) {
    case UnicodeForm::NFC:
      opts |= UTF8PROC_COMPOSE;
      break;
    case UnicodeForm::NFD:
      opts |= UTF8PROC_DECOMPOSE;
      break;
    case UnicodeForm::NFKC:
      opts |= UTF8PROC_COMPOSE | UTF8PROC_COMPAT;
      break;
    case UnicodeForm::NFKD:
      opts |= UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT;
      break;
  }
  utf8proc_uint8_t* dst = nullptr;
  utf8proc_ssize_t n = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(s.data()),
                                    static_cast<utf8proc_ssize_t>(s.size()), &dst,
                                    static_cast<utf8proc_option_t>(opts));
  if (n < 0) return std::string(s);  // only on invalid input, which the tokenizer never passes
  std::string out(reinterpret_cast<char*>(dst), static_cast<size_t>(n));
  std::free(dst);
  return out;
}

std::unique_ptr<Normalizer> make_unicode_normalizer(UnicodeForm form) {
  return std::make_unique<UnicodeNormalizer>(form);
}
std::unique_ptr<Normalizer> make_replace_normalizer(Pattern pattern, std::string content) {
  return std::make_unique<ReplaceNormalizer>(std::move(pattern), std::move(content));
}
std::unique_ptr<Normalizer> make_prepend_normalizer(std::string prepend) {
  return std::make_unique<PrependNormalizer>(std::move(prepend));
}
std::unique_ptr<Normalizer> make_sequence_normalizer(std::vector<std::unique_ptr<Normalizer>> v) {
  return std::make_unique<SequenceNormalizer>(std::move(v));
}

std::unique_ptr<Normalizer> make_normalizer(const json& j, const JsonWhere& w) {
  static const std::vector<std::string> kSupported = {
      "NFC",     "NFD",     "NFKC",  "NFKD",           "Lowercase", "StripAccents",
      "Replace", "Prepend", "Strip", "BertNormalizer", "ByteLevel", "Sequence"};
  std::string type = get_type(j, w);
  if (type == "NFC") return make_unicode_normalizer(UnicodeForm::NFC);
  if (type == "NFD") return make_unicode_normalizer(UnicodeForm::NFD);
  if (type == "NFKC") return make_unicode_normalizer(UnicodeForm::NFKC);
  if (type == "NFKD") return make_unicode_normalizer(UnicodeForm::NFKD);
  if (type == "Lowercase") return std::make_unique<LowercaseNormalizer>();
  if (type == "StripAccents") return std::make_unique<StripAccentsNormalizer>();
  if (type == "ByteLevel") return std::make_unique<ByteLevelNormalizer>();
  if (type == "Replace")
    return make_replace_normalizer(parse_pattern(require(j, "pattern", w), w.at("pattern")),
                                   get_string(j, "content", w));
  if (type == "Prepend") return make_prepend_normalizer(get_string(j, "prepend", w));
  if (type == "Strip")
    return std::make_unique<StripNormalizer>(get_bool_or(j, "strip_left", true, w),
                                             get_bool_or(j, "strip_right", true, w));
  if (type == "BertNormalizer") {
    bool lower = get_bool_or(j, "lowercase", true, w);
    bool strip = lower;  // strip_accents: null means "same as lowercase"
    if (j.contains("strip_accents") && !j["strip_accents"].is_null())
      strip = get_bool_or(j, "strip_accents", lower, w);
    return std::make_unique<BertNormalizer>(get_bool_or(j, "clean_text", true, w),
                                            get_bool_or(j, "handle_chinese_chars", true, w), strip,
                                            lower);
  }
  if (type == "Sequence") {
    const json& arr = require(j, "normalizers", w);
    if (!arr.is_array()) json_fail(w.at("normalizers"), "expected an array");
    std::vector<std::unique_ptr<Normalizer>> v;
    for (size_t i = 0; i < arr.size(); ++i)
      v.push_back(make_normalizer(arr[i], w.at("normalizers").at(i)));
    return make_sequence_normalizer(std::move(v));
  }
  unknown_type(w.at("type"), "normalizer", type, kSupported);
}

}  // namespace tuna::tok
