// safetensors: read (mmap, validated, zero-copy tensor views), sharded models through
// model.safetensors.index.json, and atomic writes in the byte layout the Python library uses.
// Does not convert dtypes or move data to a device; callers do that on the views.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/dtype.h"
#include "core/tensor.h"

namespace tuna {

// One tensor's header entry. Offsets are relative to the start of the data section.
struct SafetensorsEntry {
  std::string name;
  DType dtype = DType::F32;
  Shape shape;
  uint64_t begin = 0, end = 0;
};

class SafetensorsFile {
 public:
  // Maps the file and validates its header (every failure is a user error naming the file).
  static SafetensorsFile open(const std::string& path);
  // Parses an in-memory image (fuzzing, tests). `label` names it in errors; `owner` keeps
  // `data` alive for as long as any tensor view does.
  static SafetensorsFile parse(std::shared_ptr<const void> owner, const uint8_t* data, size_t size,
                               const std::string& label);

  const std::string& path() const { return path_; }
  const std::vector<std::string>& names() const { return names_; }  // in data-offset order
  bool contains(const std::string& name) const { return entries_.count(name) != 0; }
  // User error naming the file and the tensor when it is missing.
  const SafetensorsEntry& entry(const std::string& name) const;
  // Read-only view into the mapping. A tensor whose bytes are not aligned to its element size
  // (possible only in files not written by the reference library) is copied instead, so
  // typed loads stay well-defined.
  Tensor tensor(const std::string& name) const;
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  size_t data_offset() const { return data_offset_; }  // bytes before the data section

 private:
  std::shared_ptr<const void> owner_;
  const uint8_t* data_ = nullptr;  // start of the data section
  std::string path_;
  std::vector<std::string> names_;
  std::unordered_map<std::string, SafetensorsEntry> entries_;
  std::map<std::string, std::string> metadata_;
  size_t data_offset_ = 0;
};

// A model's weights: a single file, or shards listed by model.safetensors.index.json.
class SafetensorsModel {
 public:
  // model.safetensors.index.json if present, else model.safetensors, else the only
  // *.safetensors file; otherwise a user error listing what the directory holds.
  static SafetensorsModel open_dir(const std::string& dir);
  static SafetensorsModel open_file(const std::string& path);
  // Reads an index file ({"weight_map": {tensor: shard file}}); shards are relative to it.
  static SafetensorsModel open_index(const std::string& index_path);

  std::vector<std::string> names() const;  // sorted
  bool contains(const std::string& name) const { return where_.count(name) != 0; }
  // User errors name the tensor and the files searched.
  Tensor tensor(const std::string& name) const;
  const SafetensorsEntry& entry(const std::string& name) const;
  const std::string& file_of(const std::string& name) const;
  const std::vector<std::string>& files() const { return file_paths_; }

 private:
  size_t shard_of(const std::string& name) const;
  std::string source_;  // the index or the single file, for messages
  std::vector<SafetensorsFile> shards_;
  std::vector<std::string> file_paths_;
  std::unordered_map<std::string, size_t> where_;  // tensor -> index into shards_
};

// The header exactly as written to disk: 8-byte little-endian length, compact JSON
// ("__metadata__" first, then tensors in the given order with dtype, shape, data_offsets),
// spaces to a multiple of 8 bytes. Data follows contiguously in the same order.
std::string safetensors_header(const std::vector<std::pair<std::string, Tensor>>& tensors,
                               const std::map<std::string, std::string>& metadata = {});

// Writes atomically (temp file in the same directory, fsync, rename). Tensors must be on the
// CPU; any dtype. Names must be unique and not "__metadata__". Data keeps the given order (the
// Python library instead sorts by dtype size, then name); to keep every tensor aligned for
// zero-copy reads, pass larger dtypes first or sizes that are multiples of 8 bytes.
void write_safetensors(const std::string& path,
                       const std::vector<std::pair<std::string, Tensor>>& tensors,
                       const std::map<std::string, std::string>& metadata = {});

}  // namespace tuna
