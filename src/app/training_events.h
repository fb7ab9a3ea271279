// The structured events a training job emits, and the sink interface that receives them: the
// console progress line (ConsoleSink) and output_dir/metrics.jsonl (JsonlMetricsSink) are two
// sinks (app/metrics_sinks.h); a dashboard, TensorBoard or the server are more. Events arrive on
// the job's thread, in order. Not here: formatting (the sinks do it), the loop (training_job.h).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace tuna {

// What a finished run reports (the HF Trainer's train_results keys, plus first/last loss).
struct RunSummary {
  int64_t global_step = 0;
  double train_runtime = 0, train_samples_per_second = 0, train_steps_per_second = 0;
  double train_loss = 0, epoch = 0, mean_token_accuracy = 0;
  int64_t num_tokens = 0;
  double first_loss = 0, last_loss = 0;
  std::string adapter_dir;
};

// The loop is about to take its first step.
struct TrainingStarted {
  int64_t total_steps = 0;  // optimizer steps of the whole run (resumed steps included)
  int64_t start_step = 0;   // > 0 when resuming
  size_t rows = 0;          // training rows (or packed sequences)
  bool packed = false;
  int64_t batch_size = 0, accumulation = 0;
};

// A logged step (every logging_steps, and the last): loss averaged over the steps since the
// last log, as the HF Trainer logs it.
struct StepMetrics {
  int64_t step = 0, total_steps = 0;
  double loss = 0, grad_norm = 0, learning_rate = 0, mean_token_accuracy = 0, epoch = 0;
  int64_t num_tokens = 0;        // input tokens seen so far
  double tokens_per_second = 0;  // since the last log
  double eta_seconds = 0;        // the rest of the run at this run's pace so far
};

// Every optimizer step, logged or not (what the HF Trainer's tqdm bar advances on).
struct StepProgress {
  int64_t step = 0, total_steps = 0;
  int64_t start_step = 0;      // > 0 when resuming
  double elapsed_seconds = 0;  // since this run's first step
};

struct EvalMetrics {
  int64_t step = 0;
  double loss = 0, mean_token_accuracy = 0, epoch = 0;
};

struct CheckpointSaved {
  int64_t step = 0;
  std::string dir;  // output_dir/checkpoint-N (complete: renamed after its COMPLETE marker)
};

struct TrainingFinished {
  RunSummary summary;
  nlohmann::ordered_json results;  // train_results.json as written
  bool full = false;               // a Hugging Face model directory (else a PEFT adapter)
  std::string output_dir, model_dtype;
  std::vector<std::string> notes;  // about the saved directory
};

struct TrainingCancelled {
  int64_t step = 0;
  std::string checkpoint_dir;  // the checkpoint written at cancellation
};

// Receives a job's events. Every method has an empty default, so a sink overrides what it uses.
class TrainingSink {
 public:
  virtual ~TrainingSink() = default;
  // A line for the user (what was loaded, notes, the memory estimate, resuming from ...).
  virtual void on_notice(const std::string& /*text*/) {}
  virtual void on_started(const TrainingStarted& /*e*/) {}
  virtual void on_progress(const StepProgress& /*e*/) {}
  virtual void on_step(const StepMetrics& /*e*/) {}
  virtual void on_eval(const EvalMetrics& /*e*/) {}
  virtual void on_checkpoint(const CheckpointSaved& /*e*/) {}
  virtual void on_finished(const TrainingFinished& /*e*/) {}
  virtual void on_cancelled(const TrainingCancelled& /*e*/) {}
};

// The log_history / metrics.jsonl entries, with the HF Trainer's keys in its order.
nlohmann::ordered_json to_json(const StepMetrics& m);
nlohmann::ordered_json to_json(const EvalMetrics& m);

}  // namespace tuna
