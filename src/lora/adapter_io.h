// PEFT's adapter files: <dir>/adapter_model.safetensors (keys
// base_model.model.<module>.lora_A.weight [r, in] and .lora_B.weight [out, r] F32; modules_to_save
// and trainable biases under their own parameter names, base_model.model.<module>.weight / .bias;
// metadata {"format": "pt"}; tensors ordered as the Python library orders them) and
// <dir>/adapter_config.json (config.h). Reading checks every tensor against the base model and
// fails with a user error naming the module. On a GGUF llama base (q/k rows permuted for
// llama.cpp's interleaved RoPE) lora_B rows of q_proj and k_proj are un-permuted on save and
// permuted back on load, so files are in HF's row order.
#pragma once

#include <string>

#include "lora/targets.h"
#include "model/rope_rows.h"  // permute_rope_rows

namespace tuna {

class Model;

// Writes both files atomically into `dir` (created if missing).
void save_peft_adapter(const std::string& dir, const LoraSet& lora, const Model& model);

// Reads a PEFT LoRA adapter directory (or its adapter_model.safetensors beside
// adapter_config.json) for `model`. A/B become F32 (any float dtype accepted); grads zero.
// Checked against the base before anything is applied — user errors naming the adapter file,
// the module and both shapes: layers the base lacks, modules it lacks, lora_A [r, in] / lora_B
// [out, r] that do not fit its weight [out, in]. A base_model_name_or_path (or architecture in
// auto_mapping) other than the base's, with every shape fitting, is a one-line warning on stderr.
LoraSet load_peft_adapter(const std::string& dir, const Model& model);

// The checks that need no base model, so callers can run them before loading one:
// adapter_config.json present, valid UTF-8 (else the byte offset), JSON (else line and column),
// a LoRA config (peft_type LORA, r > 0, target_modules set), and adapter_model.safetensors
// present. Returns the config.
LoraConfig check_peft_adapter_files(const std::string& dir);

}  // namespace tuna
