// Atomic file writing with POSIX calls: mkstemp next to the target, write, fsync, rename, fsync
// the directory; append-only files; the fault-injection hooks. See file_io.h.
#include "core/file_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <vector>

#include "core/error.h"

namespace tuna {

namespace {

// The fault hooks' settings (-1: off) and counters, process-wide.
struct Faults {
  int64_t fail_after_bytes = -1, kill_at_point = -1;
  std::atomic<int64_t> bytes{0}, points{0};
  Faults() {
    auto read = [](const char* name) -> int64_t {
      const char* v = std::getenv(name);
      if (!v || !*v) return -1;
      char* end = nullptr;
      const long long n = std::strtoll(v, &end, 10);
      return end && *end == '\0' && n >= 0 ? n : -1;
    };
    fail_after_bytes = read("TUNA_FAULT_WRITE_FAIL_AFTER_BYTES");
    kill_at_point = read("TUNA_FAULT_KILL_AT_POINT");
  }
};

Faults& faults() {
  static Faults f;
  return f;
}

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
  if (err == ENOSPC || err == EDQUOT)
    throw_user_error("io", "no space left on device writing " + path,
                     "free space on that filesystem or write somewhere else");
  throw_user_error(component, "cannot " + step + " " + path + ": " + std::strerror(err),
                   err == EROFS ? "the filesystem is read-only: write somewhere else"
                                : "check that the directory exists and is writable");
}

// Writes all `n` bytes; `shown` is the path errors name (the target, not its temporary file).
void write_all(const std::string& component, int fd, const void* data, size_t n,
               const std::string& shown) {
  Faults& f = faults();
  const char* p = static_cast<const char*>(data);
  while (n > 0) {
    size_t chunk = std::min<size_t>(n, size_t{1} << 30);
    bool inject = false;
    if (f.fail_after_bytes >= 0) {
      const int64_t room = std::max<int64_t>(f.fail_after_bytes - f.bytes.load(), 0);
      if (static_cast<int64_t>(chunk) > room) chunk = static_cast<size_t>(room), inject = true;
    }
    if (chunk == 0 && inject) fail_write(component, shown, "write", ENOSPC);
    ssize_t w = ::write(fd, p, chunk);
    if (w < 0) {
      if (errno == EINTR) continue;
      fail_write(component, shown, "write", errno);
    }
    f.bytes += w;
    p += w;
    n -= static_cast<size_t>(w);
    fault_point();
  }
}

}  // namespace

void fault_point() {
  Faults& f = faults();
  if (f.kill_at_point < 0) return;
  if (++f.points == f.kill_at_point) ::kill(::getpid(), SIGKILL);
}

void fsync_directory(const std::string& dir) {
  int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

void create_directories(const std::string& component, const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) fail_write(component, dir, "create the directory", ec.value());
  fault_point();
}

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
  fault_point();
  if (::fchmod(tmp.fd, 0644) != 0) fail_write(component, tmp.path, "set permissions of", errno);

  write_body([&](const void* data, size_t n) { write_all(component, tmp.fd, data, n, path); });
  if (::fsync(tmp.fd) != 0) fail_write(component, path, "flush", errno);
  fault_point();
  int fd = tmp.fd;
  tmp.fd = -1;
  if (::close(fd) != 0) fail_write(component, path, "close", errno);
  if (::rename(tmp.path.c_str(), path.c_str()) != 0)
    fail_write(component, path, "rename the temporary file to", errno);
  tmp.path.clear();
  fault_point();
  fsync_directory(dir.string());  // makes the rename itself durable
}

AppendFile::AppendFile(std::string component, std::string path, bool truncate)
    : component_(std::move(component)), path_(std::move(path)) {
  fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | (truncate ? O_TRUNC : 0),
               0644);
  if (fd_ < 0) fail_write(component_, path_, "open", errno);
  fault_point();
}

AppendFile::~AppendFile() {
  if (fd_ >= 0) ::close(fd_);
}

void AppendFile::append(const std::string& text) {
  write_all(component_, fd_, text.data(), text.size(), path_);
}

}  // namespace tuna
