// Activation ops: argument checks and device dispatch.
#include "ops/activation.h"

#include "core/error.h"

namespace tuna {

void activation_forward(const Tensor& x, Activation act, Tensor& y) {
  TUNA_ASSERT(x.dtype() == DType::F32 && y.dtype() == DType::F32 && x.numel() == y.numel(),
              "activation: F32, same size");
  if (x.device() == Device::CPU) return cpu::activation_forward(x, act, y);
  throw_internal_error("activation", "no CUDA backend in this build");
}

void gated_activation_forward(const Tensor& gate, const Tensor& up, Activation act, Tensor& y) {
  TUNA_ASSERT(gate.dtype() == DType::F32 && up.dtype() == DType::F32 && y.dtype() == DType::F32,
              "gated activation: F32");
  TUNA_ASSERT(gate.numel() == up.numel() && y.numel() == up.numel(), "gated activation: sizes");
  if (gate.device() == Device::CPU) return cpu::gated_activation_forward(gate, up, act, y);
  throw_internal_error("gated_activation", "no CUDA backend in this build");
}

void softcap_forward(Tensor& x, float cap) {
  TUNA_ASSERT(x.dtype() == DType::F32 && cap > 0.0f, "softcap: F32, cap > 0");
  if (x.device() == Device::CPU) return cpu::softcap_forward(x, cap);
  throw_internal_error("softcap", "no CUDA backend in this build");
}

}  // namespace tuna
