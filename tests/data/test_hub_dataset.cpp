// A Hugging Face Hub dataset id where a file is expected (seed 002's load_dataset("OWNER/NAME")):
// the file of that dataset in the local HF hub cache, or an error saying tuna reads local files
// with the Python line that exports the dataset.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "data/hub_dataset.h"
#include "data/records.h"

namespace tuna {
namespace {

namespace fs = std::filesystem;

#define EXPECT_HAS(text, part) \
  EXPECT_NE(std::string(text).find(part), std::string::npos) << "'" << (part) << "' in: " << (text)

std::string error_of(const std::string& path, const std::string& key = "dataset") {
  try {
    resolve_dataset_path(path, key);
  } catch (const Error& e) {
    EXPECT_EQ(e.exit_status(), 2) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "no error for " << path;
  return "";
}

// A fake hub cache in HF_HUB_CACHE for the test's duration.
class HubCache : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::path(::testing::TempDir()) / "tuna_hub_cache";
    fs::remove_all(root_);
    fs::create_directories(root_);
    setenv("HF_HUB_CACHE", root_.c_str(), 1);
  }
  void TearDown() override {
    unsetenv("HF_HUB_CACHE");
    fs::remove_all(root_);
  }
  // Writes `rel` under the snapshot of datasets--OWNER--NAME; returns its path.
  std::string put(const std::string& repo_dir, const std::string& rel, const std::string& text) {
    const fs::path p = root_ / repo_dir / "snapshots" / "abc123" / rel;
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << text;
    return p.string();
  }
  fs::path root_;
};

TEST_F(HubCache, AnIdNotInTheCacheSaysHowToExportIt) {
  const std::string e = error_of("JosephLee/korean-socratic-qa");
  EXPECT_HAS(e, "dataset: 'JosephLee/korean-socratic-qa' looks like a Hugging Face Hub dataset id");
  EXPECT_HAS(e, "tuna reads local JSONL, JSON and CSV files");
  EXPECT_HAS(e, (root_ / "datasets--JosephLee--korean-socratic-qa").string());
  EXPECT_HAS(e,
             "python -c \"from datasets import load_dataset; "
             "load_dataset('JosephLee/korean-socratic-qa', split='train')"
             ".to_json('train.jsonl', force_ascii=False)\"");
  EXPECT_HAS(e, "set dataset: train.jsonl");
  const std::string v = error_of("JosephLee/korean-socratic-qa", "eval_dataset");
  EXPECT_HAS(v, "eval_dataset: 'JosephLee/korean-socratic-qa'");
  EXPECT_HAS(v, "split='validation'");
  EXPECT_HAS(v, "set eval_dataset: validation.jsonl");
}

TEST_F(HubCache, FilesAndPathsAreNotHubIds) {
  // Existing files, paths with an extension or several slashes go to the readers unchanged.
  for (const char* p : {"data/train.jsonl", "a/b/c", "./x/y", "/abs/path", "train", "o/n.csv"})
    EXPECT_EQ(resolve_dataset_path(p, "dataset"), p);
  EXPECT_EQ(resolve_dataset_path("", "dataset"), "");
}

TEST_F(HubCache, TheCachedFileOfTheSplitIsRead) {
  const std::string one = put("datasets--o--one", "data.jsonl", "{\"text\": \"a\"}\n");
  EXPECT_EQ(resolve_dataset_path("o/one", "dataset"), one);
  EXPECT_EQ(read_records(resolve_dataset_path("o/one", "dataset")).size(), 1u);

  const std::string train = put("datasets--o--two", "data/train.jsonl", "{\"text\": \"a\"}\n");
  const std::string test = put("datasets--o--two", "data/test.jsonl", "{\"text\": \"b\"}\n");
  put("datasets--o--two", "README.md", "# card\n");
  EXPECT_EQ(resolve_dataset_path("o/two", "dataset"), train);
  EXPECT_EQ(resolve_dataset_path("o/two", "eval_dataset"), test);

  put("datasets--o--many", "a.jsonl", "{}\n");
  put("datasets--o--many", "b.csv", "x\n1\n");
  std::string e = error_of("o/many");
  EXPECT_HAS(e, "holds several data files");
  EXPECT_HAS(e, "a.jsonl");

  put("datasets--o--pq", "data/train-00000-of-00001.parquet", "PAR1");
  e = error_of("o/pq");
  EXPECT_HAS(e, "Parquet/Arrow files only");
  EXPECT_HAS(e, "load_dataset('o/pq', split='train').to_json('train.jsonl', force_ascii=False)");
}

}  // namespace
}  // namespace tuna
