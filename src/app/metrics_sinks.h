// The two sinks every `tuna train` run has: the console (one line per notice, the progress line
// per logged step, the eval line, the closing summary) and output_dir/metrics.jsonl (one JSON
// object per logged step or evaluation, flushed as written). Their output is what `tuna train`
// has always printed and written. Not here: the events themselves (training_events.h).
#pragma once

#include <cstdio>
#include <functional>
#include <string>

#include "app/training_events.h"

namespace tuna {

class ConsoleSink : public TrainingSink {
 public:
  // Lines go to `print` (one line each, no newline), stderr when empty.
  explicit ConsoleSink(std::function<void(const std::string&)> print = {});
  void on_notice(const std::string& text) override;
  void on_started(const TrainingStarted& e) override;
  void on_step(const StepMetrics& e) override;
  void on_eval(const EvalMetrics& e) override;
  void on_finished(const TrainingFinished& e) override;

 private:
  void print(const std::string& line) const;
  std::function<void(const std::string&)> print_;
};

// Writes `path` (truncated when the run starts; nothing is written when it cannot be opened).
class JsonlMetricsSink : public TrainingSink {
 public:
  explicit JsonlMetricsSink(std::string path);
  ~JsonlMetricsSink() override;
  JsonlMetricsSink(const JsonlMetricsSink&) = delete;
  JsonlMetricsSink& operator=(const JsonlMetricsSink&) = delete;
  void on_started(const TrainingStarted& e) override;
  void on_step(const StepMetrics& e) override;
  void on_eval(const EvalMetrics& e) override;
  void on_finished(const TrainingFinished& e) override;
  void on_cancelled(const TrainingCancelled& e) override;

 private:
  void write(const nlohmann::ordered_json& entry);
  void close();
  std::string path_;
  std::FILE* file_ = nullptr;
};

// "1m05s", "2h03m": the ETA of the progress line.
std::string format_duration(double seconds);

}  // namespace tuna
