// What the CLI tests share: running the `tuna` binary and capturing its output, the one-line
// user-error check, and the model directories the tests build (the tiny golden models with a
// real tokenizer, the real Gemma 3 270M GGUF). Header-only; each test file includes it.
#pragma once

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>

#include "lora/adapter_io.h"
#include "lora/config.h"
#include "lora/targets.h"
#include "model/model.h"

namespace tuna_cli_test {

namespace fs = std::filesystem;
inline const std::string kTuna = std::string(TUNA_BIN_DIR) + "/tuna";
inline const std::string kModels = std::string(TUNA_GOLDEN_DIR) + "/models";

struct CliRun {
  int status = -1;
  std::string out, err;
};

// Runs tuna with `args` (shell-quoted by the caller), capturing stdout and stderr.
inline CliRun run(const std::string& args) {
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

inline fs::path temp_dir(const std::string& name) {
  fs::path d = fs::path(::testing::TempDir()) / name;
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

// `err` without the progress lines of slow work (cli/progress.h: "loading M (1 s)" after a
// second without output, e.g. a model load on a busy machine): they are not the error, and
// whether one appears depends on the machine's load.
inline std::string without_progress(const std::string& err) {
  std::string out;
  size_t at = 0;
  while (at < err.size()) {
    size_t end = err.find('\n', at);
    end = end == std::string::npos ? err.size() : end + 1;
    const std::string line = err.substr(at, end - at);
    const size_t open = line.rfind(" (");
    const size_t secs = open == std::string::npos ? open : line.find(" s)", open);
    const bool progress = line.rfind("error: ", 0) != 0 && secs != std::string::npos &&
                          secs > open + 2 &&
                          line.find_first_not_of("0123456789", open + 2) == secs;
    if (!progress) out += line;
    at = end;
  }
  return out;
}

// A user error: exit 2, one line on stderr, "error: [component] ... (hint: ...)".
inline void expect_user_error(const CliRun& run_result, const std::string& fragment) {
  CliRun r = run_result;
  r.err = without_progress(r.err);
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_EQ(r.err.rfind("error: [", 0), 0u) << r.err;
  EXPECT_NE(r.err.find("(hint: "), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_NE(r.err.find(fragment), std::string::npos) << r.err;
}

// The real Gemma 3 270M GGUF (scripts/setup.sh fetches it into models/).

inline const std::string kGguf = std::string(TUNA_GOLDEN_DIR) + "/../../models/gemma-3-270m-q4_k_m.gguf";

inline void require_real_model() {
  ASSERT_TRUE(fs::exists(kGguf)) << kGguf << " is missing: run scripts/setup.sh";
}

// A tiny model directory carrying the real Gemma 3 tokenizer.

inline fs::path model_with_gemma_tokenizer(const std::string& name) {
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


inline std::string tuna_test_read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

inline fs::path write_text(const fs::path& dir, const std::string& name, const std::string& text) {
  std::ofstream(dir / name, std::ios::binary) << text;
  return dir / name;
}

// The tiny golden llama with a small byte-level BPE tokenizer: `generate --prompt x` runs on it
// (single bytes have ids below its 256-row vocabulary).
inline fs::path tiny_model_with_tokenizer(const std::string& name) {
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
inline void save_tiny_adapter(const fs::path& model_dir, const fs::path& adapter_dir,
                       const std::string& base) {
  const tuna::Model model = tuna::Model::load(model_dir.string());
  tuna::LoraConfig cfg = tuna::lora_config_from_json(
      {{"r", 4}, {"lora_alpha", 8}, {"target_modules", {"q_proj", "v_proj"}}}, "test");
  tuna::save_peft_adapter(adapter_dir.string(), tuna::create_lora(model, cfg, base), model);
}

// run(args) with the variable `name` set to `value` (restored afterwards).
inline CliRun run_with_env(const std::string& name, const std::string& value, const std::string& args) {
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


}  // namespace tuna_cli_test
