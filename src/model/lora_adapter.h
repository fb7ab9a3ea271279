// The trainable LoRA adapters laid over a loaded model (PEFT's lora.Linear on chosen linears):
// plain data kept in model/ so the block can read it without model/ including lora/. lora/
// builds them from a LoraConfig and reads/writes them in PEFT's format; the training
// forward/backward (model/) reads A/B and accumulates into grad_a/grad_b.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace tuna {

// The linear of a block an adapter sits on (QKV: GPT-2's fused c_attn; C_FC/C_PROJ: GPT-2's MLP,
// which bind to the UP/DOWN weight slots).
enum class LoraTarget : uint8_t { Q, K, V, O, GATE, UP, DOWN, QKV };

struct LoraAdapter {
  std::string module;  // PEFT module path without "base_model.model.", e.g.
                       // "model.layers.3.self_attn.q_proj"
  int layer = 0;       // block index; -1: a linear outside the text blocks (e.g. Gemma 3's vision
                       // tower, which PEFT also adapts): kept for files and counts, not trained
  LoraTarget target = LoraTarget::Q;
  int64_t in = 0, out = 0, r = 0;
  float scale = 1.0f;           // lora_alpha / r, or lora_alpha / sqrt(r) with use_rslora
  float dropout = 0.0f;         // lora_dropout
  bool fan_in_fan_out = false;  // the base weight is stored [in, out] (GPT-2 Conv1D)
  Tensor a, b;                  // [r, in], [out, r] F32, trainable
  Tensor grad_a, grad_b;  // same shapes F32 (accumulated by backward; zeroed by the optimizer loop)
};

}  // namespace tuna
