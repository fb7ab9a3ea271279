// The console and metrics.jsonl sinks (see metrics_sinks.h).
#include "app/metrics_sinks.h"

#include <cstdint>

namespace tuna {

std::string format_duration(double s) {
  char buf[32];
  const auto t = static_cast<int64_t>(s);
  if (t >= 3600)
    std::snprintf(buf, sizeof buf, "%lldh%02lldm", static_cast<long long>(t / 3600),
                  static_cast<long long>(t / 60 % 60));
  else
    std::snprintf(buf, sizeof buf, "%lldm%02llds", static_cast<long long>(t / 60),
                  static_cast<long long>(t % 60));
  return buf;
}

ConsoleOptions console_options(const TrainConfig& cfg, bool terminal) {
  ConsoleOptions o;
  o.progress_bar = terminal && !cfg.at("disable_tqdm").get<bool>();
  return o;
}

ConsoleSink::ConsoleSink(std::function<void(const std::string&)> print, ConsoleOptions options,
                         std::function<void(const std::string&)> status)
    : print_(std::move(print)), status_(std::move(status)), options_(options) {}

ConsoleSink::~ConsoleSink() {
  status("");
}

void ConsoleSink::status(const std::string& text) {
  if (!bar_shown_ && text.empty()) return;
  bar_shown_ = !text.empty();
  if (status_) {
    status_(text);
    return;
  }
  std::fprintf(stderr, "\r\033[K%s", text.c_str());
  std::fflush(stderr);
}

void ConsoleSink::print(const std::string& line) {
  status("");
  if (print_)
    print_(line);
  else
    std::fprintf(stderr, "%s\n", line.c_str());
}

void ConsoleSink::on_progress(const StepProgress& e) {
  if (!options_.progress_bar) return;
  const bool last = e.step == e.total_steps;
  if (bar_drawn_at_ >= 0 && e.elapsed_seconds - bar_drawn_at_ < 0.1 && !last) return;
  bar_drawn_at_ = e.elapsed_seconds;
  const double pct = e.total_steps > 0
                         ? 100.0 * static_cast<double>(e.step) / static_cast<double>(e.total_steps)
                         : 0;
  const double rate =
      e.elapsed_seconds > 0 ? static_cast<double>(e.step - e.start_step) / e.elapsed_seconds : 0;
  const double left = rate > 0 ? static_cast<double>(e.total_steps - e.step) / rate : 0;
  char text[160];
  std::snprintf(text, sizeof text, "step %lld/%lld %3.0f%% [%s<%s, %.2f steps/s]",
                static_cast<long long>(e.step), static_cast<long long>(e.total_steps), pct,
                format_duration(e.elapsed_seconds).c_str(), format_duration(left).c_str(), rate);
  status(text);
}

void ConsoleSink::on_cancelled(const TrainingCancelled&) {
  status("");
}

void ConsoleSink::on_notice(const std::string& text) {
  print(text);
}

void ConsoleSink::on_started(const TrainingStarted& e) {
  print("training: " + std::to_string(e.total_steps) + " steps, " + std::to_string(e.rows) +
        (e.packed ? " packed sequences" : " rows") + ", batch " + std::to_string(e.batch_size) +
        " x " + std::to_string(e.accumulation) + " accumulation");
}

void ConsoleSink::on_step(const StepMetrics& e) {
  char line[256];
  std::snprintf(line, sizeof line,
                "step %lld/%lld | loss %.4f | lr %.3g | grad_norm %.3f | acc %.3f | %.0f "
                "tok/s | ETA %s",
                static_cast<long long>(e.step), static_cast<long long>(e.total_steps), e.loss,
                e.learning_rate, e.grad_norm, e.mean_token_accuracy, e.tokens_per_second,
                format_duration(e.eta_seconds).c_str());
  print(line);
}

void ConsoleSink::on_eval(const EvalMetrics& e) {
  char line[128];
  std::snprintf(line, sizeof line, "eval at step %lld: loss %.4f | token accuracy %.3f",
                static_cast<long long>(e.step), e.loss, e.mean_token_accuracy);
  print(line);
}

void ConsoleSink::on_finished(const TrainingFinished& e) {
  print("done: " + e.results.dump());
  if (e.full) {
    print("model: " + e.output_dir +
          "/model.safetensors + config.json (a Hugging Face model directory, " + e.model_dtype +
          " weights)");
    for (const std::string& n : e.notes) print("note: " + n);
  } else {
    print("adapter: " + e.output_dir + "/adapter_model.safetensors (PEFT format)");
  }
}

JsonlMetricsSink::JsonlMetricsSink(std::string path, nlohmann::ordered_json kept)
    : path_(std::move(path)), kept_(std::move(kept)) {}

JsonlMetricsSink::~JsonlMetricsSink() {
  close();
}

void JsonlMetricsSink::close() {
  file_.reset();
}

void JsonlMetricsSink::write(const nlohmann::ordered_json& entry) {
  if (file_) file_->append(entry.dump() + "\n");
}

void JsonlMetricsSink::on_started(const TrainingStarted&) {
  close();
  std::string text;
  for (const auto& entry : kept_) text += entry.dump() + "\n";
  write_file_atomic("train", path_,
                    [&](const WriteBytes& sink) { sink(text.data(), text.size()); });
  file_ = std::make_unique<AppendFile>("train", path_, false);
}
void JsonlMetricsSink::on_step(const StepMetrics& e) {
  write(to_json(e));
}
void JsonlMetricsSink::on_eval(const EvalMetrics& e) {
  write(to_json(e));
}
void JsonlMetricsSink::on_finished(const TrainingFinished&) {
  close();
}
void JsonlMetricsSink::on_cancelled(const TrainingCancelled&) {
  close();
}

}  // namespace tuna
