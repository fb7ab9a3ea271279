// The two sinks every `tuna train` run has: the console (one line per notice, the progress line
// per logged step, the eval line, the closing summary) and output_dir/metrics.jsonl (one JSON
// object per logged step or evaluation, handed to the kernel as written). Their output is what
// `tuna train` has always printed and written. Not here: the events themselves (training_events.h).
#pragma once

#include <cstdio>
#include <functional>
#include <memory>
#include <string>

#include "app/training_events.h"
#include "core/file_io.h"

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

// Writes `path`: when the run starts, the file is replaced (atomically) by the entries of `kept`
// — a resumed run's log history up to its checkpoint, so no line is lost or written twice — and
// each entry after is appended as it comes. A failed write is a user error ([io] ...).
class JsonlMetricsSink : public TrainingSink {
 public:
  explicit JsonlMetricsSink(std::string path,
                            nlohmann::ordered_json kept = nlohmann::ordered_json::array());
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
  nlohmann::ordered_json kept_;
  std::unique_ptr<AppendFile> file_;
};

// "1m05s", "2h03m": the ETA of the progress line.
std::string format_duration(double seconds);

}  // namespace tuna
