// LoRA linear (PEFT's lora.Linear): y = x·Wᵀ + b + s·(drop(x)·Aᵀ)·Bᵀ with a frozen base weight W
// in any stored format, trainable F32 A [R, in] and B [out, R], s = alpha/R (alpha/√R with
// rsLoRA; the caller passes s). Dropout is inverted (kept values × 1/(1 − p), as torch) with a
// mask drawn from the counter-based RNG (core/rng.h): backward regenerates it, nothing stores it.
// No gradient for W or b (frozen): full fine-tuning uses linear_backward_weight instead.
#pragma once

#include <cstdint>

#include "core/tensor.h"

namespace tuna {

struct LoraParams {
  float scale = 1.0f;    // s
  float dropout = 0.0f;  // p in [0, 1)
  uint64_t seed = 0;     // RNG key
  uint64_t stream = 0;   // RNG stream: distinct per (step, layer, module); element = n·in + i
};

// x: [N, in] F32   w: [out, in] (or [in, out] if transposed) any format   bias: [out] or undefined
// a: [R, in] F32   b: [out, R] F32
// y: [N, out] F32, overwritten   xa: [N, R] F32 = drop(x)·Aᵀ, kept for the backward.
void lora_linear_forward(const Tensor& x, const Tensor& w, const Tensor& bias, const Tensor& a,
                         const Tensor& b, const LoraParams& params, Tensor& y, Tensor& xa,
                         bool transposed = false);

// The low-rank path alone: y [N, out] += s·(drop(x)·Aᵀ)·Bᵀ, xa [N, R] = drop(x)·Aᵀ written.
// lora_linear_forward is linear_forward then this; batched decoding calls it per sequence, each
// with its own adapter, after one base pass for all rows.
void lora_add_forward(const Tensor& x, const Tensor& a, const Tensor& b, const LoraParams& params,
                      Tensor& y, Tensor& xa);

// dy: [N, out] F32; x, w, a, b, params, xa as in the forward.
// dx: [N, in] F32 = dy·W + (s·dy·B·A) ⊙ mask/(1 − p), overwritten (nullptr: not needed);
// da: [R, in] += (s·dy·B)ᵀ·drop(x);  db: [out, R] += s·dyᵀ·xa.
void lora_linear_backward(const Tensor& x, const Tensor& w, const Tensor& a, const Tensor& b,
                          const LoraParams& params, const Tensor& xa, const Tensor& dy, Tensor* dx,
                          Tensor& da, Tensor& db, bool transposed = false);

// x: [N, C] F32 → out = drop(x) = x · mask · 1/(1 − p) (out may alias x); element e of x uses
// RNG element e of params.stream. p == 0 copies. Used by forward and backward (same mask).
void lora_dropout(const Tensor& x, const LoraParams& params, Tensor& out);

namespace cpu {
void lora_add_forward(const Tensor& x, const Tensor& a, const Tensor& b, const LoraParams& params,
                      Tensor& y, Tensor& xa);
void lora_linear_forward(const Tensor& x, const Tensor& w, const Tensor& bias, const Tensor& a,
                         const Tensor& b, const LoraParams& params, Tensor& y, Tensor& xa,
                         bool transposed);
void lora_linear_backward(const Tensor& x, const Tensor& w, const Tensor& a, const Tensor& b,
                          const LoraParams& params, const Tensor& xa, const Tensor& dy, Tensor* dx,
                          Tensor& da, Tensor& db, bool transposed);
void lora_dropout(const Tensor& x, const LoraParams& params, Tensor& out);
}  // namespace cpu

}  // namespace tuna
