// HF Trainer weight-decay grouping. See weight_decay.h.
#include "train/weight_decay.h"

#include <algorithm>
#include <cctype>
#include <vector>

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

// Module names that are torch.nn.LayerNorm instances in transformers' classes.
bool is_layernorm_module(const std::string& model_type, const std::string& component) {
  if (model_type == "gpt2")
    return component == "ln_1" || component == "ln_2" || component == "ln_f";
  if (model_type == "gemma3")  // SigLIP vision tower (post_layernorm also matches by name)
    return component == "layer_norm1" || component == "layer_norm2" ||
           component == "post_layernorm";
  return false;
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
  for (size_t i = 0; i < parts.size(); ++i) {
    // (?:^|\.)norm(?:$|\.) and _norm(?:$|\.): a dot-separated component "norm" or "*_norm".
    if (parts[i] == "norm" || parts[i].ends_with("_norm")) return false;
    // Module components (every one but the parameter's own name), matched case-sensitively as
    // Python attribute names are.
    if (i + 1 < parts.size() && is_layernorm_module(model_type, original[i])) return false;
  }
  return true;
}

}  // namespace tuna
