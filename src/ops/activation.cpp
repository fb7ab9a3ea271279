// Activation ops: argument checks and device dispatch.
#include "ops/activation.h"

#include <initializer_list>
#include <string>

#include "core/error.h"
#include "ops/dispatch.h"

namespace tuna {

// Every tensor F32 with the first one's element count.
static void check_f32_same_size(std::initializer_list<const Tensor*> ts, const char* what) {
  for (const Tensor* t : ts)
    TUNA_ASSERT(t->dtype() == DType::F32 && t->numel() == (*ts.begin())->numel(),
                std::string(what) + ": F32 tensors of one size");
}

void activation_forward(const Tensor& x, Activation act, Tensor& y) {
  check_f32_same_size({&x, &y}, "activation");
  const Device device = op_device("activation_forward", {&x, &y});
  if (device == Device::CPU) return cpu::activation_forward(x, act, y);
  throw_no_kernel("activation_forward", device);
}

void gated_activation_forward(const Tensor& gate, const Tensor& up, Activation act, Tensor& y) {
  check_f32_same_size({&gate, &up, &y}, "gated activation");
  const Device device = op_device("gated_activation_forward", {&gate, &up, &y});
  if (device == Device::CPU) return cpu::gated_activation_forward(gate, up, act, y);
  throw_no_kernel("gated_activation_forward", device);
}

void softcap_forward(Tensor& x, float cap) {
  TUNA_ASSERT(x.dtype() == DType::F32 && cap > 0.0f, "softcap: F32, cap > 0");
  const Device device = op_device("softcap_forward", {&x});
  if (device == Device::CPU) return cpu::softcap_forward(x, cap);
  throw_no_kernel("softcap_forward", device);
}

void activation_backward(const Tensor& x, const Tensor& dy, Activation act, Tensor& dx) {
  check_f32_same_size({&x, &dy, &dx}, "activation backward");
  const Device device = op_device("activation_backward", {&x, &dy, &dx});
  if (device == Device::CPU) return cpu::activation_backward(x, dy, act, dx);
  throw_no_kernel("activation_backward", device);
}

void gated_activation_backward(const Tensor& gate, const Tensor& up, const Tensor& dy,
                               Activation act, Tensor& dgate, Tensor& dup) {
  check_f32_same_size({&gate, &up, &dy, &dgate, &dup}, "gated activation backward");
  TUNA_ASSERT(dgate.raw() != gate.raw() && dgate.raw() != up.raw() && dup.raw() != gate.raw() &&
                  dup.raw() != up.raw() && dgate.raw() != dup.raw(),
              "gated activation backward: outputs must not alias the forward inputs");
  const Device device = op_device("gated_activation_backward", {&gate, &up, &dy, &dgate, &dup});
  if (device == Device::CPU) return cpu::gated_activation_backward(gate, up, dy, act, dgate, dup);
  throw_no_kernel("gated_activation_backward", device);
}

void softcap_backward(const Tensor& y, const Tensor& dy, float cap, Tensor& dx) {
  TUNA_ASSERT(
      y.dtype() == DType::F32 && dy.dtype() == DType::F32 && dx.dtype() == DType::F32 && cap > 0.0f,
      "softcap backward: F32, cap > 0");
  TUNA_ASSERT(dy.numel() == y.numel() && dx.numel() == y.numel(), "softcap backward: sizes");
  const Device device = op_device("softcap_backward", {&y, &dy, &dx});
  if (device == Device::CPU) return cpu::softcap_backward(y, dy, cap, dx);
  throw_no_kernel("softcap_backward", device);
}

}  // namespace tuna
