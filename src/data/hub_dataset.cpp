// Hub dataset ids in the local HF cache (see hub_dataset.h).
#include "data/hub_dataset.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <vector>

#include "core/error.h"
#include "data/records.h"
#include "io/hf_model_dir.h"

namespace fs = std::filesystem;

namespace tuna {
namespace {

bool id_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
}

// OWNER/NAME: one slash, Hub characters only, no file extension tuna reads or Parquet.
bool looks_like_hub_id(const std::string& s) {
  const size_t slash = s.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == s.size() ||
      s.find('/', slash + 1) != std::string::npos || s[0] == '.' || s[slash + 1] == '.')
    return false;
  if (!std::all_of(s.begin(), s.end(), [](char c) { return c == '/' || id_char(c); })) return false;
  const std::string ext = data_file_extension(s);
  return !readable_data_file(s) && ext != "txt" && ext != "parquet";
}

std::string export_hint(const std::string& id, const std::string& key) {
  const bool eval = key == "eval_dataset";
  const std::string split = eval ? "validation" : "train", file = split + ".jsonl";
  return "export it once with Python: python -c \"from datasets import load_dataset; "
         "load_dataset('" +
         id + "', split='" + split + "').to_json('" + file + "', force_ascii=False)\" and set " +
         key + ": " + file;
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// The snapshot directories of the cached dataset: refs/main's first, then the others.
std::vector<fs::path> snapshots(const fs::path& base) {
  std::vector<fs::path> out;
  std::error_code ec;
  std::string rev;
  if (std::ifstream in(base / "refs" / "main"); in) std::getline(in, rev);
  if (!rev.empty() && fs::is_directory(base / "snapshots" / rev, ec))
    out.push_back(base / "snapshots" / rev);
  for (auto it = fs::directory_iterator(base / "snapshots", ec);
       !ec && it != fs::directory_iterator(); it.increment(ec))
    if (it->is_directory(ec) && std::find(out.begin(), out.end(), it->path()) == out.end())
      out.push_back(it->path());
  return out;
}

}  // namespace

std::string resolve_dataset_path(const std::string& path, const std::string& key) {
  std::error_code ec;
  if (fs::exists(path, ec) || !looks_like_hub_id(path)) return path;
  const std::string repo_dir =
      "datasets--" + path.substr(0, path.find('/')) + "--" + path.substr(path.find('/') + 1);
  std::string searched;
  for (const std::string& root : hf_cache_roots()) {
    const fs::path base = fs::path(root) / repo_dir;
    searched += (searched.empty() ? "" : ", ") + base.string();
    if (!fs::is_directory(base / "snapshots", ec)) continue;
    for (const fs::path& snap : snapshots(base)) {
      std::vector<std::string> files, other;  // readable data files; Parquet / Arrow ones
      for (auto it = fs::recursive_directory_iterator(snap, ec);
           !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (!it->is_regular_file(ec)) continue;  // follows the cache's symlinks to blobs
        const std::string rel = fs::relative(it->path(), snap, ec).string();
        const std::string ext = data_file_extension(rel);
        if (readable_data_file(rel)) {
          const std::string l = lower(rel);
          if (l.find("dataset_info") == std::string::npos && !l.starts_with("."))
            files.push_back(rel);
        } else if (ext == "parquet" || ext == "arrow") {
          other.push_back(rel);
        }
      }
      std::sort(files.begin(), files.end());
      if (files.size() == 1) return (snap / files[0]).string();
      // Several: the one of the split (train, or validation/test for eval_dataset).
      std::vector<std::string> split;
      for (const std::string& f : files) {
        const std::string name = lower(fs::path(f).filename().string());
        const bool is_eval =
            name.find("valid") != std::string::npos || name.find("test") != std::string::npos ||
            name.find("eval") != std::string::npos || name.find("dev") != std::string::npos;
        if (key == "eval_dataset" ? is_eval : name.find("train") != std::string::npos)
          split.push_back(f);
      }
      if (split.size() == 1) return (snap / split[0]).string();
      if (!files.empty()) {
        std::string list;
        for (const std::string& f : files) list += (list.empty() ? "" : ", ") + (snap / f).string();
        throw_user_error("data",
                         key + ": the Hugging Face dataset '" + path +
                             "' in the local cache holds several data files: " + list,
                         "set " + key + " to the one to read");
      }
      if (!other.empty())
        throw_user_error("data",
                         key + ": the Hugging Face dataset '" + path +
                             "' in the local cache holds Parquet/Arrow files only (" +
                             (snap / other[0]).string() + "...), which tuna does not read",
                         export_hint(path, key));
    }
  }
  throw_user_error("data",
                   key + ": '" + path +
                       "' looks like a Hugging Face Hub dataset id, not a file: tuna reads local "
                       "JSONL, JSON and CSV files and datasets already in the local Hugging Face "
                       "cache, and downloads nothing (not in the cache: searched " +
                       searched + ")",
                   export_hint(path, key));
}

}  // namespace tuna
