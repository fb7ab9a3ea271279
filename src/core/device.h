// Memory on a device: allocation, zero-fill and copies for Tensor storage. CPU memory is aligned
// host memory (core/memory.h); CUDA memory exists only in builds with TUNA_HAVE_CUDA (configured
// with -DTUNA_CUDA=ON and nvcc found; core/device_cuda.cu). Not here: streams, kernels
// (ops/*_cuda.cu), multi-GPU placement (everything lives on the current device, 0 by default).
#pragma once

#include <cstddef>

#include "core/tensor.h"

namespace tuna {

// True when this build has the CUDA backend and at least one GPU is visible.
bool cuda_available();

// `bytes` of uninitialised memory on `device`; a user error when the device is unavailable or
// out of memory. device_free(device, nullptr) does nothing.
void* device_alloc(Device device, size_t bytes);
void device_free(Device device, void* p);
void device_memset_zero(Device device, void* p, size_t bytes);
// Copies `bytes` from src (on src_device) to dst (on dst_device); returns when the copy is done.
void device_copy(void* dst, Device dst_device, const void* src, Device src_device, size_t bytes);

#ifdef TUNA_HAVE_CUDA
namespace cuda {
int device_count();  // 0 when no GPU (or no driver) is visible
void* alloc(size_t bytes);
void free(void* p);
void memset_zero(void* p, size_t bytes);
// kind: 0 host→device, 1 device→host, 2 device→device.
void copy(void* dst, const void* src, size_t bytes, int kind);
}  // namespace cuda
#endif

}  // namespace tuna
