// Where LoRA goes, exactly as PEFT 0.18.1 decides it: the model's linear modules under the names
// transformers gives them (the family table's PEFT column, model/families/; a GGUF base takes the
// HF names of its architecture),
// target_modules matching (list: exact or "." + suffix; string: Python re.fullmatch; "all-linear":
// every linear but the output head; absent: PEFT's per-model_type default), exclude_modules,
// modules_to_save, layers_to_transform / layers_pattern; then the adapters themselves (seeded
// init) and print_trainable_parameters' line. Not here: reading/writing files (adapter_io.h),
// merging (merge.h), training.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/tensor.h"
#include "lora/config.h"
#include "model/lora_adapter.h"

namespace tuna {

class Model;
struct ModelFamily;
struct ModelSpec;

// One linear module of the model as transformers names it (PEFT's module key).
struct LinearModule {
  std::string name;  // e.g. "model.layers.3.self_attn.q_proj", "transformer.h.0.attn.c_attn"
  int layer = -1;    // block index; -1 for linears outside the text blocks (a vision tower)
  LoraTarget target = LoraTarget::Q;  // the engine slot (meaningful when layer >= 0)
  int64_t in = 0, out = 0;
  bool conv1d = false;  // GPT-2 Conv1D: weight stored [in, out]
  Tensor weight, bias;  // base weight (stored format, view) and bias (undefined when none)
};

// A module saved whole (modules_to_save): PEFT trains a copy and saves it under the module's name.
struct SavedModule {
  std::string name;          // e.g. "lm_head"
  Tensor weight, bias;       // F32 trainable copies (bias undefined when none)
  DType dtype = DType::F32;  // the base's dtype, in which PEFT saves the copy
};

// The adapters of one model: what get_peft_model builds.
struct LoraSet {
  LoraConfig config;  // as PEFT records it: target_modules resolved for "all-linear"/default,
                      // fan_in_fan_out forced true on Conv1D models, base_model_name_or_path
  std::vector<LoraAdapter> adapters;  // PEFT's module order; layer -1: outside the text blocks
                                      // (e.g. Gemma 3's vision tower: kept, never trained)
  std::vector<SavedModule> saved;     // modules_to_save copies
  // Biases made trainable by bias = "all" / "lora_only": (parameter name, F32 copy).
  std::vector<std::pair<std::string, Tensor>> biases;

  // The modules_to_save copy whose own bias the bias parameter `name` ("<module>.bias") is, or
  // null. Such an entry of `biases` is the wrapped original's bias: frozen, as PEFT freezes it
  // (the copy's bias trains); bias "all" still saves it as <module>.original_module.bias.
  const SavedModule* saved_module_of_bias(const std::string& name) const;
};

// PEFT's model_type key for TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING ("llama",
// "gemma3_text", "gemma3" for Gemma3ForConditionalGeneration, "gpt2", "exaone", ...).
std::string peft_model_type(const ModelSpec& spec);
// PEFT's default target_modules for a model type: the last name component of the `peft` of
// every lora_default row of its family table ({"q_proj", "v_proj"}, {"c_attn"}); empty when
// PEFT has none (EXAONE, Gemma 3 multimodal, unknown types).
std::vector<std::string> peft_default_target_modules(const std::string& model_type);
// Every nn.Linear / Conv1D of the model except the output head, in transformers' module order:
// a multimodal checkpoint's vision tower, then per block the `peft` rows of the family table.
std::vector<LinearModule> linear_modules(const Model& model);
// The same from a given family table (tests: a wrong table gives wrong PEFT names).
std::vector<LinearModule> linear_modules(const Model& model, const ModelFamily& family);
// The module name of the output head ("lm_head") and of the input embedding.
std::string embedding_module_name(const ModelSpec& spec);

// Indices into `linears` that get an adapter. User errors: a list entry that names no linear
// (listing the model's linear names, with a did-you-mean), no default for the model type, an
// empty selection, an invalid regex.
std::vector<size_t> resolve_lora_targets(const LoraConfig& config,
                                         const std::vector<LinearModule>& linears,
                                         const std::string& model_type);

// One adapter record on `m` (rank r, scale and dropout from `config`), A/B and grads zero.
LoraAdapter make_lora_adapter(const LinearModule& m, int64_t r, const LoraConfig& config);

// Builds the adapters for `model`: A drawn per PEFT's init (Kaiming-uniform(a=√5) = U(±1/√in) by
// default) from core/rng Philox keyed by config.seed, stream = a hash of the module name; B = 0;
// grads zero; `base_model` is recorded as base_model_name_or_path when given.
LoraSet create_lora(const Model& model, const LoraConfig& config,
                    const std::string& base_model = {});

// print_trainable_parameters: counts as PEFT's get_nb_trainable_parameters (named_parameters,
// tied weights once, NF4/FP4 weights as Params4bit numel × 2, modules_to_save copies beside
// the frozen originals, biases made trainable by `bias`).
struct TrainableCount {
  int64_t trainable = 0, all = 0;
};
TrainableCount count_trainable_parameters(const Model& model, const LoraSet& lora);
// "trainable params: 30,375,936 || all params: 298,474,112 || trainable%: 10.1771"
std::string trainable_parameters_line(const TrainableCount& count);

// PEFT's layer index of a module key for layers_to_transform: re.match(r".*\.[^.]*\.(\d+)\.")
// or, with patterns, r".*\.{pattern}\.(\d+)\."; -1 when none.
int64_t peft_layer_index(const std::string& key, const std::vector<std::string>& patterns);
// Python re.fullmatch(pattern, s) through PCRE2; `where` names the pattern's source in errors.
bool regex_full_match(const std::string& pattern, const std::string& s, const std::string& where);

}  // namespace tuna
