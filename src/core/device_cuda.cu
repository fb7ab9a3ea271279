// CUDA memory for Tensor storage (see device.h): cudaMalloc/cudaFree on the current device,
// synchronous copies and zero-fill. Every call is checked.
#include "core/cuda_check.h"
#include "core/device.h"

namespace tuna::cuda {

int device_count() {
  int n = 0;
  // No driver or no GPU: report none instead of failing (callers decide what to run).
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    (void)cudaGetLastError();  // clear the sticky error
    return 0;
  }
  return n;
}

void* alloc(size_t bytes) {
  static const int devices = device_count();
  if (devices == 0)
    throw_user_error("cuda", "no CUDA device is visible to this process",
                     "check the driver (nvidia-smi) and CUDA_VISIBLE_DEVICES, or use CPU tensors");
  void* p = nullptr;
  TUNA_CUDA_CHECK(
      cudaMalloc(&p, bytes == 0 ? 1 : bytes));  // never null: a tensor of 0 elements is defined
  return p;
}

void free(void* p) {
  // Called from Tensor deleters, which must not throw: a failure here (at process teardown, with
  // the driver already shut down) is cleared and ignored.
  const cudaError_t err = cudaFree(p);
  if (err != cudaSuccess) (void)cudaGetLastError();
}

void memset_zero(void* p, size_t bytes) {
  TUNA_CUDA_CHECK(cudaMemset(p, 0, bytes));
}

void copy(void* dst, const void* src, size_t bytes, int kind) {
  const cudaMemcpyKind k = kind == 0   ? cudaMemcpyHostToDevice
                           : kind == 1 ? cudaMemcpyDeviceToHost
                                       : cudaMemcpyDeviceToDevice;
  TUNA_CUDA_CHECK(cudaMemcpy(dst, src, bytes, k));
}

}  // namespace tuna::cuda
