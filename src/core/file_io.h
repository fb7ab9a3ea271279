// Atomic file writing: the bytes go to a temporary file next to the target (same directory, so
// the rename never crosses filesystems), which is flushed and renamed over it; readers see the old
// file or the whole new one, never part of one. Also append-only log files, directory helpers with
// clear errors, and the fault-injection hooks the crash-safety tests use. Reading files is
// MappedFile's job (mmap_file.h).
#pragma once

#include <cstddef>
#include <functional>
#include <string>

namespace tuna {

// Appends `n` bytes to the file being written (a user error when the write fails).
using WriteBytes = std::function<void(const void* data, size_t n)>;

// Writes `path` atomically; `write_body` streams the content through the `sink` it is given.
// Errors are user errors of `component` ("safetensors", "gguf", ...) naming the step and the
// path, with a hint (free disk space, or check the directory); a full disk is always
// "[io] no space left on device writing <path>". On any failure, including an exception from
// `write_body`, the temporary file is removed and `path` is left as it was.
void write_file_atomic(const std::string& component, const std::string& path,
                       const std::function<void(const WriteBytes& sink)>& write_body);

// An append-only file (a log): each append() goes to the kernel at once, so a killed process
// loses nothing it appended. Errors as write_file_atomic's.
class AppendFile {
 public:
  // Opens `path` for appending (created when missing; emptied first when `truncate`).
  AppendFile(std::string component, std::string path, bool truncate);
  ~AppendFile();
  AppendFile(const AppendFile&) = delete;
  AppendFile& operator=(const AppendFile&) = delete;
  void append(const std::string& text);

 private:
  std::string component_, path_;
  int fd_ = -1;
};

// Creates `dir` and its missing parents (user errors of `component`, naming the path).
void create_directories(const std::string& component, const std::string& dir);
// Flushes a directory's entries (after a rename or a removal inside it); best effort.
void fsync_directory(const std::string& dir);

// Test hooks, read once from the environment (documented in docs/reliability.md, "Crash safety"):
//   TUNA_FAULT_WRITE_FAIL_AFTER_BYTES=N  every write through this file fails with ENOSPC once N
//                                        bytes were written in this process
//   TUNA_FAULT_KILL_AT_POINT=K           the process kills itself with SIGKILL at its K-th
//                                        durability point (each create, write, flush, rename)
// fault_point() marks one such point; write_file_atomic and AppendFile mark theirs themselves.
void fault_point();

}  // namespace tuna
