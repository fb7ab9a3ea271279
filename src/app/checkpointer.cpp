// Output directory checks, checkpoint discovery, reading and atomic writing (see checkpointer.h).
#include "app/checkpointer.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "core/file_io.h"

namespace tuna {

namespace fs = std::filesystem;
using ojson = nlohmann::ordered_json;

namespace {

constexpr const char* kResumeHint =
    "point resume_from_checkpoint at an output_dir/checkpoint-N directory, or use latest";

// N of a "checkpoint-N" name; -1 for any other name.
int64_t checkpoint_step(const std::string& name) {
  if (name.rfind("checkpoint-", 0) != 0 || name.size() == 11 || name.size() > 29) return -1;
  int64_t n = 0;
  for (size_t i = 11; i < name.size(); ++i) {
    if (name[i] < '0' || name[i] > '9') return -1;
    n = n * 10 + (name[i] - '0');
  }
  return n;
}

// Why `dir` is not a complete, intact checkpoint; "" when it is. COMPLETE holds the manifest
// {"files": {name: bytes}} (an empty COMPLETE, from older versions, is trusted as it is).
std::string checkpoint_problem(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return "it is a file, not a checkpoint directory";
  if (!fs::exists(dir / "COMPLETE", ec))
    return "it has no COMPLETE marker (its writing was interrupted, or it is no checkpoint)";
  if (!fs::exists(dir / "tuna_state.json", ec)) return "it has no tuna_state.json";
  std::ifstream in(dir / "COMPLETE");
  const std::string text((std::istreambuf_iterator<char>(in)), {});
  if (text.empty()) return "";
  const ojson manifest = ojson::parse(text, nullptr, false);
  if (manifest.is_discarded() || !manifest.contains("files") || !manifest["files"].is_object())
    return "its COMPLETE marker is not a manifest (the checkpoint is damaged)";
  for (const auto& [name, size] : manifest["files"].items()) {
    const auto have = fs::file_size(dir / name, ec);
    if (ec) return name + " is missing (the checkpoint is damaged)";
    if (!size.is_number_unsigned() || have != size.get<uintmax_t>())
      return name + " has " + std::to_string(have) + " bytes, its manifest says " + size.dump() +
             " (the checkpoint is damaged)";
  }
  return "";
}

// The complete checkpoints in `out_dir` with step <= `max_step`, by step.
std::vector<std::pair<int64_t, fs::path>> complete_checkpoints(const std::string& out_dir,
                                                               int64_t max_step) {
  std::vector<std::pair<int64_t, fs::path>> found;
  std::error_code ec;
  for (fs::directory_iterator it(out_dir, ec), end; !ec && it != end; it.increment(ec)) {
    const int64_t step = checkpoint_step(it->path().filename().string());
    if (step >= 0 && step <= max_step && checkpoint_problem(it->path()).empty())
      found.emplace_back(step, it->path());
  }
  std::sort(found.begin(), found.end());
  return found;
}

// Creates and removes a file in `dir`: the errno of the first failure, or 0.
// A unique name (mkstemp), so jobs checking the same directory at once never collide.
int probe_writable(const fs::path& dir) {
  std::string name = (dir / ".tuna-write-probe-XXXXXX").string();
  const int fd = ::mkstemp(name.data());
  if (fd < 0) return errno;
  ::close(fd);
  return ::unlink(name.c_str()) == 0 ? 0 : errno;
}

// Removes `dir` by renaming it to a hidden name first, so a kill halfway through never leaves a
// half-removed directory under a checkpoint's name.
void remove_checkpoint_dir(const fs::path& dir, const std::string& hidden_suffix) {
  const fs::path hidden = dir.parent_path() / ("." + dir.filename().string() + hidden_suffix);
  std::error_code ec;
  fs::remove_all(hidden, ec);
  fs::rename(dir, hidden, ec);
  if (ec) return;
  fsync_directory(dir.parent_path().string());
  fault_point();
  fs::remove_all(hidden, ec);
}

void rename_or_fail(const fs::path& from, const fs::path& to) {
  if (::rename(from.c_str(), to.c_str()) != 0)
    throw_user_error(
        "train",
        "cannot rename " + from.string() + " to " + to.string() + ": " + std::strerror(errno),
        "check that the output directory is writable and has free space");
  fault_point();
}

}  // namespace

std::string check_output_dir(const TrainConfig& cfg) {
  const std::string out = cfg.at("output_dir").get<std::string>();
  if (out.empty())
    throw_user_error("config", "output_dir is empty",
                     "set output_dir to the directory for the adapter and checkpoints");
  std::error_code ec;
  const fs::file_status st = fs::status(out, ec);
  fs::path probe_dir = out;
  if (fs::exists(st) && !fs::is_directory(st))
    throw_user_error("train", "output_dir " + out + " is a file, not a directory",
                     "choose another output_dir, or move the file away");
  if (!fs::exists(st)) {
    fs::path a = fs::absolute(out, ec).parent_path();
    while (!fs::exists(a, ec) && a.has_relative_path()) a = a.parent_path();
    if (!fs::is_directory(a, ec))
      throw_user_error(
          "train",
          "output_dir " + out + " cannot be created: " + a.string() + " is a file, not a directory",
          "choose an output_dir whose parents are directories");
    probe_dir = a;
  }
  if (const int err = probe_writable(probe_dir); err != 0)
    throw_user_error(
        "train",
        "output_dir " + out + " is not writable" +
            (probe_dir == fs::path(out) ? "" : " (its parent " + probe_dir.string() + " is not)") +
            ": " + std::strerror(err),
        err == EROFS ? "the filesystem is read-only: choose another output_dir"
                     : "choose an output_dir you can write to, or fix its permissions");
  const std::string resume = find_resume_checkpoint(cfg, out);
  if (!resume.empty()) read_resume_point(resume);  // its state must be readable
  if (fs::is_directory(st) && !fs::is_empty(out, ec) &&
      !cfg.at("overwrite_output_dir").get<bool>()) {
    const bool resumes_here =
        !resume.empty() && fs::equivalent(fs::path(resume).parent_path(), out, ec);
    if (!resumes_here) {
      std::string names;
      int shown = 0;
      for (fs::directory_iterator it(out, ec), end; !ec && it != end && shown < 3;
           it.increment(ec), ++shown)
        names += (shown ? ", " : "") + it->path().filename().string();
      names = "it holds " + names + (shown == 3 ? ", ..." : "");
      for (const char* finished : {"adapter_model.safetensors", "model.safetensors"})
        if (fs::exists(fs::path(out) / finished, ec))
          names = "it already holds a finished adapter or model: " + std::string(finished);
      throw_user_error("train",
                       "output_dir " + out + " already exists and is not empty (" + names + ")",
                       "set overwrite_output_dir: true to write into it, resume_from_checkpoint: "
                       "latest to continue the run it holds, or choose another output_dir");
    }
  }
  return resume;
}

std::string find_resume_checkpoint(const TrainConfig& cfg, const std::string& out_dir) {
  if (!cfg.at("resume_from_checkpoint").is_string()) return "";
  const std::string named = cfg.at("resume_from_checkpoint").get<std::string>();
  if (named == "latest" || named == "true") {
    const auto found = complete_checkpoints(out_dir, INT64_MAX);
    if (found.empty())
      throw_user_error(
          "train",
          "resume_from_checkpoint: latest, but " + out_dir + " holds no complete checkpoint",
          "train with save_strategy steps/epoch first, or name a checkpoint directory; without "
          "resume_from_checkpoint the run starts afresh");
    return found.back().second.string();
  }
  std::error_code ec;
  if (named.empty()) throw_user_error("config", "resume_from_checkpoint is empty", kResumeHint);
  if (!fs::exists(named, ec))
    throw_user_error("train", "resume_from_checkpoint: " + named + " does not exist", kResumeHint);
  if (const std::string problem = checkpoint_problem(named); !problem.empty())
    throw_user_error(
        "train",
        "resume_from_checkpoint: " + named + " is not a complete tuna checkpoint: " + problem,
        problem.find("damaged") != std::string::npos ||
                problem.find("interrupted") != std::string::npos
            ? "resume from an older checkpoint, or use latest, which skips it"
            : kResumeHint);
  return named;
}

ResumePoint read_resume_point(const std::string& dir) {
  std::ifstream st(fs::path(dir) / "tuna_state.json");
  ojson state = ojson::parse(st, nullptr, false);
  if (state.is_discarded() || !state.is_object() || !state.contains("global_step") ||
      !state["global_step"].is_number_integer())
    throw_user_error("train", dir + "/tuna_state.json is unreadable",
                     "the checkpoint is damaged; resume from an older one");
  ResumePoint p;
  p.step = state["global_step"].get<int64_t>();
  p.tokens = state.value("num_tokens", int64_t{0});
  std::ifstream tsf(fs::path(dir) / "trainer_state.json");
  ojson tstate = ojson::parse(tsf, nullptr, false);
  if (!tstate.is_discarded() && tstate.is_object() && tstate.contains("log_history") &&
      tstate["log_history"].is_array())
    p.log_history = tstate["log_history"];
  p.state = std::move(state);
  return p;
}

ojson trainer_state_json(const TrainerStateInfo& info, const ojson& log_history, int64_t step,
                         double epoch) {
  return ojson{{"best_metric", nullptr},
               {"best_model_checkpoint", nullptr},
               {"epoch", epoch},
               {"eval_steps", info.eval_steps},
               {"global_step", step},
               {"is_hyper_param_search", false},
               {"is_local_process_zero", true},
               {"is_world_process_zero", true},
               {"log_history", log_history},
               {"logging_steps", info.logging_steps},
               {"max_steps", info.max_steps},
               {"num_input_tokens_seen", 0},
               {"num_train_epochs", info.num_train_epochs},
               {"save_steps", info.save_steps},
               {"total_flos", 0},
               {"train_batch_size", info.train_batch_size},
               {"trial_name", nullptr},
               {"trial_params", nullptr}};
}

void write_text_file(const std::string& path, const std::string& text) {
  write_file_atomic("train", path, [&](const WriteBytes& sink) { sink(text.data(), text.size()); });
}

std::vector<std::string> remove_stale_temporaries(const std::string& out_dir) {
  std::vector<std::string> removed;
  std::error_code ec;
  std::vector<fs::path> stale;
  for (fs::directory_iterator it(out_dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string n = it->path().filename().string();
    bool ours = false;
    if (n.rfind(".checkpoint-", 0) == 0)
      for (const char* suffix : {".tmp", ".old", ".deleting"}) {
        const size_t at = n.size() - std::strlen(suffix);
        if (n.size() > std::strlen(suffix) && n.compare(at, std::string::npos, suffix) == 0 &&
            checkpoint_step(n.substr(1, at - 1)) >= 0)
          ours = true;
      }
    // write_file_atomic's NAME.tmp.XXXXXX (mkstemp's six characters)
    const size_t t = n.rfind(".tmp.");
    if (t != std::string::npos && t > 0 && n.size() == t + 11) ours = true;
    if (n.rfind(".tuna-write-probe-", 0) == 0) ours = true;  // check_output_dir's probe
    if (ours) stale.push_back(it->path());
  }
  std::sort(stale.begin(), stale.end());
  for (const fs::path& p : stale) {
    fs::remove_all(p, ec);
    if (!ec) removed.push_back(p.filename().string());
  }
  if (!removed.empty()) fsync_directory(out_dir);
  return removed;
}

Checkpointer::Checkpointer(std::string out_dir, std::optional<size_t> save_total_limit,
                           int64_t resumed_step)
    : out_dir_(std::move(out_dir)), limit_(save_total_limit) {
  if (resumed_step < 0) return;
  for (const auto& [step, dir] : complete_checkpoints(out_dir_, resumed_step))
    saved_.push_back(dir.string());
  prune();  // a run killed between a save and its pruning kept one too many
}

void Checkpointer::prune() {
  if (limit_)
    while (saved_.size() > *limit_) {
      remove_checkpoint_dir(saved_.front(), ".deleting");
      saved_.erase(saved_.begin());
    }
}

std::string Checkpointer::last_complete() const {
  return saved_.empty() ? "none" : fs::path(saved_.back()).filename().string();
}

std::string Checkpointer::save(int64_t step,
                               const std::function<void(const std::string&)>& write_payload,
                               const ojson& trainer_state, const ojson& tuna_state) {
  const std::string name = "checkpoint-" + std::to_string(step);
  const fs::path final_dir = fs::path(out_dir_) / name;
  const fs::path tmp = fs::path(out_dir_) / ("." + name + ".tmp");
  std::error_code ec;
  fs::remove_all(tmp, ec);
  create_directories("train", tmp.string());
  try {
    write_payload(tmp.string());
    write_text_file((tmp / "trainer_state.json").string(), trainer_state.dump(2));
    write_text_file((tmp / "tuna_state.json").string(), tuna_state.dump(2));
    ojson files = ojson::object();
    std::vector<std::pair<std::string, uintmax_t>> listed;
    for (const auto& e : fs::directory_iterator(tmp))
      listed.emplace_back(e.path().filename().string(), fs::file_size(e.path()));
    std::sort(listed.begin(), listed.end());
    for (const auto& [n, size] : listed) files[n] = size;
    write_text_file((tmp / "COMPLETE").string(),
                    ojson{{"format", "tuna checkpoint"}, {"step", step}, {"files", files}}.dump(2));
    fsync_directory(tmp.string());
  } catch (const Error& e) {
    fs::remove_all(tmp, ec);
    // Name the checkpoint, not its temporary directory (which is gone now).
    std::string what = e.message();
    for (size_t at = what.find(tmp.string()); at != std::string::npos;
         at = what.find(tmp.string(), at))
      what.replace(at, tmp.string().size(), final_dir.string());
    throw Error(e.kind(), e.component(), what, e.hint());
  } catch (...) {
    fs::remove_all(tmp, ec);
    throw;
  }
  // A checkpoint of this step from an earlier attempt is replaced: moved aside first, so there is
  // never a half-removed directory under the name.
  if (fs::exists(final_dir, ec)) {
    const fs::path old = fs::path(out_dir_) / ("." + name + ".old");
    fs::remove_all(old, ec);
    rename_or_fail(final_dir, old);
  }
  rename_or_fail(tmp, final_dir);
  fsync_directory(out_dir_);
  fault_point();
  fs::remove_all(fs::path(out_dir_) / ("." + name + ".old"), ec);
  saved_.erase(std::remove(saved_.begin(), saved_.end(), final_dir.string()), saved_.end());
  saved_.push_back(final_dir.string());
  prune();
  return final_dir.string();
}

}  // namespace tuna
