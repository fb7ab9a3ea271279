// How much memory a training run needs, before anything is allocated (issue 5 item 10): the base
// weights as stored, the trainable parameters with their gradients and optimizer state, the
// activations the training forward keeps (model/block.h step_activation_plan, the plan its
// workspace is sized by), and the loss scratch. A run whose estimate exceeds the memory available stops with
// a message stating what it needs and how to need less.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/lora_adapter.h"

namespace tuna {

class Model;
struct ModelSpec;

struct MemoryEstimate {
  int64_t weights = 0;      // base weights as held (quantized blocks stay quantized)
  int64_t trainable = 0;    // the flat value + gradient buffers (param_buffer_bytes) for LoRA
                            // A/B or base masters, + optimizer state
  int64_t activations = 0;  // what the forward keeps for the backward, whole micro-batch
  int64_t scratch = 0;      // hidden states, their gradient, LM-head/loss tiles
  int64_t total() const { return weights + trainable + activations + scratch; }
  std::string describe() const;  // "1.2 GiB (weights 235 MiB, ...)"
};

// Bytes the training forward keeps per token for one block (F32), with `adapted_rank_sum` the
// sum of LoRA ranks over that block's adapted linears.
int64_t activation_bytes_per_token_layer(const ModelSpec& spec, int64_t adapted_rank_sum);

// optimizer_state_bytes_per_param: 8 for AdamW, ≈ 2 for 8-bit AdamW, 0–4 for SGD.
// base_trainable_params: base weights that train (full fine-tuning, modules_to_save, biases),
// each holding an F32 master, an F32 gradient (in the flat buffers, train/param_buffer.h) and
// the optimizer state.
// head_trained: the LM head (or the tied embedding) trains — its loss keeps [chunk × vocab]
// logits (≈ 256 MiB for Gemma) instead of one ≈ 16 MiB tile.
MemoryEstimate estimate_training_memory(const Model& model,
                                        const std::vector<LoraAdapter>& adapters,
                                        int64_t tokens_per_micro_batch, bool gradient_checkpointing,
                                        double optimizer_state_bytes_per_param,
                                        int64_t base_trainable_params = 0,
                                        bool head_trained = false);

// MemAvailable from /proc/meminfo (bytes), or -1 when unknown.
int64_t available_memory_bytes();

}  // namespace tuna
