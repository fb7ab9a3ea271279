// Dataset preparation for `tuna train` (see dataset_prep.h).
#include "train/dataset_prep.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <numeric>

#include "core/error.h"
#include "core/file_io.h"
#include "core/rng.h"
#include "data/hub_dataset.h"
#include "tokenizer/chat_template.h"
#include "tokenizer/tokenizer.h"
#include "train/special_tokens.h"

namespace tuna {
namespace {

using ojson = nlohmann::ordered_json;

std::string opt_string(const TrainConfig& c, const char* key) {
  const ojson& v = c.at(key);
  return v.is_string() ? v.get<std::string>() : "";
}

// Throttled progress of the tokenising loop: nothing for work under options.first_after_s, then a
// line every options.every_s and a last one when done.
class Progress {
 public:
  Progress(const DataProgressOptions& o, size_t total) : o_(o), total_(total) {}
  void tick(size_t done) {
    if (!o_.sink) return;
    const double t = seconds();
    if (t < (shown_ ? last_ + o_.every_s : o_.first_after_s)) return;
    show(done, t, false);
  }
  void finish(size_t done) {
    if (shown_) show(done, seconds(), true);
  }

 private:
  double seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }
  void show(size_t done, double t, bool last) {
    shown_ = true;
    last_ = t;
    char rate[32];
    std::snprintf(rate, sizeof rate, "%.0f", t > 0 ? static_cast<double>(done) / t : 0.0);
    o_.sink("data: " + std::string(last ? "tokenized " : "tokenizing ") + std::to_string(done) +
            "/" + std::to_string(total_) + " rows (" + rate + " rows/s" +
            (last ? ", " + std::to_string(static_cast<int64_t>(t)) + " s" : std::string()) + ")");
  }
  const DataProgressOptions& o_;
  size_t total_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  bool shown_ = false;
  double last_ = 0;
};

// Examples → rows; invalid rows become user errors or (skip_invalid) rejects.
void tokenize_all(const std::vector<Record>& records, DataFormat format, const ExampleOptions& eo,
                  const Tokenizer& tok, const ChatTemplate* chat, const TokenizeOptions& to,
                  bool skip_invalid, std::vector<TrainRow>& out, TokenizeStats& stats,
                  std::vector<RejectedRecord>& rejects, MojibakeReport& mojibake,
                  Progress& progress, size_t& done) {
  const std::vector<std::string> columns = text_columns(format, eo);
  for (const Record& rec : records) {
    progress.tick(done++);
    try {
      Example ex = make_example(rec, format, eo);
      TrainRow row;
      try {
        if (tokenize_example(tok, chat, ex, to, stats, row)) out.push_back(std::move(row));
      } catch (const Error& e) {  // the chat template refused it: say which record
        if (e.kind() != ErrorKind::USER) throw;
        throw Error(ErrorKind::USER, e.component(), rec.where() + ": " + e.message(), e.hint());
      }
      mojibake.add(rec, columns);  // rows not rejected
    } catch (const Error& e) {
      if (!skip_invalid || e.kind() != ErrorKind::USER) throw;
      rejects.push_back(
          {rec.file, rec.line,
           reject_preview(rec.value.dump(-1, ' ', false, ojson::error_handler_t::replace)),
           e.message(), rec.in_array ? rec.index + 1 : 0});
    }
  }
}

// Reads a dataset file; a file without records is an error naming `key`.
std::vector<Record> read_dataset(const std::string& key, const std::string& path, bool skip,
                                 std::vector<RejectedRecord>& rejects) {
  const size_t before = rejects.size();
  std::vector<Record> records = read_records(path, skip ? &rejects : nullptr, key);
  if (!records.empty() || rejects.size() > before) return records;
  throw_user_error("data", key + ": " + path + " holds no records",
                   path.size() > 4 && (path.ends_with(".csv") || path.ends_with(".tsv"))
                       ? "a CSV file needs a header row and at least one data row"
                       : "add rows, one JSON object per line {\"instruction\": ..., "
                         "\"output\": ...}");
}

// skip_invalid rejected every record of `path`: an error with the first reason, not an empty run.
void check_some_usable(const std::string& key, const std::string& path, size_t rows,
                       const std::vector<RejectedRecord>& rejects) {
  if (rows > 0) return;
  const RejectedRecord* first = nullptr;
  size_t n = 0;
  for (const RejectedRecord& r : rejects) {
    if (r.file != path) continue;
    ++n;
    if (!first || r.line < first->line || (r.line == first->line && r.record < first->record))
      first = &r;
  }
  if (!first) return;
  throw_user_error("data",
                   key + ": none of the " + std::to_string(n) + " records of " + path +
                       " is usable (the first, line " + std::to_string(first->line) + ": " +
                       first->reason + ")",
                   "fix the file; skip_invalid skips bad rows but needs some good ones");
}

// The rejects file in file order: the training file's rows by line (JSON arrays: by record),
// then the validation file's.
void sort_rejects(std::vector<RejectedRecord>& rejects, const std::vector<std::string>& files) {
  auto rank = [&](const std::string& f) {
    return static_cast<size_t>(std::find(files.begin(), files.end(), f) - files.begin());
  };
  std::stable_sort(rejects.begin(), rejects.end(),
                   [&](const RejectedRecord& a, const RejectedRecord& b) {
                     const size_t ra = rank(a.file), rb = rank(b.file);
                     if (ra != rb) return ra < rb;
                     if (a.line != b.line) return a.line < b.line;
                     return a.record < b.record;
                   });
}

// validation_split must hold out at least one row (datasets' train_test_split refuses too); the
// config allows only fractions below 1, so rows are always left to train on.
void check_validation_split(double split, size_t rows, size_t n_eval, const std::string& path,
                            const std::string& eval_path) {
  if (split <= 0) return;
  char frac[32];
  std::snprintf(frac, sizeof frac, "%g", split);
  const std::string of = "validation_split " + std::string(frac) + " of the " +
                         std::to_string(rows) + " usable rows of " + path;
  if (n_eval == 0) {
    const double need = 1.0 / static_cast<double>(std::max<size_t>(rows, 1));
    char at_least[32];
    std::snprintf(at_least, sizeof at_least, "%.3g", need);
    throw_user_error("data", of + " holds out 0 rows for validation",
                     "raise validation_split to at least " + std::string(at_least) +
                         (eval_path.empty() ? ", or set eval_dataset" : ", or leave it out") +
                         " (or add rows)");
  }
}

}  // namespace

std::vector<size_t> seeded_permutation(size_t n, uint64_t seed, uint64_t epoch) {
  std::vector<size_t> p(n);
  std::iota(p.begin(), p.end(), size_t{0});
  const uint64_t stream = 0x5348554646000000ull ^ epoch;  // "SHUFF" | epoch
  for (size_t i = n; i > 1; --i) {
    const uint64_t r = (static_cast<uint64_t>(philox_u32(seed, stream, 2 * i)) << 32) |
                       philox_u32(seed, stream, 2 * i + 1);
    std::swap(p[i - 1], p[r % i]);
  }
  return p;
}

void print_data_progress(const std::string& line) {
  std::fprintf(stderr, "%s\n", line.c_str());
  std::fflush(stderr);
}

PreparedData prepare_training_data(const TrainConfig& cfg, const Tokenizer& tok,
                                   const ChatTemplate* chat, const DataProgressOptions& progress) {
  PreparedData d;
  // A Hub id (OWNER/NAME) reads the dataset's file in the local HF cache, or says how to export it.
  const std::string path = resolve_dataset_path(opt_string(cfg, "dataset"), "dataset");
  if (path.empty())
    throw_user_error("config", cfg.source + ": no dataset", "set dataset: path/to/train.jsonl");
  const bool skip = cfg.at("skip_invalid").get<bool>();
  std::vector<RejectedRecord> rejects;
  std::vector<Record> records = read_dataset("dataset", path, skip, rejects);
  if (records.empty()) check_some_usable("dataset", path, 0, rejects);
  const std::string eval_path =
      resolve_dataset_path(opt_string(cfg, "eval_dataset"), "eval_dataset");
  std::vector<Record> eval_records;
  if (!eval_path.empty()) {
    eval_records = read_dataset("eval_dataset", eval_path, skip, rejects);
    if (eval_records.empty()) check_some_usable("eval_dataset", eval_path, 0, rejects);
  }
  if (cfg.at("max_samples").is_number()) {
    const auto n = cfg.at("max_samples").get<size_t>();
    if (records.size() > n) records.resize(n);
  }
  ExampleOptions eo;
  eo.format = parse_data_format(cfg.at("dataset_format").get<std::string>());
  eo.template_text = opt_string(cfg, "template");
  eo.template_list_separator = cfg.at("template_list_separator").get<std::string>();
  eo.dataset_text_field = cfg.at("dataset_text_field").get<std::string>();
  d.format = detect_format(records[0].value, eo, records[0].where());
  TokenizeOptions to;
  to.max_length = cfg.at("max_length").is_number() ? cfg.at("max_length").get<int64_t>() : 0;
  to.keep_end = cfg.at("truncation_mode").get<std::string>() == "keep_end";
  to.completion_only_loss = cfg.at("completion_only_loss").is_boolean()
                                ? (cfg.at("completion_only_loss").get<bool>() ? 1 : 0)
                                : -1;
  to.assistant_only_loss = cfg.at("assistant_only_loss").get<bool>();
  // TRL raises ValueError ("the dataset is not conversational"); the format was detected here
  // (dataset_format: auto), so config_rules could not see it.
  if (to.assistant_only_loss && d.format != DataFormat::MESSAGES)
    throw_user_error("config",
                     cfg.where("assistant_only_loss") + ": assistant_only_loss: true, but " + path +
                         " holds " + data_format_name(d.format) + " rows, not conversations",
                     "use messages data, or remove assistant_only_loss (completion_only_loss "
                     "masks the prompt of prompt/completion data)");
  to.eos_id = configured_token_id(cfg, "eos_token", tok);

  // Packing (TRL's _prepare_dataset): rows are packed instead of truncated — bfd cuts each row
  // to max_length keeping its start, wrapped cuts nothing — so rows are tokenised whole and
  // the sets that are not packed (eval with eval_packing: false) are truncated afterwards.
  d.train_packed = cfg.at("packing").get<bool>();
  d.eval_packed =
      cfg.at("eval_packing").is_boolean() ? cfg.at("eval_packing").get<bool>() : d.train_packed;
  d.packing_strategy =
      parse_packing_strategy(cfg.at("packing_strategy").get<std::string>(), cfg.source);
  if ((d.train_packed || d.eval_packed) && to.max_length <= 0)
    throw_user_error("config", cfg.source + ": packing needs max_length (the packed length)",
                     "set max_length, e.g. max_length: 1024");
  d.keep_end_ignored = d.train_packed && d.packing_strategy == PackingStrategy::BFD && to.keep_end;
  TokenizeOptions to_whole = to;
  if (d.train_packed || d.eval_packed) to_whole.max_length = 0;

  std::vector<TrainRow> all;
  Progress shown(progress, records.size() + eval_records.size());
  size_t done = 0;
  tokenize_all(records, d.format, eo, tok, chat, to_whole, skip, all, d.stats, rejects, d.mojibake,
               shown, done);
  check_some_usable("dataset", path, all.size(), rejects);
  tokenize_all(eval_records, d.format, eo, tok, chat, to_whole, skip, d.eval, d.stats, rejects,
               d.mojibake, shown, done);
  if (!eval_path.empty()) check_some_usable("eval_dataset", eval_path, d.eval.size(), rejects);
  shown.finish(done);
  const uint64_t seed =
      static_cast<uint64_t>(cfg.at("data_seed").is_number() ? cfg.at("data_seed").get<int64_t>()
                                                            : cfg.at("seed").get<int64_t>());
  const double split = cfg.at("validation_split").get<double>();
  std::vector<size_t> order = seeded_permutation(all.size(), seed, 0xE7A1);
  const auto n_eval = static_cast<size_t>(split * static_cast<double>(all.size()));
  check_validation_split(split, all.size(), n_eval, path, eval_path);
  for (size_t i = 0; i < order.size(); ++i)
    (i < n_eval ? d.eval : d.train).push_back(std::move(all[order[i]]));
  const int64_t max_length = to.max_length;
  auto finish = [&](std::vector<TrainRow>& rows, bool packed, PackStats& ps) {
    if (packed) {
      rows = pack_rows(rows, max_length, d.packing_strategy, &ps);
    } else if (to_whole.max_length != to.max_length) {
      std::vector<TrainRow> kept;
      for (TrainRow& r : rows)
        if (truncate_train_row(r, to, d.stats)) kept.push_back(std::move(r));
      rows = std::move(kept);
    }
  };
  finish(d.train, d.train_packed, d.train_pack);
  finish(d.eval, d.eval_packed, d.eval_pack);
  if (d.train.empty())
    throw_user_error("data",
                     path + ": no trainable rows left (" + std::to_string(d.stats.rows) +
                         " read, " + std::to_string(d.stats.dropped_fully_masked) +
                         " without a trained token after truncation)",
                     "raise max_length or check the loss-mask settings");
  if (!eval_path.empty() && d.eval.empty())
    throw_user_error("data",
                     "eval_dataset: " + eval_path + " leaves no validation rows (" +
                         std::to_string(eval_records.size()) + " read, none with a trained token)",
                     "check the file's rows and the loss-mask settings, or leave eval_dataset out");
  d.rejected = rejects.size();
  sort_rejects(rejects, {path, eval_path});
  if (!rejects.empty()) {
    const std::string dir = cfg.at("output_dir").get<std::string>();
    std::filesystem::create_directories(dir);
    d.rejects_path = dir + "/rejects.jsonl";
    std::string text;
    for (const RejectedRecord& r : rejects) {
      ojson j{{"file", r.file}, {"line", r.line}};
      if (r.record > 0) j["record"] = r.record;
      j["reason"] = r.reason;
      j["raw"] = r.raw;  // may hold invalid UTF-8: written with U+FFFD in its place
      text += j.dump(-1, ' ', false, ojson::error_handler_t::replace) + "\n";
    }
    write_file_atomic("data", d.rejects_path,
                      [&](const WriteBytes& sink) { sink(text.data(), text.size()); });
  }
  return d;
}

std::string PreparedData::summary() const {
  std::string s = train_packed ? std::to_string(train_pack.rows) + " training rows"
                               : std::to_string(train.size()) + " training rows";
  s += ", " + std::to_string(eval_packed ? eval_pack.rows : eval.size()) +
       " validation rows (format " + data_format_name(format) + ")";
  if (train_packed)
    s += "; packing (" + std::string(packing_strategy_name(packing_strategy)) +
         "): " + train_pack.summary();
  if (eval_packed) s += "; validation " + eval_pack.summary();
  if (keep_end_ignored)
    s += "; truncation_mode keep_end does not apply to packed rows (bfd keeps each row's start, "
         "as TRL does)";
  if (stats.truncated) s += "; " + std::to_string(stats.truncated) + " truncated to max_length";
  if (stats.dropped_fully_masked)
    s += "; " + std::to_string(stats.dropped_fully_masked) + " dropped (nothing left to train on)";
  if (stats.boundary_mismatches)
    s += "; " + std::to_string(stats.boundary_mismatches) +
         " tokenise differently as one text than as prompt + completion (trained as the parts, "
         "which is what generation sees)";
  if (stats.invalid_utf8)
    s += "; " + std::to_string(stats.invalid_utf8) + " invalid UTF-8 sequences replaced";
  if (rejected) s += "; " + std::to_string(rejected) + " invalid rows skipped → " + rejects_path;
  if (!mojibake.empty()) s += "; " + mojibake.summary();
  return s;
}

}  // namespace tuna
