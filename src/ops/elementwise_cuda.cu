// CUDA element-wise adds: one grid-stride loop each over the flat F32 buffers (same results as
// the CPU kernels: each element is one F32 add). Launches are checked.
#include "core/cuda_check.h"
#include "ops/elementwise.h"

namespace tuna::cuda {

namespace {

constexpr int kThreads = 256;

int blocks_for(int64_t n) {
  const int64_t b = (n + kThreads - 1) / kThreads;
  return static_cast<int>(b < 65535 ? (b > 0 ? b : 1) : 65535);
}

__global__ void add_inplace_kernel(float* x, const float* y, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n;
       i += int64_t{blockDim.x} * gridDim.x)
    x[i] += y[i];
}

__global__ void add_into_kernel(const float* a, const float* b, float* out, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n;
       i += int64_t{blockDim.x} * gridDim.x)
    out[i] = a[i] + b[i];
}

}  // namespace

void add_inplace(Tensor& x, const Tensor& y) {
  const int64_t n = x.numel();
  if (n == 0) return;
  add_inplace_kernel<<<blocks_for(n), kThreads>>>(x.data_mut<float>(), y.data<float>(), n);
  TUNA_CUDA_CHECK_LAUNCH();
}

void add_into(const Tensor& a, const Tensor& b, Tensor& out) {
  const int64_t n = a.numel();
  if (n == 0) return;
  add_into_kernel<<<blocks_for(n), kThreads>>>(a.data<float>(), b.data<float>(),
                                               out.data_mut<float>(), n);
  TUNA_CUDA_CHECK_LAUNCH();
}

}  // namespace tuna::cuda
