// MappedFile: reading a temp file's bytes, empty files, and the user errors for a missing path
// and a directory (message names the path, exit status 2).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "core/error.h"
#include "core/mmap_file.h"
#include "test_util.h"

namespace {

std::string temp_path(const std::string& stem) {
  const char* dir = std::getenv("TMPDIR");
  return std::string(dir && *dir ? dir : "/tmp") + "/tuna_test_" + stem + "_" +
         std::to_string(::getpid());
}

using tuna_test::write_file;

TEST(MappedFile, ReadsTheBytes) {
  const std::string path = temp_path("bytes");
  std::string bytes = "hello\0world";
  bytes += std::string("\x00\xff\x7f", 3);
  write_file(path, bytes);
  auto f = tuna::MappedFile::open(path);
  std::remove(path.c_str());  // the mapping survives the unlink
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->path(), path);
  ASSERT_EQ(f->size(), bytes.size());
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(f->data()), f->size()), bytes);
}

TEST(MappedFile, EmptyFileMapsToEmptyView) {
  const std::string path = temp_path("empty");
  write_file(path, "");
  auto f = tuna::MappedFile::open(path);
  std::remove(path.c_str());
  EXPECT_EQ(f->size(), 0u);
}

TEST(MappedFile, LargerThanAPage) {
  const std::string path = temp_path("large");
  std::string bytes(3 * 4096 + 17, '\0');
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>(i * 31 + 7);
  write_file(path, bytes);
  auto f = tuna::MappedFile::open(path);
  std::remove(path.c_str());
  ASSERT_EQ(f->size(), bytes.size());
  EXPECT_EQ(f->data()[bytes.size() - 1], static_cast<uint8_t>(bytes.back()));
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(f->data()), f->size()), bytes);
}

TEST(MappedFile, MissingPathIsAUserErrorNamingThePath) {
  const std::string path = temp_path("does_not_exist") + "/model.safetensors";
  tuna_test::expect_user_error([&] { tuna::MappedFile::open(path); }, {path});
}

TEST(MappedFile, DirectoryIsAUserError) {
  const char* dir = std::getenv("TMPDIR");
  const std::string path = dir && *dir ? dir : "/tmp";
  try {
    tuna::MappedFile::open(path);
    FAIL() << "expected a tuna::Error";
  } catch (const tuna::Error& e) {
    EXPECT_EQ(e.exit_status(), 2);
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
}

}  // namespace
