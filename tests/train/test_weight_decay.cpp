// Weight-decay grouping against Trainer.get_decay_parameter_names (transformers 4.57) on tiny
// models of every supported architecture and on PEFT LoRA wrappings
// (tests/golden/optim/decay_names.json).
#include <gtest/gtest.h>

#include <set>

#include "optim_golden.h"
#include "train/weight_decay.h"

namespace {

TEST(WeightDecayGolden, MatchesTrainerOnEveryArchitecture) {
  const nlohmann::json doc = tuna_test::read_optim_json("decay_names.json");
  std::set<std::string> types;
  int lora_decayed = 0;
  for (const auto& m : doc["models"]) {
    const std::string type = m["model_type"];
    types.insert(type);
    SCOPED_TRACE(m["label"].get<std::string>());
    const auto& names = m["names"];
    for (size_t i = 0; i < names.size(); ++i) {
      const std::string name = names[i];
      EXPECT_EQ(tuna::hf_weight_decay_applies(type, name), m["decay"][i].get<bool>()) << name;
      if (name.find("lora_") != std::string::npos && m["decay"][i].get<bool>()) ++lora_decayed;
    }
  }
  for (const char* t :
       {"llama", "mistral", "qwen2", "qwen3", "gemma2", "gemma3_text", "gemma3", "gpt2", "exaone"})
    EXPECT_TRUE(types.count(t)) << t;
  EXPECT_GT(lora_decayed, 0);
}

TEST(WeightDecayGolden, NameOnlyRuleMissesGpt2) {
  // A rule without the nn.LayerNorm module check (names only) must fail the GPT-2 golden.
  EXPECT_FALSE(tuna::hf_weight_decay_applies("gpt2", "transformer.h.0.ln_1.weight"));
  EXPECT_TRUE(tuna::hf_weight_decay_applies("exaone", "transformer.h.0.ln_1.weight"));
  EXPECT_FALSE(tuna::hf_weight_decay_applies("llama", "model.layers.3.self_attn.q_norm.weight"));
  EXPECT_TRUE(tuna::hf_weight_decay_applies("llama", "model.normalizer.weight"));
  EXPECT_FALSE(tuna::hf_weight_decay_applies("llama", "model.Norm.weight"));  // lower-cased
}

}  // namespace
