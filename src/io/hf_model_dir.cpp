// Model directory / HF cache resolution. See hf_model_dir.h.
#include "io/hf_model_dir.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "core/error.h"

namespace fs = std::filesystem;

namespace tuna {

std::vector<std::string> hf_cache_roots() {
  std::vector<std::string> roots;
  if (const char* c = std::getenv("HF_HUB_CACHE"); c != nullptr && *c) roots.emplace_back(c);
  if (const char* h = std::getenv("HF_HOME"); h != nullptr && *h)
    roots.push_back(std::string(h) + "/hub");
  if (const char* home = std::getenv("HOME"); home != nullptr && *home)
    roots.push_back(std::string(home) + "/.cache/huggingface/hub");
  return roots;
}

static std::string read_first_line(const fs::path& p) {
  std::ifstream in(p);
  std::string line;
  std::getline(in, line);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r' || line.back() == ' '))
    line.pop_back();
  return line;
}

bool has_gguf_extension(const std::string& path) {
  return path.size() > 5 && path.compare(path.size() - 5, 5, ".gguf") == 0;
}

std::string resolve_model_dir(const std::string& arg) {
  std::error_code ec;
  if (fs::is_directory(arg, ec)) {
    if (!fs::exists(fs::path(arg) / "config.json", ec)) {
      throw_user_error("model", "no config.json in " + arg,
                       "pass a Hugging Face model directory (config.json + *.safetensors)");
    }
    return arg;
  }
  if (fs::exists(arg, ec)) {
    throw_user_error("model", arg + " is a file, not a model directory",
                     "pass a Hugging Face model directory or a .gguf file");
  }
  const bool looks_like_path = arg.empty() || arg[0] == '/' || arg[0] == '.' || arg[0] == '~' ||
                               std::count(arg.begin(), arg.end(), '/') > 1;
  if (has_gguf_extension(arg))
    throw_user_error("model", "no such file: " + arg, "check the path of the GGUF file");
  if (looks_like_path) {
    throw_user_error("model", "no such model directory: " + arg,
                     "check the path; a model is a directory with config.json and *.safetensors");
  }
  // A repo id: ORG/NAME (or NAME) → models--ORG--NAME in the hub cache.
  std::string repo_dir = "models--";
  for (char c : arg) repo_dir += c == '/' ? std::string("--") : std::string(1, c);
  std::string searched;
  for (const std::string& root : hf_cache_roots()) {
    fs::path base = fs::path(root) / repo_dir;
    searched += (searched.empty() ? " " : ", ") + base.string();
    if (!fs::is_directory(base / "snapshots", ec)) continue;
    std::string rev =
        fs::exists(base / "refs" / "main") ? read_first_line(base / "refs" / "main") : "";
    if (!rev.empty() && fs::exists(base / "snapshots" / rev / "config.json")) {
      return (base / "snapshots" / rev).string();
    }
    // No refs/main: take the most recently modified snapshot holding a config.json.
    fs::path best;
    fs::file_time_type best_time{};
    for (auto it = fs::directory_iterator(base / "snapshots", ec);
         !ec && it != fs::directory_iterator(); it.increment(ec)) {
      const auto& e = *it;
      if (!fs::exists(e.path() / "config.json", ec)) continue;
      auto t = fs::last_write_time(e.path(), ec);
      if (best.empty() || t > best_time) {
        best = e.path();
        best_time = t;
      }
    }
    if (!best.empty()) return best.string();
  }
  // A cache variable that points nowhere is the likelier mistake: say so.
  std::string nowhere;
  for (const char* var : {"HF_HUB_CACHE", "HF_HOME"})
    if (const char* v = std::getenv(var); v != nullptr && *v && !fs::is_directory(v, ec))
      nowhere += std::string("; $") + var + "=" + v + " is not a directory";
  throw_user_error(
      "model",
      "model '" + arg + "' is neither a directory nor in the local Hugging Face cache; searched:" +
          searched + nowhere,
      nowhere.empty()
          ? "pass a model directory, or download it first (e.g. `huggingface-cli download " + arg +
                "`)"
          : "point the variable at your Hugging Face cache (or unset it), or pass a model "
            "directory");
}

}  // namespace tuna
