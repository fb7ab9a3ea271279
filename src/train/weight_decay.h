// Which parameters get weight decay, exactly as the HF Trainer decides (transformers 4.57
// Trainer.get_decay_parameter_names): not a parameter of a torch.nn.LayerNorm module, and no
// match of the lower-cased full name against bias | layernorm | rmsnorm | (^|.)norm($|.) |
// _norm($|.). PEFT's lora_A/lora_B weights therefore get decay.
#pragma once

#include <string>

namespace tuna {

// `name` is the parameter's full name as transformers/PEFT name it (e.g.
// "base_model.model.model.layers.0.self_attn.q_proj.lora_A.default.weight" or
// "model.norm.weight"); `model_type` is config.json's model_type, whose family table says which
// modules are nn.LayerNorm (model/families/: GPT-2's ln_1/ln_2/ln_f, Gemma 3's SigLIP
// layer_norm1/2). EXAONE 3.0's norms are a plain nn.Module in its remote code, so its
// ln_1/ln_2/ln_f weights do get decay.
bool hf_weight_decay_applies(const std::string& model_type, const std::string& name);

}  // namespace tuna
