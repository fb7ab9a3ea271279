// bitsandbytes' 8-bit AdamW update of one parameter tensor (bnb.optim.AdamW with optim_bits=8,
// block_wise=True): moments stored as blockwise-quantized U8 codes with per-256-block F32
// scales, or, for tensors bitsandbytes keeps in F32 (below min_8bit_size), as F32. Not here:
// which tensors get which state, state allocation and files (train/optimizer_8bit.h), the
// code books and quantizer (ops/quant_blockwise8.h), torch's AdamW (ops/adamw.h).
#pragma once

#include <cstdint>

#include "core/tensor.h"

namespace tuna {

// Elements per absmax block of 8-bit optimizer state (bitsandbytes >= 0.44).
constexpr int64_t kBnbOptimBlocksize = 256;

// Hyper-parameters of one step for this tensor; `step` is the 1-based count including this
// update; `weight_decay` is the tensor's own (0 outside the decay group).
struct Adamw8bitHyper {
  double lr = 0, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weight_decay = 0;
  int64_t step = 1;
};

// param: [N] F32, updated in place; grad: [N] F32. Weight decay is decoupled, p·(1 − lr·wd)
// before the update, and only where wd > 0. Two state forms:
//  * state1 (m), state2 (v): [N] U8 codes of the pristine signed / unsigned create_dynamic_map()
//    code books; absmax1, absmax2: [ceil(N / 256)] F32 block scales. Per 256-block: dequantise
//    (code · absmax), m ← m·β1 + g·(1 − β1), v ← v·β2 + (1 − β2)·g², p ← p − lr/(1 − β1ᵗ) ·
//    m / (√v / √(1 − β2ᵗ) + eps), then requantise with the block's new maxima (an all-zero
//    block stores 1.0): bitsandbytes' optimizer_update_8bit_blockwise_pytorch in torch's CPU
//    operation order. Blocks may run in parallel.
//  * state1, state2: [N] F32; absmax1, absmax2 undefined. bitsandbytes' F32 AdamW formula (its
//    "default" optimizer_update_32bit kernel): eps scaled by √(1 − β2ᵗ).
void adamw_8bit_update(Tensor& param, const Tensor& grad, Tensor& state1, Tensor& state2,
                       Tensor& absmax1, Tensor& absmax2, const Adamw8bitHyper& hyper);

namespace cpu {
void adamw_8bit_update(Tensor& param, const Tensor& grad, Tensor& state1, Tensor& state2,
                       Tensor& absmax1, Tensor& absmax2, const Adamw8bitHyper& hyper);
}  // namespace cpu

}  // namespace tuna
