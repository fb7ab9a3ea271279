// The multi-tensor SGD update: argument checks (shapes and dtypes only) and device dispatch.
// See sgd.h; the kernel is sgd_cpu.cpp.
#include "ops/sgd.h"

#include "core/error.h"
#include "ops/dispatch.h"

namespace tuna {

void sgd_update(Tensor& param, const Tensor& grad, Tensor& momentum_buffer,
                std::span<const SgdSegment> segments, const SgdHyper& hyper) {
  const int64_t n = param.numel();
  TUNA_ASSERT(param.dtype() == DType::F32 && param.ndim() == 1 && grad.dtype() == DType::F32 &&
                  grad.ndim() == 1 && grad.numel() == n,
              "sgd: param and grad must be [N] F32");
  TUNA_ASSERT(momentum_buffer.defined() == (hyper.momentum != 0),
              "sgd: a momentum buffer exactly when momentum != 0");
  TUNA_ASSERT(
      !momentum_buffer.defined() || (momentum_buffer.dtype() == DType::F32 &&
                                     momentum_buffer.ndim() == 1 && momentum_buffer.numel() == n),
      "sgd: momentum_buffer must be [N] F32 like param");
  check_segments_tile(
      "sgd", segments, [](const SgdSegment& s) { return s.numel; }, n);
  const Device device = op_device("sgd_update", {&param, &grad, &momentum_buffer});
  if (device == Device::CPU) return cpu::sgd_update(param, grad, momentum_buffer, segments, hyper);
  throw_no_kernel("sgd_update", device);
}

}  // namespace tuna
