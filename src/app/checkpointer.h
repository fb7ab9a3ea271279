// Checkpoints of a training job (DESIGN.md §8 "Checkpoints and exits"): finding the checkpoint
// to resume from, reading its step / token count / log history, and writing
// output_dir/checkpoint-N atomically — everything into .checkpoint-N.tmp, the COMPLETE marker
// last, then one rename — keeping at most save_total_limit of them. Also the HF Trainer's
// trainer_state.json. What a checkpoint holds besides the JSON files (adapter or model,
// optimizer state) the caller writes through a callback; this file knows no tensors.
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "train/config.h"

namespace tuna {

// The checkpoint resume_from_checkpoint names ("latest" / "true": the newest complete one in
// `out_dir`); "" when the config does not resume. User error when there is none or it is not a
// complete tuna checkpoint.
std::string find_resume_checkpoint(const TrainConfig& cfg, const std::string& out_dir);

// Where a resumed run continues: the optimizer steps taken, the input tokens seen by then and
// the log history so far.
struct ResumePoint {
  int64_t step = 0, tokens = 0;
  nlohmann::ordered_json log_history = nlohmann::ordered_json::array();
};
ResumePoint read_resume_point(const std::string& checkpoint_dir);

// The fields of trainer_state.json that do not change during a run.
struct TrainerStateInfo {
  int64_t eval_steps = 0, logging_steps = 0, save_steps = 0, max_steps = 0;
  int64_t num_train_epochs = 0, train_batch_size = 0;
};
nlohmann::ordered_json trainer_state_json(const TrainerStateInfo& info,
                                          const nlohmann::ordered_json& log_history, int64_t step,
                                          double epoch);

// Writes `text` to `path` atomically (temp file + rename).
void write_text_file(const std::string& path, const std::string& text);

class Checkpointer {
 public:
  // `save_total_limit`: checkpoints kept (the oldest go first); none: all.
  Checkpointer(std::string out_dir, std::optional<size_t> save_total_limit);

  // Writes out_dir/checkpoint-<step>: `write_payload(dir)` (adapter or model, optimizer state),
  // then trainer_state.json, tuna_state.json and COMPLETE into the temporary directory, which is
  // then renamed. Returns the checkpoint's directory.
  std::string save(int64_t step, const std::function<void(const std::string& dir)>& write_payload,
                   const nlohmann::ordered_json& trainer_state,
                   const nlohmann::ordered_json& tuna_state);
  // The checkpoints this run wrote and kept, oldest first.
  const std::vector<std::string>& saved() const { return saved_; }

 private:
  std::string out_dir_;
  std::optional<size_t> limit_;
  std::vector<std::string> saved_;
};

}  // namespace tuna
