// Dataset preparation from a config: format detection, validation split, seeded shuffling that
// does not depend on anything but the seed, rejects written with their reason; packing of the
// training and validation rows (rows tokenised whole, then packed; unpacked sets truncated);
// bad rows (invalid UTF-8 included) rejected in file order with skip_invalid; a validation split
// that leaves no rows on one side refused; progress shown only for long preparations.
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

std::string write_file(const fs::path& p, const std::string& bytes) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << bytes;
  return p.string();
}

std::string prep_error(const std::string& yaml) {
  try {
    prepare_training_data(parse_train_config(yaml, "c.yaml"), test::golden_tokenizer("gemma3"),
                          nullptr);
  } catch (const Error& e) {
    EXPECT_EQ(e.exit_status(), 2) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "no error for " << yaml;
  return "";
}

TEST(DatasetPrep, SkipInvalidRejectsInvalidUtf8RowsInLineOrderAndGoesOn) {
  fs::path dir = fs::path(::testing::TempDir()) / "tuna_dataset_prep_utf8";
  fs::remove_all(dir);
  const std::string train = write_file(dir / "train.jsonl",
                                       "{\"text\": \"one\"}\n"
                                       "{\"text\": \"caf\xE9\"}\n"  // Latin-1: a read reject
                                       "{\"text\": \"\"}\n"         // empty: an example reject
                                       "{broken\n"                  // a read reject
                                       "{\"text\": \"five\"}\n");
  const std::string eval =
      write_file(dir / "eval.json", "[{\"text\": \"\xFF\"}, {\"text\": \"ok\"}]");
  const Tokenizer& tok = test::golden_tokenizer("gemma3");
  PreparedData d = prepare_training_data(
      parse_train_config("dataset: " + train + "\neval_dataset: " + eval +
                             "\nskip_invalid: true\noutput_dir: " + (dir / "out").string() + "\n",
                         "c"),
      tok, nullptr);
  EXPECT_EQ(d.train.size(), 2u);
  EXPECT_EQ(d.eval.size(), 1u);
  EXPECT_EQ(d.rejected, 4u);
  std::ifstream rj(d.rejects_path);
  std::vector<nlohmann::json> lines;
  for (std::string line; std::getline(rj, line);) lines.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0]["line"], 2);
  EXPECT_NE(lines[0]["reason"].get<std::string>().find("invalid UTF-8 byte 0xE9 at column 14"),
            std::string::npos)
      << lines[0];
  EXPECT_EQ(lines[0]["raw"], "{\"text\": \"caf\xEF\xBF\xBD\"}");  // U+FFFD for the bad byte
  EXPECT_EQ(lines[1]["line"], 3);
  EXPECT_EQ(lines[2]["line"], 4);
  EXPECT_EQ(lines[3]["file"], eval);
  EXPECT_EQ(lines[3]["record"], 1);
  // Without skip_invalid the first bad byte stops the run as a user error.
  EXPECT_NE(
      prep_error("dataset: " + train + "\n").find("train.jsonl line 2: invalid UTF-8 byte 0xE9"),
      std::string::npos);
  // Every row rejected: an error with the first reason, not an empty run.
  const std::string all_bad =
      write_file(dir / "bad.jsonl", "{\"text\": \"\xFF\"}\n{\"text\": \"\"}\n");
  const std::string e = prep_error("dataset: " + all_bad + "\nskip_invalid: true\n");
  EXPECT_NE(e.find("dataset: none of the 2 records of " + all_bad + " is usable"),
            std::string::npos)
      << e;
}

TEST(DatasetPrep, AValidationSplitMustLeaveRowsOnBothSides) {
  fs::path dir = fs::path(::testing::TempDir()) / "tuna_dataset_prep_split";
  std::string rows;
  for (int i = 0; i < 5; ++i) rows += "{\"text\": \"row " + std::to_string(i) + "\"}\n";
  const std::string train = write_file(dir / "train.jsonl", rows);
  std::string e = prep_error("dataset: " + train + "\nvalidation_split: 0.1\n");
  EXPECT_NE(e.find("validation_split 0.1 of the 5 usable rows of " + train +
                   " holds out 0 rows for validation"),
            std::string::npos)
      << e;
  EXPECT_NE(e.find("at least 0.2"), std::string::npos) << e;
  e = prep_error("dataset: " + train + "\nvalidation_split: 1.0\n");
  // 1.0 would leave nothing to train on: the config refuses it, naming the key.
  EXPECT_NE(e.find("validation_split: must be between 0 and 1 (0 included, 1 excluded)"),
            std::string::npos)
      << e;
  e = prep_error("dataset: " + train + "\neval_dataset: " + dir.string() + "\n");
  EXPECT_NE(e.find("eval_dataset: " + dir.string() + " is a directory"), std::string::npos) << e;
  const std::string empty = write_file(dir / "empty.csv", "text\n");
  e = prep_error("dataset: " + train + "\neval_dataset: " + empty + "\n");
  EXPECT_NE(e.find("eval_dataset: " + empty + " holds no records"), std::string::npos) << e;
}

TEST(DatasetPrep, ProgressOnlyForLongPreparations) {
  fs::path dir = fs::path(::testing::TempDir()) / "tuna_dataset_prep_progress";
  std::string rows;
  for (int i = 0; i < 50; ++i) rows += "{\"text\": \"row " + std::to_string(i) + "\"}\n";
  const TrainConfig cfg =
      parse_train_config("dataset: " + write_file(dir / "train.jsonl", rows) + "\n", "c");
  const Tokenizer& tok = test::golden_tokenizer("gemma3");
  std::vector<std::string> shown;
  DataProgressOptions quick;
  quick.sink = [&](const std::string& l) { shown.push_back(l); };
  prepare_training_data(cfg, tok, nullptr, quick);  // well under a second: silent
  EXPECT_TRUE(shown.empty());
  DataProgressOptions slow = quick;  // as if every row took longer than the thresholds
  slow.first_after_s = 0;
  slow.every_s = 0;
  prepare_training_data(cfg, tok, nullptr, slow);
  ASSERT_EQ(shown.size(), 51u);
  EXPECT_EQ(shown[0].rfind("data: tokenizing 0/50 rows (", 0), 0u) << shown[0];
  EXPECT_EQ(shown.back().rfind("data: tokenized 50/50 rows (", 0), 0u) << shown.back();
  EXPECT_NE(shown.back().find(" rows/s, "), std::string::npos) << shown.back();
}

// skip_invalid with Korean rows longer than 500 bytes (issue 23): each reject's raw text is cut
// at a character boundary, so rejects.jsonl is valid UTF-8 with no U+FFFD where nothing was bad.
TEST(DatasetPrep, LongKoreanRejectsAreCutBetweenCharacters) {
  fs::path dir = fs::path(::testing::TempDir()) / "tuna_dataset_prep_korean";
  fs::remove_all(dir);
  std::string longer;
  while (longer.size() < 700) longer += "한국어 문장입니다. ";
  const std::string train = write_file(dir / "train.jsonl",
                                       "{\"instruction\": \"안녕\", \"output\": \"물에 삽니다.\"}\n"
                                       "{\"instruction\": \"" +
                                           longer +
                                           "\"}\n"  // no output: an example reject
                                           "{\"instruction\": \"" +
                                           longer +
                                           "\", \"output\": \"x\",}\n"  // not JSON: a read reject
                                           "{\"instruction\": \"물고기\", \"output\": \"🐟" +
                                           longer + "\"}\n");
  const Tokenizer& tok = test::golden_tokenizer("gemma3");
  PreparedData d = prepare_training_data(
      parse_train_config("dataset: " + train +
                             "\nskip_invalid: true\noutput_dir: " + (dir / "out").string() + "\n",
                         "c"),
      tok, nullptr);
  EXPECT_EQ(d.train.size(), 2u);
  ASSERT_EQ(d.rejected, 2u);
  std::ifstream rj(d.rejects_path);
  std::vector<nlohmann::json> lines;
  for (std::string line; std::getline(rj, line);)
    lines.push_back(nlohmann::json::parse(line));  // throws on invalid UTF-8
  ASSERT_EQ(lines.size(), 2u);
  for (const auto& l : lines) {
    const std::string raw = l["raw"].get<std::string>();
    EXPECT_LE(raw.size(), 500u);
    EXPECT_GT(raw.size(), 497u);
    EXPECT_EQ(raw.find("\xEF\xBF\xBD"), std::string::npos) << l;  // no U+FFFD from a cut
  }
  EXPECT_NE(lines[0]["reason"].get<std::string>().find("no 'output' field"), std::string::npos);
}

// dataset: OWNER/NAME reads that dataset's file from the local Hugging Face hub cache.
TEST(DatasetPrep, HubIdReadsTheCachedFile) {
  fs::path dir = fs::path(::testing::TempDir()) / "tuna_dataset_prep_hub";
  fs::remove_all(dir);
  write_file(dir / "datasets--owner--socratic" / "snapshots" / "r1" / "data" / "train.jsonl",
             "{\"instruction\": \"a\", \"output\": \"b\"}\n"
             "{\"instruction\": \"c\", \"output\": \"d\"}\n");
  setenv("HF_HUB_CACHE", dir.c_str(), 1);
  const Tokenizer& tok = test::golden_tokenizer("gemma3");
  PreparedData d =
      prepare_training_data(parse_train_config("dataset: owner/socratic\n", "c"), tok, nullptr);
  EXPECT_EQ(d.train.size(), 2u);
  const std::string e = prep_error("dataset: owner/elsewhere\n");
  unsetenv("HF_HUB_CACHE");
  EXPECT_NE(e.find("looks like a Hugging Face Hub dataset id"), std::string::npos) << e;
  EXPECT_NE(e.find("load_dataset('owner/elsewhere', split='train')"), std::string::npos) << e;
}

}  // namespace
}  // namespace tuna
