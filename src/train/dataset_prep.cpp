// Dataset preparation for `tuna train` (see dataset_prep.h).
#include "train/dataset_prep.h"

#include <filesystem>
#include <numeric>

#include "core/error.h"
#include "core/file_io.h"
#include "core/rng.h"
#include "tokenizer/chat_template.h"
#include "tokenizer/tokenizer.h"

namespace tuna {
namespace {

using ojson = nlohmann::ordered_json;

std::string opt_string(const TrainConfig& c, const char* key) {
  const ojson& v = c.at(key);
  return v.is_string() ? v.get<std::string>() : "";
}

// Examples → rows; invalid rows become user errors or (skip_invalid) rejects.
void tokenize_all(const std::vector<Record>& records, DataFormat format, const ExampleOptions& eo,
                  const Tokenizer& tok, const ChatTemplate* chat, const TokenizeOptions& to,
                  bool skip_invalid, std::vector<TrainRow>& out, TokenizeStats& stats,
                  std::vector<RejectedRecord>& rejects) {
  for (const Record& rec : records) {
    try {
      Example ex = make_example(rec, format, eo);
      TrainRow row;
      if (tokenize_example(tok, chat, ex, to, stats, row)) out.push_back(std::move(row));
    } catch (const Error& e) {
      if (!skip_invalid || e.kind() != ErrorKind::USER) throw;
      rejects.push_back({rec.file, rec.line, rec.value.dump().substr(0, 500), e.message()});
    }
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

PreparedData prepare_training_data(const TrainConfig& cfg, const Tokenizer& tok,
                                   const ChatTemplate* chat) {
  PreparedData d;
  const std::string path = opt_string(cfg, "dataset");
  if (path.empty())
    throw_user_error("config", cfg.source + ": no dataset", "set dataset: path/to/train.jsonl");
  const bool skip = cfg.at("skip_invalid").get<bool>();
  std::vector<RejectedRecord> rejects;
  std::vector<Record> records = read_records(path, skip ? &rejects : nullptr);
  if (records.empty())
    throw_user_error("data", path + " holds no records", "add rows, one JSON object per line");
  if (cfg.at("max_samples").is_number()) {
    const auto n = cfg.at("max_samples").get<size_t>();
    if (records.size() > n) records.resize(n);
  }
  ExampleOptions eo;
  eo.format = parse_data_format(cfg.at("dataset_format").get<std::string>());
  eo.template_text = opt_string(cfg, "template");
  eo.dataset_text_field = cfg.at("dataset_text_field").get<std::string>();
  d.format = detect_format(records[0].value, eo);
  TokenizeOptions to;
  to.max_length = cfg.at("max_length").is_number() ? cfg.at("max_length").get<int64_t>() : 0;
  to.keep_end = cfg.at("truncation_mode").get<std::string>() == "keep_end";
  to.completion_only_loss = cfg.at("completion_only_loss").is_boolean()
                                ? (cfg.at("completion_only_loss").get<bool>() ? 1 : 0)
                                : -1;
  to.assistant_only_loss = cfg.at("assistant_only_loss").get<bool>();

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
  tokenize_all(records, d.format, eo, tok, chat, to_whole, skip, all, d.stats, rejects);
  if (const std::string eval_path = opt_string(cfg, "eval_dataset"); !eval_path.empty()) {
    std::vector<Record> ev = read_records(eval_path, skip ? &rejects : nullptr);
    tokenize_all(ev, d.format, eo, tok, chat, to_whole, skip, d.eval, d.stats, rejects);
  }
  const uint64_t seed =
      static_cast<uint64_t>(cfg.at("data_seed").is_number() ? cfg.at("data_seed").get<int64_t>()
                                                            : cfg.at("seed").get<int64_t>());
  const double split = cfg.at("validation_split").get<double>();
  std::vector<size_t> order = seeded_permutation(all.size(), seed, 0xE7A1);
  const auto n_eval = static_cast<size_t>(split * static_cast<double>(all.size()));
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
  d.rejected = rejects.size();
  if (!rejects.empty()) {
    const std::string dir = cfg.at("output_dir").get<std::string>();
    std::filesystem::create_directories(dir);
    d.rejects_path = dir + "/rejects.jsonl";
    std::string text;
    for (const RejectedRecord& r : rejects)
      text +=
          ojson({{"file", r.file}, {"line", r.line}, {"reason", r.reason}, {"raw", r.raw}}).dump() +
          "\n";
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
  return s;
}

}  // namespace tuna
