// lora_linear_forward / lora_linear_backward: argument checks and device dispatch.
#include "ops/lora_linear.h"

#include <string>

#include "core/error.h"
#include "ops/dispatch.h"
#include "ops/linear.h"

namespace tuna {

namespace {

void check_lora_args(const Tensor& x, const Tensor& w, const Tensor& a, const Tensor& b,
                     const LoraParams& p, const Tensor& xa, bool transposed) {
  TUNA_ASSERT(x.ndim() == 2 && x.dtype() == DType::F32, "lora: x is [N, in] F32");
  TUNA_ASSERT(w.ndim() == 2, "lora: 2-D base weight");
  const int64_t in = transposed ? w.dim(0) : w.dim(1), out = transposed ? w.dim(1) : w.dim(0);
  TUNA_ASSERT(a.ndim() == 2 && b.ndim() == 2 && a.dtype() == DType::F32 && b.dtype() == DType::F32,
              "lora: A and B are 2-D F32");
  const int64_t R = a.dim(0);
  TUNA_ASSERT(x.dim(1) == in && a.dim(1) == in && b.dim(0) == out && b.dim(1) == R,
              "lora: x " + x.shape().to_string() + ", w " + w.shape().to_string() + ", A " +
                  a.shape().to_string() + ", B " + b.shape().to_string());
  TUNA_ASSERT(xa.ndim() == 2 && xa.dtype() == DType::F32 && xa.dim(0) == x.dim(0) && xa.dim(1) == R,
              "lora: xa is [N, R] F32");
  TUNA_ASSERT(p.dropout >= 0.0f && p.dropout < 1.0f, "lora: dropout in [0, 1)");
}

}  // namespace

void lora_linear_forward(const Tensor& x, const Tensor& w, const Tensor& bias, const Tensor& a,
                         const Tensor& b, const LoraParams& params, Tensor& y, Tensor& xa,
                         bool transposed) {
  check_lora_args(x, w, a, b, params, xa, transposed);
  const Device device = op_device("lora_linear_forward", {&x, &w, &bias, &a, &b, &y, &xa});
  if (device == Device::CPU)
    return cpu::lora_linear_forward(x, w, bias, a, b, params, y, xa, transposed);
  throw_no_kernel("lora_linear_forward", device);
}

void lora_add_forward(const Tensor& x, const Tensor& a, const Tensor& b, const LoraParams& params,
                      Tensor& y, Tensor& xa) {
  TUNA_ASSERT(x.ndim() == 2 && x.dtype() == DType::F32, "lora: x is [N, in] F32");
  TUNA_ASSERT(a.ndim() == 2 && b.ndim() == 2 && a.dtype() == DType::F32 && b.dtype() == DType::F32,
              "lora: A and B are 2-D F32");
  TUNA_ASSERT(a.dim(1) == x.dim(1) && b.dim(1) == a.dim(0), "lora: x, A, B shapes");
  TUNA_ASSERT(y.ndim() == 2 && y.dtype() == DType::F32 && y.dim(0) == x.dim(0) &&
                  y.dim(1) == b.dim(0),
              "lora: y is [N, out] F32");
  TUNA_ASSERT(xa.ndim() == 2 && xa.dtype() == DType::F32 && xa.dim(0) == x.dim(0) &&
                  xa.dim(1) == a.dim(0),
              "lora: xa is [N, R] F32");
  TUNA_ASSERT(params.dropout >= 0.0f && params.dropout < 1.0f, "lora: dropout in [0, 1)");
  const Device device = op_device("lora_add_forward", {&x, &a, &b, &y, &xa});
  if (device == Device::CPU) return cpu::lora_add_forward(x, a, b, params, y, xa);
  throw_no_kernel("lora_add_forward", device);
}

void lora_linear_backward(const Tensor& x, const Tensor& w, const Tensor& a, const Tensor& b,
                          const LoraParams& params, const Tensor& xa, const Tensor& dy, Tensor* dx,
                          Tensor& da, Tensor& db, bool transposed) {
  check_lora_args(x, w, a, b, params, xa, transposed);
  TUNA_ASSERT(
      dy.ndim() == 2 && dy.dtype() == DType::F32 && dy.dim(0) == x.dim(0) && dy.dim(1) == b.dim(0),
      "lora: dy is [N, out] F32");
  TUNA_ASSERT(da.shape() == a.shape() && db.shape() == b.shape() && da.dtype() == DType::F32 &&
                  db.dtype() == DType::F32,
              "lora: dA, dB shaped like A, B (F32)");
  TUNA_ASSERT(dx == nullptr || (dx->shape() == x.shape() && dx->dtype() == DType::F32),
              "lora: dx shaped like x");
  const Device device = op_device("lora_linear_backward", {&x, &w, &a, &b, &xa, &dy, dx, &da, &db});
  if (device == Device::CPU)
    return cpu::lora_linear_backward(x, w, a, b, params, xa, dy, dx, da, db, transposed);
  throw_no_kernel("lora_linear_backward", device);
}

void lora_dropout(const Tensor& x, const LoraParams& params, Tensor& out) {
  TUNA_ASSERT(x.dtype() == DType::F32 && out.dtype() == DType::F32 && out.numel() == x.numel(),
              "lora_dropout: F32, same size");
  TUNA_ASSERT(params.dropout >= 0.0f && params.dropout < 1.0f, "lora: dropout in [0, 1)");
  const Device device = op_device("lora_dropout", {&x, &out});
  if (device == Device::CPU) return cpu::lora_dropout(x, params, out);
  throw_no_kernel("lora_dropout", device);
}

}  // namespace tuna
