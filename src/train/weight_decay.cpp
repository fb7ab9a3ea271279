// HF Trainer weight-decay grouping. See weight_decay.h.
#include "train/weight_decay.h"

#include <algorithm>
#include <cctype>
#include <set>
#include <vector>

#include "model/families/registry.h"

namespace tuna {

namespace {

std::vector<std::string> split_components(const std::string& name) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (;;) {
    const size_t dot = name.find('.', start);
    parts.push_back(name.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
    if (dot == std::string::npos) return parts;
    start = dot + 1;
  }
}

// Module names that are torch.nn.LayerNorm instances in transformers' classes: the family table's
// layer_norm_module rows (their module's own name, e.g. GPT-2's "ln_1") and the variant's vision
// tower's (Gemma 3's SigLIP layer_norm1/2). Unknown model types have none.
std::set<std::string> layer_norm_modules(const std::string& model_type) {
  std::set<std::string> out;
  const FamilyRef ref = find_family_by_model_type(model_type);
  if (!ref) return out;
  for (const WeightSlot& row : ref.family->slots) {
    if (!row.layer_norm_module) continue;
    std::string module = row.hf.substr(0, row.hf.rfind('.'));  // without ".weight"
    out.insert(module.substr(module.rfind('.') + 1));
  }
  const auto& tower = ref.variant->vision_tower.layer_norm_modules;
  out.insert(tower.begin(), tower.end());
  return out;
}

}  // namespace

bool hf_weight_decay_applies(const std::string& model_type, const std::string& name) {
  std::string lower = name;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (lower.find("bias") != std::string::npos || lower.find("layernorm") != std::string::npos ||
      lower.find("rmsnorm") != std::string::npos)
    return false;
  const std::vector<std::string> parts = split_components(lower);
  const std::vector<std::string> original = split_components(name);
  const std::set<std::string> layer_norms = layer_norm_modules(model_type);
  for (size_t i = 0; i < parts.size(); ++i) {
    // (?:^|\.)norm(?:$|\.) and _norm(?:$|\.): a dot-separated component "norm" or "*_norm".
    if (parts[i] == "norm" || parts[i].ends_with("_norm")) return false;
    // Module components (every one but the parameter's own name), matched case-sensitively as
    // Python attribute names are.
    if (i + 1 < parts.size() && layer_norms.count(original[i])) return false;
  }
  return true;
}

}  // namespace tuna
