// The `tuna` binary as a user runs it: info and score on a golden model (score's log-probs
// against transformers' logits), tokenize and template against transformers, the real GGUF,
// help texts, thread counts, and bad input → one-line error with a hint and exit status 2.
// Training runs: test_cli_train.cpp; generation: test_cli_generate.cpp.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>

#include "cli/cli_util.h"
#include "io/safetensors.h"

using namespace tuna_cli_test;  // NOLINT(google-build-using-namespace): the shared CLI helpers

namespace {

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

// The tests' own filter: progress lines of slow work go, everything else stays.
TEST(CliErrors, ProgressLinesAreNotPartOfTheError) {
  EXPECT_EQ(without_progress("loading m.gguf (1 s)\nloading m.gguf (5 s)\nerror: [x] a (hint: b)\n"),
            "error: [x] a (hint: b)\n");
  EXPECT_EQ(without_progress("error: [x] waited (3 s)\n"), "error: [x] waited (3 s)\n");
  EXPECT_EQ(without_progress("note: (x s)\nprefill: 10 of 20 tokens (50%)\n"),
            "note: (x s)\nprefill: 10 of 20 tokens (50%)\n");
}

TEST(CliErrors, UnknownOption) {
  CliRun r = run("info --bogus " + kModels + "/gemma3");
  EXPECT_EQ(r.status, 2);
}

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
  // The global options also after the command (as llama.cpp users write them).
  EXPECT_EQ(run(info + " --threads 2").status, 0);
  EXPECT_EQ(run(info + " -t 1 --log warn").status, 0);
  const CliRun misspelt = run(info + " --thread 2");
  EXPECT_EQ(misspelt.status, 2);
  EXPECT_NE(misspelt.err.find("did you mean --threads?"), std::string::npos) << misspelt.err;
  EXPECT_EQ(run(info + " --threads 0.5").status, 2);
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

}  // namespace
