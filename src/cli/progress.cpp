// Throttled progress lines on stderr (see progress.h).
#include "cli/progress.h"

#include <unistd.h>

#include <cstdio>

namespace tuna::cli {

namespace {

// Seconds before the first update, and between updates (on a terminal; a log file gets a line
// every kLogEvery seconds).
constexpr double kQuiet = 1.0;
constexpr int kLogEvery = 5;

double since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace

ProgressLine::ProgressLine()
    : start_(std::chrono::steady_clock::now()), tty_(isatty(STDERR_FILENO) != 0) {}

ProgressLine::~ProgressLine() {
  if (open_line_) std::fprintf(stderr, "\n");
}

double ProgressLine::seconds() const {
  return since(start_);
}

void ProgressLine::update(const std::string& text, bool last) {
  const double every = tty_ ? kQuiet : kLogEvery;
  if (last ? shown_ : since(start_) >= kQuiet && (!shown_ || since(shown_at_) >= every)) show(text);
}

void ProgressLine::show(const std::string& text) {
  if (tty_) {
    std::fprintf(stderr, "\r\033[K%s", text.c_str());
    open_line_ = true;
  } else {
    std::fprintf(stderr, "%s\n", text.c_str());
  }
  std::fflush(stderr);
  shown_ = true;
  shown_at_ = std::chrono::steady_clock::now();
}

SlowWorkNotice::SlowWorkNotice(std::string what) : what_(std::move(what)) {
  thread_ = std::thread([this] {
    const bool tty = isatty(STDERR_FILENO) != 0;
    const auto start = std::chrono::steady_clock::now();
    bool shown = false;
    std::unique_lock<std::mutex> lock(mu_);
    for (int tick = 1;; ++tick) {
      if (cv_.wait_until(lock, start + std::chrono::seconds(tick), [this] { return done_; })) break;
      if (!tty && tick > 1 && tick % kLogEvery != 0) continue;
      std::fprintf(stderr, tty ? "\r\033[K%s (%d s)" : "%s (%d s)\n", what_.c_str(), tick);
      std::fflush(stderr);
      shown = true;
    }
    if (shown && tty) std::fprintf(stderr, "\r\033[K");  // the work's own output takes the line
  });
}

SlowWorkNotice::~SlowWorkNotice() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    done_ = true;
  }
  cv_.notify_one();
  thread_.join();
}

}  // namespace tuna::cli
