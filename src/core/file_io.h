// Atomic file writing: the bytes go to a temporary file next to the target (same directory, so
// the rename never crosses filesystems), which is flushed and renamed over it; readers see the old
// file or the whole new one, never part of one. Reading files is MappedFile's job (mmap_file.h).
#pragma once

#include <cstddef>
#include <functional>
#include <string>

namespace tuna {

// Appends `n` bytes to the file being written (a user error when the write fails).
using WriteBytes = std::function<void(const void* data, size_t n)>;

// Writes `path` atomically; `write_body` streams the content through the `sink` it is given.
// Errors are user errors of `component` ("safetensors", "gguf", ...) naming the step and the
// path, with a hint (free disk space, or check the directory). On any failure, including an
// exception from `write_body`, the temporary file is removed and `path` is left as it was.
void write_file_atomic(const std::string& component, const std::string& path,
                       const std::function<void(const WriteBytes& sink)>& write_body);

}  // namespace tuna
