// A training job: one `tuna train` run from a config — base model (+ load_in_4bit), data, what
// trains (LoRA adapters or every weight), the Trainer loop, evaluation, checkpoints and the final
// adapter / model + trainer_state.json + train_results.json with the HF Trainer's keys. It
// composes train/ (the loop), app/training_plan.h (planning), app/checkpointer.h,
// app/evaluator.h, and reports through sinks (app/training_events.h): output_dir/metrics.jsonl
// always, the console and others as the caller adds them. No global state: several jobs run at
// once in one process — sharing one model handle, which no job changes — and each is cancelled
// through its own token.
#pragma once

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "app/cancel_token.h"
#include "app/model_handle.h"
#include "app/training_events.h"
#include "train/config.h"

namespace tuna {

// Thrown by run() once a cancelled job has written its checkpoint (the CLI exits with 130).
class TrainingInterrupted : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class TrainingJob {
 public:
  // The base model, read only: load_in_4bit trains on a quantized copy (ModelHandle::
  // quantized_4bit), full fine-tuning on F32 masters beside it. Its name is recorded as
  // base_model_name_or_path.
  TrainingJob(TrainConfig cfg, std::shared_ptr<const ModelHandle> model);

  // Adds a sink (not owned; it must outlive run()). Events go to sinks in the order added.
  void add_sink(TrainingSink& sink) { sinks_.push_back(&sink); }
  // Trip from any thread (or a signal handler): the job stops at the next optimizer-step
  // boundary, saves a checkpoint there and run() throws TrainingInterrupted.
  CancelToken& cancel_token() { return cancel_; }

  // Runs the job to the end. User errors (config, data, memory) as tuna::Error. One job runs once
  // at a time (run() adds its metrics sink to this job's sinks for its duration); concurrent
  // runs are separate TrainingJob objects, which may share one ModelHandle.
  RunSummary run();

 private:
  void notice(const std::string& text);
  template <class F>
  void emit(F&& f) {
    for (TrainingSink* s : sinks_) f(*s);
  }

  TrainConfig cfg_;
  std::shared_ptr<const ModelHandle> base_;
  CancelToken cancel_;
  std::vector<TrainingSink*> sinks_;
};

}  // namespace tuna
