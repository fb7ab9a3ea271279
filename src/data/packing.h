// Packing of tokenised training rows into sequences of at most max_length tokens, as TRL 0.25's
// SFTTrainer does with `packing: true` (trl/data_utils.py pack_dataset). Two strategies:
//   bfd     best-fit decreasing: rows are cut to max_length (keep the start), sorted by length
//           and put whole into the fullest sequence they still fit; each packed sequence keeps
//           per-token position ids restarting at 0 at every original row, and the first token of
//           each row gets label −100 (TRL's collator, padding-free). The model then never attends
//           across rows (train_step.h: position_ids).
//   wrapped the rows are concatenated and cut every max_length tokens (rows split across
//           sequences); each sequence is one text (positions 0..n−1, causal over all of it) —
//           TRL's "wrapped", which has no row boundaries to honour.
// Nothing here shuffles (the trainer does, per epoch, over the packed sequences).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "data/example.h"

namespace tuna {

enum class PackingStrategy : uint8_t { BFD, WRAPPED };
// "bfd" | "wrapped" (TRL's names); anything else is a user error naming `where`.
PackingStrategy parse_packing_strategy(const std::string& name, const std::string& where);
const char* packing_strategy_name(PackingStrategy s);

struct PackStats {
  size_t rows = 0;       // rows in
  size_t sequences = 0;  // packed sequences out
  size_t truncated = 0;  // rows cut to max_length (bfd)
  int64_t tokens = 0;    // tokens in the packed sequences
  int64_t max_length = 0;
  // tokens / (sequences · max_length): how full the sequences are.
  double fill() const;
  std::string summary() const;  // "120 rows → 31 packed sequences of ≤ 512 tokens (fill 96.8%)"
};

// Packs `rows` (labels −100 where not scored; no position_ids yet) into sequences of at most
// max_length (> 0) tokens. bfd output rows carry position_ids; wrapped ones carry none.
std::vector<TrainRow> pack_rows(const std::vector<TrainRow>& rows, int64_t max_length,
                                PackingStrategy strategy, PackStats* stats = nullptr);

}  // namespace tuna
