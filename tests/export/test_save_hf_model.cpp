// A model saved as a Hugging Face directory (export/save_hf_model.h) from the real Gemma 3 270M
// GGUF: transformers loads it (tests/golden/fullft/saved_gemma3_270m/transformers.json, made by
// tools/reference/check_saved_model.py on the directory this test writes) and scores 600 tokens
// (past the 512-token sliding window) as tuna scores both the reloaded directory and the GGUF.
// config.json must be byte-identical to the one transformers loaded for the golden.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>

#include "export/save_hf_model.h"
#include "model/model.h"
#include "test_util.h"

namespace tuna {
namespace {

namespace fs = std::filesystem;
const std::string kDir = std::string(TUNA_GOLDEN_DIR) + "/fullft/saved_gemma3_270m/";
const std::string kGguf = std::string(TUNA_GOLDEN_DIR) + "/../../models/gemma-3-270m-q4_k_m.gguf";

std::vector<double> logprobs(const Model& model, const std::vector<int32_t>& ids) {
  Batch b;
  b.T = static_cast<int64_t>(ids.size());
  b.ids = ids;
  const Tensor logits = model.forward(b);  // [1, T, V]
  const int64_t V = model.spec().vocab;
  std::vector<double> out(ids.size(), 0.0);
  for (size_t t = 1; t < ids.size(); ++t) {
    const float* row = logits.data<float>() + static_cast<int64_t>(t - 1) * V;
    double mx = row[0], sum = 0;
    for (int64_t v = 1; v < V; ++v) mx = std::max(mx, static_cast<double>(row[v]));
    for (int64_t v = 0; v < V; ++v) sum += std::exp(static_cast<double>(row[v]) - mx);
    out[t] = static_cast<double>(row[ids[t]]) - mx - std::log(sum);
  }
  return out;
}

TEST(SaveHfModel, GgufGemma3LoadsInTransformers) {
  ASSERT_TRUE(fs::exists(kGguf)) << kGguf << " is missing: run scripts/setup.sh";
  const Model gguf = Model::load(kGguf);
  const char* keep = std::getenv("TUNA_SAVED_MODEL_DIR");  // regenerate.sh fullft keeps it
  const fs::path dir = keep ? fs::path(keep) : fs::temp_directory_path() / "tuna_saved_gemma3";
  fs::remove_all(dir);
  const std::vector<std::string> notes = save_hf_model(dir.string(), gguf, gguf.weights());
  ASSERT_FALSE(notes.empty());
  EXPECT_NE(notes[0].find("tokenizer.json"), std::string::npos);
  EXPECT_EQ(tuna_test::read_file((dir / "config.json").string()),
            tuna_test::read_file(kDir + "config.json"))
      << "config.json changed: regenerate with tools/reference/regenerate.sh fullft";

  std::vector<int32_t> ids;
  std::istringstream in(tuna_test::read_file(kDir + "ids.txt"));
  for (int32_t id; in >> id;) ids.push_back(id);
  ASSERT_EQ(ids.size(), 600u);
  const nlohmann::json ref =
      nlohmann::json::parse(tuna_test::read_file(kDir + "transformers.json"));
  ASSERT_EQ(ref["ids"].get<std::vector<int32_t>>(), ids);
  const Model again = Model::load(dir.string());
  EXPECT_EQ(again.spec().architecture, "Gemma3ForCausalLM");
  const std::vector<double> mine = logprobs(again, ids), base = logprobs(gguf, ids);
  double vs_hf = 0, vs_gguf = 0;
  for (size_t t = 1; t < ids.size(); ++t) {
    vs_hf = std::max(vs_hf, std::abs(mine[t] - ref["logprobs"][t].get<double>()));
    vs_gguf = std::max(vs_gguf, std::abs(mine[t] - base[t]));
  }
  std::printf("saved Gemma 3 270M: max |Δ log-prob| vs transformers %.2e, vs the GGUF %.2e\n",
              vs_hf, vs_gguf);
  EXPECT_LE(vs_hf, 1e-3);
  EXPECT_LE(vs_gguf, 1e-4);
  if (!keep) fs::remove_all(dir);
}

}  // namespace
}  // namespace tuna
