// safetensors reading (validation of every header field before any view is handed out),
// sharded models (model.safetensors.index.json) and atomic writing. See safetensors.h.
// Reading never copies tensor bytes except to realign a misaligned tensor; writing streams.
#include "io/safetensors.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string_view>
#include <unordered_set>

#include "core/error.h"
#include "core/file_io.h"
#include "core/message.h"
#include "core/mmap_file.h"

namespace tuna {

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

constexpr const char* kComponent = "safetensors";
// The reference implementation's limit; a larger length means a corrupt or foreign file.
constexpr uint64_t kMaxHeaderBytes = 100'000'000;
// safetensors spellings tuna reads and writes (F8/F4 variants and complex types are not
// supported yet).
constexpr DType kSupported[] = {DType::F64, DType::F32, DType::F16, DType::BF16, DType::I64,
                                DType::I32, DType::I16, DType::I8,  DType::U64,  DType::U32,
                                DType::U16, DType::U8,  DType::BOOL};

[[noreturn]] void fail(const std::string& file, const std::string& what, const std::string& hint) {
  throw_user_error(kComponent, printable(file, 4096) + ": " + what, hint);
}

[[noreturn]] void fail_tensor(const std::string& file, const std::string& name,
                              const std::string& what, const std::string& hint) {
  fail(file, "tensor " + quote(name) + ": " + what, hint);
}

std::string supported_dtype_list() {
  std::string s;
  for (DType t : kSupported) s += (s.empty() ? "" : ", ") + std::string(dtype_name(t));
  return s;
}

bool supported_dtype(DType t) {
  return std::find(std::begin(kSupported), std::end(kSupported), t) != std::end(kSupported);
}

bool safetensors_dtype_from_name(const std::string& name, DType* out) {
  DType t;
  if (!dtype_from_name(name, &t) || !supported_dtype(t)) return false;
  *out = t;
  return true;
}

std::string json_kind(const json& j) {
  if (j.is_number_float()) return "a non-integer number";
  if (j.is_number_unsigned()) return "a number";
  if (j.is_number_integer()) return j.get<int64_t>() < 0 ? "a negative number" : "a signed number";
  std::string t = j.type_name();
  return (t == "array" || t == "object" ? "an " : "a ") + t;
}

// nlohmann's messages start with "[json.exception.parse_error.101] "; the id helps nobody.
std::string json_message(const std::exception& e) {
  std::string m = e.what();
  if (!m.empty() && m[0] == '[') {
    size_t close = m.find("] ");
    if (close != std::string::npos) m = m.substr(close + 2);
  }
  return printable_ascii(m, 300);
}

uint64_t read_le64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

std::string format_range(const SafetensorsEntry& e) {
  return "[" + std::to_string(e.begin) + ", " + std::to_string(e.end) + ")";
}

// The hint for a missing tensor: the closest name, if one is close.
std::string missing_hint(const std::string& name, const std::vector<std::string>& names) {
  if (const std::string* best = closest_name(name, names))
    return "did you mean " + quote(*best) + "?";
  return "the weights do not match the expected architecture; check the model directory";
}

// SAX pass that finds duplicate keys in the objects `is_watched(depth, top_key)` selects (the
// reference libraries silently keep one of them). A separate pass because nlohmann's
// callback parser rescans the parent object after every child: quadratic in tensor count.
template <typename Watched, typename OnDuplicate>
struct DuplicateKeyFinder {
  DuplicateKeyFinder(Watched w, OnDuplicate d) : is_watched(w), on_duplicate(d) {}
  Watched is_watched;
  OnDuplicate on_duplicate;
  int depth = 0;
  std::string top_key;
  std::unordered_set<std::string> seen;

  bool null() { return true; }
  bool boolean(bool) { return true; }
  bool number_integer(json::number_integer_t) { return true; }
  bool number_unsigned(json::number_unsigned_t) { return true; }
  bool number_float(json::number_float_t, const json::string_t&) { return true; }
  bool string(json::string_t&) { return true; }
  bool binary(json::binary_t&) { return true; }
  bool start_object(size_t) { return ++depth, true; }
  bool end_object() { return --depth, true; }
  bool start_array(size_t) { return ++depth, true; }
  bool end_array() { return --depth, true; }
  bool key(json::string_t& k) {
    if (depth == 1) top_key = k;
    if (is_watched(depth, top_key) && !seen.insert(k).second) on_duplicate(k);
    return true;
  }
  bool parse_error(size_t, const std::string&, const json::exception& e) { throw e; }
};

// Parses JSON (throwing json::exception on syntax errors), calling `on_duplicate` (which
// throws) on a duplicate key in a watched object.
template <typename Watched, typename OnDuplicate>
json parse_json_unique_keys(std::string_view text, Watched is_watched, OnDuplicate on_duplicate) {
  DuplicateKeyFinder<Watched, OnDuplicate> finder(is_watched, on_duplicate);
  json::sax_parse(text.begin(), text.end(), &finder);
  return json::parse(text.begin(), text.end());
}

SafetensorsEntry parse_entry(const std::string& file, const std::string& name, const json& v,
                             uint64_t data_size, uint64_t data_start) {
  const std::string layout =
      "each tensor entry is {\"dtype\": ..., \"shape\": [...], "
      "\"data_offsets\": [begin, end]}; the file is corrupt or was not "
      "written as safetensors";
  if (!v.is_object())
    fail_tensor(file, name, "header entry is " + json_kind(v) + ", not an object", layout);
  SafetensorsEntry e;
  e.name = name;

  auto dt = v.find("dtype");
  if (dt == v.end()) fail_tensor(file, name, "header entry has no \"dtype\"", layout);
  if (!dt->is_string())
    fail_tensor(file, name, "\"dtype\" is " + json_kind(*dt) + ", not a string", layout);
  const std::string& dtype_str = dt->get_ref<const std::string&>();
  if (!safetensors_dtype_from_name(dtype_str, &e.dtype)) {
    fail_tensor(file, name, "unknown dtype " + quote(dtype_str),
                "tuna supports " + supported_dtype_list() +
                    "; convert the tensor to one of these before loading");
  }

  auto sh = v.find("shape");
  if (sh == v.end()) fail_tensor(file, name, "header entry has no \"shape\"", layout);
  if (!sh->is_array())
    fail_tensor(file, name, "\"shape\" is " + json_kind(*sh) + ", not an array", layout);
  if (sh->size() > static_cast<size_t>(kMaxDims)) {
    fail_tensor(file, name,
                "shape has " + std::to_string(sh->size()) + " dims; tuna supports at most " +
                    std::to_string(kMaxDims),
                "reshape the tensor to 4 dims or fewer before saving it");
  }
  int64_t numel = 1;
  bool overflow = false;
  for (const json& d : *sh) {
    if (!d.is_number_unsigned()) {
      fail_tensor(file, name,
                  "shape " + printable_ascii(sh->dump()) + " holds " + json_kind(d) +
                      "; dims must be non-negative integers",
                  layout);
    }
    uint64_t u = d.get<uint64_t>();
    if (u > static_cast<uint64_t>(INT64_MAX)) overflow = true;
    int64_t dim = static_cast<int64_t>(u);
    e.shape.dims[e.shape.ndim++] = dim;
    if (!overflow && __builtin_mul_overflow(numel, dim, &numel)) overflow = true;
  }
  uint64_t nbytes = 0;
  if (overflow || __builtin_mul_overflow(static_cast<uint64_t>(numel),
                                         static_cast<uint64_t>(dtype_size(e.dtype)), &nbytes)) {
    fail_tensor(file, name, "shape " + printable_ascii(sh->dump()) + " has too many elements",
                "the header is corrupt; re-save the file");
  }

  auto off = v.find("data_offsets");
  if (off == v.end()) fail_tensor(file, name, "header entry has no \"data_offsets\"", layout);
  if (!off->is_array() || off->size() != 2 || !(*off)[0].is_number_unsigned() ||
      !(*off)[1].is_number_unsigned()) {
    fail_tensor(file, name,
                "\"data_offsets\" is " + printable_ascii(off->dump(), 100) +
                    "; it must be two non-negative integers [begin, end]",
                layout);
  }
  e.begin = (*off)[0].get<uint64_t>();
  e.end = (*off)[1].get<uint64_t>();
  if (e.begin > e.end) {
    fail_tensor(file, name, "data_offsets " + format_range(e) + " end before they begin",
                "the header is corrupt; re-save the file");
  }
  if (e.end > data_size) {
    fail_tensor(file, name,
                "data_offsets " + format_range(e) + " run past the end of the file: it is " +
                    std::to_string(data_start + data_size) + " bytes but this tensor needs " +
                    std::to_string(data_start + e.end),
                "the file is truncated (an interrupted download or copy); fetch or save it again");
  }
  if (e.end - e.begin != nbytes) {
    fail_tensor(file, name,
                "dtype/shape/size mismatch: " + std::string(dtype_name(e.dtype)) + " " +
                    e.shape.to_string() + " needs " + std::to_string(nbytes) +
                    " bytes but data_offsets " + format_range(e) + " span " +
                    std::to_string(e.end - e.begin),
                "the header is corrupt; re-save the file");
  }
  return e;
}

}  // namespace

// --- SafetensorsFile ------------------------------------------------------------------------

SafetensorsFile SafetensorsFile::open(const std::string& path) {
  std::shared_ptr<MappedFile> mapped = MappedFile::open(path);
  const uint8_t* data = mapped->data();
  size_t size = mapped->size();
  return parse(std::move(mapped), data, size, path);
}

SafetensorsFile SafetensorsFile::parse(std::shared_ptr<const void> owner, const uint8_t* data,
                                       size_t size, const std::string& label) {
  const std::string not_safetensors = "the file is corrupt or is not a safetensors file";
  if (size < 8) {
    fail(label,
         "the file is " + std::to_string(size) +
             " bytes, shorter than the 8-byte header length that starts a safetensors file",
         "the file is truncated or is not a safetensors file");
  }
  uint64_t header_len = read_le64(data);
  if (header_len == 0) fail(label, "the header length is 0", not_safetensors);
  if (header_len > kMaxHeaderBytes) {
    fail(label,
         "the header length " + std::to_string(header_len) +
             " bytes exceeds the 100 MB limit of safetensors headers",
         not_safetensors);
  }
  if (header_len > size - 8) {
    fail(label,
         "the header length is " + std::to_string(header_len) + " bytes but the file is only " +
             std::to_string(size) + " bytes",
         "the file is truncated (an interrupted download or copy); fetch or save it again");
  }
  std::string_view header(reinterpret_cast<const char*>(data + 8), header_len);

  json root;
  try {
    root = parse_json_unique_keys(
        header, [](int depth, const std::string&) { return depth == 1; },
        [&](const std::string& key) {
          fail_tensor(label, key, "appears twice in the header",
                      "the header is corrupt; re-save the file");
        });
  } catch (const json::exception& e) {
    fail(label, "the header is not valid JSON: " + json_message(e), not_safetensors);
  }
  if (!root.is_object())
    fail(label, "the header is " + json_kind(root) + ", not a JSON object", not_safetensors);

  SafetensorsFile f;
  f.owner_ = std::move(owner);
  f.path_ = label;
  f.data_offset_ = 8 + static_cast<size_t>(header_len);
  f.data_ = data + f.data_offset_;
  uint64_t data_size = size - f.data_offset_;

  std::vector<SafetensorsEntry> order;
  for (auto it = root.begin(); it != root.end(); ++it) {
    if (it.key() == "__metadata__") {
      const std::string hint =
          "\"__metadata__\" must map strings to strings, e.g. {\"format\": \"pt\"}";
      if (!it->is_object())
        fail(label, "\"__metadata__\" is " + json_kind(*it) + ", not an object", hint);
      for (auto m = it->begin(); m != it->end(); ++m) {
        if (!m->is_string()) {
          fail(label,
               "\"__metadata__\" key " + quote(m.key()) + " holds " + json_kind(*m) +
                   ", not a string",
               hint);
        }
        f.metadata_[m.key()] = m->get<std::string>();
      }
      continue;
    }
    order.push_back(parse_entry(label, it.key(), *it, data_size, f.data_offset_));
  }

  std::sort(order.begin(), order.end(), [](const SafetensorsEntry& a, const SafetensorsEntry& b) {
    if (a.begin != b.begin) return a.begin < b.begin;
    if (a.end != b.end) return a.end < b.end;
    return a.name < b.name;
  });
  const SafetensorsEntry* furthest = nullptr;  // the non-empty entry reaching furthest so far
  for (const SafetensorsEntry& e : order) {
    if (e.begin == e.end) continue;  // empty ranges cannot overlap anything
    if (furthest != nullptr && e.begin < furthest->end) {
      fail(label,
           "tensors " + quote(furthest->name) + " " + format_range(*furthest) + " and " +
               quote(e.name) + " " + format_range(e) + " overlap in the data section",
           "the header is corrupt; re-save the file");
    }
    if (furthest == nullptr || e.end > furthest->end) furthest = &e;
  }
  f.names_.reserve(order.size());
  for (SafetensorsEntry& e : order) {
    f.names_.push_back(e.name);
    std::string key = e.name;
    f.entries_.emplace(std::move(key), std::move(e));
  }
  return f;
}

const SafetensorsEntry& SafetensorsFile::entry(const std::string& name) const {
  auto it = entries_.find(name);
  if (it == entries_.end()) {
    fail(path_,
         "no tensor " + quote(name) + " among its " + std::to_string(names_.size()) + " tensors",
         missing_hint(name, names_));
  }
  return it->second;
}

Tensor SafetensorsFile::tensor(const std::string& name) const {
  const SafetensorsEntry& e = entry(name);
  const uint8_t* p = data_ + e.begin;
  size_t align = dtype_size(e.dtype);
  if (e.begin == e.end || reinterpret_cast<uintptr_t>(p) % align == 0) {
    return Tensor::view(owner_, p, e.shape, e.dtype);
  }
  Tensor t = Tensor::empty(e.shape, e.dtype);
  std::memcpy(t.raw_mut(), p, e.end - e.begin);
  return t;
}

// --- SafetensorsModel -----------------------------------------------------------------------

SafetensorsModel SafetensorsModel::open_file(const std::string& path) {
  SafetensorsModel m;
  m.source_ = path;
  m.shards_.push_back(SafetensorsFile::open(path));
  m.file_paths_.push_back(path);
  for (const std::string& n : m.shards_[0].names()) m.where_.emplace(n, 0);
  return m;
}

SafetensorsModel SafetensorsModel::open_index(const std::string& index_path) {
  const std::string index_hint =
      "an index looks like {\"weight_map\": {\"tensor.name\": "
      "\"model-00001-of-00002.safetensors\", "
      "...}}; re-download it with the model";
  std::ifstream in(index_path, std::ios::binary);
  if (!in) {
    throw_user_error(kComponent, "cannot read " + index_path + ": " + std::strerror(errno),
                     "check the path and the file's permissions");
  }
  std::stringstream buf;
  buf << in.rdbuf();
  std::string text = buf.str();

  json root;
  try {
    root = parse_json_unique_keys(
        text, [](int depth, const std::string& top) { return depth == 2 && top == "weight_map"; },
        [&](const std::string& key) {
          fail_tensor(index_path, key, "is listed twice in \"weight_map\"",
                      "the index is corrupt; re-download it with the model");
        });
  } catch (const json::exception& e) {
    fail(index_path, "not valid JSON: " + json_message(e), index_hint);
  }
  if (!root.is_object())
    fail(index_path, "the index is " + json_kind(root) + ", not a JSON object", index_hint);
  auto wm = root.find("weight_map");
  if (wm == root.end()) fail(index_path, "the index has no \"weight_map\"", index_hint);
  if (!wm->is_object())
    fail(index_path, "\"weight_map\" is " + json_kind(*wm) + ", not an object", index_hint);
  if (wm->empty()) fail(index_path, "\"weight_map\" lists no tensors", index_hint);

  fs::path dir = fs::path(index_path).parent_path();
  SafetensorsModel m;
  m.source_ = index_path;
  std::map<std::string, std::vector<std::string>> by_shard;  // shard file -> tensors
  for (auto it = wm->begin(); it != wm->end(); ++it) {
    if (!it->is_string()) {
      fail_tensor(index_path, it.key(),
                  "\"weight_map\" entry is " + json_kind(*it) + ", not a file name", index_hint);
    }
    const std::string& shard = it->get_ref<const std::string&>();
    fs::path rel(shard);
    bool escapes = shard.empty() || rel.is_absolute() ||
                   std::any_of(rel.begin(), rel.end(), [](const fs::path& c) { return c == ".."; });
    if (escapes) {
      fail_tensor(index_path, it.key(),
                  "shard " + quote(shard) + " is not a file name inside the model directory",
                  index_hint);
    }
    by_shard[shard].push_back(it.key());
  }
  for (const auto& [shard, tensors] : by_shard) {
    std::string path = (dir / shard).string();
    std::error_code ec;
    if (!fs::is_regular_file(path, ec)) {
      fail(index_path,
           "\"weight_map\" maps " + std::to_string(tensors.size()) + " tensors (first " +
               quote(tensors[0]) + ") to " + quote(shard) + ", which does not exist in " +
               (dir.empty() ? std::string(".") : dir.string()),
           "the download is incomplete; fetch the missing shard");
    }
    size_t idx = m.shards_.size();
    m.shards_.push_back(SafetensorsFile::open(path));
    m.file_paths_.push_back(path);
    for (const std::string& t : tensors) {
      if (!m.shards_[idx].contains(t)) {
        fail_tensor(
            index_path, t,
            "listed in the index for " + quote(shard) + ", but that shard does not contain it",
            "the index and the shards come from different versions; re-download the model");
      }
      m.where_.emplace(t, idx);
    }
  }
  return m;
}

SafetensorsModel SafetensorsModel::open_dir(const std::string& dir) {
  std::error_code ec;
  fs::file_status st = fs::status(dir, ec);
  if (!fs::exists(st)) {
    throw_user_error(kComponent, "model directory " + dir + " does not exist", "check the path");
  }
  if (fs::is_regular_file(st)) return dir.ends_with(".json") ? open_index(dir) : open_file(dir);
  if (!fs::is_directory(st))
    throw_user_error(kComponent, dir + " is not a directory", "pass the model directory");

  fs::path d(dir);
  if (fs::is_regular_file(d / "model.safetensors.index.json", ec)) {
    return open_index((d / "model.safetensors.index.json").string());
  }
  if (fs::is_regular_file(d / "model.safetensors", ec))
    return open_file((d / "model.safetensors").string());

  std::vector<std::string> all, weights, indexes;
  for (fs::directory_iterator it(d, ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    all.push_back(name);
    if (!it->is_regular_file(ec)) continue;
    if (name.size() > 12 && name.ends_with(".safetensors")) weights.push_back(name);
    if (name.ends_with(".safetensors.index.json")) indexes.push_back(name);
  }
  std::sort(all.begin(), all.end());
  std::sort(weights.begin(), weights.end());
  if (indexes.size() == 1) return open_index((d / indexes[0]).string());
  if (weights.size() == 1 && indexes.empty()) return open_file((d / weights[0]).string());

  auto list = [](const std::vector<std::string>& v) {
    std::string s;
    for (size_t i = 0; i < v.size() && i < 20; ++i) s += (i ? ", " : "") + printable(v[i]);
    if (v.size() > 20) s += ", ... (" + std::to_string(v.size()) + " in all)";
    return s.empty() ? std::string("nothing") : s;
  };
  if (weights.empty()) {
    throw_user_error(
        kComponent, "no safetensors weights in " + dir + " (found: " + list(all) + ")",
        "point at the directory holding model.safetensors; .bin/.pt checkpoints can be "
        "converted with transformers' save_pretrained(safe_serialization=True)");
  }
  throw_user_error(
      kComponent,
      dir + " holds " + std::to_string(weights.size()) + " .safetensors files (" + list(weights) +
          ") and " + (indexes.empty() ? std::string("no") : std::to_string(indexes.size())) +
          " *.safetensors.index.json, so the shards to load are ambiguous",
      "keep the model.safetensors.index.json that came with the model, or pass one file");
}

std::vector<std::string> SafetensorsModel::names() const {
  std::vector<std::string> out;
  out.reserve(where_.size());
  for (const auto& kv : where_) out.push_back(kv.first);
  std::sort(out.begin(), out.end());
  return out;
}

size_t SafetensorsModel::shard_of(const std::string& name) const {
  auto it = where_.find(name);
  if (it != where_.end()) return it->second;
  std::string searched;
  for (const std::string& p : file_paths_) searched += (searched.empty() ? "" : ", ") + p;
  std::vector<std::string> all = names();
  fail(source_, "no tensor " + quote(name) + " (searched " + searched + ")",
       missing_hint(name, all));
}

Tensor SafetensorsModel::tensor(const std::string& name) const {
  return shards_[shard_of(name)].tensor(name);
}

const SafetensorsEntry& SafetensorsModel::entry(const std::string& name) const {
  return shards_[shard_of(name)].entry(name);
}

const std::string& SafetensorsModel::file_of(const std::string& name) const {
  return file_paths_[shard_of(name)];
}

// --- writing --------------------------------------------------------------------------------

std::string safetensors_header(const std::vector<std::pair<std::string, Tensor>>& tensors,
                               const std::map<std::string, std::string>& metadata) {
  // Built by hand rather than with ordered_json, whose inserts are linear (quadratic headers).
  std::string text = "{";
  auto encode = [](const std::string& s) {
    try {
      return json(s).dump();
    } catch (const json::exception& e) {
      throw_user_error(kComponent, "cannot encode " + quote(s) + ": " + json_message(e),
                       "tensor names and metadata must be valid UTF-8");
    }
  };
  if (!metadata.empty()) {
    text += "\"__metadata__\":{";
    bool first = true;
    for (const auto& [k, v] : metadata) {
      text += (first ? "" : ",") + encode(k) + ":" + encode(v);
      first = false;
    }
    text += "}";
  }
  std::unordered_map<std::string_view, int> seen;
  seen.reserve(tensors.size());
  uint64_t offset = 0;
  for (const auto& [name, t] : tensors) {
    if (name == "__metadata__") {
      throw_user_error(kComponent, "cannot save a tensor named \"__metadata__\"",
                       "that key is reserved for the file's metadata; rename the tensor");
    }
    if (!seen.emplace(name, 0).second) {
      throw_user_error(kComponent, "tensor " + quote(name) + " is given twice",
                       "save each tensor once");
    }
    if (!t.defined()) throw_internal_error(kComponent, "saving undefined tensor " + quote(name));
    if (t.device() != Device::CPU) {
      throw_user_error(kComponent, "tensor " + quote(name) + " is on " + device_name(t.device()),
                       "copy it to the CPU before saving");
    }
    if (!supported_dtype(t.dtype())) {
      throw_user_error(kComponent,
                       "tensor " + quote(name) + " has dtype " + dtype_name(t.dtype()) +
                           ", which safetensors cannot store",
                       "safetensors stores " + supported_dtype_list());
    }
    uint64_t end = offset + t.nbytes();
    if (text.size() > 1) text += ",";
    text += encode(name) + ":{\"dtype\":\"" + dtype_name(t.dtype()) + "\",\"shape\":[";
    for (int i = 0; i < t.ndim(); ++i) {
      if (i > 0) text += ",";
      text += std::to_string(t.dim(i));
    }
    text += "],\"data_offsets\":[" + std::to_string(offset) + "," + std::to_string(end) + "]}";
    offset = end;
  }
  text += "}";
  text.append((8 - text.size() % 8) % 8, ' ');
  std::string out(8, '\0');
  uint64_t n = text.size();
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((n >> (8 * i)) & 0xff);
  return out + text;
}

void write_safetensors(const std::string& path,
                       const std::vector<std::pair<std::string, Tensor>>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  std::string header = safetensors_header(tensors, metadata);
  write_file_atomic(kComponent, path, [&](const WriteBytes& sink) {
    sink(header.data(), header.size());
    for (const auto& [n, t] : tensors) {
      if (t.nbytes() > 0) sink(t.raw(), t.nbytes());
    }
  });
}

}  // namespace tuna
