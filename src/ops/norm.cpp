// Norm ops: argument checks and device dispatch.
#include "ops/norm.h"

#include "core/error.h"
#include "ops/dispatch.h"

namespace tuna {

static void check_norm_args(const Tensor& x, const Tensor& w, const Tensor& y) {
  TUNA_ASSERT(x.ndim() == 2 && y.shape() == x.shape(), "norm: x and y are [N, C]");
  TUNA_ASSERT(x.dtype() == DType::F32 && y.dtype() == DType::F32, "norm: F32 activations");
  TUNA_ASSERT(w.numel() == x.dim(1), "norm: weight size " + w.shape().to_string());
}

void rms_norm_forward(const Tensor& x, const Tensor& w, float eps, RmsNormKind kind, Tensor& y) {
  check_norm_args(x, w, y);
  const Device device = op_device("rms_norm_forward", {&x, &w, &y});
  if (device == Device::CPU) return cpu::rms_norm_forward(x, w, eps, kind, y);
  throw_no_kernel("rms_norm_forward", device);
}

void layer_norm_forward(const Tensor& x, const Tensor& w, const Tensor& b, float eps, Tensor& y) {
  check_norm_args(x, w, y);
  TUNA_ASSERT(!b.defined() || b.numel() == x.dim(1), "layer_norm: bias size");
  const Device device = op_device("layer_norm_forward", {&x, &w, &b, &y});
  if (device == Device::CPU) return cpu::layer_norm_forward(x, w, b, eps, y);
  throw_no_kernel("layer_norm_forward", device);
}

static void check_norm_backward_args(const Tensor& x, const Tensor& w, const Tensor& dy,
                                     const Tensor& dx, const Tensor* dw) {
  check_norm_args(x, w, dy);
  TUNA_ASSERT(dx.shape() == x.shape() && dx.dtype() == DType::F32, "norm: dx shaped like x");
  TUNA_ASSERT(dx.raw() != dy.raw(), "norm backward: dx must not alias dy");
  TUNA_ASSERT(dw == nullptr || (dw->dtype() == DType::F32 && dw->numel() == x.dim(1)),
              "norm: dw is [C] F32");
}

void rms_norm_backward(const Tensor& x, const Tensor& w, float eps, RmsNormKind kind,
                       const Tensor& dy, Tensor& dx, Tensor* dw) {
  check_norm_backward_args(x, w, dy, dx, dw);
  const Device device = op_device("rms_norm_backward", {&x, &w, &dy, &dx, dw});
  if (device == Device::CPU) return cpu::rms_norm_backward(x, w, eps, kind, dy, dx, dw);
  throw_no_kernel("rms_norm_backward", device);
}

void layer_norm_backward(const Tensor& x, const Tensor& w, float eps, const Tensor& dy, Tensor& dx,
                         Tensor* dw, Tensor* db) {
  check_norm_backward_args(x, w, dy, dx, dw);
  TUNA_ASSERT(db == nullptr || (db->dtype() == DType::F32 && db->numel() == x.dim(1)),
              "layer_norm: db is [C] F32");
  const Device device = op_device("layer_norm_backward", {&x, &w, &dy, &dx, dw, db});
  if (device == Device::CPU) return cpu::layer_norm_backward(x, w, eps, dy, dx, dw, db);
  throw_no_kernel("layer_norm_backward", device);
}

}  // namespace tuna
