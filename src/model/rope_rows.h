// llama.cpp's converter permutes a llama GGUF's q/k rows per head for its interleaved RoPE; this
// undoes and redoes it, so files tuna writes (HF models, PEFT adapters) are in HF's row order.
// Which slots are permuted is the family table's RopeRows column (families/family.h).
#pragma once

#include <cstdint>

#include "core/tensor.h"

namespace tuna {

// HF row (h, half, j) ↔ GGUF row (h, j, half). rows: [heads·D, cols] (or [heads·D] for a bias)
// F32; to_hf true undoes the converter's permutation.
Tensor permute_rope_rows(const Tensor& rows, int64_t heads, bool to_hf);

}  // namespace tuna
