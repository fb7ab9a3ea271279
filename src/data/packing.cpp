// Packing (see packing.h). Each piece names the TRL 0.25.1 function it mirrors; the golden test
// (tests/data/test_packing.cpp) compares the output with TRL's on the same rows.
#include "data/packing.h"

#include <algorithm>
#include <cstdio>
#include <deque>
#include <map>
#include <numeric>

#include "core/error.h"

namespace tuna {

namespace {

constexpr int32_t kIgnore = -100;

// trl.data_utils._pack_bfd. Every row is cut to max_length (pc.list_slice(column, 0,
// seq_length): the start is kept whatever truncation_mode says), rows are visited longest first
// (a stable sort, so equal lengths keep their order), and each goes into the bin whose free space
// is the smallest that still fits it — among bins with the same free space the one that got there
// first (TRL's _SegmentTree search + space_to_bin deques) — or opens a new bin. Bins come out in
// the order they were opened, their rows in the order they were added.
std::vector<std::vector<size_t>> bfd_bins(const std::vector<size_t>& lengths, int64_t max_length) {
  std::vector<size_t> order(lengths.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return lengths[a] > lengths[b]; });
  std::vector<std::vector<size_t>> bins;
  std::map<size_t, std::deque<size_t>> space_to_bin;  // free space → bins (FIFO), space > 0
  const auto cap = static_cast<size_t>(max_length);
  for (size_t row : order) {
    const size_t len = lengths[row];
    size_t bin = 0, space = cap;
    auto fit = space_to_bin.lower_bound(len);
    if (fit != space_to_bin.end()) {
      space = fit->first;
      bin = fit->second.front();
      fit->second.pop_front();
      if (fit->second.empty()) space_to_bin.erase(fit);
    } else {
      bin = bins.size();
      bins.emplace_back();
    }
    bins[bin].push_back(row);
    if (space - len > 0) space_to_bin[space - len].push_back(bin);
  }
  return bins;
}

std::vector<TrainRow> pack_bfd(const std::vector<TrainRow>& rows, int64_t max_length,
                               PackStats& st) {
  std::vector<size_t> lengths(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    lengths[i] = std::min(rows[i].input_ids.size(), static_cast<size_t>(max_length));
    if (lengths[i] < rows[i].input_ids.size()) ++st.truncated;
    if (lengths[i] == 0)
      throw_internal_error("packing", "an empty row reached packing (tokenisation drops them)");
  }
  std::vector<TrainRow> out;
  for (const std::vector<size_t>& bin : bfd_bins(lengths, max_length)) {
    TrainRow packed;
    for (size_t row : bin) {
      const TrainRow& r = rows[row];
      const auto n = static_cast<std::ptrdiff_t>(lengths[row]);
      packed.input_ids.insert(packed.input_ids.end(), r.input_ids.begin(), r.input_ids.begin() + n);
      // DataCollatorForLanguageModeling (padding_free): labels[position_ids == 0] = -100.
      packed.labels.push_back(kIgnore);
      packed.labels.insert(packed.labels.end(), r.labels.begin() + 1, r.labels.begin() + n);
      // DataCollatorForLanguageModeling.get_position_ids_from_packed_seq_lengths: 0..len-1 per
      // row (TRL carries the lengths as the seq_lengths column and expands them in the collator).
      for (int32_t p = 0; p < static_cast<int32_t>(n); ++p) packed.position_ids.push_back(p);
    }
    out.push_back(std::move(packed));
  }
  return out;
}

// trl.data_utils._pack_wrapped: one stream of every row's tokens (and labels), cut at multiples
// of max_length; the last sequence holds the remainder. No seq_lengths: TRL's collator then
// treats each sequence as one text (attention_mask of ones, positions 0..n-1, labels unchanged).
std::vector<TrainRow> pack_wrapped(const std::vector<TrainRow>& rows, int64_t max_length) {
  std::vector<TrainRow> out;
  const auto cap = static_cast<size_t>(max_length);
  for (const TrainRow& r : rows) {
    for (size_t t = 0; t < r.input_ids.size(); ++t) {
      if (out.empty() || out.back().input_ids.size() == cap) out.emplace_back();
      out.back().input_ids.push_back(r.input_ids[t]);
      out.back().labels.push_back(r.labels[t]);
    }
  }
  return out;
}

}  // namespace

PackingStrategy parse_packing_strategy(const std::string& name, const std::string& where) {
  if (name == "bfd") return PackingStrategy::BFD;
  if (name == "wrapped") return PackingStrategy::WRAPPED;
  throw_user_error("config", where + ": packing_strategy \"" + name + "\" is not known",
                   "use bfd (best-fit decreasing, TRL's default) or wrapped");
}

const char* packing_strategy_name(PackingStrategy s) {
  return s == PackingStrategy::BFD ? "bfd" : "wrapped";
}

double PackStats::fill() const {
  const double cap = static_cast<double>(sequences) * static_cast<double>(max_length);
  return cap > 0 ? static_cast<double>(tokens) / cap : 0.0;
}

std::string PackStats::summary() const {
  char buf[160];
  std::snprintf(buf, sizeof buf, "%zu rows → %zu packed sequences of ≤ %lld tokens (fill %.1f%%)",
                rows, sequences, static_cast<long long>(max_length), 100.0 * fill());
  std::string s = buf;
  if (truncated) s += ", " + std::to_string(truncated) + " rows cut to max_length";
  return s;
}

std::vector<TrainRow> pack_rows(const std::vector<TrainRow>& rows, int64_t max_length,
                                PackingStrategy strategy, PackStats* stats) {
  if (max_length <= 0)
    throw_user_error("config", "packing needs max_length (the packed sequence length)",
                     "set max_length, e.g. max_length: 1024");
  for (const TrainRow& r : rows) {
    TUNA_ASSERT(r.labels.size() == r.input_ids.size(), "row labels and ids differ in length");
    TUNA_ASSERT(r.position_ids.empty(), "rows are packed once");
  }
  PackStats st;
  st.rows = rows.size();
  st.max_length = max_length;
  std::vector<TrainRow> out = strategy == PackingStrategy::BFD ? pack_bfd(rows, max_length, st)
                                                               : pack_wrapped(rows, max_length);
  st.sequences = out.size();
  for (const TrainRow& r : out) st.tokens += static_cast<int64_t>(r.input_ids.size());
  if (stats != nullptr) *stats = st;
  return out;
}

}  // namespace tuna
