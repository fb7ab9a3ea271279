// The `tuna` binary as a user runs it: info and score on a golden model (score's log-probs
// against transformers' logits), and bad input → one-line error with a hint and exit status 2.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>

#include "io/safetensors.h"
#include "lora/adapter_io.h"
#include "lora/config.h"
#include "lora/targets.h"
#include "model/model.h"

namespace {

namespace fs = std::filesystem;
const std::string kTuna = std::string(TUNA_BIN_DIR) + "/tuna";
const std::string kModels = std::string(TUNA_GOLDEN_DIR) + "/models";

struct CliRun {
  int status = -1;
  std::string out, err;
};

// Runs tuna with `args` (shell-quoted by the caller), capturing stdout and stderr.
CliRun run(const std::string& args) {
  // One stderr file per call and process: ctest runs tests of this binary in parallel.
  static int calls = 0;
  const fs::path err_file =
      fs::path(::testing::TempDir()) /
      ("tuna_cli_stderr_" + std::to_string(getpid()) + "_" + std::to_string(calls++) + ".txt");
  const std::string cmd = kTuna + " " + args + " 2>" + err_file.string();
  CliRun r;
  FILE* p = popen(cmd.c_str(), "r");
  std::array<char, 4096> buf{};
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  int raw = pclose(p);
  r.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  std::ifstream in(err_file);
  std::stringstream ss;
  ss << in.rdbuf();
  r.err = ss.str();
  in.close();
  fs::remove(err_file);
  return r;
}

fs::path temp_dir(const std::string& name) {
  fs::path d = fs::path(::testing::TempDir()) / name;
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

// A user error: exit 2, one line on stderr, "error: [component] ... (hint: ...)".
void expect_user_error(const CliRun& r, const std::string& fragment) {
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_EQ(r.err.rfind("error: [", 0), 0u) << r.err;
  EXPECT_NE(r.err.find("(hint: "), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_NE(r.err.find(fragment), std::string::npos) << r.err;
}

TEST(CliInfo, PrintsArchitectureAndParameterCount) {
  CliRun r = run("info " + kModels + "/gemma3");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("Gemma3ForCausalLM"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("165,056"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("SSGS"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("window 8"), std::string::npos) << r.out;
}

TEST(CliInfo, JsonMatchesManifestForEveryModel) {
  std::ifstream in(kModels + "/manifest.json");
  nlohmann::json manifest = nlohmann::json::parse(in);
  for (const auto& [name, entry] : manifest["models"].items()) {
    CliRun r = run("info --json " + kModels + "/" + name);
    ASSERT_EQ(r.status, 0) << name << ": " << r.err;
    nlohmann::json j = nlohmann::json::parse(r.out);
    const int64_t expected = entry["num_parameters"].get<int64_t>();
    const int64_t got = j.contains("checkpoint_parameters")
                            ? j["checkpoint_parameters"].get<int64_t>()
                            : j["parameters"].get<int64_t>();
    EXPECT_EQ(got, expected) << name;
    EXPECT_EQ(j["architecture"], entry["architecture"]) << name;
  }
}

TEST(CliScore, LogProbsMatchTransformers) {
  tuna::SafetensorsFile io = tuna::SafetensorsFile::open(kModels + "/llama/io.safetensors");
  tuna::Tensor ids = io.tensor("input_ids_single");
  tuna::Tensor golden = io.tensor("logits_single");
  const int64_t T = ids.dim(1), V = golden.dim(2);
  fs::path dir = temp_dir("tuna_cli_score");
  {
    std::ofstream f(dir / "ids.txt");
    for (int64_t t = 0; t < T; ++t) f << ids.data<int64_t>()[t] << (t + 1 < T ? " " : "\n");
  }
  CliRun r = run("score --model " + kModels + "/llama --ids " + (dir / "ids.txt").string() +
                 " --out " + (dir / "score.json").string());
  ASSERT_EQ(r.status, 0) << r.err;
  std::ifstream in(dir / "score.json");
  nlohmann::json j = nlohmann::json::parse(in);
  ASSERT_EQ(j["n_tokens"].get<int64_t>(), T);
  ASSERT_EQ(j["n_scored"].get<int64_t>(), T - 1);
  EXPECT_TRUE(j["tokens"][0]["logprob"].is_null());
  double nll = 0.0;
  for (int64_t t = 0; t + 1 < T; ++t) {
    const float* row = golden.data<float>() + t * V;
    double mx = row[0];
    int64_t argmax = 0;
    for (int64_t v = 1; v < V; ++v)
      if (row[v] > mx) mx = row[v], argmax = v;
    double sum = 0.0;
    for (int64_t v = 0; v < V; ++v) sum += std::exp(row[v] - mx);
    const int64_t target = ids.data<int64_t>()[t + 1];
    const double ref = row[target] - mx - std::log(sum);
    const auto& tok = j["tokens"][static_cast<size_t>(t + 1)];
    EXPECT_EQ(tok["id"].get<int64_t>(), target);
    EXPECT_NEAR(tok["logprob"].get<double>(), ref, 1e-4) << "position " << t + 1;
    ASSERT_EQ(tok["top"].size(), 5u);
    EXPECT_EQ(tok["top"][0][0].get<int64_t>(), argmax);
    nll -= ref;
  }
  EXPECT_NEAR(j["nll_sum"].get<double>(), nll, 1e-3);
  EXPECT_NEAR(j["perplexity"].get<double>(), std::exp(nll / static_cast<double>(T - 1)), 1e-3);
}

TEST(CliScore, SeveralSequencesAndJsonArray) {
  fs::path dir = temp_dir("tuna_cli_multi");
  std::ofstream(dir / "ids.txt") << "5 6 7 8 9\n10 11 12\n";
  std::ofstream(dir / "one.json") << "[5, 6, 7, 8, 9]";
  CliRun multi = run("score --model " + kModels + "/gemma3 --ids " + (dir / "ids.txt").string());
  ASSERT_EQ(multi.status, 0) << multi.err;
  CliRun one = run("score --model " + kModels + "/gemma3 --ids " + (dir / "one.json").string());
  ASSERT_EQ(one.status, 0) << one.err;
  nlohmann::json m = nlohmann::json::parse(multi.out), o = nlohmann::json::parse(one.out);
  ASSERT_EQ(m["sequences"].size(), 2u);
  EXPECT_EQ(m["n_scored"].get<int64_t>(), 4 + 2);
  // Scoring a sequence inside a right-padded batch gives what scoring it alone gives.
  EXPECT_NEAR(m["sequences"][0]["nll_sum"].get<double>(), o["nll_sum"].get<double>(), 1e-5);
}

// --- the real Gemma 3 270M GGUF (scripts/setup.sh fetches it into models/) --------------------

const std::string kGguf = std::string(TUNA_GOLDEN_DIR) + "/../../models/gemma-3-270m-q4_k_m.gguf";

void require_real_model() {
  ASSERT_TRUE(fs::exists(kGguf)) << kGguf << " is missing: run scripts/setup.sh";
}

TEST(CliGguf, InfoOnTheRealModel) {
  require_real_model();
  CliRun r = run("info " + kGguf);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("268,098,176"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Gemma3ForCausalLM"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("SSSSSGSSSSSGSSSSSG"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Q4_K ×27"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("MOSTLY_Q4_K_M"), std::string::npos) << r.out;
  CliRun j = run("info --json " + kGguf);
  ASSERT_EQ(j.status, 0) << j.err;
  nlohmann::json info = nlohmann::json::parse(j.out);
  EXPECT_EQ(info["parameters"].get<int64_t>(), 268098176);
  EXPECT_EQ(info["format"], "gguf");
  EXPECT_EQ(info["tensor_types"]["Q5_0"].get<int64_t>(), 81);
}

TEST(CliGguf, TokenizeAndScoreTextWithTheGgufVocabulary) {
  require_real_model();
  // HF ids of the same text (Gemma 3 tokenizer.json; examples/quickstart_ids.txt).
  std::ifstream in(std::string(TUNA_GOLDEN_DIR) + "/../../examples/quickstart_ids.txt");
  std::string expected;
  std::getline(in, expected);
  const std::string text =
      "The quick brown fox jumps over the lazy dog. 대한민국의 수도는 서울입니다. Machine learning "
      "models are "
      "trained on large datasets.";
  CliRun r = run("tokenize --ids --model " + kGguf + " '" + text + "'");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, expected + "\n");
  CliRun by_text = run("score --model " + kGguf + " --text '" + text + "'");
  ASSERT_EQ(by_text.status, 0) << by_text.err;
  nlohmann::json t = nlohmann::json::parse(by_text.out);
  EXPECT_EQ(t["tokens"][1]["piece"], "The");
  EXPECT_GT(t["perplexity"].get<double>(), 1.0);
}

// Writes a copy of the first `keep` bytes of the real GGUF with `patch` applied at `at`.
fs::path corrupt_copy(const std::string& name, size_t keep, size_t at, const std::string& patch) {
  std::ifstream in(kGguf, std::ios::binary);
  std::string bytes(keep, '\0');
  in.read(bytes.data(), static_cast<std::streamsize>(keep));
  bytes.resize(static_cast<size_t>(in.gcount()));
  if (!patch.empty()) bytes.replace(at, patch.size(), patch);
  fs::path p = temp_dir("tuna_cli_gguf") / name;
  std::ofstream(p, std::ios::binary) << bytes;
  return p;
}

TEST(CliGguf, CorruptFilesGiveClearErrors) {
  require_real_model();
  const size_t full = fs::file_size(kGguf);
  expect_user_error(run("info " + corrupt_copy("truncated.gguf", full / 3, 0, "").string()),
                    "truncated.gguf");
  expect_user_error(run("info " + corrupt_copy("header.gguf", 4096, 0, "").string()),
                    "header.gguf");
  expect_user_error(run("info " + corrupt_copy("magic.gguf", 1 << 20, 0, "GGUX").string()),
                    "magic.gguf");
  expect_user_error(
      run("info " +
          corrupt_copy("version.gguf", 1 << 20, 4, std::string("\x63\0\0\0", 4)).string()),
      "version");
}

// --- tokenizer: a tiny model directory carrying the real Gemma 3 tokenizer ---------------------

fs::path model_with_gemma_tokenizer(const std::string& name) {
  fs::path dir = temp_dir(name);  // one directory per test: ctest runs tests in parallel
  for (const char* f : {"config.json", "model.safetensors"})
    fs::copy_file(kModels + "/gemma3/" + f, dir / f);
  const std::string tok = std::string(TUNA_GOLDEN_DIR) + "/tokenizer/gemma3/";
  EXPECT_EQ(
      std::system(
          ("gzip -dc " + tok + "tokenizer.json.gz > " + (dir / "tokenizer.json").string()).c_str()),
      0);
  EXPECT_EQ(std::system(("gzip -dc " + tok + "tokenizer_config.json.gz > " +
                         (dir / "tokenizer_config.json").string())
                            .c_str()),
            0);
  return dir;
}

TEST(CliTokenize, IdsMatchHuggingFace) {
  fs::path dir = model_with_gemma_tokenizer("tuna_cli_tok_ids");
  // Golden ids from transformers (tests/golden/tokenizer/gemma3/encode.jsonl.gz record 6).
  CliRun r = run("tokenize --model " + dir.string() + " --ids '안녕하세요'");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "2 61659\n");
  r = run("tokenize --model " + dir.string() + " --ids --no-special '안녕하세요'");
  EXPECT_EQ(r.out, "61659\n");
  r = run("tokenize --model " + dir.string() + " 'Hello <start_of_turn>'");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("<bos>  [special]"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("<start_of_turn>  [special]"), std::string::npos) << r.out;
}

// --- template: the rendered prompt equals transformers' apply_chat_template ------------------

std::string tuna_test_read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

fs::path write_text(const fs::path& dir, const std::string& name, const std::string& text) {
  std::ofstream(dir / name, std::ios::binary) << text;
  return dir / name;
}

// transformers 4.57.6: PreTrainedTokenizerFast(Gemma 3 tokenizer files).apply_chat_template(
// conv, tokenize=False, add_generation_prompt=True); tokenize=True gives 22 ids.
const char* kConversation =
    R"([{"role": "system", "content": "Be brief."}, {"role": "user", "content": "안녕? 서울 날씨 어때?"}])";
const char* kRendered =
    "<bos><start_of_turn>user\nBe brief.\n\n안녕? 서울 날씨 "
    "어때?<end_of_turn>\n<start_of_turn>model\n";

TEST(CliTemplate, RendersLikeTransformers) {
  fs::path dir = model_with_gemma_tokenizer("tuna_cli_template");
  fs::path conv = write_text(dir, "conv.json", kConversation);
  CliRun r = run("template --model " + dir.string() + " --messages " + conv.string() +
                 " --add-generation-prompt --raw");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, kRendered);
  r = run("template --model " + dir.string() + " --messages " + conv.string() +
          " --add-generation-prompt");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, std::string(kRendered) +
                       "---\n22 tokens (encoded without adding special "
                       "tokens, as apply_chat_template does)\n");
  // Without the generation prompt the last turn closes; --ids lists the tokens.
  r = run("template --model " + dir.string() + " --messages " + conv.string() + " --ids");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("<end_of_turn>\n---\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("   105  <start_of_turn>  [special]"), std::string::npos) << r.out;
}

TEST(CliTemplate, GgufWithoutTemplateUsesTheFamilyTemplate) {
  require_real_model();
  fs::path dir = temp_dir("tuna_cli_template_gguf");
  fs::path conv = write_text(dir, "conv.json", kConversation);
  CliRun r = run("template --model " + kGguf + " --messages " + conv.string() +
                 " --add-generation-prompt --raw");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, kRendered);
  EXPECT_NE(r.err.find("built-in 'gemma3' template"), std::string::npos) << r.err;
}

TEST(CliTemplate, ObjectInputVariablesAndBuiltinTemplates) {
  fs::path dir = model_with_gemma_tokenizer("tuna_cli_template_vars");
  fs::path conv =
      write_text(dir, "conv.json",
                 R"({"messages": [{"role": "user", "content": "hi"}], "enable_thinking": true})");
  // Qwen3's template with enable_thinking false adds an empty think block.
  CliRun r = run("template --model " + dir.string() + " --messages " + conv.string() +
                 " --template qwen3 --add-generation-prompt --var enable_thinking=false --raw");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out,
            "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n");
  r = run("template --model " + dir.string() + " --messages " + conv.string() +
          " --template qwen3 --add-generation-prompt --raw");
  EXPECT_EQ(r.out, "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n");
  fs::path custom = write_text(dir, "custom.jinja",
                               "{% for m in messages %}[{{ m.role }}] {{ m.content }}{% endfor %}");
  r = run("template --model " + dir.string() + " --messages " + conv.string() + " --template " +
          custom.string() + " --raw");
  EXPECT_EQ(r.out, "[user] hi");
}

TEST(CliTemplate, BadInputGivesClearErrors) {
  fs::path dir = model_with_gemma_tokenizer("tuna_cli_template_errors");
  const std::string base = "template --model " + dir.string() + " --messages ";
  expect_user_error(run(base + write_text(dir, "bad.json", "[\n{\"role\": \"user\",}\n]").string()),
                    "bad.json line 2, column");
  expect_user_error(run(base + write_text(dir, "norole.json", R"([{"content": "x"}])").string()),
                    "message 0 has no \"role\"");
  // Gemma's template refuses two user turns in a row, with its own message.
  expect_user_error(
      run(base +
          write_text(dir, "twice.json",
                     R"([{"role": "user", "content": "a"}, {"role": "user", "content": "b"}])")
              .string()),
      "Conversation roles must alternate user/assistant/user/assistant/...");
  fs::path conv = write_text(dir, "ok.json", kConversation);
  expect_user_error(run(base + conv.string() + " --template nosuch"), "gemma3, llama3, qwen3");
  expect_user_error(
      run(base + conv.string() + " --template " +
          write_text(dir, "syntax.jinja", "line one\n{% if x %}\n{% endfor %}").string()),
      "line 3, column 4");
}

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
        "dataset=" + (root / "examples" / "data").string() + "/$(grep -o 'data/[a-z0-9_]*.jsonl' " +
        e.path().string() + " | head -1 | cut -d/ -f2) output_dir=" + (out / "run").string());
    EXPECT_EQ(r.status, 0) << e.path() << "\n" << r.err;
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

TEST(CliScore, TextIdsOutsideTheModelVocabularyAreAClearError) {
  // The tiny model has 256 embedding rows; the Gemma tokenizer produces larger ids.
  fs::path dir = model_with_gemma_tokenizer("tuna_cli_tok_score");
  expect_user_error(run("score --model " + dir.string() + " --text '안녕하세요'"), "61659");
}

TEST(CliErrors, MissingModel) {
  expect_user_error(run("info /nonexistent/model"), "/nonexistent/model");
}

TEST(CliErrors, UnsupportedArchitecture) {
  fs::path dir = temp_dir("tuna_cli_falcon");
  std::ofstream(dir / "config.json")
      << R"({"architectures": ["FalconForCausalLM"], "hidden_size": 8})";
  expect_user_error(run("info " + dir.string()), "FalconForCausalLM");
}

TEST(CliErrors, TruncatedWeights) {
  fs::path dir = temp_dir("tuna_cli_truncated");
  fs::copy_file(kModels + "/gemma3/config.json", dir / "config.json");
  fs::copy_file(kModels + "/gemma3/model.safetensors", dir / "model.safetensors");
  fs::resize_file(dir / "model.safetensors", fs::file_size(dir / "model.safetensors") / 2);
  CliRun r = run("info " + dir.string());
  expect_user_error(r, "model.safetensors");
}

TEST(CliErrors, ConfigDoesNotMatchWeights) {
  fs::path dir = temp_dir("tuna_cli_mismatch");
  std::ifstream in(kModels + "/gemma3/config.json");
  nlohmann::json c = nlohmann::json::parse(in);
  c["intermediate_size"] = 96;
  std::ofstream(dir / "config.json") << c.dump();
  fs::copy_file(kModels + "/gemma3/model.safetensors", dir / "model.safetensors");
  expect_user_error(run("info " + dir.string()), "mlp.gate_proj.weight");
}

TEST(CliErrors, BadIdsFile) {
  fs::path dir = temp_dir("tuna_cli_badids");
  std::ofstream(dir / "ids.txt") << "1 2 3\n4 x 6\n";
  expect_user_error(run("score --model " + kModels + "/gemma3 --ids " + (dir / "ids.txt").string()),
                    "ids.txt:2");
  std::ofstream(dir / "big.txt") << "1 2 300\n";
  expect_user_error(run("score --model " + kModels + "/gemma3 --ids " + (dir / "big.txt").string()),
                    "300");
}

TEST(CliErrors, TextNeedsTokenizer) {
  // The tiny golden models ship no tokenizer.json.
  expect_user_error(run("score --model " + kModels + "/gemma3 --text hello"), "no tokenizer.json");
}

TEST(CliErrors, UnknownOption) {
  CliRun r = run("info --bogus " + kModels + "/gemma3");
  EXPECT_EQ(r.status, 2);
}

}  // namespace

// --- generate: greedy decoding on the real Gemma 3 270M ------------------------------------------

TEST(CliGenerate, GreedyOnTheRealModelIsDeterministic) {
  require_real_model();
  const std::string cmd =
      "generate --model " + kGguf + " --prompt 'The capital of France is' --max-new-tokens 8";
  CliRun a = run(cmd), b = run(cmd);
  ASSERT_EQ(a.status, 0) << a.err;
  EXPECT_EQ(a.out, b.out);
  EXPECT_GT(a.out.size(), 1u);
  EXPECT_NE(a.err.find("8 generated tokens"), std::string::npos) << a.err;
  // A chat conversation through the built-in Gemma template, and the alpaca format.
  fs::path dir = temp_dir("tuna_cli_generate");
  fs::path conv = write_text(dir, "conv.json", R"([{"role": "user", "content": "Hi!"}])");
  CliRun c =
      run("generate --model " + kGguf + " --messages " + conv.string() + " --max-new-tokens 4");
  ASSERT_EQ(c.status, 0) << c.err;
  CliRun d = run("generate --model " + kGguf +
                 " --prompt 'Name a colour.' --template alpaca --max-new-tokens 4 "
                 "--temperature 0.8 --top-p 0.9 --seed 5");
  ASSERT_EQ(d.status, 0) << d.err;
  // Interactive (no --prompt / --messages): one turn per stdin line, the conversation kept
  // (the second prompt holds the first exchange, most of it from the KV cache the first turn
  // left), /reset starting over with an empty cache (the third reply is the first again, and
  // the first is the --messages run's).
  fs::path turns = write_text(dir, "turns.txt", "Hi!\nWhat is 2+2?\n/reset\nHi!\n");
  CliRun e = run("generate --model " + kGguf + " --max-new-tokens 4 < " + turns.string());
  ASSERT_EQ(e.status, 0) << e.err;
  std::vector<int> prompts;
  for (size_t at = e.err.find('['); at != std::string::npos; at = e.err.find('[', at + 1))
    prompts.push_back(std::atoi(e.err.c_str() + at + 1));
  ASSERT_EQ(prompts.size(), 3u) << e.err;
  EXPECT_GT(prompts[1], prompts[0] + 4) << e.err;
  EXPECT_EQ(prompts[2], prompts[0]) << e.err;
  const size_t cached = e.err.find(" cached from the last turn)");
  ASSERT_NE(cached, std::string::npos) << e.err;
  EXPECT_EQ(e.err.find(" cached from the last turn)", cached + 1), std::string::npos)
      << "only the second turn reuses the cache (/reset empties it)\n"
      << e.err;
  EXPECT_GE(std::atoi(e.err.c_str() + e.err.rfind('(', cached) + 1), prompts[0]) << e.err;
  EXPECT_EQ(e.out.substr(0, c.out.size()), c.out);
  EXPECT_EQ(e.out.substr(e.out.size() - c.out.size()), c.out);
}

TEST(CliGenerate, CompareBaseWithAnAdapter) {
  require_real_model();
  fs::path dir = temp_dir("tuna_cli_generate_adapter");
  {
    const tuna::Model model = tuna::Model::load(kGguf);
    tuna::LoraConfig cfg = tuna::lora_config_from_json(
        {{"r", 4}, {"lora_alpha", 8}, {"target_modules", {"q_proj", "v_proj"}}}, "test");
    tuna::LoraSet lora = tuna::create_lora(model, cfg);
    for (tuna::LoraAdapter& a : lora.adapters)
      for (int64_t e = 0; e < a.b.numel(); ++e)
        a.b.data_mut<float>()[e] = std::sin(static_cast<float>(e));
    tuna::save_peft_adapter((dir / "adapter").string(), lora, model);
  }
  const std::string base =
      "generate --model " + kGguf + " --prompt 'The capital of France is' --max-new-tokens 6";
  CliRun plain = run(base);
  ASSERT_EQ(plain.status, 0) << plain.err;
  CliRun r = run(base + " --adapter " + (dir / "adapter").string() + " --compare-base");
  ASSERT_EQ(r.status, 0) << r.err;
  const size_t a = r.out.find("=== adapter (");
  ASSERT_EQ(r.out.rfind("=== base ===\n", 0), 0u) << r.out;
  ASSERT_NE(a, std::string::npos) << r.out;
  EXPECT_EQ(r.out.substr(13, a - 13), plain.out);
  EXPECT_NE(r.out.substr(a), "=== adapter (" + (dir / "adapter").string() + ") ===\n" + plain.out)
      << "the adapter changed nothing";
  // Applied on the fly instead of merged: the same greedy answer.
  CliRun on_the_fly = run(base + " --adapter " + (dir / "adapter").string() + " --no-merge");
  ASSERT_EQ(on_the_fly.status, 0) << on_the_fly.err;
  EXPECT_EQ("=== adapter (" + (dir / "adapter").string() + ") ===\n" + on_the_fly.out,
            r.out.substr(a));
}

TEST(CliGenerate, BadInputIsAUserError) {
  fs::path dir = model_with_gemma_tokenizer("tuna_cli_generate_errors");
  const std::string m = "generate --model " + dir.string() + " ";
  expect_user_error(run(m + "--prompt x --temperature -1"), "--temperature");
  expect_user_error(run(m + "--prompt x --top-p 0"), "--top-p");
  expect_user_error(run(m + "--prompt x --max-new-tokens 0"), "--max-new-tokens");
  expect_user_error(run(m + "--prompt x --compare-base"), "--adapter");
  expect_user_error(run(m + "--prompt x --no-merge"), "--adapter");
  expect_user_error(run(m + "--prompt x --template chatml"), "alpaca");
  expect_user_error(run(m + "--messages " + (dir / "missing.json").string()), "missing.json");
  // Without --prompt / --messages generate chats over stdin, where --compare-base has nothing
  // to compare on.
  expect_user_error(run(m + "--compare-base --adapter " + (dir / "nope").string() + " < /dev/null"),
                    "--compare-base needs --prompt or --messages");
  expect_user_error(run(m + "--prompt x --adapter " + (dir / "nope").string()), "nope");
  EXPECT_EQ(run(m + "--prompt x --top-k abc").status, 2);
}

// --- help texts, threads, adapters against their base, generation statistics (issue 15) --------

namespace {

// The tiny golden llama with a small byte-level BPE tokenizer: `generate --prompt x` runs on it
// (single bytes have ids below its 256-row vocabulary).
fs::path tiny_model_with_tokenizer(const std::string& name) {
  fs::path dir = temp_dir(name);
  for (const char* f : {"config.json", "model.safetensors"})
    fs::copy_file(kModels + "/llama/" + f, dir / f);
  const std::string tok = std::string(TUNA_GOLDEN_DIR) + "/tokenizer/gpt2_style/tokenizer.json.gz";
  EXPECT_EQ(std::system(("gzip -dc " + tok + " > " + (dir / "tokenizer.json").string()).c_str()),
            0);
  return dir;
}

// A rank-4 q_proj/v_proj adapter for the model in `model_dir`, saved to `adapter_dir` with
// base_model_name_or_path `base`.
void save_tiny_adapter(const fs::path& model_dir, const fs::path& adapter_dir,
                       const std::string& base) {
  const tuna::Model model = tuna::Model::load(model_dir.string());
  tuna::LoraConfig cfg = tuna::lora_config_from_json(
      {{"r", 4}, {"lora_alpha", 8}, {"target_modules", {"q_proj", "v_proj"}}}, "test");
  tuna::save_peft_adapter(adapter_dir.string(), tuna::create_lora(model, cfg, base), model);
}

// run(args) with the variable `name` set to `value` (restored afterwards).
CliRun run_with_env(const std::string& name, const std::string& value, const std::string& args) {
  const char* old = std::getenv(name.c_str());
  const std::optional<std::string> saved = old ? std::optional<std::string>(old) : std::nullopt;
  setenv(name.c_str(), value.c_str(), 1);
  CliRun r = run(args);
  if (saved)
    setenv(name.c_str(), saved->c_str(), 1);
  else
    unsetenv(name.c_str());
  return r;
}

}  // namespace

TEST(CliHelp, TextsSayWhatTheCommandsDo) {
  CliRun top = run("--help");
  EXPECT_NE(top.out.find("LoRA, QLoRA or full"), std::string::npos) << top.out;
  EXPECT_EQ(top.out.find("LoRA / QLoRA fine-tuning"), std::string::npos) << top.out;
  for (const char* cmd : {"info", "score", "generate", "tokenize", "template"}) {
    CliRun r = run(std::string(cmd) + " --help");
    EXPECT_EQ(r.status, 0) << cmd;
    EXPECT_NE(r.out.find("GGUF file"), std::string::npos) << cmd << ": " << r.out;
  }
  // generate: --prompt-format wraps the prompt; --template (a chat template in `tuna template`)
  // is not shown; without --temperature decoding is greedy.
  CliRun g = run("generate --help");
  EXPECT_NE(g.out.find("--prompt-format"), std::string::npos) << g.out;
  EXPECT_EQ(g.out.find("--template"), std::string::npos) << g.out;
  EXPECT_NE(g.out.find("Without it decoding is greedy"), std::string::npos) << g.out;
  EXPECT_EQ(g.out.find("(default 1)"), std::string::npos) << g.out;
  EXPECT_NE(run("template --help").out.find("--template"), std::string::npos);
}

TEST(CliThreads, ZeroAndTheEnvironmentAreValidCounts) {
  const std::string info = "info " + kModels + "/llama";
  EXPECT_EQ(run("-t 0 " + info).status, 0);
  EXPECT_EQ(run("-t 1 " + info).status, 0);
  EXPECT_EQ(run("--threads 2 " + info).status, 0);
  EXPECT_EQ(run_with_env("TUNA_NUM_THREADS", "0", info).status, 0);
  EXPECT_EQ(run_with_env("TUNA_NUM_THREADS", "", info).status, 0);
  EXPECT_EQ(run_with_env("TUNA_NUM_THREADS", "3", info).status, 0);
  EXPECT_EQ(run_with_env("OMP_NUM_THREADS", "2", info).status, 0);
  EXPECT_EQ(run_with_env("OMP_NUM_THREADS", "2,1", info).status, 0);
  // OpenMP itself complains about a bad OMP_NUM_THREADS before tuna starts (a line of its own);
  // tuna's one-line error comes last and names the variable.
  CliRun bad = run_with_env("OMP_NUM_THREADS", "lots", info);
  EXPECT_EQ(bad.status, 2) << bad.err;
  const std::string last = bad.err.substr(bad.err.rfind("error: "));
  EXPECT_EQ(last.rfind("error: [threads] $OMP_NUM_THREADS='lots'", 0), 0u) << bad.err;
  EXPECT_NE(last.find("(hint: "), std::string::npos) << bad.err;
}

TEST(CliGenerate, AdapterForAnotherBaseNameWarnsWhenEveryShapeFits) {
  const fs::path dir = tiny_model_with_tokenizer("tuna_cli_adapter_base");
  const std::string gen = "generate --model " + dir.string() + " --prompt x --max-new-tokens 2 ";
  save_tiny_adapter(dir, dir / "same", dir.string());
  CliRun same = run(gen + "--adapter " + (dir / "same").string());
  ASSERT_EQ(same.status, 0) << same.err;
  EXPECT_EQ(same.err.find("base_model_name_or_path"), std::string::npos) << same.err;
  save_tiny_adapter(dir, dir / "other", "someone/other-model");
  CliRun other = run(gen + "--adapter " + (dir / "other").string());
  ASSERT_EQ(other.status, 0) << other.err;
  const size_t at = other.err.find("base_model_name_or_path 'someone/other-model' is not the base");
  ASSERT_NE(at, std::string::npos) << other.err;
  EXPECT_NE(other.err.find((dir / "other" / "adapter_config.json").string()), std::string::npos);
  EXPECT_EQ(other.err.find("base_model_name_or_path", at + 1), std::string::npos)
      << "one warning line\n"
      << other.err;
  // A damaged adapter is refused, whatever its name says.
  save_tiny_adapter(dir, dir / "q_only", dir.string());
  fs::path st = dir / "q_only" / "adapter_model.safetensors";
  fs::resize_file(st, fs::file_size(st) - 16);
  expect_user_error(run(gen + "--adapter " + (dir / "q_only").string()),
                    "adapter_model.safetensors");
}

TEST(CliGenerate, StatisticsShowPrefillAndGenerationRatesApart) {
  require_real_model();
  std::string words;  // > kPrefillChunk (256) tokens: prefilled in chunks
  for (int i = 0; i < 48; ++i) words += "the cat sat on a mat ";
  fs::path dir = temp_dir("tuna_cli_generate_rates");
  write_text(dir, "prompt.txt", words);
  CliRun r = run("generate --model " + kGguf + " --prompt \"$(cat " +
                 (dir / "prompt.txt").string() + ")\" --max-new-tokens 2");
  ASSERT_EQ(r.status, 0) << r.err;
  const size_t stats = r.err.find(" generated tokens, stop: length; prefill ");
  ASSERT_NE(stats, std::string::npos) << r.err;
  EXPECT_NE(r.err.find(" tokens/s, generation ", stats), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find(" 0.0 tokens/s"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("prefill - tokens/s"), std::string::npos) << r.err;
  // Progress, when the prefill took long enough to show any, ends at 100%.
  const size_t progress = r.err.rfind("prefill: ");
  if (progress != std::string::npos) {
    EXPECT_NE(r.err.find("(100%)", progress), std::string::npos) << r.err;
  }
}
