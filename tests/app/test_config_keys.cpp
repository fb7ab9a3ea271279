// The config keys that change what a run looks like rather than what it learns, each checked
// through what it changes: pad_token (the padding id of the batches), eos_token (the token that
// ends text rows and completions, and the chat template's eos_token), logging_strategy (which
// steps are logged, to the console and metrics.jsonl), use_cpu (the run's device line) and
// disable_tqdm (the console's progress bar). Tiny golden Llama with the character tokenizer.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <sstream>

#include "app/app_test_util.h"
#include "app/metrics_sinks.h"
#include "app/training_job.h"
#include "app/training_plan.h"
#include "core/error.h"
#include "model/model.h"
#include "test_util.h"
#include "tokenizer/chat_template.h"
#include "train/dataset_prep.h"
#include "train/trainer.h"

namespace tuna {
namespace {

namespace fs = std::filesystem;

class ConfigKeysTest : public tuna_test::TempDirTest {
 protected:
  ConfigKeysTest() : TempDirTest("tuna_app_keys") {}
  void SetUp() override {
    TempDirTest::SetUp();
    tuna_test::write_file(path("data.jsonl"), kSixAlpacaRows);
  }
  TrainConfig config(const std::string& out, const std::vector<std::string>& overrides = {}) {
    return parse_train_config("dataset: " + path("data.jsonl") + "\noutput_dir: " + path(out) +
                                  "\nmax_length: 96\n"
                                  "lora: {r: 4, lora_alpha: 8, target_modules: [q_proj, v_proj]}\n"
                                  "training: {max_steps: 4, per_device_train_batch_size: 2, "
                                  "learning_rate: 5e-3, logging_steps: 1, save_strategy: no}\n",
                              "test.yaml", overrides);
  }
};

int32_t id_of(const Tokenizer& tok, const std::string& piece) {
  const std::optional<int32_t> id = tok.piece_to_id(piece);
  EXPECT_TRUE(id.has_value()) << piece;
  return id.value_or(-1);
}

// The user error `f` throws (empty: none).
template <class F>
std::string user_error(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::USER) << e.what();
    return std::string(e.what()) + " (hint: " + e.hint() + ")";
  }
  return "";
}

bool has(const std::string& text, const std::string& fragment) {
  return text.find(fragment) != std::string::npos;
}

// pad_token is the padding id of the plan and so of every padded micro-batch (TRL's
// DataCollatorForLanguageModeling(pad_token_id=...)); unset: the tokenizer's pad, else the EOS —
// eos_token when set, as TRL sets tokenizer.eos_token_id before picking the pad.
TEST_F(ConfigKeysTest, PadTokenIsThePaddingIdOfTheBatches) {
  const Tokenizer tok = char_tokenizer();
  EXPECT_EQ(plan_training(config("a"), tok).trainer.pad_token_id, id_of(tok, "<pad>"));
  const TrainingPlan plan = plan_training(config("a", {"pad_token=\"#\""}), tok);
  ASSERT_EQ(plan.trainer.pad_token_id, id_of(tok, "#"));
  // A short row next to a long one: its padding holds the configured id.
  const std::vector<TrainRow> rows = {{{10, 11, 12, 13}, {-100, 11, 12, 13}},
                                      {{10, 11}, {-100, 11}}};
  const MicroBatch mb = collate(rows, 0, 2, plan.trainer.pad_token_id);
  const int32_t* ids = mb.input_ids.data<int32_t>();
  EXPECT_EQ(ids[6], id_of(tok, "#"));
  EXPECT_EQ(ids[7], id_of(tok, "#"));

  // A tokenizer without a pad token: the EOS, or eos_token when the config sets one.
  auto [json, tcfg] = char_tokenizer_json();
  tcfg.erase("pad_token");
  const Tokenizer no_pad = Tokenizer::from_json(json, &tcfg, "no_pad");
  EXPECT_EQ(plan_training(config("a"), no_pad).trainer.pad_token_id, id_of(tok, "<eos>"));
  EXPECT_EQ(plan_training(config("a", {"eos_token=\"$\""}), no_pad).trainer.pad_token_id,
            id_of(tok, "$"));
}

// A pad_token or eos_token that is not one token of the vocabulary is a user error naming the key,
// where it was set, and the tokenizer's own tokens (TRL raises ValueError).
TEST_F(ConfigKeysTest, TokensOutsideTheVocabularyAreUserErrors) {
  const Tokenizer tok = char_tokenizer();
  const std::string pad = user_error([&] {
    plan_training(parse_train_config("dataset: x.jsonl\npad_token: \"<padding>\"\n", "k.yaml"),
                  tok);
  });
  EXPECT_TRUE(has(pad,
                  "k.yaml line 2: pad_token: '<padding>' is not a token of the model's "
                  "vocabulary"))
      << pad;
  EXPECT_TRUE(has(pad, "eos '<eos>', pad '<pad>'")) << pad;
  const std::string eos = user_error(
      [&] { prepare_training_data(config("a", {"eos_token=</s>"}), tok, nullptr, {{}}); });
  EXPECT_TRUE(has(eos, "command-line override 'eos_token=</s>': eos_token: '</s>' is not a token"))
      << eos;
  // Also through the job, before anything is written.
  const std::string job = user_error([&] {
    TrainingJob j(config("job", {"eos_token=ab"}),
                  std::make_shared<const ModelHandle>(kLlama, Model::load(kLlama), tok));
    j.run();
  });
  EXPECT_TRUE(has(job, "eos_token: 'ab' is not a token")) << job;
  EXPECT_FALSE(fs::exists(path("job")));
}

// eos_token ends every text row and completion instead of the tokenizer's EOS, trained as TRL's
// add_eos trains it; in messages data it is the chat template's eos_token (TRL sets
// tokenizer.eos_token_id, which apply_chat_template passes on).
TEST_F(ConfigKeysTest, EosTokenEndsTheRows) {
  const Tokenizer tok = char_tokenizer();
  const PreparedData plain = prepare_training_data(config("a"), tok, nullptr, {{}});
  const PreparedData hash =
      prepare_training_data(config("a", {"eos_token=\"#\""}), tok, nullptr, {{}});
  ASSERT_EQ(plain.train.size(), hash.train.size());
  for (size_t i = 0; i < hash.train.size(); ++i) {
    EXPECT_EQ(plain.train[i].input_ids.back(), id_of(tok, "<eos>"));
    EXPECT_EQ(hash.train[i].input_ids.back(), id_of(tok, "#"));
    EXPECT_EQ(hash.train[i].labels.back(), id_of(tok, "#"));
  }
  // Text rows too.
  tuna_test::write_file(path("text.jsonl"), "{\"text\": \"abc\"}\n{\"text\": \"de\"}\n");
  const PreparedData text = prepare_training_data(
      config("a", {"dataset=" + path("text.jsonl"), "eos_token=\"#\""}), tok, nullptr, {{}});
  for (const TrainRow& r : text.train) EXPECT_EQ(r.input_ids.back(), id_of(tok, "#"));

  const ChatTemplate chat = ChatTemplate::parse(
      "{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}{{ eos_token }}{% endfor %}");
  Example ex;
  ex.kind = Example::Kind::MESSAGES;
  ex.messages = nlohmann::ordered_json::array(
      {{{"role", "user"}, {"content", "hi"}}, {{"role", "assistant"}, {"content", "yo"}}});
  TokenizeOptions o;
  TokenizeStats stats;
  TrainRow row;
  ASSERT_TRUE(tokenize_example(tok, &chat, ex, o, stats, row));
  EXPECT_EQ(row.input_ids.back(), id_of(tok, "<eos>"));
  o.eos_id = id_of(tok, "#");
  ASSERT_TRUE(tokenize_example(tok, &chat, ex, o, stats, row));
  EXPECT_EQ(row.input_ids.back(), id_of(tok, "#"));
  EXPECT_EQ(std::count(row.input_ids.begin(), row.input_ids.end(), id_of(tok, "<eos>")), 0);
}

// assistant_only_loss: true with rows that turn out not to be conversations (dataset_format auto)
// stops the run, as TRL's ValueError; it was silently ignored before.
TEST_F(ConfigKeysTest, AssistantOnlyLossNeedsConversations) {
  const Tokenizer tok = char_tokenizer();
  const std::string e = user_error([&] {
    prepare_training_data(config("a", {"assistant_only_loss=true"}), tok, nullptr, {{}});
  });
  EXPECT_TRUE(has(e,
                  "command-line override 'assistant_only_loss=true': assistant_only_loss: "
                  "true, but " +
                      path("data.jsonl") + " holds alpaca rows, not conversations"))
      << e;
}

// Every event of a run, and metrics.jsonl after it.
struct Recorder : TrainingSink {
  std::vector<std::string> notices;
  std::vector<StepMetrics> steps;
  std::vector<int64_t> progress;
  bool finished = false;
  void on_notice(const std::string& t) override { notices.push_back(t); }
  void on_progress(const StepProgress& p) override { progress.push_back(p.step); }
  void on_step(const StepMetrics& m) override { steps.push_back(m); }
  void on_finished(const TrainingFinished&) override { finished = true; }
};

Recorder run(TrainConfig cfg, const Tokenizer& tok, std::vector<TrainingSink*> more = {}) {
  TrainingJob job(std::move(cfg),
                  std::make_shared<const ModelHandle>(kLlama, Model::load(kLlama), tok));
  Recorder rec;
  job.add_sink(rec);
  for (TrainingSink* s : more) job.add_sink(*s);
  job.run();
  return rec;
}

std::vector<nlohmann::json> jsonl(const std::string& file) {
  std::vector<nlohmann::json> out;
  std::istringstream in(tuna_test::read_file(file));
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) out.push_back(nlohmann::json::parse(line));
  return out;
}

// logging_strategy, as transformers 4.57's DefaultFlowCallback: "no" logs no training step
// (console or metrics.jsonl; the summary is still written), "epoch" logs at each epoch's end
// with the loss averaged over the epoch's steps (the Trainer's tr_loss since the last log).
TEST_F(ConfigKeysTest, LoggingStrategyDecidesWhichStepsAreLogged) {
  const Tokenizer tok = char_tokenizer();
  // 6 rows, batch 2: 3 steps an epoch; 2 epochs.
  const std::vector<std::string> epochs = {"max_steps=-1", "num_train_epochs=2"};
  std::vector<std::string> o = epochs;
  const Recorder every = run(config("steps", o), tok);
  ASSERT_EQ(every.steps.size(), 6u);
  EXPECT_EQ(jsonl(path("steps/metrics.jsonl")).size(), 6u);

  o.push_back("logging_strategy=no");
  const Recorder none = run(config("no", o), tok);
  EXPECT_TRUE(none.steps.empty());
  EXPECT_EQ(none.progress.size(), 6u);
  EXPECT_TRUE(none.finished);
  EXPECT_TRUE(jsonl(path("no/metrics.jsonl")).empty());
  EXPECT_TRUE(fs::exists(path("no/train_results.json")));
  const auto state = nlohmann::json::parse(tuna_test::read_file(path("no/trainer_state.json")));
  ASSERT_EQ(state["log_history"].size(), 1u);  // the summary only
  EXPECT_TRUE(state["log_history"][0].contains("train_loss"));

  // Evaluations are logged whatever logging_strategy says (Trainer.evaluate calls self.log).
  const Recorder evals = run(config("no_eval", {"logging_strategy=no", "validation_split=0.5",
                                                "eval_strategy=steps", "eval_steps=2"}),
                             tok);
  EXPECT_TRUE(evals.steps.empty());
  const std::vector<nlohmann::json> eval_lines = jsonl(path("no_eval/metrics.jsonl"));
  ASSERT_EQ(eval_lines.size(), 2u);  // steps 2 and 4
  EXPECT_TRUE(eval_lines[0].contains("eval_loss")) << eval_lines[0];

  o.back() = "logging_strategy=epoch";
  const Recorder per_epoch = run(config("epoch", o), tok);
  ASSERT_EQ(per_epoch.steps.size(), 2u);
  EXPECT_EQ(per_epoch.steps[0].step, 3);
  EXPECT_EQ(per_epoch.steps[1].step, 6);
  for (int e = 0; e < 2; ++e) {
    const double mean =
        (every.steps[3 * e].loss + every.steps[3 * e + 1].loss + every.steps[3 * e + 2].loss) / 3;
    EXPECT_NEAR(per_epoch.steps[e].loss, mean, 1e-9 * std::abs(mean)) << "epoch " << e + 1;
  }
  const std::vector<nlohmann::json> lines = jsonl(path("epoch/metrics.jsonl"));
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[1]["step"], 6);

  // max_steps ending inside an epoch: its last step is logged (the Trainer's on_epoch_end runs
  // after the loop stops).
  const Recorder cut = run(config("cut", {"max_steps=4", "logging_strategy=epoch"}), tok);
  ASSERT_EQ(cut.steps.size(), 2u);
  EXPECT_EQ(cut.steps[1].step, 4);
  const Recorder four = run(config("four", {"max_steps=4"}), tok);  // the same schedule
  ASSERT_EQ(four.steps.size(), 4u);
  EXPECT_NEAR(cut.steps[1].loss, four.steps[3].loss, 1e-9 * std::abs(four.steps[3].loss));
}

// use_cpu: tuna trains on the CPU only, so the key can only change what the run says about its
// device: the decision and its reason are the run's device line.
TEST_F(ConfigKeysTest, UseCpuIsTheDeviceLine) {
  const TrainConfig plain = config("a"), cpu = config("a", {"use_cpu=true"});
  EXPECT_EQ(choose_training_device(cpu, true).line, "device: CPU (use_cpu: true)");
  EXPECT_EQ(choose_training_device(cpu, false).line, "device: CPU (use_cpu: true)");
  EXPECT_TRUE(has(choose_training_device(plain, true).line,
                  "a GPU is visible, but tuna does not train on GPUs yet"));
  EXPECT_EQ(choose_training_device(plain, false).line,
            "device: CPU (no GPU visible to this build)");
  const Tokenizer tok = char_tokenizer();
  const Recorder r = run(config("run", {"use_cpu=true", "max_steps=1"}), tok);
  EXPECT_NE(std::find(r.notices.begin(), r.notices.end(), "device: CPU (use_cpu: true)"),
            r.notices.end());
}

// disable_tqdm: the console's progress bar (on a terminal) is off; the log lines print the same.
TEST_F(ConfigKeysTest, DisableTqdmTurnsTheBarOffAndKeepsTheLogLines) {
  EXPECT_TRUE(console_options(config("a"), true).progress_bar);
  EXPECT_FALSE(console_options(config("a"), false).progress_bar);  // a log file: no bar
  EXPECT_FALSE(console_options(config("a", {"disable_tqdm=true"}), true).progress_bar);

  const Tokenizer tok = char_tokenizer();
  auto console_run = [&](const std::string& out, const std::vector<std::string>& o,
                         std::vector<std::string>* lines, std::vector<std::string>* bar) {
    const TrainConfig cfg = config(out, o);
    ConsoleSink console([&](const std::string& l) { lines->push_back(l); },
                        console_options(cfg, /*terminal=*/true),
                        [&](const std::string& t) { bar->push_back(t); });
    run(cfg, tok, {&console});
  };
  std::vector<std::string> lines, bar, quiet_lines, quiet_bar;
  console_run("bar", {}, &lines, &bar);
  console_run("quiet", {"disable_tqdm=true"}, &quiet_lines, &quiet_bar);
  ASSERT_FALSE(bar.empty());
  EXPECT_TRUE(has(bar.front(), "step 1/4")) << bar.front();
  EXPECT_TRUE(std::any_of(bar.begin(), bar.end(),
                          [](const std::string& t) { return has(t, "step 4/4 100%"); }));
  EXPECT_TRUE(quiet_bar.empty());
  auto log_lines = [](const std::vector<std::string>& all) {
    std::vector<std::string> out;
    for (const std::string& l : all)
      if (l.rfind("step ", 0) == 0) out.push_back(l.substr(0, l.find(" | lr")));
    return out;
  };
  EXPECT_EQ(log_lines(lines).size(), 4u);
  EXPECT_EQ(log_lines(lines), log_lines(quiet_lines));
  EXPECT_EQ(lines.size(), quiet_lines.size());
}

}  // namespace
}  // namespace tuna
