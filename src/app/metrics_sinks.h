// The two sinks every `tuna train` run has: the console (one line per notice, the log line per
// logged step, the eval line, the closing summary, and on a terminal a progress bar between them
// unless disable_tqdm) and output_dir/metrics.jsonl (one JSON
// object per logged step or evaluation, handed to the kernel as written). Their output is what
// `tuna train` has always printed and written. Not here: the events themselves (training_events.h).
#pragma once

#include <cstdio>
#include <functional>
#include <memory>
#include <string>

#include "app/training_events.h"
#include "core/file_io.h"
#include "train/config.h"

namespace tuna {

// The progress bar (the HF Trainer's tqdm bar, which disable_tqdm turns off): a status line
// "step 37/200 18% [0m12s<0m53s, 3.05 steps/s]" rewritten in place after every optimizer step
// (at most ten times a second), erased before each log line, so log lines print as without it.
// Drawn on a terminal only: a log file gets the log lines.
struct ConsoleOptions {
  bool progress_bar = false;
};
// disable_tqdm: false and stderr a terminal → the bar.
ConsoleOptions console_options(const TrainConfig& cfg, bool terminal);

class ConsoleSink : public TrainingSink {
 public:
  // Lines go to `print` (one line each, no newline), stderr when empty. The bar goes to `status`
  // (the text to show in place of the previous one; "" erases it), stderr's current line when
  // empty.
  explicit ConsoleSink(std::function<void(const std::string&)> print = {},
                       ConsoleOptions options = {},
                       std::function<void(const std::string&)> status = {});
  ~ConsoleSink() override;  // erases a bar left on the line (a run that threw)
  ConsoleSink(const ConsoleSink&) = delete;
  ConsoleSink& operator=(const ConsoleSink&) = delete;
  void on_notice(const std::string& text) override;
  void on_started(const TrainingStarted& e) override;
  void on_progress(const StepProgress& e) override;
  void on_step(const StepMetrics& e) override;
  void on_eval(const EvalMetrics& e) override;
  void on_finished(const TrainingFinished& e) override;
  void on_cancelled(const TrainingCancelled& e) override;

 private:
  void print(const std::string& line);
  void status(const std::string& text);
  std::function<void(const std::string&)> print_, status_;
  ConsoleOptions options_;
  bool bar_shown_ = false;
  double bar_drawn_at_ = -1;  // elapsed seconds of the last drawing
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

// "1m05s", "2h03m": the ETA of the log line and the bar.
std::string format_duration(double seconds);

}  // namespace tuna
