// Internal to model/: one decoder block's training forward (keeping what its backward needs)
// and its backward, for every family the spec describes. train_step.cpp drives them over the
// layers (with or without gradient checkpointing).
// Dimension letters: B batch, T tokens, N = B·T, C hidden, H heads, K kv heads, D head dim,
// F ffn width, R LoRA rank.
#pragma once

#include <array>
#include <cstdint>
#include <utility>
#include <vector>

#include "model/forward_common.h"
#include "model/lora_adapter.h"
#include "model/weights.h"

namespace tuna {

constexpr size_t kLoraTargets = 8;  // LoraTarget values

// What a block's forward keeps for its backward. Normed block inputs (h) and the MLP activation
// product are not kept: backward recomputes them (one norm / one element-wise pass each). No
// [T×T] attention probabilities either: attention_backward recomputes them tile by tile. With
// gradient checkpointing only x_in is kept and the block forward is re-run inside backward.
struct BlockActs {
  Tensor x_in;          // [N, C] block input (residual stream)
  Tensor q_pre, k_pre;  // [N, H·D], [N, K·D] projections before the q/k norm (qk_norm only)
  Tensor q, k, v;       // [N, H·D], [N, K·D], [N, K·D] attention inputs (normed, rotated)
  Tensor attn;          // [N, H·D] attention output = o-projection input
  Tensor o_out;         // [N, C] o-projection output (sandwich norm input; Gemma only)
  Tensor x_mid;         // [N, C] residual stream after the attention sub-block
  Tensor gate, up;      // [N, F] MLP projections (GPT-2: up = c_fc output, no gate)
  Tensor down_out;      // [N, C] down-projection output (sandwich norm input; Gemma only)
  std::array<Tensor, kLoraTargets> xa;  // [N, R] drop(x)·Aᵀ of each adapted linear
};

// Everything a block needs besides its activations: the batch geometry, masks, RoPE, weights,
// gradients and adapters.
struct TrainContext {
  const ModelSpec* spec = nullptr;
  const ModelWeights* weights = nullptr;
  ModelWeights* grads = nullptr;  // nullable; defined slots are trainable
  int64_t B = 0, T = 0, N = 0;
  Tensor key_valid;      // [B, T] I32 or undefined
  Tensor segment_start;  // [B, T] I32: first token of each token's sample (packed), or undefined
  RopeSet rope;
  // adapters[layer][target]: the LoRA adapter on that linear, or nullptr.
  std::vector<std::array<LoraAdapter*, kLoraTargets>> adapters;
  uint64_t seed = 0, step = 0, micro = 0;
  bool dropout = true;  // false in evaluation
};

// The weight and bias slots of the linear `t` of a layer (LayerWeights, const or not): pointers
// to its {weight, bias} tensors.
template <typename L>
auto linear_slots(L& l, LoraTarget t) {
  using T = decltype(&l.q);
  switch (t) {
    case LoraTarget::Q:
      return std::pair<T, T>{&l.q, &l.q_bias};
    case LoraTarget::K:
      return std::pair<T, T>{&l.k, &l.k_bias};
    case LoraTarget::V:
      return std::pair<T, T>{&l.v, &l.v_bias};
    case LoraTarget::O:
      return std::pair<T, T>{&l.o, &l.o_bias};
    case LoraTarget::GATE:
      return std::pair<T, T>{&l.gate, &l.gate_bias};
    case LoraTarget::UP:
      return std::pair<T, T>{&l.up, &l.up_bias};
    case LoraTarget::DOWN:
      return std::pair<T, T>{&l.down, &l.down_bias};
    case LoraTarget::QKV:
      return std::pair<T, T>{&l.qkv, &l.qkv_bias};
  }
  return std::pair<T, T>{nullptr, nullptr};
}

// x_out [N, C] = block(acts.x_in); fills every other field of acts.
void block_forward(const TrainContext& c, int64_t layer, BlockActs& acts, Tensor& x_out);

// d_in [N, C] (written) = ∂loss/∂x_in from d_out [N, C] = ∂loss/∂x_out; adds weight and
// adapter gradients.
void block_backward(const TrainContext& c, int64_t layer, const BlockActs& acts,
                    const Tensor& d_out, Tensor& d_in);

}  // namespace tuna
