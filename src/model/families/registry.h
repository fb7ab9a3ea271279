// The registry of model families (family.h): finding a family by architecture name (HF
// architectures[0] / model_type, GGUF general.architecture), reading a config.json or GGUF
// metadata into a ModelSpec through it, and the names its weight table gives each slot
// (checkpoint names for loading and the HF writer, PEFT module names, RoPE-permuted rows).
// Unknown architectures are user errors listing the supported ones.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "core/dtype.h"
#include "io/gguf.h"
#include "io/model_spec.h"
#include "model/families/family.h"
#include "model/weights.h"

namespace tuna {

class Model;

// Every registered family, in the order supported_architectures() lists them.
const std::vector<const ModelFamily*>& model_families();

struct FamilyRef {
  const ModelFamily* family = nullptr;
  const FamilyVariant* variant = nullptr;
  explicit operator bool() const { return variant != nullptr; }
};
FamilyRef find_family_by_architecture(const std::string& hf_architecture);
FamilyRef find_family_by_model_type(const std::string& model_type);
FamilyRef find_family_by_gguf_architecture(const std::string& gguf_architecture);
// The family a spec was read by (spec.architecture); an internal error when unregistered.
FamilyRef family_of(const ModelSpec& spec);

// HF classes, in registry order; GGUF architectures, sorted.
const std::vector<std::string>& supported_architectures();
const std::vector<std::string>& supported_gguf_architectures();

// config.json → spec. Errors name the file and the key; an unknown architecture lists the
// supported ones.
ModelSpec parse_hf_config(const nlohmann::json& config, const std::string& source);
ModelSpec read_hf_config(const std::string& path);
// GGUF metadata → the same spec config.json gives for the same model.
ModelSpec spec_from_gguf(const GgufFile& file);
// config.json with transformers' field names for a spec read from GGUF metadata (`where` names
// the file in errors), torch_dtype naming `dtype`. User error when the family cannot express it.
nlohmann::ordered_json hf_config_from_spec(const ModelSpec& spec, const std::string& where,
                                           DType dtype);

// "{}" in a name template → the layer index; a weight name's bias ("x.weight" → "x.bias").
std::string with_layer(const std::string& name, int64_t layer);
std::string bias_name(const std::string& weight_name);

// A table name in the checkpoint's layout (`has` probes it) or, with null `has`, as the module
// name transformers gives it in memory (PEFT keys).
std::string family_hf_name(const ModelFamily& family, const std::string& name,
                           const ModelSpec& spec, const HasTensor* has);
// Checkpoint name templates of every table slot, for bind_weights.
WeightNames hf_weight_names(const ModelSpec& spec, const HasTensor& has);
WeightNames gguf_weight_names(const ModelSpec& spec);
// (engine slot, transformers tensor name) for every slot of the model's weights, in slot order
// (train_step.h for_each_weight_slot); a tied LM head is left out (transformers saves it once,
// as the embedding). A GGUF base takes the plain names of its architecture's transformers class.
std::vector<std::pair<std::string, std::string>> hf_slot_names(const Model& model);

// Heads whose rows llama.cpp permuted in `model`'s tensors for a slot name ("layers.3.q_bias" or
// "q") or a table row, else 0 (only a GGUF llama base is permuted).
int64_t rope_permuted_heads(const Model& model, const std::string& slot);
int64_t rope_permuted_heads(const Model& model, const WeightSlot& row);

}  // namespace tuna
