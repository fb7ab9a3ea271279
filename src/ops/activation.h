// Element-wise activations and the gated-MLP product: SiLU, GELU with the tanh approximation
// (gelu_pytorch_tanh / gelu_new), exact GELU (erf), act(gate) · up, and logit soft-capping
// tanh(x/c)·c. Formulas follow torch's, evaluated in F32; backward uses the analytic derivatives.
#pragma once

#include "core/tensor.h"

namespace tuna {

enum class Activation { SILU, GELU_TANH, GELU_ERF };

// x: [...] F32 → y: same shape (may alias x)
void activation_forward(const Tensor& x, Activation act, Tensor& y);
// gate, up: [N, F] F32 → y[N, F] = act(gate) · up (y may alias gate or up)
void gated_activation_forward(const Tensor& gate, const Tensor& up, Activation act, Tensor& y);
// x: [...] F32, in place: x = tanh(x / cap) · cap
void softcap_forward(Tensor& x, float cap);

// x: forward input, dy: [...] F32 → dx = dy ⊙ act'(x) (dx may alias dy)
void activation_backward(const Tensor& x, const Tensor& dy, Activation act, Tensor& dx);
// gate, up, dy: [N, F] → dgate = dy ⊙ up ⊙ act'(gate), dup = dy ⊙ act(gate)
// (dgate/dup may alias dy, not gate/up)
void gated_activation_backward(const Tensor& gate, const Tensor& up, const Tensor& dy,
                               Activation act, Tensor& dgate, Tensor& dup);
// y = tanh(x/cap)·cap (the forward's output), dy → dx = dy ⊙ (1 − (y/cap)²) (dx may alias dy)
void softcap_backward(const Tensor& y, const Tensor& dy, float cap, Tensor& dx);

namespace cpu {
void activation_backward(const Tensor& x, const Tensor& dy, Activation act, Tensor& dx);
void gated_activation_backward(const Tensor& gate, const Tensor& up, const Tensor& dy,
                               Activation act, Tensor& dgate, Tensor& dup);
void softcap_backward(const Tensor& y, const Tensor& dy, float cap, Tensor& dx);
void activation_forward(const Tensor& x, Activation act, Tensor& y);
void gated_activation_forward(const Tensor& gate, const Tensor& up, Activation act, Tensor& y);
void softcap_forward(Tensor& x, float cap);
}  // namespace cpu

}  // namespace tuna
