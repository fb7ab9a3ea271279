// Rotary position embedding in Hugging Face's half-split ("rotate_half") layout:
// out[i] = x[i]·cos − x[i+D/2]·sin, out[i+D/2] = x[i+D/2]·cos + x[i]·sin, for i < D/2.
// Frequencies follow transformers' modeling_rope_utils (default, linear, llama3), in F32.
// Backward is the inverse rotation (the rotation is orthogonal: dx = Rᵀ·dy).
#pragma once

#include <cstdint>
#include <vector>

#include "core/tensor.h"

namespace tuna {

enum class RopeScalingType { NONE, LINEAR, LLAMA3 };

struct RopeConfig {
  float theta = 10000.0f;
  int64_t dim = 0;  // rotary dim (= head dim)
  RopeScalingType scaling = RopeScalingType::NONE;
  float factor = 1.0f;
  float low_freq_factor = 1.0f, high_freq_factor = 4.0f;  // llama3
  int64_t original_max_position = 8192;                   // llama3
};

// inv_freq[D/2] exactly as transformers computes it (F32 arithmetic).
std::vector<float> rope_inv_freq(const RopeConfig& config);

// cos/sin tables for the given positions: [P, D/2] each, angle = float(pos) · inv_freq.
struct RopeTables {
  int64_t half = 0;
  std::vector<float> cos, sin;
};
RopeTables rope_tables(const RopeConfig& config, const std::vector<int32_t>& positions);

// x: [N, H, D] F32, rotated in place; row n uses table row `rows[n]` (index into the tables).
// interleaved: rotate pairs (x[2i], x[2i+1]) by frequency i instead of (x[i], x[i+D/2]) —
// llama.cpp's layout, in which GGUF llama q/k rows are stored permuted.
void rope_forward(Tensor& x, const RopeTables& tables, const std::vector<int32_t>& rows,
                  bool interleaved = false);

// dy: [N, H, D] F32, turned into dx in place (rotation by −angle); same tables/rows/layout.
void rope_backward(Tensor& dy, const RopeTables& tables, const std::vector<int32_t>& rows,
                   bool interleaved = false);

namespace cpu {
// sign +1: forward rotation; −1: inverse rotation (backward).
void rope_rotate(Tensor& x, const RopeTables& tables, const std::vector<int32_t>& rows,
                 bool interleaved, float sign);
}  // namespace cpu

}  // namespace tuna
