// Scaled dot-product attention for decoder-only models, as transformers' eager path computes
// it: scores = (Q·Kᵀ)·scale, optional soft-capping tanh(s/c)·c, causal mask (optionally a
// sliding window: key j is visible from query i iff i − window < j ≤ i) and key padding mask,
// softmax in F32, then P·V. GQA/MQA: query head h reads kv head h / (H / K). Packed rows
// (several samples in one row): segment_start confines each query to its own sample, as
// flash-attention's varlen path does with transformers' padding-free position_ids.
// Backward recomputes the probabilities tile by tile (attention_cpu.cpp).
#pragma once

#include <cstdint>

#include "core/tensor.h"

namespace tuna {

struct AttentionParams {
  float scale = 1.0f;
  float softcap = 0.0f;  // 0: no soft-capping
  int64_t window = 0;    // 0: full causal; else sliding window size
};

// q: [B, T, H, D]  k, v: [B, T, K, D]  key_valid: [B, T] I32 (1 = real token) or undefined
// out: [B, T, H, D]; every tensor F32 except key_valid and segment_start.
// segment_start: [B, T] I32 or undefined: query i sees only keys j ≥ segment_start[i] (the first
// token of its sample, ≤ i); the sliding window applies inside the sample as well.
void attention_forward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& key_valid,
                       const AttentionParams& params, Tensor& out,
                       const Tensor& segment_start = Tensor());

// Backward of attention_forward: q, k, v, key_valid, params, segment_start as in the forward;
// d_out: [B, T, H, D]  dq: [B, T, H, D]  dk, dv: [B, T, K, D], all F32 and written.
void attention_backward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& key_valid,
                        const AttentionParams& params, const Tensor& d_out, Tensor& dq, Tensor& dk,
                        Tensor& dv, const Tensor& segment_start = Tensor());

// KV-cached decoding: n new queries at positions p0 .. p0 + n − 1 attend to the cached keys
// and values of every position they may see (causal, inside params.window, with the forward's
// scale, soft-capping and F32 softmax; no padding, one sample). Matches attention_forward on the
// whole sequence up to summation order.
// q: [n, H, D]  k_cache, v_cache: [S, K, D], row r holding position first + r, with
// S = p0 + n − first (the new keys already appended; a sliding-window cache may have dropped
// positions before `first`, which must be ones no query sees: first ≤ p0 − window + 1)
// out: [n, H, D]; every tensor F32.
void attention_decode_forward(const Tensor& q, const Tensor& k_cache, const Tensor& v_cache,
                              int64_t p0, const AttentionParams& params, Tensor& out,
                              int64_t first = 0);

namespace cpu {
void attention_forward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& key_valid,
                       const AttentionParams& params, Tensor& out, const Tensor& segment_start);
void attention_backward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& key_valid,
                        const AttentionParams& params, const Tensor& d_out, Tensor& dq, Tensor& dk,
                        Tensor& dv, const Tensor& segment_start);
void attention_decode_forward(const Tensor& q, const Tensor& k_cache, const Tensor& v_cache,
                              int64_t p0, const AttentionParams& params, Tensor& out,
                              int64_t first);
}  // namespace cpu

}  // namespace tuna
