// From a `tuna train` config to tokenised training and validation rows: read the dataset file(s),
// resolve the format, build examples, tokenise with masks, split off validation data, shuffle
// with a seeded counter-based permutation, and report what happened (rows, truncated, dropped,
// boundary mismatches, rejects written to output_dir/rejects.jsonl with their reason), and pack
// the rows into max_length sequences when the config says `packing` (data/packing.h).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "data/example.h"
#include "data/mojibake.h"
#include "data/packing.h"
#include "train/config.h"

namespace tuna {

class Tokenizer;
class ChatTemplate;

struct PreparedData {
  std::vector<TrainRow> train, eval;
  DataFormat format = DataFormat::AUTO;
  TokenizeStats stats;
  size_t rejected = 0;       // unreadable or invalid rows skipped (skip_invalid)
  std::string rejects_path;  // where they were written ("" when none)
  // packing / eval_packing: train / eval hold packed sequences (their stats say how many rows).
  bool train_packed = false, eval_packed = false;
  PackingStrategy packing_strategy = PackingStrategy::BFD;
  PackStats train_pack, eval_pack;
  bool keep_end_ignored = false;  // truncation_mode keep_end with bfd packing (TRL ignores it)
  MojibakeReport mojibake;        // garbled text in the rows that train (data/mojibake.h)
  // One-paragraph summary for the console.
  std::string summary() const;
};

// Progress of long preparations (tokenising a large file): nothing when the work takes under
// first_after_s, then a line "data: tokenizing 12000/50000 rows (3400 rows/s)" every every_s and
// a last one when done. The default sink writes to stderr.
void print_data_progress(const std::string& line);
struct DataProgressOptions {
  std::function<void(const std::string&)> sink = print_data_progress;  // empty: silent
  double first_after_s = 1.0, every_s = 1.0;
};

// `chat` renders messages data (nullptr when the model has no chat template). Errors name the
// config key, file and record (docs/data.md); so does a validation_split that leaves no rows on
// one side. Rejected rows (skip_invalid) are written in file and line order.
PreparedData prepare_training_data(const TrainConfig& cfg, const Tokenizer& tok,
                                   const ChatTemplate* chat,
                                   const DataProgressOptions& progress = {});

// A seeded permutation of 0..n-1 (Fisher–Yates with Philox draws keyed by seed and epoch), the
// same for any thread count and resumable from (seed, epoch).
std::vector<size_t> seeded_permutation(size_t n, uint64_t seed, uint64_t epoch);

}  // namespace tuna
