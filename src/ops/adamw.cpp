// The multi-tensor AdamW update: argument checks (shapes and dtypes only) and device dispatch.
// See adamw.h; the kernel is adamw_cpu.cpp.
#include "ops/adamw.h"

#include <initializer_list>

#include "core/error.h"
#include "ops/dispatch.h"

namespace tuna {

void adamw_update(Tensor& param, const Tensor& grad, Tensor& exp_avg, Tensor& exp_avg_sq,
                  std::span<const AdamwSegment> segments, const AdamwHyper& hyper) {
  const int64_t n = param.numel();
  for (const Tensor* t :
       std::initializer_list<const Tensor*>{&param, &grad, &exp_avg, &exp_avg_sq}) {
    TUNA_ASSERT(t->dtype() == DType::F32 && t->ndim() == 1 && t->numel() == n,
                "adamw: param, grad, exp_avg, exp_avg_sq must be [N] F32");
  }
  check_segments_tile(
      "adamw", segments, [](const AdamwSegment& s) { return s.numel; }, n);
  TUNA_ASSERT(hyper.step >= 1, "adamw: step counts from 1");
  const Device device = op_device("adamw_update", {&param, &grad, &exp_avg, &exp_avg_sq});
  if (device == Device::CPU)
    return cpu::adamw_update(param, grad, exp_avg, exp_avg_sq, segments, hyper);
  throw_no_kernel("adamw_update", device);
}

}  // namespace tuna
