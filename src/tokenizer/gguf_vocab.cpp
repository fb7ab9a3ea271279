// GGUF vocabulary → Tokenizer; the rules and where they come from are in gguf_vocab.h.
#include "tokenizer/gguf_vocab.h"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "core/error.h"
#include "core/utf8.h"
#include "tokenizer/bpe.h"
#include "tokenizer/byte_level.h"
#include "tokenizer/decoders.h"
#include "tokenizer/normalizers.h"
#include "tokenizer/pre_tokenizers.h"

namespace tuna {

namespace {

using nlohmann::json;

// tokenizer.ggml.token_type values (llama.cpp's llama_token_type / gguf-py TokenType).
enum TokenType : int32_t {
  kNormal = 1,
  kUnknown = 2,
  kControl = 3,
  kUserDefined = 4,
  kUnused = 5,
  kByte = 6,
};

const char* const kSpace = "\xE2\x96\x81";  // "▁", SentencePiece's space

// HF tokenizer.json regexes (the strings transformers' converters write), not llama.cpp's
// rewrites of them: tuna's Split runs them with HF's (Oniguruma) semantics.
const char* const kLlama3Regex =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| "
    "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const char* const kQwen2Regex =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| "
    "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

enum class PreKind { GPT2, LLAMA3, QWEN2 };

struct PreName {
  const char* name;
  PreKind kind;
};
// llama.cpp's names (llama-vocab.cpp) for the pre-tokenizers whose HF pipeline tuna rebuilds,
// plus "gpt2" (the spelling of the model type) for GPT-2's.
const PreName kPreNames[] = {
    {"default", PreKind::GPT2},     {"gpt-2", PreKind::GPT2},    {"gpt2", PreKind::GPT2},
    {"llama-bpe", PreKind::LLAMA3}, {"llama3", PreKind::LLAMA3}, {"llama-v3", PreKind::LLAMA3},
    {"qwen2", PreKind::QWEN2},
};

// The raw vocabulary as the GGUF stores it, validated.
struct Vocab {
  std::string file;
  std::string model, pre, arch;
  std::vector<std::string> tokens;
  std::vector<float> scores;   // empty when absent
  std::vector<int32_t> types;  // kNormal everywhere when absent
  std::vector<std::string> merges;
  std::optional<int32_t> bos, eos, unk, pad, sep, cls, mask;
  std::optional<bool> add_bos, add_eos, add_space_prefix;
};

[[noreturn]] void fail(const std::string& file, const std::string& what,
                       const std::string& hint = {}) {
  throw_user_error("tokenizer", file + ": " + what,
                   hint.empty() ? "the file's tokenizer.ggml.* keys are malformed; re-convert the "
                                  "model with llama.cpp's convert_hf_to_gguf.py"
                                : hint);
}

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) s += ", ";
    s += '"';
    s += v[i];
    s += '"';
  }
  return s;
}

Vocab read_vocab(const GgufFile& g) {
  Vocab v;
  v.file = g.path().empty() ? std::string("GGUF") : g.path();
  const GgufValue* model = g.find("tokenizer.ggml.model");
  if (!model)
    fail(v.file, "no tokenizer.ggml.model key: the file carries no tokenizer",
         "use a GGUF converted with its vocabulary, or the model's Hugging Face directory");
  if (!model->is_string()) fail(v.file, "tokenizer.ggml.model is not a string");
  v.model = model->as_string();
  const auto& models = gguf_supported_tokenizer_models();
  if (std::find(models.begin(), models.end(), v.model) == models.end())
    fail(v.file, "unsupported tokenizer.ggml.model \"" + v.model + "\"",
         "tuna supports these GGUF tokenizer models: " + join(models));
  v.pre = g.get_string_or("tokenizer.ggml.pre", "default");
  v.arch = g.get_string_or("general.architecture", "");

  const GgufValue& toks = g.get("tokenizer.ggml.tokens");
  if (!toks.is_array() || toks.array_type() != GgufType::STRING)
    fail(v.file, "tokenizer.ggml.tokens is not an array of strings");
  v.tokens = toks.strings();
  const size_t n = v.tokens.size();
  if (n == 0) fail(v.file, "tokenizer.ggml.tokens is empty");
  if (n > static_cast<size_t>(INT32_MAX)) fail(v.file, "tokenizer.ggml.tokens is too long");
  for (size_t i = 0; i < n; ++i)
    if (!utf8::is_valid(v.tokens[i]))
      fail(v.file, "tokenizer.ggml.tokens[" + std::to_string(i) + "] is not valid UTF-8");

  if (const GgufValue* s = g.find("tokenizer.ggml.scores")) {
    if (!s->is_array() || (s->size() > 0 && s->array_type() != GgufType::FLOAT32 &&
                           s->array_type() != GgufType::FLOAT64))
      fail(v.file, "tokenizer.ggml.scores is not an array of floats");
    if (s->size() != n)
      fail(v.file, "tokenizer.ggml.scores has " + std::to_string(s->size()) + " entries for " +
                       std::to_string(n) + " tokens");
    v.scores = s->to_floats();
  }
  v.types.assign(n, kNormal);
  if (const GgufValue* t = g.find("tokenizer.ggml.token_type")) {
    if (!t->is_array() || t->array_type() == GgufType::STRING ||
        t->array_type() == GgufType::ARRAY || t->array_type() == GgufType::FLOAT32 ||
        t->array_type() == GgufType::FLOAT64)
      fail(v.file, "tokenizer.ggml.token_type is not an array of integers");
    if (t->size() != n)
      fail(v.file, "tokenizer.ggml.token_type has " + std::to_string(t->size()) + " entries for " +
                       std::to_string(n) + " tokens");
    std::vector<int64_t> tt = t->to_ints();
    for (size_t i = 0; i < n; ++i) {
      if (tt[i] < kNormal || tt[i] > kByte)
        fail(v.file, "tokenizer.ggml.token_type[" + std::to_string(i) + "] is " +
                         std::to_string(tt[i]) + " (expected 1..6)");
      v.types[i] = static_cast<int32_t>(tt[i]);
    }
  }
  if (const GgufValue* m = g.find("tokenizer.ggml.merges")) {
    if (!m->is_array() || (m->size() > 0 && m->array_type() != GgufType::STRING))
      fail(v.file, "tokenizer.ggml.merges is not an array of strings");
    if (m->size() > 0) v.merges = m->strings();
  }

  // Special-token ids; ids outside the vocabulary are ignored (llama.cpp warns and drops them).
  auto id_key = [&](const char* key) -> std::optional<int32_t> {
    const GgufValue* x = g.find(key);
    if (!x) return std::nullopt;
    if (!x->is_integer()) fail(v.file, std::string(key) + " is not an integer");
    int64_t id = x->type() == GgufType::UINT64 && x->as_uint() > INT64_MAX ? -1 : x->as_int();
    if (id < 0 || static_cast<uint64_t>(id) >= n) return std::nullopt;
    return static_cast<int32_t>(id);
  };
  v.bos = id_key("tokenizer.ggml.bos_token_id");
  v.eos = id_key("tokenizer.ggml.eos_token_id");
  v.unk = id_key("tokenizer.ggml.unknown_token_id");
  v.pad = id_key("tokenizer.ggml.padding_token_id");
  v.sep = id_key("tokenizer.ggml.seperator_token_id");  // gguf-py's spelling
  v.cls = id_key("tokenizer.ggml.cls_token_id");
  v.mask = id_key("tokenizer.ggml.mask_token_id");
  auto bool_key = [&](const char* key) -> std::optional<bool> {
    if (!g.has(key)) return std::nullopt;
    return g.get_bool(key);
  };
  v.add_bos = bool_key("tokenizer.ggml.add_bos_token");
  v.add_eos = bool_key("tokenizer.ggml.add_eos_token");
  v.add_space_prefix = bool_key("tokenizer.ggml.add_space_prefix");
  return v;
}

std::string replace_all(std::string s, std::string_view from, std::string_view to) {
  for (size_t p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size()))
    s.replace(p, from.size(), to);
  return s;
}

struct SvHash {
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

// piece → id over string views, open addressing with the hash kept in the slot (generate_merges
// makes ~2M lookups for Gemma's 262k pieces; std::unordered_map made them a third of the load).
class PieceMap {
 public:
  explicit PieceMap(size_t n) {
    size_t cap = 16;
    while (cap < n * 2) cap <<= 1;
    slots_.assign(cap, Slot{0, -1});
    mask_ = cap - 1;
    keys_.reserve(n);
  }
  // Inserts or, with `overwrite`, replaces; returns the slot's entry index and whether it is new.
  std::pair<int32_t, bool> put(std::string_view key, int32_t id, bool overwrite) {
    uint64_t h = SvHash{}(key);
    size_t i = h & mask_;
    for (; slots_[i].entry >= 0; i = (i + 1) & mask_) {
      const Slot& sl = slots_[i];
      if (sl.hash == h && keys_[sl.entry].first == key) {
        if (overwrite) keys_[sl.entry].second = id;
        return {sl.entry, false};
      }
    }
    if (keys_.size() * 2 >= slots_.size()) throw_internal_error("tokenizer", "PieceMap overfull");
    slots_[i] = {h, static_cast<int32_t>(keys_.size())};
    keys_.emplace_back(key, id);
    return {slots_[i].entry, true};
  }
  int32_t find(std::string_view key) const {  // -1 when absent
    uint64_t h = SvHash{}(key);
    for (size_t i = h & mask_;; i = (i + 1) & mask_) {
      const Slot& sl = slots_[i];
      if (sl.entry < 0) return -1;
      if (sl.hash == h && keys_[sl.entry].first == key) return keys_[sl.entry].second;
    }
  }
  bool contains(std::string_view key) const { return find(key) >= 0; }

 private:
  struct Slot {
    uint64_t hash;
    int32_t entry;
  };
  std::vector<Slot> slots_;
  std::vector<std::pair<std::string_view, int32_t>> keys_;
  size_t mask_ = 0;
};

// transformers' generate_merges(vocab, vocab_scores) (convert_slow_tokenizer.py): `pieces` and
// `scores` are vocab_scores in order (dict(): first position, last score of a repeated piece);
// `vocab` is the piece → id map used for membership and tie-breaks.
std::vector<std::pair<std::string, std::string>> generate_merges(
    const std::vector<std::string>& pieces, const std::vector<float>& scores,
    const PieceMap& vocab) {
  // dict(vocab_scores)
  std::vector<int32_t> order;  // index of each distinct piece's first occurrence
  std::vector<float> score;    // its last score
  {
    PieceMap first(pieces.size());
    for (size_t i = 0; i < pieces.size(); ++i) {
      auto [entry, fresh] = first.put(pieces[i], static_cast<int32_t>(order.size()), false);
      if (fresh) {
        order.push_back(static_cast<int32_t>(i));
        score.push_back(scores[i]);
      } else {
        score[entry] = scores[i];
      }
    }
  }
  struct Cand {
    float score;
    uint32_t lchars, rchars;
    uint32_t rank;  // position of the piece in dict order
    int32_t lid, rid;
    int32_t piece;   // index into pieces
    uint32_t split;  // byte offset of the split
  };
  std::vector<Cand> cands;
  cands.reserve(pieces.size() * 2);
  for (size_t k = 0; k < order.size(); ++k) {
    const std::string& p = pieces[order[k]];
    std::string_view sv(p);
    size_t total = utf8::count_chars(sv);
    uint32_t lchars = 0;
    for (size_t i = 0; i < p.size();) {
      i += utf8::seq_len(static_cast<unsigned char>(p[i]));
      ++lchars;
      if (i >= p.size()) break;
      int32_t l = vocab.find(sv.substr(0, i));
      if (l < 0) continue;
      int32_t r = vocab.find(sv.substr(i));
      if (r < 0) continue;
      cands.push_back({score[k], lchars, static_cast<uint32_t>(total - lchars),
                       static_cast<uint32_t>(k), l, r, order[k], static_cast<uint32_t>(i)});
    }
  }
  // sorted(key=(score, len(l), len(r)), reverse=True) is stable: ties keep dict order, then the
  // per-piece order sorted by (vocab[l], vocab[r]).
  std::sort(cands.begin(), cands.end(), [](const Cand& a, const Cand& b) {
    if (a.score != b.score) return a.score > b.score;
    if (a.lchars != b.lchars) return a.lchars > b.lchars;
    if (a.rchars != b.rchars) return a.rchars > b.rchars;
    if (a.rank != b.rank) return a.rank < b.rank;
    if (a.lid != b.lid) return a.lid < b.lid;
    return a.rid < b.rid;
  });
  std::vector<std::pair<std::string, std::string>> merges;
  merges.reserve(cands.size());
  for (const Cand& c : cands) {
    const std::string& p = pieces[c.piece];
    merges.emplace_back(p.substr(0, c.split), p.substr(c.split));
  }
  return merges;
}

json decoder_json(const char* type) {
  return json{{"type", type}};
}

json replace_json(const char* from, const char* to) {
  return json{{"type", "Replace"}, {"pattern", {{"String", from}}}, {"content", to}};
}

TokenizerOptions base_options(const Vocab& v, const std::vector<std::string>& content,
                              const GgufFile& g) {
  TokenizerOptions o;
  auto piece = [&](const std::optional<int32_t>& id) -> std::optional<std::string> {
    if (!id) return std::nullopt;
    return content[*id];
  };
  o.bos_token = piece(v.bos);
  o.eos_token = piece(v.eos);
  o.unk_token = piece(v.unk);
  o.pad_token = piece(v.pad);
  if (const GgufValue* t = g.find("tokenizer.chat_template")) {
    if (!t->is_string()) fail(v.file, "tokenizer.chat_template is not a string");
    o.chat_templates["default"] = t->as_string();
  }
  if (const GgufValue* names = g.find("tokenizer.chat_templates")) {
    if (!names->is_array() || (names->size() > 0 && names->array_type() != GgufType::STRING))
      fail(v.file, "tokenizer.chat_templates is not an array of strings");
    if (names->size() > 0)
      for (const std::string& name : names->strings()) {
        std::string key = "tokenizer.chat_template." + name;
        if (g.has(key)) o.chat_templates[name] = g.get_string(key);
      }
  }
  if (!v.arch.empty()) {
    int64_t ctx = g.get_int_or(v.arch + ".context_length", 0);
    if (ctx > 0) o.model_max_length = ctx;
  }
  return o;
}

Tokenizer build_llama(const Vocab& v, const GgufFile& g) {
  const size_t n = v.tokens.size();
  if (v.scores.empty())
    fail(v.file, "tokenizer.ggml.scores is missing (a \"llama\" vocabulary needs piece scores)");
  const bool gemma = v.arch.starts_with("gemma");

  // SentencePiece's pieces: user-defined pieces with "▁" again (llama.cpp wrote " ").
  std::vector<std::string> sp(v.tokens);
  for (size_t i = 0; i < n; ++i)
    if (v.types[i] == kUserDefined && sp[i].find(' ') != std::string::npos)
      sp[i] = replace_all(std::move(sp[i]), " ", kSpace);
  // SentencePiece's scores: only normal pieces carry one; the others have 0 (llama.cpp writes
  // -1000 for control and user-defined pieces, transformers' vocab() has 0 for the first three).
  std::vector<float> scores(n);
  for (size_t i = 0; i < n; ++i) scores[i] = v.types[i] == kNormal ? v.scores[i] : 0.0f;

  // vocab_scores: GemmaConverter turns "<0x09>" into "\t" when "\t" is not a piece.
  std::vector<std::string> pieces(sp);
  PieceMap sp_vocab(n + 1);
  for (size_t i = 0; i < n; ++i) sp_vocab.put(sp[i], static_cast<int32_t>(i), true);  // last wins
  if (gemma && !sp_vocab.contains("\t")) {
    int32_t id = sp_vocab.find("<0x09>");
    if (id >= 0) {
      pieces[id] = "\t";
      scores[id] = 0.0f;
      sp_vocab.put(pieces[id], id, false);  // GemmaSentencePieceExtractor
    }
  }
  std::vector<std::pair<std::string, std::string>> merges =
      generate_merges(pieces, scores, sp_vocab);

  std::vector<std::pair<std::string, int32_t>> bpe_vocab;
  bpe_vocab.reserve(n);
  for (size_t i = 0; i < n; ++i) bpe_vocab.emplace_back(pieces[i], static_cast<int32_t>(i));
  tok::BpeOptions bo;
  if (v.unk) bo.unk_token = pieces[*v.unk];
  bo.fuse_unk = true;
  bo.byte_fallback = true;

  Tokenizer::Parts parts;
  parts.model = std::make_unique<tok::BpeModel>(bpe_vocab, merges, bo,
                                                "in the \"llama\" vocabulary of " + v.file);
  tok::JsonWhere where{v.file + " (tokenizer.ggml.*)", ""};
  const bool prefix = !gemma && v.add_space_prefix.value_or(true);
  json dec =
      json{{"type", "Sequence"},
           {"decoders",
            {replace_json(kSpace, " "), decoder_json("ByteFallback"), decoder_json("Fuse")}}};
  if (prefix) {
    parts.normalizer = tok::make_normalizer(
        json{{"type", "Sequence"},
             {"normalizers",
              {json{{"type", "Prepend"}, {"prepend", kSpace}}, replace_json(" ", kSpace)}}},
        where);
    dec["decoders"].push_back(json{{"type", "Strip"}, {"content", " "}, {"start", 1}, {"stop", 0}});
  } else {
    // GemmaConverter's Split(" ", MergedWithPrevious) pre-tokenizer is left out: no space
    // survives the normalizer, so it never splits (transformers PR #43106).
    parts.normalizer = tok::make_normalizer(replace_json(" ", kSpace), where);
  }
  parts.decoder = tok::make_decoder(dec, where);

  std::unordered_set<int32_t> named;
  for (const auto& id : {v.bos, v.eos, v.unk, v.pad, v.sep, v.cls, v.mask})
    if (id) named.insert(*id);
  static const std::unordered_set<std::string> kGemmaSpecial = {
      "<start_of_turn>", "<end_of_turn>", "<start_of_image>", "<end_of_image>"};
  for (size_t i = 0; i < n; ++i) {
    int32_t t = v.types[i];
    if (t != kControl && t != kUserDefined && t != kUnknown) continue;
    tok::AddedToken a;
    a.content = sp[i];
    a.id = static_cast<int32_t>(i);
    a.normalized = false;
    if (gemma)
      a.special = named.count(a.id) || kGemmaSpecial.count(a.content);
    else
      a.special = t == kControl || t == kUnknown || named.count(a.id);
    parts.added_tokens.push_back(std::move(a));
  }
  TokenizerOptions o = base_options(v, sp, g);
  bool add_bos = v.add_bos.value_or(true) && v.bos.has_value();
  bool add_eos = v.add_eos.value_or(false) && v.eos.has_value();
  return Tokenizer::from_parts(std::move(parts), std::move(o), add_bos, add_eos);
}

Tokenizer build_gpt2(const Vocab& v, const GgufFile& g) {
  const size_t n = v.tokens.size();
  std::optional<PreKind> kind;
  for (const auto& p : kPreNames)
    if (v.pre == p.name) kind = p.kind;
  if (!kind)
    fail(v.file, "unsupported tokenizer.ggml.pre \"" + v.pre + "\" for a \"gpt2\" vocabulary",
         "tuna supports these GGUF pre-tokenizers: " + join(gguf_supported_pre_tokenizers()));
  if (v.merges.empty() && n > 256)
    fail(v.file, "tokenizer.ggml.merges is missing (a \"gpt2\" vocabulary needs its merges)");

  std::vector<std::pair<std::string, std::string>> merges;
  merges.reserve(v.merges.size());
  for (size_t r = 0; r < v.merges.size(); ++r) {
    const std::string& m = v.merges[r];
    size_t sp = m.size() > 1 ? m.find(' ', 1) : std::string::npos;  // as llama.cpp splits
    if (sp == std::string::npos)
      fail(v.file, "tokenizer.ggml.merges[" + std::to_string(r) + "] (\"" + m +
                       "\") is not two pieces separated by a space");
    merges.emplace_back(m.substr(0, sp), m.substr(sp + 1));
  }

  // Model vocabulary: the pieces as stored (byte-level spelling), except added tokens, which
  // llama.cpp stores as plain text: those whose text has another byte-level spelling are model
  // pieces (in that spelling) only when a merge produces them, so that len(tokenizer) stays HF's.
  std::vector<std::pair<std::string, int32_t>> bpe_vocab;
  bpe_vocab.reserve(n);
  std::unordered_set<std::string_view, SvHash> seen;
  seen.reserve(n * 2);
  for (size_t i = 0; i < n; ++i)
    if (v.types[i] != kControl && v.types[i] != kUserDefined) seen.insert(v.tokens[i]);
  std::unordered_map<std::string, int32_t> respelled;  // byte-level spelling → id
  for (size_t i = 0; i < n; ++i) {
    const bool added = v.types[i] == kControl || v.types[i] == kUserDefined;
    if (!added) {
      bpe_vocab.emplace_back(v.tokens[i], static_cast<int32_t>(i));
      continue;
    }
    std::string s;
    tok::byte_level_encode(v.tokens[i], s);
    if (seen.count(s)) continue;
    if (s == v.tokens[i])
      bpe_vocab.emplace_back(s, static_cast<int32_t>(i));
    else
      respelled.emplace(std::move(s), static_cast<int32_t>(i));
  }
  if (!respelled.empty()) {
    std::string joined;
    for (const auto& [a, b] : merges) {
      joined.assign(a).append(b);
      auto it = respelled.find(joined);
      if (it == respelled.end()) continue;
      bpe_vocab.emplace_back(it->first, it->second);
      respelled.erase(it);
    }
  }

  tok::BpeOptions bo;
  bo.ignore_merges = *kind == PreKind::LLAMA3;

  Tokenizer::Parts parts;
  parts.model = std::make_unique<tok::BpeModel>(bpe_vocab, merges, bo,
                                                "in the \"gpt2\" vocabulary of " + v.file);
  tok::JsonWhere where{v.file + " (tokenizer.ggml.*)", ""};
  json byte_level = {{"type", "ByteLevel"},
                     {"add_prefix_space", false},
                     {"trim_offsets", true},
                     {"use_regex", true}};
  if (*kind == PreKind::GPT2) {
    parts.pre_tokenizer = tok::make_pre_tokenizer(byte_level, where);
  } else {
    json bl = byte_level;
    bl["use_regex"] = false;
    json split = {{"type", "Split"},
                  {"pattern", {{"Regex", *kind == PreKind::LLAMA3 ? kLlama3Regex : kQwen2Regex}}},
                  {"behavior", "Isolated"},
                  {"invert", false}};
    parts.pre_tokenizer =
        tok::make_pre_tokenizer(json{{"type", "Sequence"}, {"pretokenizers", {split, bl}}}, where);
  }
  if (*kind == PreKind::QWEN2) parts.normalizer = tok::make_normalizer(decoder_json("NFC"), where);
  parts.decoder = tok::make_decoder(byte_level, where);

  std::unordered_set<int32_t> named;
  for (const auto& id : {v.bos, v.eos, v.unk, v.pad, v.sep, v.cls, v.mask})
    if (id) named.insert(*id);
  for (size_t i = 0; i < n; ++i) {
    if (v.types[i] != kControl && v.types[i] != kUserDefined) continue;
    tok::AddedToken a;
    a.content = v.tokens[i];
    a.id = static_cast<int32_t>(i);
    a.normalized = false;
    a.special = v.types[i] == kControl || named.count(a.id);
    parts.added_tokens.push_back(std::move(a));
  }
  TokenizerOptions o = base_options(v, v.tokens, g);
  o.clean_up_tokenization_spaces = *kind == PreKind::LLAMA3;  // Llama 3's tokenizer_config
  // llama.cpp's defaults when the keys are absent: BOS for Llama 3 only, never EOS.
  bool add_bos = v.add_bos.value_or(*kind == PreKind::LLAMA3) && v.bos.has_value();
  bool add_eos = v.add_eos.value_or(false) && v.eos.has_value();
  return Tokenizer::from_parts(std::move(parts), std::move(o), add_bos, add_eos);
}

}  // namespace

const std::vector<std::string>& gguf_supported_tokenizer_models() {
  static const std::vector<std::string> v = {"llama", "gpt2"};
  return v;
}

const std::vector<std::string>& gguf_supported_pre_tokenizers() {
  static const std::vector<std::string> v = [] {
    std::vector<std::string> names;
    for (const auto& p : kPreNames) names.emplace_back(p.name);
    return names;
  }();
  return v;
}

Tokenizer tokenizer_from_gguf(const GgufFile& gguf) {
  Vocab v = read_vocab(gguf);
  if (v.model == "llama") return build_llama(v, gguf);
  return build_gpt2(v, gguf);
}

}  // namespace tuna
