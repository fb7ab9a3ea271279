// Training jobs as a server would run them: two jobs at once in one process, on two models or
// sharing one handle, give exactly what each gives alone (losses, gradient norms, adapter bytes),
// and a job cancelled through its token leaves a complete checkpoint that loads and resumes to the
// uninterrupted run. Tiny golden Llama (tests/golden/models/llama, vocab 256) with a
// character-level tokenizer (app_test_util.h).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <sstream>
#include <thread>

#include "app/app_test_util.h"
#include "app/training_job.h"
#include "core/error.h"
#include "lora/adapter_io.h"
#include "model/model.h"
#include "ops/gemm_bf16.h"
#include "test_util.h"

namespace tuna {
namespace {

namespace fs = std::filesystem;

class TrainingJobTest : public tuna_test::TempDirTest {
 protected:
  TrainingJobTest() : TempDirTest("tuna_app_job") {}
  void SetUp() override {
    TempDirTest::SetUp();
    tuna_test::write_file(path("data.jsonl"), kSixAlpacaRows);
  }
  // A LoRA run with dropout, accumulation and a schedule (everything that could leak between
  // jobs: RNG streams, optimizer state, scratch buffers); `extra` YAML keys override.
  TrainConfig config(const std::string& out, const std::vector<std::string>& overrides = {}) {
    return parse_train_config(
        "dataset: " + path("data.jsonl") + "\noutput_dir: " + path(out) +
            "\nmax_length: 96\n"
            "lora: {r: 4, lora_alpha: 8, lora_dropout: 0.1, target_modules: [q_proj, v_proj, "
            "down_proj]}\n"
            "training: {max_steps: 4, per_device_train_batch_size: 2, "
            "gradient_accumulation_steps: 2, learning_rate: 5e-3, lr_scheduler_type: cosine, "
            "warmup_steps: 1, logging_steps: 1, save_steps: 2}\n",
        "test.yaml", overrides);
  }
  std::string adapter_bytes(const std::string& out) {
    return tuna_test::read_file(path(out) + "/adapter_model.safetensors");
  }
};

// Records the step metrics and the order of events.
struct RecordingSink : TrainingSink {
  std::vector<StepMetrics> steps;
  std::vector<std::string> events;
  void on_started(const TrainingStarted&) override { events.push_back("started"); }
  void on_step(const StepMetrics& m) override {
    steps.push_back(m);
    events.push_back("step " + std::to_string(m.step));
  }
  void on_checkpoint(const CheckpointSaved& c) override {
    events.push_back("checkpoint " + std::to_string(c.step));
  }
  void on_finished(const TrainingFinished&) override { events.push_back("finished"); }
  void on_cancelled(const TrainingCancelled& c) override {
    events.push_back("cancelled " + std::to_string(c.step));
  }
};

struct Outcome {
  std::vector<StepMetrics> steps;
  std::vector<std::string> events;
};

std::shared_ptr<const ModelHandle> tiny_handle(const Tokenizer& tok) {
  return std::make_shared<const ModelHandle>(kLlama, Model::load(kLlama), tok);
}

// Runs a job on `handle` (a fresh one when null).
Outcome run_job(TrainConfig cfg, const Tokenizer& tok,
                std::shared_ptr<const ModelHandle> handle = nullptr) {
  TrainingJob job(std::move(cfg), handle ? std::move(handle) : tiny_handle(tok));
  RecordingSink rec;
  job.add_sink(rec);
  job.run();
  return {rec.steps, rec.events};
}

void expect_same_steps(const Outcome& a, const Outcome& b) {
  ASSERT_EQ(a.steps.size(), b.steps.size());
  for (size_t i = 0; i < a.steps.size(); ++i) {
    EXPECT_EQ(a.steps[i].loss, b.steps[i].loss) << "step " << i + 1;
    EXPECT_EQ(a.steps[i].grad_norm, b.steps[i].grad_norm) << "step " << i + 1;
    EXPECT_EQ(a.steps[i].num_tokens, b.steps[i].num_tokens) << "step " << i + 1;
  }
}

TEST_F(TrainingJobTest, TwoJobsAtOnceEqualEachAlone) {
  const Tokenizer tok = char_tokenizer();
  // Two different jobs (seeds, rates, batch shapes), so a leak from one into the other shows.
  const std::vector<std::string> b_keys = {"seed=7", "learning_rate=1e-2",
                                           "per_device_train_batch_size=3"};
  const Outcome a_alone = run_job(config("a_alone"), tok);
  const Outcome b_alone = run_job(config("b_alone", b_keys), tok);
  ASSERT_EQ(a_alone.steps.size(), 4u);
  EXPECT_NE(a_alone.steps[3].loss, b_alone.steps[3].loss) << "the two jobs must differ";
  EXPECT_NE(adapter_bytes("a_alone"), adapter_bytes("b_alone"));
  // save_steps 2 of 4 steps: checkpoints 2 and 4 (the HF Trainer saves at the last step too).
  EXPECT_EQ(a_alone.events,
            (std::vector<std::string>{"started", "step 1", "step 2", "checkpoint 2", "step 3",
                                      "step 4", "checkpoint 4", "finished"}));

  // Round 0: each job loads its own model; round 1: both train on one shared handle.
  for (int round = 0; round < 2; ++round) {
    const std::shared_ptr<const ModelHandle> shared = round == 1 ? tiny_handle(tok) : nullptr;
    Outcome a, b;
    std::exception_ptr error_a, error_b;
    const std::string ra = "a_" + std::to_string(round), rb = "b_" + std::to_string(round);
    std::thread ta([&] {
      try {
        a = run_job(config(ra), tok, shared);
      } catch (...) {
        error_a = std::current_exception();
      }
    });
    std::thread tb([&] {
      try {
        b = run_job(config(rb, b_keys), tok, shared);
      } catch (...) {
        error_b = std::current_exception();
      }
    });
    ta.join();
    tb.join();
    if (error_a) std::rethrow_exception(error_a);
    if (error_b) std::rethrow_exception(error_b);
    expect_same_steps(a, a_alone);
    expect_same_steps(b, b_alone);
    EXPECT_EQ(adapter_bytes(ra), adapter_bytes("a_alone"));
    EXPECT_EQ(adapter_bytes(rb), adapter_bytes("b_alone"));
    EXPECT_EQ(tuna_test::read_file(path(ra) + "/checkpoint-2/optimizer.safetensors"),
              tuna_test::read_file(path("a_alone") + "/checkpoint-2/optimizer.safetensors"));
  }
}

// QLoRA trains on a quantized copy: the shared handle stays as it was.
TEST_F(TrainingJobTest, QloraLeavesTheSharedHandleUnchanged) {
  const Tokenizer tok = char_tokenizer();
  const std::shared_ptr<const ModelHandle> handle = tiny_handle(tok);
  const Tensor q = handle->model().weights().layers[0].q;
  struct Notices : TrainingSink {
    std::vector<std::string> lines;
    void on_notice(const std::string& t) override { lines.push_back(t); }
  } notices;
  TrainingJob job(config("qlora", {"load_in_4bit=true", "max_steps=1"}), handle);
  job.add_sink(notices);
  job.run();
  ASSERT_FALSE(notices.lines.empty());
  EXPECT_EQ(notices.lines[0].rfind("load_in_4bit: ", 0), 0u) << notices.lines[0];
  EXPECT_EQ(handle->model().weights().layers[0].q.raw(), q.raw());
  EXPECT_EQ(handle->model().weights().layers[0].q.dtype(), q.dtype());
  EXPECT_TRUE(fs::exists(path("qlora") + "/adapter_model.safetensors"));
}

// A job's notices and steps.
struct NoticeSink : RecordingSink {
  std::vector<std::string> lines;
  void on_notice(const std::string& t) override { lines.push_back(t); }
  std::string all() const {
    std::string a;
    for (const std::string& l : lines) a += l + "\n";
    return a;
  }
};

NoticeSink run_with_notices(TrainConfig cfg, const Tokenizer& tok) {
  TrainingJob job(std::move(cfg), tiny_handle(tok));
  NoticeSink sink;
  job.add_sink(sink);
  job.run();
  return sink;
}

// bf16: true computes the matrix products in BF16 where the CPU has AVX512-BF16 (says so, and the
// losses move by BF16 rounding only); elsewhere F32 with a notice. fp16 stays F32 with a notice;
// QLoRA's bnb_4bit_compute_dtype: bfloat16 asks for BF16 too.
TEST_F(TrainingJobTest, Bf16ComputesInBf16WhereTheCpuHasIt) {
  const Tokenizer tok = char_tokenizer();
  const NoticeSink f32 = run_with_notices(config("f32", {"max_steps=3"}), tok);
  EXPECT_EQ(f32.all().find("precision:"), std::string::npos) << f32.all();
  const NoticeSink bf16 = run_with_notices(config("bf16", {"max_steps=3", "bf16=true"}), tok);
  ASSERT_EQ(bf16.steps.size(), f32.steps.size());
  if (bf16_matmul_available()) {
    EXPECT_NE(bf16.all().find("precision: bf16: true → matrix products in bfloat16 with float32 "
                              "accumulation"),
              std::string::npos)
        << bf16.all();
    bool any_differs = false;
    for (size_t i = 0; i < f32.steps.size(); ++i) {
      any_differs = any_differs || bf16.steps[i].loss != f32.steps[i].loss;
      EXPECT_NEAR(bf16.steps[i].loss, f32.steps[i].loss, 2e-2 * std::abs(f32.steps[i].loss))
          << "step " << i + 1;
    }
    EXPECT_TRUE(any_differs) << "bf16: true gave F32's exact losses: the BF16 path was not taken";
  } else {
    EXPECT_NE(bf16.all().find("note: bf16: true: this CPU has no AVX512-BF16 instructions, so the "
                              "run computes in float32"),
              std::string::npos)
        << bf16.all();
    expect_same_steps({bf16.steps, {}}, {f32.steps, {}});
  }
  const NoticeSink fp16 = run_with_notices(config("fp16", {"max_steps=1", "fp16=true"}), tok);
  EXPECT_NE(fp16.all().find("note: fp16 computes in float32 on the CPU"), std::string::npos)
      << fp16.all();
  const NoticeSink q = run_with_notices(
      config("q", {"max_steps=1", "load_in_4bit=true", "bnb_4bit_compute_dtype=bfloat16"}), tok);
  EXPECT_NE(q.all().find("bnb_4bit_compute_dtype: bfloat16"), std::string::npos) << q.all();
}

// Trips the job's token when a given step is logged (as Ctrl-C or a server's cancel would,
// from outside the loop).
struct CancelAtStep : TrainingSink {
  CancelToken& token;
  int64_t at;
  CancelAtStep(CancelToken& t, int64_t s) : token(t), at(s) {}
  void on_step(const StepMetrics& m) override {
    if (m.step == at) token.cancel();
  }
};

TEST_F(TrainingJobTest, CancelledJobLeavesALoadableCheckpointThatResumes) {
  const Tokenizer tok = char_tokenizer();
  run_job(config("full"), tok);

  const std::shared_ptr<const ModelHandle> handle = tiny_handle(tok);
  // save_steps 10: the checkpoint at step 3 exists only because of the cancellation.
  TrainingJob job(config("cancelled", {"save_steps=10"}), handle);
  RecordingSink rec;
  CancelAtStep cancel(job.cancel_token(), 3);
  job.add_sink(cancel);
  job.add_sink(rec);
  EXPECT_THROW(
      {
        try {
          job.run();
        } catch (const TrainingInterrupted& e) {
          EXPECT_NE(std::string(e.what()).find("interrupted at step 3"), std::string::npos)
              << e.what();
          throw;
        }
      },
      TrainingInterrupted);
  EXPECT_EQ(rec.events, (std::vector<std::string>{"started", "step 1", "step 2", "step 3",
                                                  "checkpoint 3", "cancelled 3"}));
  const std::string ckpt = path("cancelled") + "/checkpoint-3";
  for (const char* f : {"COMPLETE", "adapter_model.safetensors", "adapter_config.json",
                        "optimizer.safetensors", "trainer_state.json", "tuna_state.json"})
    EXPECT_TRUE(fs::exists(fs::path(ckpt) / f)) << f;
  EXPECT_FALSE(fs::exists(path("cancelled") + "/adapter_model.safetensors"))
      << "a cancelled job writes no final adapter";
  EXPECT_FALSE(fs::exists(path("cancelled") + "/.checkpoint-3.tmp"));
  const LoraSet loaded = load_peft_adapter(ckpt, handle->model());
  EXPECT_FALSE(loaded.adapters.empty());

  // Resuming from it finishes the uninterrupted run, bit for bit.
  run_job(config("resumed", {"resume_from_checkpoint=" + ckpt}), tok);
  EXPECT_EQ(adapter_bytes("resumed"), adapter_bytes("full"));
}

// Every line of metrics.jsonl / the keys of a JSON file, without the fields that measure time.
std::vector<nlohmann::json> without_timing(const std::string& jsonl) {
  std::vector<nlohmann::json> lines;
  std::istringstream in(jsonl);
  for (std::string line; std::getline(in, line);) {
    nlohmann::json j = nlohmann::json::parse(line);
    for (const char* k : {"tokens_per_second", "eta_seconds", "train_runtime",
                          "train_samples_per_second", "train_steps_per_second"})
      j.erase(k);
    lines.push_back(j);
  }
  return lines;
}

// The data loss on resume: metrics.jsonl lost its earlier lines and num_tokens restarted
// from zero. Cancelled at step 5 with logging_steps 3 (a log window open at the checkpoint), the
// resumed run's metrics.jsonl, train_results.json and log history equal the uninterrupted run's.
TEST_F(TrainingJobTest, ResumedRunKeepsMetricsTokenCountAndTotals) {
  const Tokenizer tok = char_tokenizer();
  const std::vector<std::string> keys = {"max_steps=7", "logging_steps=3", "save_steps=1"};
  run_job(config("full", keys), tok);
  {
    // Tripped once checkpoint 4 is written: the loop sees it after step 5.
    struct CancelAfterCheckpoint : TrainingSink {
      CancelToken& token;
      explicit CancelAfterCheckpoint(CancelToken& t) : token(t) {}
      void on_checkpoint(const CheckpointSaved& c) override {
        if (c.step == 4) token.cancel();
      }
    };
    TrainingJob job(config("resumed", keys), tiny_handle(tok));
    CancelAfterCheckpoint cancel(job.cancel_token());
    job.add_sink(cancel);
    EXPECT_THROW(job.run(), TrainingInterrupted);
  }
  std::vector<std::string> k = keys;
  k.push_back("resume_from_checkpoint=latest");
  run_job(config("resumed", k), tok);
  EXPECT_EQ(adapter_bytes("resumed"), adapter_bytes("full"));
  const auto full = without_timing(tuna_test::read_file(path("full") + "/metrics.jsonl"));
  EXPECT_EQ(full.size(), 3u);  // steps 3, 6, 7
  EXPECT_EQ(without_timing(tuna_test::read_file(path("resumed") + "/metrics.jsonl")), full);
  auto one_line = [&](const std::string& file) {
    return nlohmann::json::parse(tuna_test::read_file(file)).dump() + "\n";
  };
  EXPECT_EQ(without_timing(one_line(path("resumed") + "/train_results.json")),
            without_timing(one_line(path("full") + "/train_results.json")));
  const auto history = [&](const std::string& out) {
    std::string lines;
    // Held by value: a range-for over a member of a temporary would outlive the temporary.
    const nlohmann::json state =
        nlohmann::json::parse(tuna_test::read_file(path(out) + "/trainer_state.json"));
    for (const auto& e : state["log_history"]) lines += e.dump() + "\n";
    return without_timing(lines);
  };
  EXPECT_EQ(history("resumed"), history("full"));
}

// Runs a job expecting a user error whose message holds `fragment`.
void expect_user_error(TrainConfig cfg, const Tokenizer& tok, const std::string& fragment) {
  try {
    run_job(std::move(cfg), tok);
    ADD_FAILURE() << "no error; expected " << fragment;
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::USER) << e.what();
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
    EXPECT_NE(e.hint(), "") << e.what();
  }
}

// overwrite_output_dir: false refuses a non-empty output_dir (as the HF scripts do) unless the run
// resumes from a checkpoint inside it; true writes into it.
TEST_F(TrainingJobTest, NonEmptyOutputDirNeedsOverwriteOrResume) {
  const Tokenizer tok = char_tokenizer();
  fs::create_directories(path("out"));
  tuna_test::write_file(path("out") + "/notes.txt", "mine");
  expect_user_error(config("out", {"max_steps=2"}), tok, "already exists and is not empty");
  EXPECT_EQ(tuna_test::read_file(path("out") + "/notes.txt"), "mine");
  EXPECT_FALSE(fs::exists(path("out") + "/metrics.jsonl")) << "nothing written";
  run_job(config("out", {"max_steps=4", "overwrite_output_dir=true"}), tok);
  EXPECT_TRUE(fs::exists(path("out") + "/adapter_model.safetensors"));
  EXPECT_TRUE(fs::exists(path("out") + "/notes.txt")) << "overwrite writes into, never empties";
  // Resuming from a checkpoint of this output_dir is allowed; from one elsewhere it is not.
  run_job(config("out", {"max_steps=4", "resume_from_checkpoint=latest"}), tok);
  fs::create_directories(path("other"));
  tuna_test::write_file(path("other") + "/notes.txt", "x");
  expect_user_error(
      config("other", {"max_steps=4", "resume_from_checkpoint=" + path("out") + "/checkpoint-2"}),
      tok, "already exists and is not empty");
}

TEST_F(TrainingJobTest, OutputDirThatIsAFileOrUnderAFileIsAUserError) {
  const Tokenizer tok = char_tokenizer();
  tuna_test::write_file(path("file"), "x");
  expect_user_error(config("file"), tok, "is a file, not a directory");
  expect_user_error(config("file/out"), tok, "cannot be created: " + path("file") + " is a file");
  EXPECT_EQ(tuna_test::read_file(path("file")), "x");
}

// A kill -9 during a checkpoint leaves .checkpoint-N.tmp (and maybe a temporary file of an atomic
// write); the next start removes them with a note, and latest never picks them up.
TEST_F(TrainingJobTest, StaleTemporariesAreCleanedAndNeverResumedFrom) {
  const Tokenizer tok = char_tokenizer();
  run_job(config("out", {"save_steps=1"}), tok);
  const std::string out = path("out");
  // A newer, unfinished checkpoint (no COMPLETE), and one whose COMPLETE came but whose files
  // do not match its manifest: latest skips both.
  fs::copy(out + "/checkpoint-4", out + "/.checkpoint-9.tmp");
  fs::remove(out + "/.checkpoint-9.tmp/COMPLETE");
  fs::copy(out + "/checkpoint-4", out + "/checkpoint-8");
  tuna_test::write_file(out + "/checkpoint-8/optimizer.safetensors", "short");
  tuna_test::write_file(out + "/adapter_model.safetensors.tmp.Ab3dE9", "partial");
  struct Notices : TrainingSink {
    std::vector<std::string> lines;
    void on_notice(const std::string& t) override { lines.push_back(t); }
  } notices;
  TrainingJob job(config("out", {"save_steps=1", "max_steps=5", "resume_from_checkpoint=latest"}),
                  tiny_handle(tok));
  job.add_sink(notices);
  job.run();
  std::string all;
  for (const std::string& l : notices.lines) all += l + "\n";
  EXPECT_NE(all.find("note: removed what an interrupted run left in " + out +
                     ": .checkpoint-9.tmp, adapter_model.safetensors.tmp.Ab3dE9"),
            std::string::npos)
      << all;
  EXPECT_NE(all.find("resuming from " + out + "/checkpoint-4 at step 4"), std::string::npos) << all;
  EXPECT_FALSE(fs::exists(out + "/.checkpoint-9.tmp"));
  EXPECT_FALSE(fs::exists(out + "/adapter_model.safetensors.tmp.Ab3dE9"));
  // Named explicitly, the damaged one is refused with the reason.
  expect_user_error(
      config("out", {"resume_from_checkpoint=" + out + "/checkpoint-8"}), tok,
      "checkpoint-8 is not a complete tuna checkpoint: optimizer.safetensors has 5 bytes");
}

TEST_F(TrainingJobTest, ResumeFromAnotherRunOrPastTheEndIsRefused) {
  const Tokenizer tok = char_tokenizer();
  run_job(config("out", {"save_steps=1"}), tok);
  const std::string ckpt = path("out") + "/checkpoint-3";
  expect_user_error(config("r8", {"resume_from_checkpoint=" + ckpt, "r=8"}), tok,
                    "was written by a run with another model or LoRA shape");
  expect_user_error(config("short", {"resume_from_checkpoint=" + ckpt, "max_steps=2"}), tok,
                    "is at step 3 but this run has 2 steps");
  expect_user_error(config("none", {"resume_from_checkpoint=" + path("nothing")}), tok,
                    "does not exist");
  EXPECT_FALSE(fs::exists(path("r8")));
  EXPECT_FALSE(fs::exists(path("short")));
}

// The checkpoint-N directories in `out`, by step.
std::vector<int> checkpoint_steps(const std::string& out) {
  std::vector<int> steps;
  for (const auto& e : fs::directory_iterator(out)) {
    const std::string n = e.path().filename().string();
    if (n.rfind("checkpoint-", 0) == 0) steps.push_back(std::stoi(n.substr(11)));
  }
  std::sort(steps.begin(), steps.end());
  return steps;
}

// save_strategy as transformers 4.57's DefaultFlowCallback: "epoch" saves at every epoch's end,
// the last included, and at the last step when max_steps ends the run inside an epoch; "steps"
// saves every save_steps and at the last step. Named checkpoint-<global step>; save_total_limit
// keeps the newest.
TEST_F(TrainingJobTest, SaveStrategySavesTheLastStepAsTheHfTrainer) {
  const Tokenizer tok = char_tokenizer();
  // 6 rows, batch 2, no accumulation: 3 steps per epoch.
  const std::vector<std::string> epochs = {"max_steps=-1", "num_train_epochs=2",
                                           "gradient_accumulation_steps=1", "save_strategy=epoch"};
  run_job(config("epoch", epochs), tok);
  EXPECT_EQ(checkpoint_steps(path("epoch")), (std::vector<int>{3, 6}));
  const nlohmann::json last = nlohmann::json::parse(
      tuna_test::read_file(path("epoch") + "/checkpoint-6/trainer_state.json"));
  EXPECT_EQ(last["global_step"], 6);
  EXPECT_EQ(last["epoch"].get<double>(), 2.0);
  std::vector<std::string> limited = epochs;
  limited.push_back("save_total_limit=1");
  run_job(config("epoch_limit", limited), tok);
  EXPECT_EQ(checkpoint_steps(path("epoch_limit")), (std::vector<int>{6}));
  std::vector<int> cut_at_4 = {3, 4};
  std::vector<std::string> cut = {"max_steps=4", "gradient_accumulation_steps=1",
                                  "save_strategy=epoch"};
  run_job(config("epoch_cut", cut), tok);
  EXPECT_EQ(checkpoint_steps(path("epoch_cut")), cut_at_4);
  run_job(config("steps", {"max_steps=5", "save_steps=2"}), tok);
  EXPECT_EQ(checkpoint_steps(path("steps")), (std::vector<int>{2, 4, 5}));
  run_job(config("steps_limit", {"max_steps=5", "save_steps=2", "save_total_limit=2"}), tok);
  EXPECT_EQ(checkpoint_steps(path("steps_limit")), (std::vector<int>{4, 5}));
  run_job(config("none", {"save_strategy=no"}), tok);
  EXPECT_EQ(checkpoint_steps(path("none")), (std::vector<int>{}));
}

// eval_strategy epoch evaluates at each epoch's end and, when max_steps ends the run inside an
// epoch, at the last step (HF's on_epoch_end runs after the break).
TEST_F(TrainingJobTest, EvalStrategyEpochEvaluatesTheLastStepToo) {
  const Tokenizer tok = char_tokenizer();
  // 4 training rows, batch 2, no accumulation: 2 steps per epoch; the run stops at step 3.
  run_job(config("eval", {"max_steps=3", "gradient_accumulation_steps=1", "validation_split=0.34",
                          "eval_strategy=epoch", "save_strategy=no"}),
          tok);
  const nlohmann::json state =
      nlohmann::json::parse(tuna_test::read_file(path("eval") + "/trainer_state.json"));
  std::vector<int> evals;
  for (const auto& e : state["log_history"])
    if (e.contains("eval_loss")) evals.push_back(e["step"].get<int>());
  EXPECT_EQ(evals, (std::vector<int>{2, 3}));
}

// Resuming from the checkpoint at the last step (e.g. after the final save failed) trains nothing
// more and writes the final output the uninterrupted run wrote.
TEST_F(TrainingJobTest, ResumeFromTheLastCheckpointFinishesTheRun) {
  const Tokenizer tok = char_tokenizer();
  run_job(config("full"), tok);
  fs::create_directories(path("again"));
  fs::copy(path("full") + "/checkpoint-4", path("again") + "/checkpoint-4",
           fs::copy_options::recursive);
  const Outcome o = run_job(config("again", {"resume_from_checkpoint=latest"}), tok);
  EXPECT_TRUE(o.steps.empty());
  EXPECT_EQ(o.events, (std::vector<std::string>{"started", "finished"}));
  EXPECT_EQ(adapter_bytes("again"), adapter_bytes("full"));
  const auto results = [&](const std::string& out) {
    nlohmann::json r =
        nlohmann::json::parse(tuna_test::read_file(path(out) + "/train_results.json"));
    for (const char* k : {"train_runtime", "train_samples_per_second", "train_steps_per_second"})
      r.erase(k);
    return r;
  };
  EXPECT_EQ(results("again"), results("full"));
}

// The run's first lines say which tokens train, next to the data summary (alpaca rows: the
// response only, and how to train the whole formatted text as TRL does).
TEST_F(TrainingJobTest, LossMaskNoticeFollowsTheDataSummary) {
  const Tokenizer tok = char_tokenizer();
  struct Notices : TrainingSink {
    std::vector<std::string> lines;
    void on_notice(const std::string& t) override { lines.push_back(t); }
  };
  for (const std::string col : {"", "false"}) {
    Notices notices;
    std::vector<std::string> keys = {"max_steps=1", "save_strategy=no"};
    if (!col.empty()) keys.push_back("completion_only_loss=" + col);
    TrainingJob job(config("out_" + col, keys), tiny_handle(tok));
    job.add_sink(notices);
    job.run();
    size_t data = 0;
    while (data < notices.lines.size() && notices.lines[data].rfind("data: ", 0) != 0) ++data;
    ASSERT_LT(data + 1, notices.lines.size());
    EXPECT_EQ(
        notices.lines[data + 1].rfind(col.empty() ? "loss: on the response only (alpaca format; "
                                                    "completion_only_loss default true); TRL trains"
                                                  : "loss: on the whole formatted text",
                                      0),
        0u)
        << notices.lines[data + 1];
  }
}

}  // namespace
}  // namespace tuna
