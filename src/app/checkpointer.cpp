// Checkpoint discovery, reading and atomic writing (see checkpointer.h).
#include "app/checkpointer.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "core/file_io.h"

namespace tuna {

namespace fs = std::filesystem;
using ojson = nlohmann::ordered_json;

std::string find_resume_checkpoint(const TrainConfig& cfg, const std::string& out_dir) {
  if (!cfg.at("resume_from_checkpoint").is_string()) return "";
  std::string resume_dir = cfg.at("resume_from_checkpoint").get<std::string>();
  if (resume_dir == "latest" || resume_dir == "true") {
    resume_dir.clear();
    int64_t best = -1;
    if (fs::exists(out_dir))
      for (const auto& e : fs::directory_iterator(out_dir)) {
        const std::string n = e.path().filename().string();
        if (n.rfind("checkpoint-", 0) != 0 || !fs::exists(e.path() / "COMPLETE")) continue;
        const int64_t step = std::atoll(n.c_str() + 11);
        if (step > best) best = step, resume_dir = e.path().string();
      }
    if (resume_dir.empty())
      throw_user_error(
          "train",
          "resume_from_checkpoint: latest, but " + out_dir + " holds no complete checkpoint",
          "train with save_strategy steps/epoch first, or name a checkpoint directory");
  }
  if (!fs::exists(fs::path(resume_dir) / "COMPLETE") ||
      !fs::exists(fs::path(resume_dir) / "tuna_state.json"))
    throw_user_error(
        "train", resume_dir + " is not a complete tuna checkpoint",
        "point resume_from_checkpoint at an output_dir/checkpoint-N directory (or use latest)");
  return resume_dir;
}

ResumePoint read_resume_point(const std::string& dir) {
  std::ifstream st(fs::path(dir) / "tuna_state.json");
  ojson state = ojson::parse(st, nullptr, false);
  if (state.is_discarded() || !state.contains("global_step"))
    throw_user_error("train", dir + "/tuna_state.json is unreadable",
                     "the checkpoint is damaged; use an older one");
  ResumePoint p;
  p.step = state["global_step"].get<int64_t>();
  p.tokens = state.value("num_tokens", int64_t{0});
  std::ifstream tsf(fs::path(dir) / "trainer_state.json");
  ojson tstate = ojson::parse(tsf, nullptr, false);
  if (!tstate.is_discarded() && tstate.contains("log_history"))
    p.log_history = tstate["log_history"];
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

Checkpointer::Checkpointer(std::string out_dir, std::optional<size_t> save_total_limit)
    : out_dir_(std::move(out_dir)), limit_(save_total_limit) {}

std::string Checkpointer::save(int64_t step,
                               const std::function<void(const std::string&)>& write_payload,
                               const ojson& trainer_state, const ojson& tuna_state) {
  const fs::path final_dir = fs::path(out_dir_) / ("checkpoint-" + std::to_string(step));
  const fs::path tmp = fs::path(out_dir_) / (".checkpoint-" + std::to_string(step) + ".tmp");
  fs::remove_all(tmp);
  fs::create_directories(tmp);
  write_payload(tmp.string());
  write_text_file((tmp / "trainer_state.json").string(), trainer_state.dump(2));
  write_text_file((tmp / "tuna_state.json").string(), tuna_state.dump(2));
  write_text_file((tmp / "COMPLETE").string(), "");
  fs::remove_all(final_dir);
  fs::rename(tmp, final_dir);
  saved_.push_back(final_dir.string());
  if (limit_)
    while (saved_.size() > *limit_) {
      fs::remove_all(saved_.front());
      saved_.erase(saved_.begin());
    }
  return final_dir.string();
}

}  // namespace tuna
