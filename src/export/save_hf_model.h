// Writing a model as a Hugging Face model directory that transformers loads
// (AutoModelForCausalLM.from_pretrained): model.safetensors under transformers' tensor names, F32
// by default (the trained master weights as they are: no rounding, so tuna and transformers
// reload exactly what was trained) or BF16/F16 on request, config.json, generation_config.json
// and the tokenizer files. An HF base's config.json is copied (torch_dtype set to the saved
// dtype); a GGUF base's is written from its metadata with transformers' field names (gemma3 →
// Gemma3ForCausalLM "gemma3_text", llama, qwen2, qwen3), its llama q/k rows are un-permuted
// (llama.cpp's converter permutes them) and its Gemma norm weights are saved without the
// converter's +1 (the loader already removed it). The first piece of export/ (merge, GGUF, Ollama
// come next); names and the GGUF config mapping come from the family table (model/families/). Not
// here: LoRA adapters (lora/adapter_io.h).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "core/tensor.h"
#include "model/families/registry.h"  // hf_slot_names
#include "model/weights.h"

namespace tuna {

class Model;

// config.json for the saved directory (see the file comment) with torch_dtype naming `dtype`.
// User error when the GGUF architecture's config cannot be expressed (e.g. a sliding window on
// llama/qwen).
nlohmann::ordered_json hf_config_json(const Model& model, DType dtype = DType::F32);

// Writes model.safetensors (+ config.json, generation_config.json, tokenizer files when the base
// has them) into `dir` (created; files written atomically). `weights`: the model's weights or
// training masters (train_step.h make_master_weights), any stored format. `dtype`: F32 (the
// masters unrounded), or BF16 / F16 — every tensor rounded to nearest even as torch's .to(dtype)
// does, config.json's torch_dtype saying so (what save_pretrained writes for a model loaded with
// that torch_dtype). Returns notes for the user (e.g. what a GGUF base lacks: tokenizer.json).
std::vector<std::string> save_hf_model(const std::string& dir, const Model& model,
                                       const ModelWeights& weights, DType dtype = DType::F32);

// Reads `dir`/model.safetensors written by save_hf_model back into the F32 slots of `into`
// (master weights of the same model; q/k rows permuted back for a GGUF llama base). Every slot
// must be present with the right shape; anything else is a user error naming the file.
void load_hf_model_weights(const std::string& dir, const Model& model, ModelWeights& into);

}  // namespace tuna
