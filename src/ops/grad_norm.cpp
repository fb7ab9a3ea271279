// Gradient norm and scaling: argument checks (shapes and dtypes only), device dispatch, and the
// device-independent combination of per-tensor sums. See grad_norm.h; kernels in
// grad_norm_cpu.cpp.
#include "ops/grad_norm.h"

#include <cmath>
#include <vector>

#include "core/error.h"
#include "ops/dispatch.h"

namespace tuna {

void grad_sum_squares(const Tensor& grad, std::span<const int64_t> segment_numel,
                      std::span<double> sum_sq) {
  TUNA_ASSERT(grad.dtype() == DType::F32 && grad.ndim() == 1, "grad_norm: grad must be [N] F32");
  TUNA_ASSERT(sum_sq.size() == segment_numel.size(), "grad_norm: one sum per segment");
  check_segments_tile(
      "grad_norm", segment_numel, [](int64_t k) { return k; }, grad.numel());
  const Device device = op_device("grad_sum_squares", {&grad});
  if (device == Device::CPU) return cpu::grad_sum_squares(grad, segment_numel, sum_sq);
  throw_no_kernel("grad_sum_squares", device);
}

float grad_norm_from_sum_squares(std::span<const double> sum_sq) {
  double total = 0.0;
  for (double sq : sum_sq) {
    const double norm = static_cast<float>(std::sqrt(sq));  // torch: one F32 norm per tensor
    total += norm * norm;
  }
  return static_cast<float>(std::sqrt(total));
}

float grad_norm(const Tensor& grad, std::span<const int64_t> segment_numel) {
  std::vector<double> sum_sq(segment_numel.size(), 0.0);
  grad_sum_squares(grad, segment_numel, sum_sq);
  return grad_norm_from_sum_squares(sum_sq);
}

void grad_scale(Tensor& grad, float coef) {
  TUNA_ASSERT(grad.dtype() == DType::F32, "grad_scale: grad must be F32");
  const Device device = op_device("grad_scale", {&grad});
  if (device == Device::CPU) return cpu::grad_scale(grad, coef);
  throw_no_kernel("grad_scale", device);
}

}  // namespace tuna
