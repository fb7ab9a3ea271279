// The TrainingArguments `optim` names tuna accepts (transformers 4.57's OptimizerNames that tuna
// implements) and what each one selects. Kept apart from the optimizers themselves so the config
// checks (train/config_rules.cpp) can name them without the update kernels.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace tuna {

enum class OptimizerKind : uint8_t {
  ADAMW,       // torch.optim.AdamW (adamw_torch, adamw_torch_fused, paged_adamw_32bit)
  SGD,         // torch.optim.SGD (sgd)
  ADAMW_8BIT,  // bitsandbytes AdamW8bit, blockwise (adamw_bnb_8bit, adamw_8bit, paged_adamw_8bit)
};

// A TrainingArguments `optim` name resolved. Unknown names and names tuna does not implement
// are user errors listing the supported ones.
struct OptimizerChoice {
  std::string name;  // as given
  OptimizerKind kind = OptimizerKind::ADAMW;
  bool paged = false;  // bitsandbytes paged state; on the CPU it behaves as non-paged
};
OptimizerChoice resolve_optimizer(const std::string& optim);
// The names resolve_optimizer() accepts, in documentation order.
const std::vector<std::string>& supported_optimizer_names();

}  // namespace tuna
