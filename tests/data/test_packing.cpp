// Packing against TRL 0.25.1 (tests/golden/packing, made by
// tools/reference/make_packing_goldens.py): pack_dataset's sequences (bfd and wrapped) and the SFT
// collator's labels and position_ids, element for element; plus the invariants a packed set must
// keep whatever the data.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "data/packing.h"

namespace tuna {
namespace {

const nlohmann::json& golden() {
  static const nlohmann::json g = [] {
    std::ifstream in(std::string(TUNA_GOLDEN_DIR) + "/packing/packing.json");
    return nlohmann::json::parse(in);
  }();
  return g;
}

// A golden row as tuna's tokenisation leaves it: labels = ids where the completion mask is 1.
TrainRow row_of(const nlohmann::json& r) {
  TrainRow row;
  row.input_ids = r["input_ids"].get<std::vector<int32_t>>();
  const auto mask = r["completion_mask"].get<std::vector<int32_t>>();
  for (size_t t = 0; t < mask.size(); ++t) row.labels.push_back(mask[t] ? row.input_ids[t] : -100);
  return row;
}

TEST(Packing, MatchesTrlPackDatasetAndCollator) {
  const auto& cases = golden()["cases"];
  ASSERT_GE(cases.size(), 8u);
  for (const auto& c : cases) {
    const std::string strategy = c["strategy"];
    const int64_t max_length = c["max_length"];
    SCOPED_TRACE(strategy + " max_length " + std::to_string(max_length));
    std::vector<TrainRow> rows;
    for (const auto& r : c["rows"]) rows.push_back(row_of(r));
    PackStats st;
    const std::vector<TrainRow> packed =
        pack_rows(rows, max_length, parse_packing_strategy(strategy, "test"), &st);
    const auto& want = c["packed"];
    ASSERT_EQ(packed.size(), want.size());
    EXPECT_EQ(st.sequences, want.size());
    EXPECT_EQ(st.rows, rows.size());
    int64_t tokens = 0;
    for (size_t i = 0; i < packed.size(); ++i) {
      SCOPED_TRACE("sequence " + std::to_string(i));
      EXPECT_EQ(packed[i].input_ids, want[i]["input_ids"].get<std::vector<int32_t>>());
      EXPECT_EQ(packed[i].labels, want[i]["labels"].get<std::vector<int32_t>>());
      if (strategy == "bfd")
        EXPECT_EQ(packed[i].position_ids, want[i]["position_ids"].get<std::vector<int32_t>>());
      else
        EXPECT_TRUE(packed[i].position_ids.empty());
      tokens += static_cast<int64_t>(want[i]["input_ids"].size());
    }
    EXPECT_EQ(st.tokens, tokens);
  }
}

TEST(Packing, BfdKeepsEveryRowWholeAndSequencesWithinMaxLength) {
  std::vector<TrainRow> rows;
  size_t total = 0;
  for (int i = 0; i < 200; ++i) {
    TrainRow r;
    const int n = 1 + (i * 37) % 29;
    for (int t = 0; t < n; ++t) r.input_ids.push_back(i * 100 + t), r.labels.push_back(i * 100 + t);
    total += static_cast<size_t>(n);
    rows.push_back(r);
  }
  PackStats st;
  const auto packed = pack_rows(rows, 32, PackingStrategy::BFD, &st);
  size_t tokens = 0;
  std::vector<int> seen(200, 0);
  for (const TrainRow& p : packed) {
    ASSERT_LE(p.input_ids.size(), 32u);
    ASSERT_EQ(p.position_ids.size(), p.input_ids.size());
    tokens += p.input_ids.size();
    for (size_t t = 0; t < p.input_ids.size(); ++t) {
      const int row = p.input_ids[t] / 100, pos = p.input_ids[t] % 100;
      EXPECT_EQ(p.position_ids[t], pos);  // positions restart at every row
      EXPECT_EQ(p.labels[t], pos == 0 ? -100 : p.input_ids[t]);
      if (pos == 0) ++seen[static_cast<size_t>(row)];
    }
  }
  EXPECT_EQ(tokens, total);
  for (int s : seen) EXPECT_EQ(s, 1);  // each row exactly once, never split
  EXPECT_EQ(st.truncated, 0u);
  EXPECT_GT(st.fill(), 0.95);  // best fit leaves little room on this data
  EXPECT_NE(st.summary().find("200 rows → " + std::to_string(packed.size()) + " packed sequences"),
            std::string::npos)
      << st.summary();
}

TEST(Packing, BadInputIsAUserError) {
  try {
    parse_packing_strategy("bfd_split", "cfg.yaml");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.exit_status(), 2);
    EXPECT_NE(std::string(e.what()).find("bfd_split"), std::string::npos);
  }
  EXPECT_THROW(pack_rows({}, 0, PackingStrategy::BFD), Error);
}

}  // namespace
}  // namespace tuna
