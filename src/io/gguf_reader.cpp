// GGUF parsing and validation (header, metadata, tensor infos, data layout) and GgufFile access.
// Every check runs before a view is handed out; each failure is a user error naming the file and
// the key or tensor, with a hint. Never reads outside [data, data + size). See gguf.h.
#include <algorithm>
#include <cstring>

#include "core/error.h"
#include "core/mmap_file.h"
#include "io/gguf.h"
#include "io/gguf_internal.h"

namespace tuna {

using namespace gguf_detail;

namespace {

const char* const kTruncatedHint =
    "the file is truncated (an interrupted download or copy); fetch or convert it again";
const char* const kCorruptHint =
    "the file is corrupt or was not written by a GGUF writer; fetch or convert it again";

// Minimum encoded sizes, to bound counts by the bytes left before allocating anything.
constexpr uint64_t kMinKvBytes = 8 + 4 + 1;  // key length, type, a 1-byte value
constexpr uint64_t kMinTensorInfoBytes =
    8 + 4 + 8 + 4 + 8;  // name length, n_dims, 1 dim, type, offset

std::string supported_ggml_types() {
  static const uint32_t kIds[] = {0, 1, 30, 2, 3, 6, 7, 8, 10, 11, 12, 13, 14, 24, 25, 26, 27, 28};
  std::string s;
  for (uint32_t id : kIds) s += (s.empty() ? "" : ", ") + std::string(ggml_type_name(id));
  return s;
}

}  // namespace

// Reads one GGUF image front to back. Friend of GgufFile and GgufValue.
class GgufParser {
 public:
  GgufParser(const uint8_t* data, size_t size, const std::string& label)
      : p_(data), size_(size), label_(label) {}

  void run(GgufFile& f);

 private:
  [[noreturn]] void fail(const std::string& what, const std::string& hint) const {
    throw_user_error(kComponent, printable(label_, 4096) + ": " + what, hint);
  }
  // `what` names the item being read (e.g. "metadata key 3", "the value of 'general.name'").
  void need(uint64_t n, const std::string& what) const {
    if (n > size_ - pos_) {
      fail("truncated: " + what + " at byte " + std::to_string(pos_) + " needs " +
               std::to_string(n) + " bytes but the file ends at byte " + std::to_string(size_),
           kTruncatedHint);
    }
  }
  uint64_t left() const { return size_ - pos_; }
  uint32_t u32(const std::string& what) {
    need(4, what);
    uint32_t v = 0;
    for (int i = 3; i >= 0; --i) v = (v << 8) | p_[pos_ + i];
    pos_ += 4;
    return v;
  }
  uint64_t u64(const std::string& what) {
    need(8, what);
    uint64_t v = 0;
    for (int i = 7; i >= 0; --i) v = (v << 8) | p_[pos_ + i];
    pos_ += 8;
    return v;
  }
  std::string str(const std::string& what, uint64_t max_len, const std::string& too_long_hint) {
    uint64_t n = u64("the length of " + what);
    if (n > max_len) {
      fail(what + " is " + std::to_string(n) + " bytes long; at most " + std::to_string(max_len) +
               " are allowed",
           too_long_hint);
    }
    need(n, what);
    std::string s(reinterpret_cast<const char*>(p_ + pos_), static_cast<size_t>(n));
    pos_ += n;
    return s;
  }

  GgufValue value(GgufType type, const std::string& where, int depth);
  GgufValue array_body(const std::string& where, int depth);
  void tensor_info(GgufFile& f, uint64_t index);

  const uint8_t* p_;
  uint64_t size_;
  uint64_t pos_ = 0;
  const std::string& label_;
};

GgufValue GgufParser::value(GgufType type, const std::string& where, int depth) {
  GgufValue v;
  v.type_ = type;
  if (type == GgufType::STRING) {
    v.str_ = str(where, UINT64_MAX, kCorruptHint);
    return v;
  }
  if (type == GgufType::ARRAY) return array_body(where, depth);
  size_t size = gguf_scalar_size(type);
  need(size, where);
  std::memcpy(&v.bits_, p_ + pos_, size);  // tuna targets little-endian hosts only
  if (type == GgufType::BOOL && p_[pos_] > 1) {
    fail(where + " is a BOOL of value " + std::to_string(p_[pos_]) + "; it must be 0 or 1",
         kCorruptHint);
  }
  pos_ += size;
  return v;
}

GgufValue GgufParser::array_body(const std::string& where, int depth) {
  if (depth >= kMaxArrayDepth) {
    fail(where + " nests arrays more than " + std::to_string(kMaxArrayDepth) + " deep",
         kCorruptHint);
  }
  uint32_t elem = u32("the element type of " + where);
  if (!gguf_type_valid(elem)) {
    fail(where + " has unknown element type id " + std::to_string(elem) +
             " (GGUF value types are 0..12)",
         kCorruptHint);
  }
  GgufValue v;
  v.type_ = GgufType::ARRAY;
  v.elem_ = static_cast<GgufType>(elem);
  v.count_ = u64("the element count of " + where);
  size_t esize = gguf_scalar_size(v.elem_);
  uint64_t min_elem = esize ? esize : (v.elem_ == GgufType::STRING ? 8 : 12);
  if (v.count_ > left() / min_elem) {
    fail("truncated: " + where + " claims " + std::to_string(v.count_) + " " +
             gguf_type_name(v.elem_) + " elements but only " + std::to_string(left()) +
             " bytes follow",
         kTruncatedHint);
  }
  size_t n = static_cast<size_t>(v.count_);
  if (esize) {
    uint64_t bytes = v.count_ * esize;
    v.raw_.assign(p_ + pos_, p_ + pos_ + bytes);
    pos_ += bytes;
    if (v.elem_ == GgufType::BOOL) {
      for (size_t i = 0; i < n; ++i) {
        if (v.raw_[i] > 1) {
          fail(where + " element " + std::to_string(i) + " is a BOOL of value " +
                   std::to_string(v.raw_[i]) + "; it must be 0 or 1",
               kCorruptHint);
        }
      }
    }
  } else if (v.elem_ == GgufType::STRING) {
    v.strings_.reserve(n);
    for (size_t i = 0; i < n; ++i)
      v.strings_.push_back(str(where + " element " + std::to_string(i), UINT64_MAX, kCorruptHint));
  } else {
    v.items_.reserve(n);
    for (size_t i = 0; i < n; ++i)
      v.items_.push_back(array_body(where + " element " + std::to_string(i), depth + 1));
  }
  return v;
}

void GgufParser::tensor_info(GgufFile& f, uint64_t index) {
  const std::string nth = "tensor info " + std::to_string(index);
  GgufTensorInfo t;
  t.name = str("the name of " + nth, kMaxTensorName,
               "ggml limits tensor names to 63 bytes; the file is corrupt or was not written for "
               "llama.cpp");
  const std::string who = "tensor " + quote(t.name);
  if (f.tensor_index_.count(t.name)) fail(who + " appears twice", kCorruptHint);

  uint32_t n_dims = u32("the dimension count of " + who);
  if (n_dims < 1 || n_dims > static_cast<uint32_t>(kMaxDims)) {
    fail(who + " has " + std::to_string(n_dims) + " dimensions; GGUF tensors have 1 to 4",
         kCorruptHint);
  }
  int64_t numel = 1;
  for (uint32_t j = 0; j < n_dims; ++j) {
    uint64_t d = u64("dimension " + std::to_string(j) + " of " + who);
    if (d == 0 || d > static_cast<uint64_t>(INT64_MAX)) {
      fail(who + " has dimension " + std::to_string(j) + " = " + std::to_string(d) +
               "; dimensions must be at least 1",
           kCorruptHint);
    }
    if (__builtin_mul_overflow(numel, static_cast<int64_t>(d), &numel)) {
      fail(who + " has too many elements (the product of its dimensions overflows)", kCorruptHint);
    }
    t.dims.push_back(static_cast<int64_t>(d));
  }
  t.ggml_type = u32("the type of " + who);
  if (!ggml_type_to_dtype(t.ggml_type, &t.dtype)) {
    fail(who + " has ggml type " + std::to_string(t.ggml_type) + " (" +
             ggml_type_name(t.ggml_type) + "), which tuna does not read",
         "tuna reads " + supported_ggml_types() +
             "; re-quantize the model to one of these (llama-quantize)");
  }
  const int64_t block = static_cast<int64_t>(dtype_block_size(t.dtype));
  if (t.dims[0] % block != 0) {
    fail(who + " is " + dtype_name(t.dtype) + " with rows of " + std::to_string(t.dims[0]) +
             " elements, not a multiple of its block size " + std::to_string(block),
         kCorruptHint);
  }
  uint64_t nbytes = 0;
  if (__builtin_mul_overflow(static_cast<uint64_t>(numel / block),
                             static_cast<uint64_t>(dtype_block_bytes(t.dtype)), &nbytes) ||
      nbytes > size_) {
    fail(who + " needs " + (nbytes ? std::to_string(nbytes) : std::string("too many")) +
             " bytes, more than the whole file (" + std::to_string(size_) + " bytes)",
         kTruncatedHint);
  }
  t.nbytes = static_cast<size_t>(nbytes);
  t.offset = u64("the data offset of " + who);
  for (size_t j = 0; j < t.dims.size(); ++j)
    t.shape.dims[t.shape.ndim++] = t.dims[t.dims.size() - 1 - j];
  f.tensor_index_.emplace(t.name, f.tensors_.size());
  f.tensors_.push_back(std::move(t));
}

void GgufParser::run(GgufFile& f) {
  if (size_ < 4) {
    fail("the file is " + std::to_string(size_) + " bytes, too short to be a GGUF file",
         "the file is truncated or is not a GGUF model; check the path");
  }
  if (std::memcmp(p_, "GGUF", 4) != 0) {
    std::string start = printable(std::string_view(reinterpret_cast<const char*>(p_), 4));
    bool legacy = std::memcmp(p_, "lmgg", 4) == 0 || std::memcmp(p_, "fmgg", 4) == 0 ||
                  std::memcmp(p_, "tjgg", 4) == 0;
    fail("not a GGUF file: it starts with '" + start + "' instead of 'GGUF'",
         legacy ? "this is a pre-GGUF llama.cpp (GGML/GGJT) file; convert the original model "
                  "with a current llama.cpp (convert_hf_to_gguf.py)"
                : "tuna reads GGUF files (.gguf) and Hugging Face model directories; check the "
                  "path");
  }
  pos_ = 4;
  uint32_t version = u32("the version");
  if (version != 2 && version != 3) {
    if (version == 1) {
      fail("GGUF version 1 is not supported (tuna reads versions 2 and 3)",
           "version 1 files predate 2023-08; re-convert the model with a current llama.cpp "
           "(convert_hf_to_gguf.py), which writes version 3");
    }
    uint32_t swapped = __builtin_bswap32(version);
    if (swapped >= 1 && swapped <= 3) {
      fail("a big-endian GGUF file (version " + std::to_string(swapped) + ")",
           "tuna reads little-endian GGUF; convert the model without --bigendian");
    }
    fail("GGUF version " + std::to_string(version) +
             " is not supported (tuna reads versions 2 and 3)",
         version > 3 ? "the file is newer than this tuna; update tuna or re-convert the model"
                     : kCorruptHint);
  }
  f.version_ = version;
  uint64_t n_tensors = u64("the tensor count");
  uint64_t n_kv = u64("the metadata count");
  if (n_kv > left() / kMinKvBytes) {
    fail("the header claims " + std::to_string(n_kv) + " metadata entries but only " +
             std::to_string(left()) + " bytes follow",
         kTruncatedHint);
  }
  if (n_tensors > left() / kMinTensorInfoBytes) {
    fail("the header claims " + std::to_string(n_tensors) + " tensors but only " +
             std::to_string(left()) + " bytes follow",
         kTruncatedHint);
  }

  f.metadata_.reserve(static_cast<size_t>(n_kv));
  for (uint64_t i = 0; i < n_kv; ++i) {
    std::string key = str("metadata key " + std::to_string(i), kMaxKeyLength,
                          "GGUF keys are at most 65535 bytes; " + std::string(kCorruptHint));
    const std::string who = "metadata key " + quote(key);
    if (f.key_index_.count(key)) fail(who + " appears twice", kCorruptHint);
    uint32_t type = u32("the value type of " + who);
    if (!gguf_type_valid(type)) {
      fail(who + " has unknown value type id " + std::to_string(type) +
               " (GGUF value types are 0..12)",
           kCorruptHint);
    }
    GgufValue v = value(static_cast<GgufType>(type), "the value of " + who, 0);
    f.key_index_.emplace(key, f.metadata_.size());
    f.metadata_.emplace_back(std::move(key), std::move(v));
  }

  f.alignment_ = kDefaultAlignment;
  if (const GgufValue* a = f.find("general.alignment")) {
    if (a->type() != GgufType::UINT32) {
      fail(std::string("metadata key 'general.alignment' is ") + gguf_type_name(a->type()) +
               "; it must be UINT32",
           kCorruptHint);
    }
    uint64_t al = a->as_uint();
    if (al == 0 || (al & (al - 1)) != 0) {
      fail("metadata key 'general.alignment' is " + std::to_string(al) +
               "; it must be a power of two",
           kCorruptHint);
    }
    f.alignment_ = static_cast<size_t>(al);
  }

  f.tensors_.reserve(static_cast<size_t>(n_tensors));
  for (uint64_t i = 0; i < n_tensors; ++i) tensor_info(f, i);

  // The data section starts at the next multiple of the alignment; ggml requires each offset to
  // be the running sum of the earlier tensors' sizes, each padded to the alignment.
  const uint64_t al = f.alignment_;
  uint64_t data_start = pad_to(pos_, al);  // pos_ <= size_ < 2^63: no overflow
  f.data_offset_ = static_cast<size_t>(data_start);
  uint64_t expected = 0;
  for (const GgufTensorInfo& t : f.tensors_) {
    const std::string who = "tensor " + quote(t.name);
    if (t.offset != expected) {
      fail(who + " has data offset " + std::to_string(t.offset) + ", expected " +
               std::to_string(expected) +
               " (GGUF writers lay tensor data out in info order, each padded to " +
               std::to_string(al) + " bytes)",
           kCorruptHint);
    }
    if (data_start > size_ || t.nbytes > size_ - data_start ||
        t.offset > size_ - data_start - t.nbytes) {
      fail("truncated: the data of " + who + " ends at byte " +
               std::to_string(data_start + t.offset + t.nbytes) + " but the file is " +
               std::to_string(size_) + " bytes",
           kTruncatedHint);
    }
    expected = t.offset + pad_to(t.nbytes, al);  // both below size_ + al: no overflow
  }
  f.data_ = p_ + std::min<uint64_t>(data_start, size_);
}

// --- GgufFile -------------------------------------------------------------------------------

GgufFile GgufFile::open(const std::string& path) {
  std::shared_ptr<MappedFile> mapped = MappedFile::open(path);
  const uint8_t* data = mapped->data();
  size_t size = mapped->size();
  return parse(std::move(mapped), data, size, path);
}

GgufFile GgufFile::parse(std::shared_ptr<const void> owner, const uint8_t* data, size_t size,
                         const std::string& label) {
  GgufFile f;
  f.path_ = label;
  GgufParser(data, size, label).run(f);
  f.owner_ = std::move(owner);
  return f;
}

const GgufValue* GgufFile::find(const std::string& key) const {
  auto it = key_index_.find(key);
  return it == key_index_.end() ? nullptr : &metadata_[it->second].second;
}

namespace {

[[noreturn]] void fail_key(const std::string& file, const std::string& key, const std::string& what,
                           const std::string& hint) {
  throw_user_error(kComponent, printable(file, 4096) + ": metadata key " + quote(key) + " " + what,
                   hint);
}

template <typename Fn>
auto typed(const std::string& file, const std::string& key, const GgufValue& v, const char* want,
           Fn fn) -> decltype(fn(v)) {
  try {
    return fn(v);
  } catch (const Error& e) {
    fail_key(file, key, "is " + v.to_string(4) + " (" + gguf_type_name(v.type()) + "), not " + want,
             "the file is not what this model type expects; re-convert it with a current "
             "llama.cpp");
  }
}

}  // namespace

const GgufValue& GgufFile::get(const std::string& key) const {
  const GgufValue* v = find(key);
  if (v == nullptr) {
    fail_key(path_, key, "is missing",
             "the file lacks a key this model type needs; re-convert it with a current "
             "llama.cpp");
  }
  return *v;
}

int64_t GgufFile::get_int(const std::string& key) const {
  return typed(path_, key, get(key), "an integer", [](const GgufValue& v) { return v.as_int(); });
}
double GgufFile::get_float(const std::string& key) const {
  return typed(path_, key, get(key), "a number", [](const GgufValue& v) { return v.as_float(); });
}
bool GgufFile::get_bool(const std::string& key) const {
  return typed(path_, key, get(key), "a BOOL", [](const GgufValue& v) { return v.as_bool(); });
}
const std::string& GgufFile::get_string(const std::string& key) const {
  return typed(path_, key, get(key), "a STRING",
               [](const GgufValue& v) -> const std::string& { return v.as_string(); });
}
int64_t GgufFile::get_int_or(const std::string& key, int64_t fallback) const {
  return has(key) ? get_int(key) : fallback;
}
double GgufFile::get_float_or(const std::string& key, double fallback) const {
  return has(key) ? get_float(key) : fallback;
}
bool GgufFile::get_bool_or(const std::string& key, bool fallback) const {
  return has(key) ? get_bool(key) : fallback;
}
std::string GgufFile::get_string_or(const std::string& key, const std::string& fallback) const {
  return has(key) ? get_string(key) : fallback;
}

const GgufTensorInfo* GgufFile::find_tensor(const std::string& name) const {
  auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

const GgufTensorInfo& GgufFile::tensor_info(const std::string& name) const {
  const GgufTensorInfo* t = find_tensor(name);
  if (t != nullptr) return *t;
  std::vector<std::string> names;
  names.reserve(tensors_.size());
  for (const GgufTensorInfo& i : tensors_) names.push_back(i.name);
  const std::string* best = closest_name(name, names);
  throw_user_error(kComponent,
                   printable(path_, 4096) + ": no tensor " + quote(name) + " among its " +
                       std::to_string(tensors_.size()) + " tensors",
                   best ? "did you mean " + quote(*best) + "?"
                        : std::string("the file does not hold the tensors this architecture "
                                      "needs; check general.architecture"));
}

Tensor GgufFile::tensor(const std::string& name) const {
  return tensor(tensor_info(name));
}

Tensor GgufFile::tensor(const GgufTensorInfo& info) const {
  const uint8_t* p = data_ + info.offset;
  size_t align = dtype_is_block(info.dtype) ? 1 : dtype_size(info.dtype);
  if (reinterpret_cast<uintptr_t>(p) % align == 0)
    return Tensor::view(owner_, p, info.shape, info.dtype);
  Tensor t = Tensor::empty(info.shape, info.dtype);
  std::memcpy(t.raw_mut(), p, info.nbytes);
  return t;
}

}  // namespace tuna
