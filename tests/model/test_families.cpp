// The family registry (model/families/): every supported architecture name resolves (HF class,
// model_type, GGUF general.architecture); each family's table has a row for every weight slot
// its tiny golden model binds, with consistent names; unknown architectures are user errors that
// list the supported ones (config.json and GGUF).
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "core/error.h"
#include "io/gguf.h"
#include "model/families/registry.h"
#include "model/model.h"
#include "model/train_step.h"
#include "test_util.h"

namespace tuna {
namespace {

const std::string kModels = std::string(TUNA_GOLDEN_DIR) + "/models";

TEST(FamilyRegistry, EveryArchitectureNameResolves) {
  const std::vector<std::string> hf = {"LlamaForCausalLM",
                                       "MistralForCausalLM",
                                       "Qwen2ForCausalLM",
                                       "Qwen3ForCausalLM",
                                       "Gemma2ForCausalLM",
                                       "Gemma3ForCausalLM",
                                       "Gemma3ForConditionalGeneration",
                                       "GPT2LMHeadModel",
                                       "ExaoneForCausalLM"};
  EXPECT_EQ(supported_architectures(), hf);
  for (const std::string& arch : hf) {
    const FamilyRef ref = find_family_by_architecture(arch);
    ASSERT_TRUE(ref) << arch;
    EXPECT_EQ(ref.variant->architecture, arch);
    // model_type finds the same class (config.json without an architectures list).
    const FamilyRef by_type = find_family_by_model_type(ref.variant->model_type);
    ASSERT_TRUE(by_type) << arch;
    EXPECT_EQ(by_type.variant, ref.variant) << arch;
  }
  EXPECT_EQ(supported_gguf_architectures(),
            (std::vector<std::string>{"gemma3", "llama", "qwen2", "qwen3"}));
  for (const auto& [gguf, arch] :
       std::vector<std::pair<std::string, std::string>>{{"gemma3", "Gemma3ForCausalLM"},
                                                        {"llama", "LlamaForCausalLM"},
                                                        {"qwen2", "Qwen2ForCausalLM"},
                                                        {"qwen3", "Qwen3ForCausalLM"}}) {
    const FamilyRef ref = find_family_by_gguf_architecture(gguf);
    ASSERT_TRUE(ref) << gguf;
    EXPECT_EQ(ref.variant->architecture, arch);
  }
  EXPECT_FALSE(find_family_by_architecture("FalconForCausalLM"));
  EXPECT_FALSE(find_family_by_gguf_architecture("mamba"));
  EXPECT_FALSE(find_family_by_gguf_architecture(""));
}

TEST(FamilyRegistry, TablesAreConsistent) {
  std::set<std::string> slot_names = {"embed", "pos_embed", "final_norm", "lm_head"};
  for (const char* s : {"attn_norm", "q", "k", "v", "o", "qkv", "q_norm", "k_norm",
                        "post_attn_norm", "ffn_norm", "post_ffn_norm", "gate", "up", "down"})
    slot_names.insert(s);
  for (const ModelFamily* f : model_families()) {
    SCOPED_TRACE(f->name);
    EXPECT_NE(f->read_hf_config, nullptr);
    std::set<std::string> seen;
    std::set<LoraTarget> targets;
    for (const WeightSlot& row : f->slots) {
      EXPECT_TRUE(slot_names.count(row.slot)) << row.slot << " is not an engine slot";
      EXPECT_TRUE(seen.insert(row.slot).second) << row.slot << " listed twice";
      EXPECT_TRUE(std::string_view(row.hf).ends_with(".weight")) << row.hf;
      const bool per_layer = row.hf.find("{}") != std::string::npos;
      if (!row.gguf.empty()) {
        EXPECT_EQ(row.gguf.find("{}") != std::string::npos, per_layer) << row.gguf;
      }
      if (row.peft.empty()) {
        EXPECT_FALSE(row.lora_default) << row.slot;
        continue;
      }
      // A linear's module is its weight's name without ".weight" (transformers' naming).
      EXPECT_EQ(row.peft + ".weight", row.hf);
      EXPECT_TRUE(per_layer) << row.slot;
      EXPECT_TRUE(targets.insert(row.lora).second) << row.slot << ": adapter slot used twice";
    }
    for (const char* required :
         {"embed", "final_norm", "lm_head", "attn_norm", "ffn_norm", "o", "up", "down"})
      EXPECT_TRUE(seen.count(required)) << required;
    for (const FamilyVariant& v : f->variants) {
      if (!v.gguf_architecture.empty()) {
        EXPECT_NE(f->read_gguf, nullptr) << v.architecture;
        EXPECT_NE(f->write_hf_config, nullptr) << v.architecture;
        for (const WeightSlot& row : f->slots) EXPECT_FALSE(row.gguf.empty()) << row.slot;
      }
    }
  }
}

// Each tiny golden model binds only slots its family's table names, and every LoRA-able linear
// the model has gets a PEFT module name.
TEST(FamilyRegistry, TablesHaveTheSlotsEverySpecNeeds) {
  for (const char* name : {"llama", "mistral", "qwen2", "qwen3", "exaone", "gemma2", "gemma3",
                           "gemma3_conditional", "gpt2", "llama_linear_tied"}) {
    SCOPED_TRACE(name);
    const Model model = Model::load(kModels + "/" + name);
    const FamilyRef ref = family_of(model.spec());
    ASSERT_TRUE(ref);
    EXPECT_EQ(ref.variant->architecture, model.spec().architecture);
    EXPECT_EQ(ref.variant->family, model.spec().family);
    std::set<std::string> bound;
    for_each_weight_slot(model.weights(), [&](const std::string& slot, const Tensor&) {
      std::string s = slot.rfind("layers.", 0) == 0 ? slot.substr(slot.find('.', 7) + 1) : slot;
      if (std::string_view(s).ends_with("_bias")) s.resize(s.size() - 5);
      bound.insert(s);
    });
    for (const std::string& s : bound) EXPECT_NE(ref.family->find_slot(s), nullptr) << s;
    // Every name hf_slot_names gives is a tensor of the checkpoint.
    const std::set<std::string> names(model.weights().names.begin(), model.weights().names.end());
    for (const auto& [slot, hf] : hf_slot_names(model)) EXPECT_TRUE(names.count(hf)) << slot;
  }
}

TEST(FamilyRegistry, UnknownArchitectureIsAUserError) {
  try {
    parse_hf_config(nlohmann::json{{"architectures", {"FalconForCausalLM"}}}, "x/config.json");
    FAIL() << "accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.exit_status(), 2);
    const std::string what = e.what();
    EXPECT_NE(what.find("x/config.json: architecture 'FalconForCausalLM' is not supported"),
              std::string::npos)
        << what;
    for (const std::string& arch : supported_architectures())
      EXPECT_NE(e.hint().find(arch), std::string::npos) << e.hint();
  }
  // No architectures list and an unknown model_type: the model_type is named.
  try {
    parse_hf_config(nlohmann::json{{"model_type", "falcon"}}, "y/config.json");
    FAIL() << "accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("architecture 'falcon' is not supported"),
              std::string::npos);
  }
  GgufWriter w;
  w.set("general.architecture", GgufValue::string("mamba"));
  const std::string bytes = w.to_bytes();
  auto owner = std::make_shared<std::string>(bytes);
  const GgufFile f = GgufFile::parse(owner, reinterpret_cast<const uint8_t*>(owner->data()),
                                     owner->size(), "m.gguf");
  try {
    spec_from_gguf(f);
    FAIL() << "accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.exit_status(), 2);
    EXPECT_NE(std::string(e.what()).find("m.gguf: architecture 'mamba' is not supported"),
              std::string::npos)
        << e.what();
    EXPECT_NE(e.hint().find("supported GGUF architectures: gemma3, llama, qwen2, qwen3"),
              std::string::npos)
        << e.hint();
  }
}

}  // namespace
}  // namespace tuna
