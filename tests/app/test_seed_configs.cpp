// The seeds' configs (tests/golden/seeds/seedNNN/config.yaml — the whole configs
// docs/guide-seeds.md gives, checked to be there verbatim) on the real Gemma 3 270M GGUF, standing
// in for each seed's model: tuna prepares each seed's rows into exactly the token ids and
// trained-token masks the seed's own Python gives (golden.json, tools/reference/
// make_seed_goldens.py: TRL 0.25.1 / transformers 4.57), except where tuna differs on purpose
// (the EOS after the plain-Trainer seeds' text, pinned here); then one training step finishes
// with a finite loss and writes its output. Not here: the keys' own rules (tests/train).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>

#include "app/model_handle.h"
#include "app/training_job.h"
#include "test_util.h"
#include "tokenizer/chat_template.h"
#include "train/dataset_prep.h"

namespace tuna {
namespace {

namespace fs = std::filesystem;
using ojson = nlohmann::ordered_json;

const std::string kSeeds = std::string(TUNA_GOLDEN_DIR) + "/seeds/";
const std::string kRoot = std::string(TUNA_GOLDEN_DIR) + "/../../";
const std::string kGguf = kRoot + "models/gemma-3-270m-q4_k_m.gguf";

struct Seed {
  std::string name;  // "000"
  // The seed trains with the plain Trainer on tokenizer(text): BOS, no EOS. tuna ends every
  // text with EOS (as TRL's SFTTrainer does) so the model learns where an answer stops.
  bool seed_adds_no_eos;
  bool full_fine_tuning;
};

std::ostream& operator<<(std::ostream& os, const Seed& s) {
  return os << "seed" << s.name;
}

const std::shared_ptr<const ModelHandle>& gemma() {
  static const std::shared_ptr<const ModelHandle> h = ModelHandle::load(kGguf);
  return h;
}

std::string dir_of(const Seed& s) {
  return kSeeds + "seed" + s.name + "/";
}

std::string config_text(const Seed& s) {
  return tuna_test::read_file(dir_of(s) + "config.yaml");
}

// The seed's config with its files and the model found where the tests keep them.
TrainConfig seed_config(const Seed& s, const std::string& output_dir,
                        std::vector<std::string> extra = {}) {
  const TrainConfig as_written = parse_train_config(config_text(s), dir_of(s) + "config.yaml");
  std::vector<std::string> o = {
      "model=" + kGguf, "output_dir=" + output_dir,
      "dataset=" + dir_of(s) + as_written.at("dataset").get<std::string>()};
  if (as_written.at("eval_dataset").is_string())
    o.push_back("eval_dataset=" + dir_of(s) + as_written.at("eval_dataset").get<std::string>());
  o.insert(o.end(), extra.begin(), extra.end());
  return parse_train_config(config_text(s), dir_of(s) + "config.yaml", o);
}

struct Row {
  std::vector<int32_t> ids, trained;
  bool operator<(const Row& o) const { return ids != o.ids ? ids < o.ids : trained < o.trained; }
  bool operator==(const Row& o) const { return ids == o.ids && trained == o.trained; }
};

std::vector<Row> tuna_rows(const std::vector<TrainRow>& rows) {
  std::vector<Row> out;
  for (const TrainRow& r : rows) {
    Row x{r.input_ids, {}};
    for (size_t t = 0; t < r.labels.size(); ++t) {
      x.trained.push_back(r.labels[t] != -100);
      if (r.labels[t] != -100) {
        EXPECT_EQ(r.labels[t], r.input_ids[t]) << "a label is its token";
      }
    }
    out.push_back(std::move(x));
  }
  return out;
}

// Where two rows part, for the failure message.
std::string first_difference(const Row& want, const std::vector<Row>& got, const Tokenizer& tok) {
  const Row* best = nullptr;
  size_t best_n = 0;
  for (const Row& g : got) {
    size_t n = 0;
    while (n < g.ids.size() && n < want.ids.size() && g.ids[n] == want.ids[n] &&
           g.trained[n] == want.trained[n])
      ++n;
    if (!best || n > best_n) best = &g, best_n = n;
  }
  std::ostringstream os;
  auto around = [&](const Row& r) {
    std::string s;
    for (size_t t = best_n >= 3 ? best_n - 3 : 0; t < std::min(r.ids.size(), best_n + 4); ++t)
      s += (t == best_n ? " >>" : " ") + std::to_string(r.ids[t]) + "'" +
           tok.id_to_piece(r.ids[t]) + "'" + (r.trained[t] ? "" : "(masked)");
    return s;
  };
  os << "golden row of " << want.ids.size() << " tokens; the closest tuna row ("
     << (best ? best->ids.size() : 0) << " tokens) parts at token " << best_n
     << "\n  golden:" << around(want);
  if (best) os << "\n  tuna:  " << around(*best);
  return os.str();
}

class SeedConfig : public tuna_test::TempDirTest, public ::testing::WithParamInterface<Seed> {
 protected:
  SeedConfig() : TempDirTest("tuna_seed") {}
};

// docs/guide-seeds.md shows the tested config whole, so a seed user copies what runs here.
TEST_P(SeedConfig, TheGuideShowsThisConfig) {
  const std::string guide = tuna_test::read_file(kRoot + "docs/guide-seeds.md");
  const std::string cfg = config_text(GetParam());
  std::string body = cfg.substr(cfg.find('\n') + 1);  // the guide's heading replaces line 1
  EXPECT_NE(guide.find("```yaml\n" + body + "```"), std::string::npos)
      << "docs/guide-seeds.md must hold tests/golden/seeds/seed" << GetParam().name
      << "/config.yaml (without its first comment line) as a ```yaml block:\n"
      << body;
}

// The rows tuna trains on are the rows the seed's Python trains on: the same ids, the same
// trained tokens.
TEST_P(SeedConfig, TrainsTheTokensTheSeedsPythonTrains) {
  const Seed& s = GetParam();
  const TrainConfig cfg = seed_config(s, path("out"));
  const ModelHandle& h = *gemma();
  std::unique_ptr<ChatTemplate> chat;
  if (const auto& t = h.chat_template())
    chat = std::make_unique<ChatTemplate>(ChatTemplate::parse(t->source, t->origin));
  DataProgressOptions quiet;
  quiet.sink = nullptr;
  const PreparedData data = prepare_training_data(cfg, h.tokenizer(), chat.get(), quiet);
  const int32_t eos = *h.tokenizer().eos_id();
  ASSERT_EQ(eos, 1) << "the goldens use the GGUF's EOS, <eos> (make_seed_goldens.py)";
  const int64_t max_length =
      cfg.at("max_length").is_number() ? cfg.at("max_length").get<int64_t>() : 0;

  const ojson golden = ojson::parse(tuna_test::read_file(dir_of(s) + "golden.json"));
  const bool has_eval = cfg.at("eval_dataset").is_string();
  ASSERT_EQ(golden["files"].size(), has_eval ? 2u : 1u);
  size_t file_index = 0;
  for (const auto& [file, rows] : golden["files"].items()) {
    SCOPED_TRACE(file);
    std::vector<Row> want;
    size_t eos_added = 0;
    for (const ojson& r : rows) {
      Row w{r["input_ids"].get<std::vector<int32_t>>(), r["trained"].get<std::vector<int32_t>>()};
      if (s.seed_adds_no_eos) {
        // The deliberate difference: the seed's tokenizer(text) ends without EOS, tuna appends
        // it (trained) — unless max_length cut the row, where both keep the same first tokens.
        EXPECT_NE(w.ids.back(), eos);
        if (max_length <= 0 || static_cast<int64_t>(w.ids.size()) < max_length) {
          w.ids.push_back(eos);
          w.trained.push_back(1);
          ++eos_added;
        }
      }
      want.push_back(std::move(w));
    }
    if (s.seed_adds_no_eos) {
      EXPECT_GT(eos_added, 0u) << "no row pins the EOS difference";
    }
    // tuna shuffles rows when it prepares them: compare as sorted sets (every row differs).
    const std::vector<TrainRow>& prepared = file_index++ == 0 ? data.train : data.eval;
    std::vector<Row> got = tuna_rows(prepared);
    ASSERT_EQ(got.size(), want.size());
    for (const Row& w : want)
      EXPECT_NE(std::find(got.begin(), got.end(), w), got.end())
          << first_difference(w, got, h.tokenizer());
    std::sort(got.begin(), got.end());
    std::sort(want.begin(), want.end());
    EXPECT_EQ(got, want);
  }
  EXPECT_EQ(data.stats.boundary_mismatches, 0u);
  EXPECT_EQ(data.rejected, 0u);
}

// One optimizer step of the seed's run (short rows, a small batch, no checkpoint) finishes with a
// finite loss and writes the adapter (or, full fine-tuning, the model) and the HF Trainer's
// result files.
TEST_P(SeedConfig, TrainsOneStep) {
  const Seed& s = GetParam();
  const std::string out = path("out");
  TrainConfig cfg = seed_config(s, out,
                                {"max_steps=1", "per_device_train_batch_size=2",
                                 "gradient_accumulation_steps=1", "max_length=48",
                                 // checkpoints are tested elsewhere; seed 000's would write ~3 GB
                                 "save_strategy=no"});
  TrainingJob job(std::move(cfg), gemma());
  const RunSummary sum = job.run();
  EXPECT_EQ(sum.global_step, 1);
  EXPECT_TRUE(std::isfinite(sum.train_loss)) << sum.train_loss;
  EXPECT_GT(sum.train_loss, 0.0);
  EXPECT_GT(sum.num_tokens, 0);
  for (const char* f :
       s.full_fine_tuning
           ? std::vector<const char*>{"model.safetensors", "config.json"}
           : std::vector<const char*>{"adapter_model.safetensors", "adapter_config.json"})
    EXPECT_TRUE(fs::exists(fs::path(out) / f)) << f;
  EXPECT_TRUE(fs::exists(fs::path(out) / "train_results.json"));
  EXPECT_TRUE(fs::exists(fs::path(out) / "trainer_state.json"));
}

INSTANTIATE_TEST_SUITE_P(Seeds, SeedConfig,
                         ::testing::Values(Seed{"000", true, true}, Seed{"001", false, false},
                                           Seed{"002", false, false}, Seed{"003", true, false},
                                           Seed{"004", false, false}),
                         [](const ::testing::TestParamInfo<Seed>& i) {
                           return "seed" + i.param.name;
                         });

}  // namespace
}  // namespace tuna
