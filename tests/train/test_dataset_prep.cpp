// Dataset preparation from a config: format detection, validation split, seeded shuffling that
// does not depend on anything but the seed, rejects written with their reason; packing of the
// training and validation rows (rows tokenised whole, then packed; unpacked sets truncated).
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

TEST(DatasetPrep, PacksTrainAndEvalRows) {
  fs::path dir = fs::path(::testing::TempDir()) / "tuna_dataset_prep_packing";
  fs::remove_all(dir);
  fs::create_directories(dir);
  {
    std::ofstream f(dir / "train.jsonl");
    for (int i = 0; i < 40; ++i)
      f << R"({"text": ")"
        << std::string(static_cast<size_t>(1 + i % 7), static_cast<char>('a' + i % 26))
        << " counts to " << i << "\"}\n";
  }
  const std::string base =
      "dataset: " + (dir / "train.jsonl").string() + "\nvalidation_split: 0.25\nmax_length: 24\n";
  const Tokenizer& tok = test::golden_tokenizer("gemma3");
  PreparedData plain = prepare_training_data(parse_train_config(base, "c"), tok, nullptr);
  PreparedData d =
      prepare_training_data(parse_train_config(base + "packing: true\n", "c"), tok, nullptr);
  EXPECT_TRUE(d.train_packed && d.eval_packed);
  EXPECT_EQ(d.train_pack.rows, plain.train.size());
  EXPECT_EQ(d.train.size(), d.train_pack.sequences);
  EXPECT_LT(d.train.size(), plain.train.size());
  int64_t tokens = 0, plain_tokens = 0;
  for (const TrainRow& r : d.train) {
    EXPECT_LE(r.input_ids.size(), 24u);
    EXPECT_EQ(r.position_ids.size(), r.input_ids.size());
    tokens += static_cast<int64_t>(r.input_ids.size());
  }
  for (const TrainRow& r : plain.train) plain_tokens += static_cast<int64_t>(r.input_ids.size());
  EXPECT_EQ(tokens, plain_tokens);  // bfd cuts rows to max_length exactly like keep_start
  EXPECT_NE(d.summary().find("packing (bfd): " + std::to_string(plain.train.size()) + " rows → " +
                             std::to_string(d.train.size()) + " packed sequences of ≤ 24 tokens"),
            std::string::npos)
      << d.summary();
  // eval_packing: false leaves the validation rows as they are without packing.
  PreparedData pe = prepare_training_data(
      parse_train_config(base + "packing: true\neval_packing: false\n", "c"), tok, nullptr);
  ASSERT_EQ(pe.eval.size(), plain.eval.size());
  for (size_t i = 0; i < pe.eval.size(); ++i)
    EXPECT_EQ(pe.eval[i].input_ids, plain.eval[i].input_ids);
  // wrapped: one stream cut every 24 tokens, nothing dropped.
  PreparedData w = prepare_training_data(
      parse_train_config(base + "packing: true\npacking_strategy: wrapped\n", "c"), tok, nullptr);
  EXPECT_EQ(w.train.size(), w.train_pack.sequences);
  for (size_t i = 0; i + 1 < w.train.size(); ++i) EXPECT_EQ(w.train[i].input_ids.size(), 24u);
  try {
    prepare_training_data(parse_train_config("dataset: " + (dir / "train.jsonl").string() +
                                                 "\nmax_length: null\npacking: true\n",
                                             "c"),
                          tok, nullptr);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("packing needs max_length"), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace tuna
