// `tuna train` on the real Gemma 3 270M GGUF: LoRA learns and writes a PEFT adapter, every
// examples/*.yaml runs, resume equals an uninterrupted run, packing, full fine-tuning, and the
// documented errors of bad configs.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>

#include "cli/cli_util.h"
#include "io/safetensors.h"

using namespace tuna_cli_test;  // NOLINT(google-build-using-namespace): the shared CLI helpers

namespace {

// --- train: LoRA on the real Gemma 3 270M memorises a tiny dataset ------------------------------

TEST(CliTrain, LoraOnTheRealModelLearnsAndWritesAPeftAdapter) {
  require_real_model();
  fs::path dir = temp_dir("tuna_cli_train");
  write_text(
      dir, "data.jsonl",
      "{\"instruction\": \"tuna의 마스코트는?\", \"input\": \"\", \"output\": \"참치 캡틴\"}\n"
      "{\"instruction\": \"Say the password\", \"input\": \"\", \"output\": \"blue ocean 42\"}\n");
  fs::path cfg =
      write_text(dir, "cfg.yaml",
                 "model: " + kGguf + "\ndataset: " + (dir / "data.jsonl").string() +
                     "\noutput_dir: " + (dir / "out").string() +
                     "\nlora:\n  r: 8\n  lora_alpha: 16\n  target_modules: [q_proj, v_proj, "
                     "o_proj, down_proj]\ntraining:\n  max_steps: 8\n  "
                     "per_device_train_batch_size: 2\n  learning_rate: 3e-3\n  "
                     "lr_scheduler_type: constant\n  logging_steps: 1\n  save_steps: 4\n");
  CliRun r = run("train " + cfg.string());
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.err.find("trainable params: "), std::string::npos) << r.err;
  for (const char* f : {"adapter_model.safetensors", "adapter_config.json", "trainer_state.json",
                        "train_results.json", "metrics.jsonl", "checkpoint-4/COMPLETE",
                        "checkpoint-4/optimizer.safetensors"})
    EXPECT_TRUE(fs::exists(dir / "out" / f)) << f;
  std::ifstream m(dir / "out" / "metrics.jsonl");
  std::vector<double> losses;
  for (std::string line; std::getline(m, line);)
    losses.push_back(nlohmann::json::parse(line)["loss"]);
  ASSERT_EQ(losses.size(), 8u);
  EXPECT_LT(losses.back(), losses.front() / 3) << "the loss must fall on a memorisable dataset";
  nlohmann::json results =
      nlohmann::json::parse(tuna_test_read(dir / "out" / "train_results.json"));
  for (const char* k : {"train_runtime", "train_samples_per_second", "train_steps_per_second",
                        "train_loss", "epoch", "mean_token_accuracy", "num_tokens"})
    EXPECT_TRUE(results.contains(k)) << k;
  // The same output directory again is refused rather than overwritten.
  expect_user_error(run("train " + cfg.string()), "already holds a finished adapter");
  // `adapter:` continues from the finished adapter (PeftModel.from_pretrained(is_trainable=True)):
  // its first loss is the trained one, not the base model's.
  const std::string more = "train " + cfg.string() + " adapter=" + (dir / "out").string() +
                           " output_dir=" + (dir / "more").string() + " max_steps=1";
  CliRun c = run(more);
  ASSERT_EQ(c.status, 0) << c.err;
  EXPECT_NE(c.err.find("starting from the adapter"), std::string::npos) << c.err;
  std::ifstream m2(dir / "more" / "metrics.jsonl");
  std::string first;
  ASSERT_TRUE(std::getline(m2, first));
  EXPECT_LT(nlohmann::json::parse(first)["loss"].get<double>(), losses.front() / 3);
  // A lora key that contradicts the adapter's own config is refused, naming the key.
  expect_user_error(run(more + " lora_alpha=32 output_dir=" + (dir / "more2").string()),
                    "lora_alpha is 32 but the adapter");
}

// Every examples/*.yaml runs (one tiny step on the real GGUF, output elsewhere): the configs users
// copy stay valid.
TEST(CliTrain, ExamplesRun) {
  require_real_model();
  const fs::path root = fs::path(TUNA_GOLDEN_DIR) / ".." / "..";
  int n = 0;
  for (const auto& e : fs::directory_iterator(root / "examples")) {
    if (e.path().extension() != ".yaml") continue;
    ++n;
    fs::path out = temp_dir("tuna_cli_example_" + e.path().stem().string());
    CliRun r = run(
        "train " + e.path().string() + " model=" + kGguf + " load_in_4bit=false max_steps=1 " +
        "per_device_train_batch_size=1 gradient_accumulation_steps=1 eval_steps=1 " +
        // No checkpoint: one step would be the last step's (J4's: 3.2 GB of F32 masters + AdamW).
        "save_strategy=no dataset=" + (root / "examples" / "data").string() +
        "/$(grep -o 'data/[a-z0-9_]*.jsonl' " + e.path().string() +
        " | head -1 | cut -d/ -f2) output_dir=" + (out / "run").string());
    EXPECT_EQ(r.status, 0) << e.path() << "\n" << r.err;
    // The run says which tokens train, right after the data summary.
    EXPECT_NE(r.err.find(" validation rows (format "), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("\nloss: on "), std::string::npos) << e.path() << "\n" << r.err;
    // J4 trains every weight: its output is a Hugging Face model directory.
    EXPECT_TRUE(
        fs::exists(out / "run" / "adapter_model.safetensors") ||
        (fs::exists(out / "run" / "model.safetensors") && fs::exists(out / "run" / "config.json")))
        << e.path();
    fs::remove_all(out);
  }
  EXPECT_GE(n, 5);
}

// Resuming from a checkpoint gives the run that never stopped, bit for bit (LoRA dropout,
// accumulation and a cosine schedule included).
TEST(CliTrain, ResumeEqualsUninterrupted) {
  require_real_model();
  fs::path dir = temp_dir("tuna_cli_train_resume");
  const fs::path data =
      fs::path(TUNA_GOLDEN_DIR) / ".." / ".." / "examples" / "data" / "quickstart_fish.jsonl";
  fs::path cfg =
      write_text(dir, "cfg.yaml",
                 "model: " + kGguf + "\ndataset: " + data.string() +
                     "\nlora: {r: 4, lora_alpha: 8, lora_dropout: 0.1, target_modules: [q_proj, "
                     "v_proj]}\ntraining: {max_steps: 4, per_device_train_batch_size: 1, "
                     "gradient_accumulation_steps: 2, learning_rate: 1e-3, lr_scheduler_type: "
                     "cosine, warmup_steps: 1, logging_steps: 1, save_steps: 2}\n");
  CliRun a = run("train " + cfg.string() + " output_dir=" + (dir / "a").string());
  ASSERT_EQ(a.status, 0) << a.err;
  CliRun b = run("train " + cfg.string() + " output_dir=" + (dir / "a").string() +
                 " resume_from_checkpoint=latest max_steps=4 overwrite_output_dir=true");
  ASSERT_EQ(b.status, 0) << b.err;
  EXPECT_NE(b.err.find("resuming from"), std::string::npos) << b.err;
  CliRun c = run("train " + cfg.string() + " output_dir=" + (dir / "c").string() +
                 " resume_from_checkpoint=" + (dir / "a" / "checkpoint-2").string());
  ASSERT_EQ(c.status, 0) << c.err;
  EXPECT_EQ(tuna_test_read(dir / "a" / "adapter_model.safetensors"),
            tuna_test_read(dir / "c" / "adapter_model.safetensors"));
  expect_user_error(run("train " + cfg.string() + " output_dir=" + (dir / "c").string() +
                        " resume_from_checkpoint=" + dir.string()),
                    "not a complete tuna checkpoint");
}

// packing: true on the real model: the data line reports rows → packed sequences, training runs
// over the packed sequences, eval packs the validation rows too. The whole set fits in one
// micro-batch either way, so the packed run must give the unpacked run's loss curve (no attention
// across samples) — and the loss falls, every step seeing the same data.
TEST(CliTrain, PackingOnTheRealModel) {
  require_real_model();
  fs::path dir = temp_dir("tuna_cli_train_packing");
  const fs::path data =
      fs::path(TUNA_GOLDEN_DIR) / ".." / ".." / "examples" / "data" / "quickstart_fish.jsonl";
  fs::path cfg = write_text(
      dir, "cfg.yaml",
      "model: " + kGguf + "\ndataset: " + data.string() +
          "\nmax_samples: 10\nvalidation_split: 0.2\npacking: true\nmax_length: 128\n"
          "lora: {r: 8, lora_alpha: 16, target_modules: [q_proj, v_proj, o_proj]}\n"
          "training: {max_steps: 3, per_device_train_batch_size: 4, learning_rate: 3e-3, "
          "lr_scheduler_type: constant, logging_steps: 1, eval_strategy: steps, eval_steps: 3}\n");
  auto curve = [&](const fs::path& out) {
    std::ifstream m(out / "metrics.jsonl");
    std::vector<double> losses;
    for (std::string line; std::getline(m, line);) {
      const auto j = nlohmann::json::parse(line);
      losses.push_back(j.contains("loss") ? j["loss"].get<double>() : j["eval_loss"].get<double>());
    }
    return losses;  // 3 training losses, then the eval loss
  };
  CliRun r = run("train " + cfg.string() + " output_dir=" + (dir / "packed").string());
  ASSERT_EQ(r.status, 0) << r.err;
  // 10 rows, 2 held out: 8 rows of ~25-35 tokens pack into a few 128-token sequences.
  const std::string head = "packing (bfd): 8 rows → ";
  const size_t at = r.err.find(head);
  ASSERT_NE(at, std::string::npos) << r.err;
  const int sequences = std::atoi(r.err.c_str() + at + head.size());
  EXPECT_GE(sequences, 2) << r.err;
  EXPECT_LE(sequences, 4) << r.err;
  EXPECT_NE(r.err.find("training: 3 steps, " + std::to_string(sequences) + " packed sequences"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("validation 2 rows → 1 packed sequences"), std::string::npos) << r.err;
  CliRun u = run("train " + cfg.string() + " packing=false per_device_train_batch_size=8 " +
                 "output_dir=" + (dir / "unpacked").string());
  ASSERT_EQ(u.status, 0) << u.err;
  const std::vector<double> packed = curve(dir / "packed"), unpacked = curve(dir / "unpacked");
  ASSERT_EQ(packed.size(), 4u);
  ASSERT_EQ(unpacked.size(), 4u);
  for (size_t i = 0; i < packed.size(); ++i) {
    EXPECT_TRUE(std::isfinite(packed[i]));
    EXPECT_NEAR(packed[i], unpacked[i], 1e-4 * unpacked[i]) << "loss " << i;
  }
  EXPECT_LT(packed[2], packed[0]) << "the same batch every step: the loss falls";
  // max_length is the packed length: packing without it is a user error; strategies are TRL's.
  expect_user_error(
      run("train " + cfg.string() + " max_length=null output_dir=" + (dir / "x").string()),
      "packing needs max_length");
  expect_user_error(run("train " + cfg.string() +
                        " packing_strategy=bfd_split output_dir=" + (dir / "y").string()),
                    "packing_strategy");
}

// Full fine-tuning (use_peft: false) resumes bit-identically too: the checkpoint holds the F32
// model and the optimizer state.
TEST(CliTrain, FullFineTuningResumeEqualsUninterrupted) {
  require_real_model();
  fs::path dir = temp_dir("tuna_cli_train_full_resume");
  const fs::path data =
      fs::path(TUNA_GOLDEN_DIR) / ".." / ".." / "examples" / "data" / "quickstart_fish.jsonl";
  fs::path cfg = write_text(dir, "cfg.yaml",
                            "model: " + kGguf + "\ndataset: " + data.string() +
                                "\nuse_peft: false\nmax_length: 32\ntraining: {max_steps: 2, "
                                "per_device_train_batch_size: 1, learning_rate: 1e-4, optim: "
                                "adamw_torch, logging_steps: 1, save_steps: 1}\n");
  CliRun a = run("train " + cfg.string() + " output_dir=" + (dir / "a").string());
  ASSERT_EQ(a.status, 0) << a.err;
  EXPECT_NE(a.err.find("trainable%: 100.0000"), std::string::npos) << a.err;
  EXPECT_TRUE(fs::exists(dir / "a" / "checkpoint-1" / "model.safetensors"));
  EXPECT_TRUE(fs::exists(dir / "a" / "checkpoint-1" / "optimizer.safetensors"));
  CliRun c = run("train " + cfg.string() + " output_dir=" + (dir / "c").string() +
                 " resume_from_checkpoint=" + (dir / "a" / "checkpoint-1").string());
  ASSERT_EQ(c.status, 0) << c.err;
  EXPECT_TRUE(tuna_test_read(dir / "a" / "model.safetensors") ==
              tuna_test_read(dir / "c" / "model.safetensors"));
  expect_user_error(run("train " + cfg.string() + " output_dir=" + (dir / "e").string() + " r=16"),
                    "LoRA keys are set");
  fs::remove_all(dir);
}

TEST(CliTrain, BadConfigsGiveDocumentedErrors) {
  fs::path dir = temp_dir("tuna_cli_train_errors");
  expect_user_error(run("train " + write_text(dir, "a.yaml", "learnig_rate: 1e-4\n").string()),
                    "did you mean 'learning_rate'");
  expect_user_error(run("train " + write_text(dir, "b.yaml", "lora_dropout: 2\n").string()),
                    "between 0 and 1");
  expect_user_error(run("train " + write_text(dir, "c.yaml", "push_to_hub: true\n").string()),
                    "not supported yet: push_to_hub");
  expect_user_error(
      run("train " + write_text(dir, "d.yaml", "max_steps: 3\n").string() + " lr=abc"),
      "expected a number");
  expect_user_error(run("train " + write_text(dir, "e.yaml", "max_steps: 3\n").string()),
                    "no model");
}

}  // namespace
