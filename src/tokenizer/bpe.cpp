// BPE model; see bpe.h. Speed: a flat open-addressing table for merges, a code point → id table
// for the initial symbols, thread-local scratch buffers (no per-token allocation), and a sharded
// word cache like HF's (words up to kCacheMaxWordBytes, no eviction once full).
#include "tokenizer/bpe.h"

#include <algorithm>
#include <cstdio>
#include <mutex>
#include <shared_mutex>
#include <unordered_map>

#include "core/utf8.h"

namespace tuna::tok {

namespace {

constexpr size_t kCacheMaxWordBytes = 256;
constexpr size_t kCacheShards = 16;
constexpr size_t kCacheCapacityPerShard = 4096;
constexpr uint32_t kDenseCodepoints = 0x20000;

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

// piece → id; open addressing over one array (no node per entry: loading Gemma's 262k pieces and
// checking its 515k merges is dominated by these lookups). A later duplicate piece overrides.
class FlatVocab {
 public:
  void build(const std::vector<std::pair<std::string, int32_t>>& vocab) {
    size_t cap = 16;
    while (cap < vocab.size() * 2) cap <<= 1;
    mask_ = cap - 1;
    slots_.assign(cap, {0, -1});
    keys_.clear();
    keys_.reserve(vocab.size());
    for (const auto& [piece, id] : vocab) {
      uint64_t h = StringHash{}(piece);
      size_t i = h & mask_;
      while (slots_[i].entry >= 0) {
        const Entry& e = keys_[slots_[i].entry];
        if (slots_[i].hash == h && e.piece == piece) break;
        i = (i + 1) & mask_;
      }
      if (slots_[i].entry >= 0) {
        keys_[slots_[i].entry].id = id;
        continue;
      }
      slots_[i] = {h, static_cast<int32_t>(keys_.size())};
      keys_.push_back({piece, id});
    }
  }
  int32_t find(std::string_view s) const {
    if (slots_.empty()) return -1;
    uint64_t h = StringHash{}(s);
    for (size_t i = h & mask_;; i = (i + 1) & mask_) {
      const Slot& sl = slots_[i];
      if (sl.entry < 0) return -1;
      if (sl.hash == h && keys_[sl.entry].piece == s) return keys_[sl.entry].id;
    }
  }
  size_t size() const { return keys_.size(); }
  template <typename F>
  void for_each(F f) const {
    for (const auto& e : keys_) f(e.piece, e.id);
  }

 private:
  struct Slot {
    uint64_t hash;
    int32_t entry;
  };
  struct Entry {
    std::string piece;
    int32_t id;
  };
  std::vector<Slot> slots_;
  std::vector<Entry> keys_;
  size_t mask_ = 0;
};

// (left id, right id) → (rank, new id); open addressing, linear probing, key and value in one
// 16-byte slot so a probe touches one cache line.
class PairTable {
 public:
  void build(size_t n) {
    size_t cap = 16;
    while (cap < n * 2) cap <<= 1;
    slots_.assign(cap, Slot{kEmpty, {0, 0}});
    mask_ = cap - 1;
  }
  void put(int32_t a, int32_t b, uint32_t rank, int32_t new_id) {
    uint64_t k = key(a, b);
    size_t i = hash(k) & mask_;
    while (slots_[i].key != kEmpty && slots_[i].key != k) i = (i + 1) & mask_;
    slots_[i] = {k, {rank, new_id}};  // a later duplicate overrides, as HF's HashMap collect does
  }
  const std::pair<uint32_t, int32_t>* get(int32_t a, int32_t b) const {
    if (slots_.empty()) return nullptr;
    uint64_t k = key(a, b);
    for (size_t i = hash(k) & mask_;; i = (i + 1) & mask_) {
      if (slots_[i].key == k) return &slots_[i].val;
      if (slots_[i].key == kEmpty) return nullptr;
    }
  }

 private:
  static constexpr uint64_t kEmpty = ~0ull;
  struct Slot {
    uint64_t key;
    std::pair<uint32_t, int32_t> val;
  };
  static uint64_t key(int32_t a, int32_t b) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b);
  }
  static size_t hash(uint64_t k) {
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdull;
    k ^= k >> 33;
    return static_cast<size_t>(k);
  }
  std::vector<Slot> slots_;
  size_t mask_ = 0;
};

struct Symbol {
  int32_t id;
  int32_t prev, next;
  uint32_t len;  // 0 = merged away
};

struct Merge {
  uint32_t rank;
  uint32_t pos;
  int32_t new_id;
  bool operator<(const Merge& o) const {  // std heap is a max-heap: invert
    if (rank != o.rank) return rank > o.rank;
    return pos > o.pos;
  }
};

struct CacheShard {
  std::shared_mutex mu;
  std::unordered_map<std::string, std::vector<int32_t>, StringHash, std::equal_to<>> map;
};

}  // namespace

struct BpeModel::Impl {
  FlatVocab vocab;
  PairTable merges;
  std::vector<int32_t> dense_char;  // code point → id (-1) when there is no prefix/suffix
  std::unordered_map<uint32_t, int32_t> sparse_char;
  int32_t byte_ids[256];
  int32_t unk_id = -1;
  bool simple_chars = true;  // no prefix/suffix: single chars can use the tables
  CacheShard cache[kCacheShards];

  int32_t lookup(std::string_view s) const { return vocab.find(s); }
  int32_t char_id(uint32_t cp) const {
    if (cp < kDenseCodepoints) return dense_char[cp];
    auto it = sparse_char.find(cp);
    return it == sparse_char.end() ? -1 : it->second;
  }
};

BpeModel::BpeModel(const std::vector<std::pair<std::string, int32_t>>& vocab,
                   const std::vector<std::pair<std::string, std::string>>& merges,
                   BpeOptions options, const std::string& where)
    : options_(std::move(options)), impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  int32_t max_id = -1;
  for (const auto& [piece, id] : vocab) {
    if (id < 0) throw_user_error("tokenizer", "negative id for \"" + piece + "\", " + where);
    max_id = std::max(max_id, id);
  }
  m.vocab.build(vocab);
  pieces_.assign(static_cast<size_t>(max_id + 1), std::string());
  has_piece_.assign(pieces_.size(), false);
  m.simple_chars =
      options_.continuing_subword_prefix.empty() && options_.end_of_word_suffix.empty();
  m.dense_char.assign(kDenseCodepoints, -1);
  m.vocab.for_each([&](const std::string& piece, int32_t id) {
    pieces_[id] = piece;
    has_piece_[id] = true;
    if (piece.empty() || piece.size() > 4) return;
    size_t i = 0;
    uint32_t cp = utf8::next(piece, i);
    if (i != piece.size()) return;  // more than one character
    if (cp < kDenseCodepoints)
      m.dense_char[cp] = id;
    else
      m.sparse_char[cp] = id;
  });
  for (int b = 0; b < 256; ++b) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "<0x%02X>", b);
    m.byte_ids[b] = m.lookup(buf);
  }
  if (options_.unk_token) {
    m.unk_id = m.lookup(*options_.unk_token);
    if (m.unk_id < 0)
      throw_user_error(
          "tokenizer",
          "unk_token \"" + *options_.unk_token + "\" is not in the vocabulary, " + where,
          "add it to the vocabulary or set unk_token to null");
  }
  m.merges.build(merges.size());
  size_t prefix_len = options_.continuing_subword_prefix.size();
  std::string joined;
  for (size_t r = 0; r < merges.size(); ++r) {
    const auto& [a, b] = merges[r];
    int32_t ia = m.lookup(a), ib = m.lookup(b);
    if (ia < 0 || ib < 0)
      throw_user_error("tokenizer",
                       "merge " + std::to_string(r) + " (\"" + a + "\" \"" + b +
                           "\") uses a piece that is not in the vocabulary, " + where,
                       "every merge part must be a vocabulary entry");
    joined.assign(a);
    if (b.size() >= prefix_len) joined.append(b, prefix_len);
    int32_t inew = m.lookup(joined);
    if (inew < 0)
      throw_user_error("tokenizer",
                       "merge " + std::to_string(r) + " result \"" + joined +
                           "\" is not in the vocabulary, " + where,
                       "every merge result must be a vocabulary entry");
    m.merges.put(ia, ib, static_cast<uint32_t>(r), inew);
  }
}

BpeModel::~BpeModel() = default;

int64_t BpeModel::entry_count() const {
  return static_cast<int64_t>(impl_->vocab.size());
}

std::optional<int32_t> BpeModel::token_to_id(std::string_view piece) const {
  int32_t id = impl_->lookup(piece);
  if (id < 0) return std::nullopt;
  return id;
}

const std::string* BpeModel::id_to_token(int32_t id) const {
  if (id < 0 || static_cast<size_t>(id) >= pieces_.size() || !has_piece_[id]) return nullptr;
  return &pieces_[id];
}

void BpeModel::tokenize(std::string_view word, std::vector<int32_t>& out) const {
  if (word.empty()) return;
  Impl& m = *impl_;
  if (options_.ignore_merges) {
    int32_t id = m.lookup(word);
    if (id >= 0) {
      out.push_back(id);
      return;
    }
  }
  bool cacheable = word.size() <= kCacheMaxWordBytes;
  CacheShard* shard = nullptr;
  if (cacheable) {
    shard = &m.cache[StringHash{}(word) % kCacheShards];
    std::shared_lock lock(shard->mu);
    auto it = shard->map.find(word);
    if (it != shard->map.end()) {
      out.insert(out.end(), it->second.begin(), it->second.end());
      return;
    }
  }
  size_t before = out.size();
  merge_word(word, out);
  if (cacheable) {
    std::unique_lock lock(shard->mu);
    if (shard->map.size() < kCacheCapacityPerShard)
      shard->map.emplace(std::string(word), std::vector<int32_t>(out.begin() + before, out.end()));
  }
}

void BpeModel::merge_word(std::string_view w, std::vector<int32_t>& out) const {
  const Impl& m = *impl_;
  thread_local std::vector<Symbol> syms;
  thread_local std::vector<Merge> heap;
  thread_local std::string piece;
  syms.clear();
  heap.clear();
  auto add = [](int32_t id, uint32_t len) {
    int32_t n = static_cast<int32_t>(syms.size());
    syms.push_back({id, n - 1, n + 1, len});
  };
  int32_t unk_id = -1;
  uint32_t unk_len = 0;
  bool have_unk = false;
  for (size_t i = 0; i < w.size();) {
    size_t b = i;
    uint32_t cp = utf8::next(w, i);
    uint32_t byte_len = static_cast<uint32_t>(i - b);
    int32_t id;
    std::string_view s;
    if (m.simple_chars) {
      id = m.char_id(cp);
      s = w.substr(b, byte_len);
    } else {
      piece.clear();
      if (b != 0) piece += options_.continuing_subword_prefix;
      piece.append(w.substr(b, byte_len));
      if (i == w.size()) piece += options_.end_of_word_suffix;
      id = m.lookup(piece);
      s = piece;
    }
    if (id >= 0) {
      if (have_unk) {
        add(unk_id, unk_len);
        have_unk = false;
      }
      add(id, byte_len);
      continue;
    }
    if (options_.byte_fallback) {
      bool all = true;
      for (char c : s) all = all && m.byte_ids[static_cast<unsigned char>(c)] >= 0;
      if (all) {
        // HF adds byte tokens without flushing a pending unk first; so do we.
        for (char c : s) add(m.byte_ids[static_cast<unsigned char>(c)], 1);
        continue;
      }
    }
    if (m.unk_id >= 0) {
      if (have_unk && options_.fuse_unk) {
        unk_len += byte_len;
      } else {
        if (have_unk) add(unk_id, unk_len);
        unk_id = m.unk_id;
        unk_len = byte_len;
        have_unk = true;
      }
    }
  }
  if (have_unk) add(unk_id, unk_len);
  if (syms.empty()) return;
  syms.back().next = -1;

  for (size_t k = 0; k + 1 < syms.size(); ++k) {
    if (const auto* mg = m.merges.get(syms[k].id, syms[k + 1].id))
      heap.push_back({mg->first, static_cast<uint32_t>(k), mg->second});
  }
  std::make_heap(heap.begin(), heap.end());
  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end());
    Merge top = heap.back();
    heap.pop_back();
    Symbol& cur = syms[top.pos];
    if (cur.len == 0 || cur.next < 0) continue;
    int32_t next_pos = cur.next;
    Symbol right = syms[next_pos];
    const auto* target = m.merges.get(cur.id, right.id);
    if (!target || target->second != top.new_id) continue;  // stale entry
    cur.id = top.new_id;
    cur.len += right.len;
    cur.next = right.next;
    syms[next_pos].len = 0;
    if (right.next >= 0 && static_cast<size_t>(right.next) < syms.size())
      syms[right.next].prev = static_cast<int32_t>(top.pos);
    if (cur.prev >= 0) {
      if (const auto* mg = m.merges.get(syms[cur.prev].id, cur.id)) {
        heap.push_back({mg->first, static_cast<uint32_t>(cur.prev), mg->second});
        std::push_heap(heap.begin(), heap.end());
      }
    }
    if (cur.next >= 0) {
      if (const auto* mg = m.merges.get(cur.id, syms[cur.next].id)) {
        heap.push_back({mg->first, top.pos, mg->second});
        std::push_heap(heap.begin(), heap.end());
      }
    }
  }
  for (const Symbol& s : syms)
    if (s.len) out.push_back(s.id);
}

std::unique_ptr<BpeModel> make_bpe_model(const json& j, const JsonWhere& w) {
  auto dropout = j.find("dropout");
  if (dropout != j.end() && !dropout->is_null() &&
      !(dropout->is_number() && dropout->get<double>() == 0.0))
    json_fail(w.at("dropout"), "BPE dropout is not supported",
              "set \"dropout\" to null: dropout is a training-time augmentation");
  BpeOptions o;
  o.unk_token = get_opt_string(j, "unk_token", w);
  o.continuing_subword_prefix = get_string_or(j, "continuing_subword_prefix", "", w);
  o.end_of_word_suffix = get_string_or(j, "end_of_word_suffix", "", w);
  o.fuse_unk = get_bool_or(j, "fuse_unk", false, w);
  o.byte_fallback = get_bool_or(j, "byte_fallback", false, w);
  o.ignore_merges = get_bool_or(j, "ignore_merges", false, w);

  const std::vector<std::pair<std::string, int32_t>> vocab = read_vocab_object(j, w);
  std::vector<std::pair<std::string, std::string>> merges;
  auto jm = j.find("merges");
  if (jm != j.end() && !jm->is_null()) {
    if (!jm->is_array()) json_fail(w.at("merges"), "expected an array");
    merges.reserve(jm->size());
    for (size_t i = 0; i < jm->size(); ++i) {
      const json& e = (*jm)[i];
      if (e.is_string()) {  // legacy "a b"
        const std::string& s = e.get_ref<const std::string&>();
        if (s.starts_with("#version")) continue;
        size_t sp = s.find(' ');
        if (sp == std::string::npos || s.find(' ', sp + 1) != std::string::npos)
          json_fail(w.at("merges").at(i), "a merge must be two pieces separated by one space");
        merges.emplace_back(s.substr(0, sp), s.substr(sp + 1));
      } else if (e.is_array() && e.size() == 2 && e[0].is_string() && e[1].is_string()) {
        merges.emplace_back(e[0].get_ref<const std::string&>(), e[1].get_ref<const std::string&>());
      } else {
        json_fail(w.at("merges").at(i), "expected \"a b\" or [\"a\", \"b\"]");
      }
    }
  }
  return std::make_unique<BpeModel>(vocab, merges, std::move(o), w.describe());
}

}  // namespace tuna::tok
