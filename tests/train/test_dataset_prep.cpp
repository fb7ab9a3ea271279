// Dataset preparation from a config: format detection, validation split, seeded shuffling that
// does not depend on anything but the seed, rejects written with their reason.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "tokenizer/golden_util.h"
#include "train/dataset_prep.h"

namespace tuna {
namespace {

namespace fs = std::filesystem;

TEST(DatasetPrep, SeededPermutationIsAPermutationAndDeterministic) {
  std::vector<size_t> a = seeded_permutation(1000, 42, 0), b = seeded_permutation(1000, 42, 0);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, seeded_permutation(1000, 43, 0));
  EXPECT_NE(a, seeded_permutation(1000, 42, 1));
  std::vector<size_t> sorted = a;
  std::sort(sorted.begin(), sorted.end());
  for (size_t i = 0; i < sorted.size(); ++i) ASSERT_EQ(sorted[i], i);
}

TEST(DatasetPrep, SplitsShufflesAndWritesRejects) {
  fs::path dir = fs::path(::testing::TempDir()) / "tuna_dataset_prep";
  fs::remove_all(dir);
  fs::create_directories(dir);
  {
    std::ofstream f(dir / "train.jsonl");
    for (int i = 0; i < 20; ++i)
      f << R"({"instruction": "Count to )" << i << R"(", "input": "", "output": ")" << i << "\"}\n";
    f << "{\"instruction\": \"no output\"}\n";
  }
  const std::string yaml =
      "dataset: " + (dir / "train.jsonl").string() +
      "\nvalidation_split: 0.25\nskip_invalid: true\noutput_dir: " + (dir / "out").string() + "\n";
  TrainConfig cfg = parse_train_config(yaml, "cfg.yaml");
  const Tokenizer& tok = test::golden_tokenizer("gemma3");
  PreparedData d = prepare_training_data(cfg, tok, nullptr);
  EXPECT_EQ(d.format, DataFormat::ALPACA);
  EXPECT_EQ(d.train.size(), 15u);
  EXPECT_EQ(d.eval.size(), 5u);
  EXPECT_EQ(d.rejected, 1u);
  std::ifstream rj(d.rejects_path);
  std::string line;
  std::getline(rj, line);
  EXPECT_NE(line.find("no 'output' field"), std::string::npos) << line;
  EXPECT_NE(d.summary().find("1 invalid rows skipped"), std::string::npos) << d.summary();
  // Without skip_invalid the same row stops the run, naming file and line.
  try {
    prepare_training_data(
        parse_train_config("dataset: " + (dir / "train.jsonl").string() + "\n", "c"), tok, nullptr);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("train.jsonl line 21"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace tuna
