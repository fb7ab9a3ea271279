// Shared by the LoRA tests: the committed PEFT goldens (tests/golden/lora, made by
// tools/reference/make_lora_goldens.py) and the tiny models they were made from.
#pragma once

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "model/model.h"

namespace tuna_test {

inline const std::string kLoraGolden = std::string(TUNA_GOLDEN_DIR) + "/lora";
inline const std::string kModels = std::string(TUNA_GOLDEN_DIR) + "/models";

inline const nlohmann::json& lora_targets_golden() {
  static const nlohmann::json j = [] {
    std::ifstream in(kLoraGolden + "/targets.json");
    return nlohmann::json::parse(in);
  }();
  return j;
}

inline tuna::Model load_tiny(const std::string& name) {
  return tuna::Model::load(kModels + "/" + name);
}

}  // namespace tuna_test
