// Helpers shared by the test binaries: a fixture with a fresh temp directory per test, whole-file
// reading and writing, and the check that an action fails with a user error. Test-only; not
// part of libtuna. Layer-specific helpers stay next to their tests (io/gguf_test_util.h,
// ops/ops_test_util.h).
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <system_error>
#include <vector>

#include "core/error.h"

namespace tuna_test {

// A fixture whose tests each get a fresh directory under gtest's TempDir(), named
// `<prefix>_XXXXXX` and removed with its contents after the test.
class TempDirTest : public ::testing::Test {
 protected:
  explicit TempDirTest(std::string prefix) : prefix_(std::move(prefix)) {}
  void SetUp() override {
    std::string templ = ::testing::TempDir() + prefix_ + "_XXXXXX";
    std::vector<char> buf(templ.begin(), templ.end());
    buf.push_back('\0');
    ASSERT_NE(::mkdtemp(buf.data()), nullptr);
    dir_ = buf.data();
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  // `name` inside the test's directory.
  std::string path(const std::string& name) const {
    return (std::filesystem::path(dir_) / name).string();
  }

  std::string dir_;

 private:
  std::string prefix_;
};

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot read " << path;
  return std::string(std::istreambuf_iterator<char>(in), {});
}

inline void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  EXPECT_TRUE(out.good()) << "cannot write " << path;
}

// Runs `fn`, expecting a user error (exit status 2) with a hint whose message holds every
// string in `needles`.
inline void expect_user_error(const std::function<void()>& fn,
                              const std::vector<std::string>& needles) {
  try {
    fn();
    ADD_FAILURE() << "no error thrown";
  } catch (const tuna::Error& e) {
    EXPECT_EQ(e.exit_status(), 2) << e.what();
    EXPECT_EQ(e.kind(), tuna::ErrorKind::USER) << e.what();
    EXPECT_FALSE(e.hint().empty()) << e.what();
    for (const std::string& n : needles)
      EXPECT_NE(std::string(e.what()).find(n), std::string::npos)
          << "missing '" << n << "' in: " << e.what();
  }
}

}  // namespace tuna_test
