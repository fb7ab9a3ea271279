// Checkpoints of a training job (DESIGN.md §8 "Checkpoints and exits"): checking output_dir and
// the checkpoint to resume from before anything loads, reading a checkpoint's step and running
// totals, and writing output_dir/checkpoint-N atomically — everything into .checkpoint-N.tmp,
// each file fsynced, the COMPLETE marker (a manifest of the files and their sizes) last, then
// one rename — keeping at most save_total_limit of them; cleaning what a killed run left. Also
// the HF Trainer's trainer_state.json. What a checkpoint holds besides the JSON files (adapter or
// model, optimizer state) the caller writes through a callback; this file knows no tensors.
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "train/config.h"

namespace tuna {

// Every check on output_dir and resume_from_checkpoint that needs nothing loaded (user errors,
// nothing written), run before the model loads. output_dir is a directory or can be created as
// one, and is writable (a probe file is created and removed, which also finds read-only
// filesystems); the checkpoint to resume from is found (find_resume_checkpoint); and output_dir
// is empty unless overwrite_output_dir is set or the run resumes from a checkpoint inside it.
// Returns the checkpoint to resume from ("" when none).
std::string check_output_dir(const TrainConfig& cfg);

// The checkpoint resume_from_checkpoint names ("latest" / "true": the newest complete one in
// `out_dir`); "" when the config does not resume. User error when there is none, or it does not
// exist, is a file, is incomplete (no COMPLETE marker) or damaged (a file of its manifest
// missing or of another size). Temporary directories (.checkpoint-N.tmp) are never candidates.
std::string find_resume_checkpoint(const TrainConfig& cfg, const std::string& out_dir);

// Where a resumed run continues: the optimizer steps taken, the input tokens seen by then, the
// log history so far and the run's other running totals (tuna_state.json).
struct ResumePoint {
  int64_t step = 0, tokens = 0;
  nlohmann::ordered_json log_history = nlohmann::ordered_json::array();
  nlohmann::ordered_json state;  // tuna_state.json as written
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

// Writes `text` to `path` atomically (temp file + fsync + rename + fsync of the directory).
void write_text_file(const std::string& path, const std::string& text);

// Removes what a killed run left in `out_dir`: .checkpoint-N.tmp / .old / .deleting directories
// the temporary files of atomic writes (NAME.tmp.XXXXXX) and write probes. Returns the names
// removed.
std::vector<std::string> remove_stale_temporaries(const std::string& out_dir);

class Checkpointer {
 public:
  // `save_total_limit`: checkpoints kept (the oldest go first); none: all. `resumed_step` >= 0:
  // the complete checkpoints already in out_dir up to that step count towards the limit (and the
  // oldest beyond it are removed now).
  Checkpointer(std::string out_dir, std::optional<size_t> save_total_limit,
               int64_t resumed_step = -1);

  // Writes out_dir/checkpoint-<step>: `write_payload(dir)` (adapter or model, optimizer state),
  // then trainer_state.json, tuna_state.json and COMPLETE into the temporary directory, which is
  // then renamed. Returns the checkpoint's directory. On failure the temporary directory is
  // removed and the checkpoints already written are left as they were.
  std::string save(int64_t step, const std::function<void(const std::string& dir)>& write_payload,
                   const nlohmann::ordered_json& trainer_state,
                   const nlohmann::ordered_json& tuna_state);
  // The checkpoints kept, oldest first.
  const std::vector<std::string>& saved() const { return saved_; }
  // "checkpoint-N" of the newest complete checkpoint this run knows, or "none".
  std::string last_complete() const;

 private:
  void prune();
  std::string out_dir_;
  std::optional<size_t> limit_;
  std::vector<std::string> saved_;
};

}  // namespace tuna
