// What a `tuna train` run trains, built from its config: LoRA adapters (PEFT's get_peft_model, or
// an existing adapter directory as PeftModel.from_pretrained(..., is_trainable=True) loads it),
// modules_to_save and biases as trainable F32 copies bound to the engine's weight slots, or
// (use_peft: false) every weight of the model as an F32 master. Gives the optimizer its
// parameters (HF names, HF weight-decay grouping), the forward its weights, and saves/restores
// what is trained: a PEFT adapter directory, or a Hugging Face model directory for full
// fine-tuning. Every trainable value and gradient lives in one flat buffer each (buffer; the
// tensors below are views into it). Not here: the step loop (trainer.h), checkpoint bookkeeping
// (app/checkpointer.h).
#pragma once

#include <string>
#include <vector>

#include "lora/targets.h"
#include "model/weights.h"
#include "train/config.h"
#include "train/optimizer.h"
#include "train/param_buffer.h"

namespace tuna {

class Model;

struct TrainableSet {
  bool full = false;                   // use_peft: false — every weight trains
  LoraSet lora;                        // the adapter (no adapters when full)
  std::vector<LoraAdapter> adapters;   // the text blocks' adapters (tensors shared with `lora`)
  ModelWeights grads;                  // gradients of trainable base-weight slots (full FT,
                                       // modules_to_save, biases); no slot defined: none
  ModelWeights weights;                // what the forward reads: the model's weights with F32
                                       // masters on the trainable slots
  bool base_trainable = false;         // some slot of `grads` is defined
  std::vector<TrainableParam> params;  // the optimizer's parameters (HF/PEFT names)
  ParamBuffer buffer;  // params' values and grads, flat in params' order (views everywhere above)
  int64_t trainable_parameters = 0;
  std::string trainable_line;      // print_trainable_parameters' line
  std::vector<std::string> notes;  // things the user should know (printed once)
  DType save_dtype = DType::F32;   // full: the final model's dtype (torch_dtype; see below)

  // Writes what is trained into `dir`: the PEFT adapter (adapter_model.safetensors +
  // adapter_config.json), or (full) a Hugging Face model directory (export/save_hf_model.h) — in
  // save_dtype when `final_output`, else F32 (checkpoints keep the masters exactly, so a resumed
  // run equals an uninterrupted one). Returns notes about the saved directory.
  std::vector<std::string> save(const std::string& dir, const Model& model,
                                bool final_output = false) const;
  // Restores the trained tensors from a directory save() wrote (resuming).
  void load(const std::string& dir, const Model& model);
};

// The config-only checks of make_trainable_set (run before anything is loaded or printed):
// neither use_peft nor a LoRA key given (peft_enabled); LoRA keys, load_in_4bit or adapter
// together with use_peft: false.
void check_trainable_config(const TrainConfig& cfg);

// Builds the set for `model` from the config's use_peft, lora keys and adapter. User errors:
// LoRA keys or load_in_4bit or adapter with use_peft: false; an adapter whose config
// contradicts lora keys the config sets; modules_to_save naming a tied embedding/head or nothing.
TrainableSet make_trainable_set(const TrainConfig& cfg, const Model& model,
                                const std::string& model_arg);

}  // namespace tuna
