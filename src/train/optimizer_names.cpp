// The `optim` names tuna implements and the known ones it does not. See optimizer_names.h.
#include "train/optimizer_names.h"

#include "core/error.h"
#include "core/message.h"

namespace tuna {

namespace {

struct NameEntry {
  const char* name;
  OptimizerKind kind;
  bool paged;
};

const NameEntry kNames[] = {
    {"adamw_torch", OptimizerKind::ADAMW, false},
    {"adamw_torch_fused", OptimizerKind::ADAMW, false},
    {"paged_adamw_32bit", OptimizerKind::ADAMW, true},
    {"sgd", OptimizerKind::SGD, false},
    {"adamw_bnb_8bit", OptimizerKind::ADAMW_8BIT, false},
    {"adamw_8bit", OptimizerKind::ADAMW_8BIT, false},
    {"paged_adamw_8bit", OptimizerKind::ADAMW_8BIT, true},
};

// transformers 4.57 OptimizerNames that tuna does not implement (a clearer message than
// "unknown" for a name the user may have copied from a working Python script).
const char* const kKnownUnsupported[] = {"adamw_torch_xla",
                                         "adamw_torch_npu_fused",
                                         "adamw_apex_fused",
                                         "adafactor",
                                         "adamw_anyprecision",
                                         "adamw_torch_4bit",
                                         "adamw_torch_8bit",
                                         "ademamix",
                                         "adagrad",
                                         "ademamix_8bit",
                                         "lion_8bit",
                                         "lion_32bit",
                                         "paged_ademamix_32bit",
                                         "paged_ademamix_8bit",
                                         "paged_lion_32bit",
                                         "paged_lion_8bit",
                                         "rmsprop",
                                         "rmsprop_bnb",
                                         "rmsprop_bnb_8bit",
                                         "rmsprop_bnb_32bit",
                                         "galore_adamw",
                                         "galore_adamw_8bit",
                                         "galore_adafactor",
                                         "galore_adamw_layerwise",
                                         "galore_adamw_8bit_layerwise",
                                         "galore_adafactor_layerwise",
                                         "lomo",
                                         "adalomo",
                                         "grokadamw",
                                         "schedule_free_radam",
                                         "schedule_free_adamw",
                                         "schedule_free_sgd",
                                         "apollo_adamw",
                                         "apollo_adamw_layerwise",
                                         "stable_adamw",
                                         "adamw_hf"};

}  // namespace

const std::vector<std::string>& supported_optimizer_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    for (const NameEntry& e : kNames) v.push_back(e.name);
    return v;
  }();
  return names;
}

OptimizerChoice resolve_optimizer(const std::string& optim) {
  for (const NameEntry& e : kNames)
    if (optim == e.name) return {optim, e.kind, e.paged};
  const std::string hint = "set optim to one of: " + join_names(supported_optimizer_names());
  for (const char* known : kKnownUnsupported)
    if (optim == known)
      throw_user_error("optim", "optimizer '" + optim + "' is not supported by tuna", hint);
  throw_user_error("optim", "unknown optimizer '" + optim + "'", hint);
}

}  // namespace tuna
