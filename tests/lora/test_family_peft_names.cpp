// The family table drives PEFT key names: the adapter keys derived from a family's table (its
// `peft` column through linear_modules and PEFT's target resolution) are exactly the keys of the
// adapters PEFT saved for the tiny models (tests/golden/lora/adapters), and a copy of the table
// with one wrong PEFT module name (q_proj) no longer gives them — so the test can fail.
#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <string>

#include "core/error.h"
#include "io/safetensors.h"
#include "lora/config.h"
#include "lora/targets.h"
#include "lora_test_util.h"
#include "model/families/registry.h"

namespace tuna {
namespace {

using tuna_test::kLoraGolden;
using tuna_test::load_tiny;

std::set<std::string> golden_keys(const std::string& name) {
  const SafetensorsFile f =
      SafetensorsFile::open(kLoraGolden + "/adapters/" + name + "/adapter_model.safetensors");
  const std::vector<std::string> names = f.names();
  return {names.begin(), names.end()};
}

LoraConfig golden_config(const std::string& name) {
  const std::string path = kLoraGolden + "/adapters/" + name + "/adapter_config.json";
  std::ifstream in(path);
  return lora_config_from_json(nlohmann::json::parse(in), path, /*lenient=*/true);
}

// PEFT's adapter keys for `config` on `model` when its family table is `family`; a user error
// (target_modules naming no module) gives the empty set.
std::set<std::string> derived_keys(const Model& model, const ModelFamily& family,
                                   const LoraConfig& config) {
  const std::vector<LinearModule> lin = linear_modules(model, family);
  std::set<std::string> keys;
  try {
    for (size_t i : resolve_lora_targets(config, lin, peft_model_type(model.spec()))) {
      keys.insert("base_model.model." + lin[i].name + ".lora_A.weight");
      keys.insert("base_model.model." + lin[i].name + ".lora_B.weight");
    }
  } catch (const Error&) {
    keys.clear();
  }
  return keys;
}

TEST(FamilyPeftNames, TableGivesPeftAdapterKeys) {
  for (const char* name : {"llama", "qwen2", "gemma3_bf16", "gpt2"}) {
    SCOPED_TRACE(name);
    const Model model = load_tiny(name);
    const ModelFamily& family = *family_of(model.spec()).family;
    EXPECT_EQ(derived_keys(model, family, golden_config(name)), golden_keys(name));
  }
}

TEST(FamilyPeftNames, WrongTableEntryFails) {
  for (const char* name : {"llama", "qwen2", "gemma3_bf16"}) {
    SCOPED_TRACE(name);
    const Model model = load_tiny(name);
    ModelFamily wrong = *family_of(model.spec()).family;
    bool edited = false;
    for (WeightSlot& row : wrong.slots) {
      if (row.slot != "q") continue;
      row.peft = "model.layers.{}.self_attn.query";  // not transformers' q_proj
      edited = true;
    }
    ASSERT_TRUE(edited);
    const LoraConfig config = golden_config(name);
    const std::set<std::string> golden = golden_keys(name);
    EXPECT_NE(derived_keys(model, wrong, config), golden);
    // Even targeting every linear, the q adapters' keys are not PEFT's.
    LoraConfig all = config;
    all.target_modules.kind = ModuleSelector::Kind::LIST;
    all.target_modules.names = {"query",     "k_proj",  "v_proj",   "o_proj",
                                "gate_proj", "up_proj", "down_proj"};
    const std::set<std::string> keys = derived_keys(model, wrong, all);
    ASSERT_FALSE(keys.empty());
    EXPECT_NE(keys, golden);
    size_t missing = 0;
    for (const std::string& k : golden) missing += keys.count(k) == 0;
    EXPECT_EQ(missing, 2 * static_cast<size_t>(model.spec().n_layers));  // q's lora_A and lora_B
  }
}

}  // namespace
}  // namespace tuna
