// Model-directory / HF-cache resolution (io/hf_model_dir.h).
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "io/hf_model_dir.h"
#include "test_util.h"

namespace tuna {
namespace {

namespace fs = std::filesystem;

using tuna_test::expect_user_error;

TEST(HfModelDir, DirectoryAndHubCacheLayout) {
  fs::path root = fs::path(::testing::TempDir()) / "tuna_hub";
  fs::remove_all(root);
  fs::path repo = root / "models--acme--tiny";
  fs::create_directories(repo / "snapshots" / "abc123");
  fs::create_directories(repo / "snapshots" / "old999");
  fs::create_directories(repo / "refs");
  std::ofstream(repo / "snapshots" / "abc123" / "config.json") << "{}";
  std::ofstream(repo / "snapshots" / "old999" / "config.json") << "{}";
  std::ofstream(repo / "refs" / "main") << "abc123\n";
  setenv("HF_HUB_CACHE", root.c_str(), 1);
  EXPECT_EQ(resolve_model_dir("acme/tiny"), (repo / "snapshots" / "abc123").string());
  // A directory argument is used as is.
  EXPECT_EQ(resolve_model_dir((repo / "snapshots" / "old999").string()),
            (repo / "snapshots" / "old999").string());
  expect_user_error([&] { resolve_model_dir("acme/absent"); },
                    {"acme/absent", "models--acme--absent"});
  // HF_HOME/hub is searched when HF_HUB_CACHE is unset.
  unsetenv("HF_HUB_CACHE");
  fs::path home = fs::path(::testing::TempDir()) / "tuna_hf_home";
  fs::remove_all(home);
  fs::create_directories(home / "hub" / "models--acme--tiny" / "snapshots" / "r1");
  std::ofstream(home / "hub" / "models--acme--tiny" / "snapshots" / "r1" / "config.json") << "{}";
  setenv("HF_HOME", home.c_str(), 1);
  EXPECT_EQ(resolve_model_dir("acme/tiny"),
            (home / "hub" / "models--acme--tiny" / "snapshots" / "r1").string());
  unsetenv("HF_HOME");
}

TEST(HfModelDir, DirectoryWithoutConfig) {
  fs::path dir = fs::path(::testing::TempDir()) / "tuna_empty_model";
  fs::create_directories(dir);
  expect_user_error([&] { resolve_model_dir(dir.string()); }, {"no config.json"});
}

}  // namespace
}  // namespace tuna
