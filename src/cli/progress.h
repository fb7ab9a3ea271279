// Progress on stderr for long work the CLI waits on: nothing during the first second (a short
// task, or a fast error, prints only its own result), then updates — one line rewritten in place
// each second on a terminal, a line every five seconds otherwise. Not for results (stdout).
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

namespace tuna::cli {

// Throttled progress of work that reports its own steps (a long prefill).
class ProgressLine {
 public:
  ProgressLine();
  ~ProgressLine();  // ends a line left open on a terminal
  ProgressLine(const ProgressLine&) = delete;
  ProgressLine& operator=(const ProgressLine&) = delete;

  // Shows `text` if a second has passed since construction and since the last update (`last`:
  // the work's final step, shown whenever anything was shown before).
  void update(const std::string& text, bool last = false);
  double seconds() const;  // since construction

 private:
  void show(const std::string& text);
  std::chrono::steady_clock::time_point start_, shown_at_;
  bool shown_ = false, open_line_ = false, tty_;
};

// For work that cannot report steps (reading a model): after a second, "`what` (N s)" once a
// second from a background thread until destroyed.
class SlowWorkNotice {
 public:
  explicit SlowWorkNotice(std::string what);
  ~SlowWorkNotice();
  SlowWorkNotice(const SlowWorkNotice&) = delete;
  SlowWorkNotice& operator=(const SlowWorkNotice&) = delete;

 private:
  std::string what_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread thread_;
};

}  // namespace tuna::cli
