// `tuna train` as a seed user writes it (issue 23, items 3 and 4), on the real Gemma 3 270M GGUF:
// a rejected Korean row longer than 500 bytes with skip_invalid (exit 0, rejects.jsonl valid
// UTF-8), trust_remote_code: true and device_map: auto accepted with a note, a device_map mapping
// and a Hub dataset id refused with exit status 2 and a message that says what to do.
#include <gtest/gtest.h>

#include <cstdlib>
#include <nlohmann/json.hpp>

#include "cli/cli_util.h"

using namespace tuna_cli_test;  // NOLINT(google-build-using-namespace): the shared CLI helpers

namespace {

TEST(CliSeedErrors, LongKoreanRejectWithSkipInvalidAndSeedModelKeys) {
  require_real_model();
  fs::path dir = temp_dir("tuna_cli_seed_errors");
  std::string longer;
  while (longer.size() < 800) longer += "소크라테스식 질문입니다. ";
  write_text(dir, "data.jsonl",
             "{\"instruction\": \"물고기는 어디에 사나요?\", \"output\": \"물에 삽니다.\"}\n"
             "{\"instruction\": \"" +
                 longer +
                 "\", \"output\": \"\"}\n"
                 "{\"instruction\": \"하늘은?\", \"output\": \"파랗습니다.\"}\n");
  const std::string base = "model: " + kGguf + "\ndataset: " + (dir / "data.jsonl").string() +
                           "\noutput_dir: " + (dir / "out").string() +
                           "\nuse_peft: true\nmax_steps: 1\nper_device_train_batch_size: 2\nsave_strategy: "
                           "\"no\"\nmax_length: 64\n";
  fs::path cfg = write_text(
      dir, "cfg.yaml", base + "skip_invalid: true\ntrust_remote_code: true\ndevice_map: auto\n");
  CliRun r = run("train " + cfg.string());
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.err.find("note: trust_remote_code: true changes nothing"), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("1 invalid rows skipped"), std::string::npos) << r.err;
  std::ifstream rj(dir / "out" / "rejects.jsonl");
  std::string line;
  ASSERT_TRUE(std::getline(rj, line));
  const nlohmann::json j = nlohmann::json::parse(line);  // throws on invalid UTF-8
  EXPECT_NE(j["reason"].get<std::string>().find("field 'output' is empty"), std::string::npos)
      << line;
  const std::string raw = j["raw"].get<std::string>();
  EXPECT_GT(raw.size(), 497u);
  EXPECT_LE(raw.size(), 500u);
  EXPECT_EQ(raw.find("\xEF\xBF\xBD"), std::string::npos) << "a character was cut: " << raw;

  // Seed 001's device_map={"": 0}: "not supported yet", with the hint that the line can go.
  fs::path map = write_text(dir, "map.yaml", base + "device_map: {\"\": 0}\n");
  CliRun m = run("train " + map.string());
  expect_user_error(m, "not supported yet: device_map");
  EXPECT_NE(m.err.find("tuna places the model itself"), std::string::npos) << m.err;
  // Seed 002's load_dataset("JosephLee/korean-socratic-qa"), not in the (empty) cache.
  fs::path hub = write_text(dir, "hub.yaml",
                            "model: " + kGguf + "\ndataset: JosephLee/korean-socratic-qa\n" +
                                "output_dir: " + (dir / "out2").string() + "\nuse_peft: true\nmax_steps: 1\n");
  setenv("HF_HUB_CACHE", (dir / "cache").c_str(), 1);
  CliRun h2 = run("train " + hub.string());
  unsetenv("HF_HUB_CACHE");
  expect_user_error(h2, "looks like a Hugging Face Hub dataset id");
  EXPECT_NE(h2.err.find("load_dataset('JosephLee/korean-socratic-qa', split='train')"),
            std::string::npos)
      << h2.err;
}

}  // namespace
