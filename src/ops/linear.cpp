// linear_forward / linear_backward_*: argument checks and device dispatch.
#include "ops/linear.h"

#include "core/error.h"
#include "ops/dequantize.h"
#include "ops/dispatch.h"

namespace tuna {

namespace {

struct LinearDims {
  int64_t in, out;
};

LinearDims linear_dims(const Tensor& w, bool transposed) {
  TUNA_ASSERT(w.ndim() == 2, "linear: 2-D weight");
  return {transposed ? w.dim(0) : w.dim(1), transposed ? w.dim(1) : w.dim(0)};
}

void check_f32_2d(const Tensor& t, const char* what) {
  TUNA_ASSERT(t.ndim() == 2 && t.dtype() == DType::F32,
              std::string("linear: ") + what + " is 2-D F32, got " + t.shape().to_string());
}

}  // namespace

void linear_forward(const Tensor& x, const Tensor& w, const Tensor& bias, Tensor& y,
                    bool transposed) {
  check_f32_2d(x, "x");
  check_f32_2d(y, "y");
  const LinearDims d = linear_dims(w, transposed);
  TUNA_ASSERT(x.dim(1) == d.in,
              "linear: x " + x.shape().to_string() + " vs w " + w.shape().to_string());
  TUNA_ASSERT(y.dim(0) == x.dim(0) && y.dim(1) == d.out,
              "linear: y shape " + y.shape().to_string());
  TUNA_ASSERT(!bias.defined() || bias.numel() == d.out, "linear: bias size");
  if (!weight_format_supported(w.dtype())) dequantize_rows(w, 0, 0, nullptr);  // throws
  const Device device = op_device("linear_forward", {&x, &w, &bias, &y});
  if (device == Device::CPU) return cpu::linear_forward(x, w, bias, y, transposed);
  throw_no_kernel("linear_forward", device);
}

void linear_backward_input(const Tensor& dy, const Tensor& w, Tensor& dx, bool transposed,
                           bool accumulate) {
  check_f32_2d(dy, "dy");
  check_f32_2d(dx, "dx");
  const LinearDims d = linear_dims(w, transposed);
  TUNA_ASSERT(dy.dim(1) == d.out && dx.dim(1) == d.in && dx.dim(0) == dy.dim(0),
              "linear_backward_input: dy " + dy.shape().to_string() + ", w " +
                  w.shape().to_string() + ", dx " + dx.shape().to_string());
  if (!weight_format_supported(w.dtype())) dequantize_rows(w, 0, 0, nullptr);  // throws
  const Device device = op_device("linear_backward_input", {&dy, &w, &dx});
  if (device == Device::CPU) return cpu::linear_backward_input(dy, w, dx, transposed, accumulate);
  throw_no_kernel("linear_backward_input", device);
}

void linear_backward_weight(const Tensor& dy, const Tensor& x, Tensor& dw, bool transposed) {
  check_f32_2d(dy, "dy");
  check_f32_2d(x, "x");
  check_f32_2d(dw, "dw");
  const LinearDims d = linear_dims(dw, transposed);
  TUNA_ASSERT(dy.dim(0) == x.dim(0) && dy.dim(1) == d.out && x.dim(1) == d.in,
              "linear_backward_weight: dy " + dy.shape().to_string() + ", x " +
                  x.shape().to_string() + ", dw " + dw.shape().to_string());
  const Device device = op_device("linear_backward_weight", {&dy, &x, &dw});
  if (device == Device::CPU) return cpu::linear_backward_weight(dy, x, dw, transposed);
  throw_no_kernel("linear_backward_weight", device);
}

void linear_backward_bias(const Tensor& dy, Tensor& dbias) {
  check_f32_2d(dy, "dy");
  TUNA_ASSERT(dbias.dtype() == DType::F32 && dbias.numel() == dy.dim(1),
              "linear_backward_bias: dbias size");
  const Device device = op_device("linear_backward_bias", {&dy, &dbias});
  if (device == Device::CPU) return cpu::linear_backward_bias(dy, dbias);
  throw_no_kernel("linear_backward_bias", device);
}

}  // namespace tuna
