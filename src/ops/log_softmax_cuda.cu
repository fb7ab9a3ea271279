// CUDA log-sum-exp per row: one block per row, a block-wide max in F32 then a block-wide sum of
// exp(z − max) in double (the CPU kernel's precision; the summation order differs, so results
// agree to rounding, not bit for bit). The [N] result is copied back to the host.
#include <vector>

#include "core/cuda_check.h"
#include "core/device.h"
#include "ops/log_softmax.h"

namespace tuna::cuda {

namespace {

constexpr int kThreads = 256;

__global__ void lse_kernel(const float* logits, int64_t V, double* lse) {
  __shared__ float smax[kThreads];
  __shared__ double ssum[kThreads];
  const float* row = logits + blockIdx.x * V;
  float mx = -INFINITY;
  for (int64_t i = threadIdx.x; i < V; i += kThreads) mx = fmaxf(mx, row[i]);
  smax[threadIdx.x] = mx;
  __syncthreads();
  for (int s = kThreads / 2; s > 0; s /= 2) {
    if (threadIdx.x < s) smax[threadIdx.x] = fmaxf(smax[threadIdx.x], smax[threadIdx.x + s]);
    __syncthreads();
  }
  mx = smax[0];
  double sum = 0.0;
  for (int64_t i = threadIdx.x; i < V; i += kThreads)
    sum += exp(static_cast<double>(row[i]) - static_cast<double>(mx));
  ssum[threadIdx.x] = sum;
  __syncthreads();
  for (int s = kThreads / 2; s > 0; s /= 2) {
    if (threadIdx.x < s) ssum[threadIdx.x] += ssum[threadIdx.x + s];
    __syncthreads();
  }
  if (threadIdx.x == 0) lse[blockIdx.x] = static_cast<double>(mx) + log(ssum[0]);
}

}  // namespace

std::vector<double> log_softmax_lse(const Tensor& logits) {
  const int64_t N = logits.dim(0), V = logits.dim(1);
  std::vector<double> lse(static_cast<size_t>(N));
  if (N == 0) return lse;
  const size_t bytes = lse.size() * sizeof(double);
  double* d_lse = static_cast<double*>(device_alloc(Device::CUDA, bytes));
  try {
    lse_kernel<<<static_cast<unsigned>(N), kThreads>>>(logits.data<float>(), V, d_lse);
    TUNA_CUDA_CHECK_LAUNCH();
    device_copy(lse.data(), Device::CPU, d_lse, Device::CUDA, bytes);
  } catch (...) {
    device_free(Device::CUDA, d_lse);
    throw;
  }
  device_free(Device::CUDA, d_lse);
  return lse;
}

}  // namespace tuna::cuda
