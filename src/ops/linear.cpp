// linear_forward: argument checks and device dispatch.
#include "ops/linear.h"

#include "core/error.h"
#include "ops/dequantize.h"

namespace tuna {

void linear_forward(const Tensor& x, const Tensor& w, const Tensor& bias, Tensor& y,
                    bool transposed) {
  TUNA_ASSERT(x.ndim() == 2 && w.ndim() == 2 && y.ndim() == 2, "linear: 2-D tensors");
  TUNA_ASSERT(x.dtype() == DType::F32 && y.dtype() == DType::F32, "linear: F32 activations");
  const int64_t in = transposed ? w.dim(0) : w.dim(1);
  const int64_t out = transposed ? w.dim(1) : w.dim(0);
  TUNA_ASSERT(x.dim(1) == in,
              "linear: x " + x.shape().to_string() + " vs w " + w.shape().to_string());
  TUNA_ASSERT(y.dim(0) == x.dim(0) && y.dim(1) == out, "linear: y shape " + y.shape().to_string());
  TUNA_ASSERT(!bias.defined() || bias.numel() == out, "linear: bias size");
  if (!weight_format_supported(w.dtype())) dequantize_rows(w, 0, 0, nullptr);  // throws
  switch (x.device()) {
    case Device::CPU:
      return cpu::linear_forward(x, w, bias, y, transposed);
    case Device::CUDA:
      break;
  }
  throw_internal_error("linear", "no CUDA backend in this build");
}

}  // namespace tuna
