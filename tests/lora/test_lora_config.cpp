// LoraConfig: PEFT's defaults, the seeds' configs, errors naming the key (did-you-mean, exit 2),
// and adapter_config.json text byte-identical to PEFT's json.dumps(indent=2, sort_keys=True).
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "core/error.h"
#include "lora/config.h"
#include "lora_test_util.h"

namespace tuna {
namespace {

std::string error_of(const nlohmann::json& j) {
  try {
    lora_config_from_json(j, "train.yaml lora");
  } catch (const Error& e) {
    EXPECT_EQ(e.exit_status(), 2);
    return e.what();
  }
  return "no error";
}

TEST(LoraConfig, PeftDefaults) {
  const LoraConfig c = lora_config_from_json(nlohmann::json::object(), "x");
  EXPECT_EQ(c.r, 8);
  EXPECT_EQ(c.lora_alpha, 8);
  EXPECT_EQ(c.lora_dropout, 0.0);
  EXPECT_EQ(c.target_modules.kind, ModuleSelector::Kind::NONE);
  EXPECT_EQ(c.bias, LoraBias::NONE);
  EXPECT_FALSE(c.use_rslora);
  EXPECT_FALSE(c.task_type.has_value());
  EXPECT_EQ(c.init_lora_weights, LoraInit::KAIMING_UNIFORM);
  EXPECT_FLOAT_EQ(c.scale(), 1.0f);
}

TEST(LoraConfig, SeedConfigsParse) {
  // 002 / 003 / 004: r=16, alpha=32, dropout 0.05, bias none, CAUSAL_LM.
  const auto c =
      lora_config_from_json({{"r", 16},
                             {"lora_alpha", 32},
                             {"target_modules", {"q_proj", "k_proj", "v_proj", "o_proj"}},
                             {"lora_dropout", 0.05},
                             {"bias", "none"},
                             {"task_type", "CAUSAL_LM"}},
                            "seed");
  EXPECT_FLOAT_EQ(c.scale(), 2.0f);
  EXPECT_EQ(c.target_modules.names.size(), 4u);
  LoraConfig rs = c;
  rs.use_rslora = true;
  EXPECT_FLOAT_EQ(rs.scale(), 8.0f);  // 32 / sqrt(16)
  EXPECT_TRUE(lora_config_from_json({{"target_modules", "ALL-LINEAR"}}, "x")
                  .target_modules.is_all_linear());
}

TEST(LoraConfig, ErrorsNameTheKey) {
  EXPECT_NE(error_of({{"lora_alpah", 16}}).find("did you mean 'lora_alpha'"), std::string::npos);
  EXPECT_NE(error_of({{"r", 0}}).find("'r'"), std::string::npos);
  EXPECT_NE(error_of({{"r", "8"}}).find("positive integer"), std::string::npos);
  EXPECT_NE(error_of({{"lora_dropout", 1.0}}).find("lora_dropout"), std::string::npos);
  EXPECT_NE(error_of({{"bias", "some"}}).find("lora_only"), std::string::npos);
  EXPECT_NE(error_of({{"use_dora", true}}).find("not supported"), std::string::npos);
  EXPECT_NE(error_of({{"init_lora_weights", "pissa"}}).find("not supported"), std::string::npos);
  EXPECT_NE(error_of({{"task_type", "SEQ_CLS"}}).find("CAUSAL_LM"), std::string::npos);
  EXPECT_NE(error_of({{"target_modules", ".*q_proj"}, {"layers_to_transform", 0}}).find("list"),
            std::string::npos);
  EXPECT_NE(error_of({{"layers_pattern", "layers"}}).find("layers_to_transform"),
            std::string::npos);
  EXPECT_NE(error_of(nlohmann::json::array()).find("key-value"), std::string::npos);
  // Defaults of unsupported features are accepted (PEFT's own adapter_config.json has them all).
  EXPECT_EQ(error_of({{"use_dora", false}, {"rank_pattern", nlohmann::json::object()}}),
            "no error");
}

TEST(LoraConfig, AdapterConfigTextIsPeftsBytes) {
  for (const char* model : {"llama", "gpt2", "qwen2", "gemma3_bf16"}) {
    const std::string path = tuna_test::kLoraGolden + "/adapters/" + model + "/adapter_config.json";
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string peft = ss.str();
    const LoraConfig c = lora_config_from_json(nlohmann::json::parse(peft), path, true);
    std::string mine = adapter_config_json_text(c);
    // PEFT writes target_modules (a set) in hash order; tuna sorts: compare parsed values too.
    auto sorted = [](nlohmann::json j) {
      if (j["target_modules"].is_array())
        std::sort(j["target_modules"].begin(), j["target_modules"].end());
      return j;
    };
    EXPECT_EQ(sorted(nlohmann::json::parse(mine)), sorted(nlohmann::json::parse(peft))) << model;
    const nlohmann::json names = nlohmann::json::parse(peft)["target_modules"];
    if (names.is_array() && std::is_sorted(names.begin(), names.end())) {
      EXPECT_EQ(mine, peft) << model;
    }
  }
}

}  // namespace
}  // namespace tuna
