// Atomic file writing with POSIX calls: mkstemp next to the target, write, fsync, rename, fsync
// the directory. See file_io.h.
#include "core/file_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>

#include "core/error.h"

namespace tuna {

namespace {

// Removes the temporary file unless released, so a failed write leaves nothing behind.
struct TempFile {
  std::string path;
  int fd = -1;
  ~TempFile() {
    if (fd >= 0) ::close(fd);
    if (!path.empty()) ::unlink(path.c_str());
  }
};

[[noreturn]] void fail_write(const std::string& component, const std::string& path,
                             const std::string& step, int err) {
  throw_user_error(component, "cannot " + step + " " + path + ": " + std::strerror(err),
                   err == ENOSPC || err == EDQUOT
                       ? "free disk space and try again"
                       : "check that the directory exists and is writable");
}

void write_all(const std::string& component, int fd, const void* data, size_t n,
               const std::string& path) {
  const char* p = static_cast<const char*>(data);
  while (n > 0) {
    ssize_t w = ::write(fd, p, std::min<size_t>(n, size_t{1} << 30));
    if (w < 0) {
      if (errno == EINTR) continue;
      fail_write(component, path, "write", errno);
    }
    p += w;
    n -= static_cast<size_t>(w);
  }
}

}  // namespace

void write_file_atomic(const std::string& component, const std::string& path,
                       const std::function<void(const WriteBytes& write)>& write_body) {
  namespace fs = std::filesystem;
  fs::path dir = fs::path(path).parent_path();
  if (dir.empty()) dir = ".";

  TempFile tmp;
  std::string templ = path + ".tmp.XXXXXX";
  std::vector<char> name(templ.begin(), templ.end());
  name.push_back('\0');
  tmp.fd = ::mkstemp(name.data());
  if (tmp.fd < 0) fail_write(component, path, "create a temporary file next to", errno);
  tmp.path = name.data();
  if (::fchmod(tmp.fd, 0644) != 0) fail_write(component, tmp.path, "set permissions of", errno);

  write_body([&](const void* data, size_t n) { write_all(component, tmp.fd, data, n, tmp.path); });
  if (::fsync(tmp.fd) != 0) fail_write(component, tmp.path, "flush", errno);
  int fd = tmp.fd;
  tmp.fd = -1;
  if (::close(fd) != 0) fail_write(component, tmp.path, "close", errno);
  if (::rename(tmp.path.c_str(), path.c_str()) != 0)
    fail_write(component, path, "rename the temporary file to", errno);
  tmp.path.clear();
  // Make the rename itself durable.
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

}  // namespace tuna
