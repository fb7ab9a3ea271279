// Read-only memory-mapped files. Tensors that view a file hold a shared_ptr to the mapping,
// so the mapping lives as long as any view does. Zero-length files map to an empty view.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace tuna {

class MappedFile {
 public:
  // Throws a user error naming the path when the file cannot be opened or mapped.
  static std::shared_ptr<MappedFile> open(const std::string& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  const std::string& path() const { return path_; }

 private:
  MappedFile() = default;
  std::string path_;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

// The whole file as a string (read through a mapping). Same errors as MappedFile::open.
std::string read_file_bytes(const std::string& path);

}  // namespace tuna
