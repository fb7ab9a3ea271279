// Element-wise ops: shape and dtype checks, device dispatch.
#include "ops/elementwise.h"

#include "core/error.h"
#include "ops/dispatch.h"

namespace tuna {

namespace {

void check_columns(const Tensor& wide, int64_t c0, const Tensor& narrow, const char* op) {
  TUNA_ASSERT(wide.ndim() == 2 && narrow.ndim() == 2 && wide.dim(0) == narrow.dim(0) &&
                  wide.dtype() == DType::F32 && narrow.dtype() == DType::F32,
              std::string(op) + ": [N, W] and [N, width] F32");
  TUNA_ASSERT(c0 >= 0 && c0 + narrow.dim(1) <= wide.dim(1),
              std::string(op) + ": columns [c0, c0 + width) inside [0, W)");
}

}  // namespace

void add_inplace(Tensor& x, const Tensor& y) {
  TUNA_ASSERT(x.numel() == y.numel(), "add_inplace: sizes");
  TUNA_ASSERT(x.dtype() == DType::F32 && y.dtype() == DType::F32, "add_inplace: F32");
  const Device device = op_device("add_inplace", {&x, &y});
  if (device == Device::CPU) return cpu::add_inplace(x, y);
#ifdef TUNA_HAVE_CUDA
  if (device == Device::CUDA) return cuda::add_inplace(x, y);
#endif
  throw_no_kernel("add_inplace", device);
}

void add_into(const Tensor& a, const Tensor& b, Tensor& out) {
  TUNA_ASSERT(a.numel() == b.numel() && a.numel() == out.numel(), "add_into: sizes");
  TUNA_ASSERT(a.dtype() == DType::F32 && b.dtype() == DType::F32 && out.dtype() == DType::F32,
              "add_into: F32");
  const Device device = op_device("add_into", {&a, &b, &out});
  if (device == Device::CPU) return cpu::add_into(a, b, out);
#ifdef TUNA_HAVE_CUDA
  if (device == Device::CUDA) return cuda::add_into(a, b, out);
#endif
  throw_no_kernel("add_into", device);
}

void copy_columns(const Tensor& src, int64_t c0, Tensor& dst) {
  check_columns(src, c0, dst, "copy_columns");
  const Device device = op_device("copy_columns", {&src, &dst});
  if (device == Device::CPU) return cpu::copy_columns(src, c0, dst);
  throw_no_kernel("copy_columns", device);
}

void put_columns(const Tensor& src, int64_t c0, Tensor& dst) {
  check_columns(dst, c0, src, "put_columns");
  const Device device = op_device("put_columns", {&src, &dst});
  if (device == Device::CPU) return cpu::put_columns(src, c0, dst);
  throw_no_kernel("put_columns", device);
}

}  // namespace tuna
