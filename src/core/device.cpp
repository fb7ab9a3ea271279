// Device memory dispatch (see device.h): CPU here, CUDA in device_cuda.cu when built with it.
#include "core/device.h"

#include <cstring>

#include "core/error.h"
#include "core/memory.h"

namespace tuna {

namespace {

#ifndef TUNA_HAVE_CUDA
[[noreturn]] void throw_no_cuda() {
  throw_user_error("tensor", "the CUDA backend is not built into this binary",
                   "rebuild with -DTUNA_CUDA=ON on a machine with the CUDA toolkit (nvcc)");
}
#endif

}  // namespace

bool cuda_available() {
#ifdef TUNA_HAVE_CUDA
  return cuda::device_count() > 0;
#else
  return false;
#endif
}

void* device_alloc(Device device, size_t bytes) {
  if (device == Device::CPU) return aligned_alloc_bytes(bytes);
#ifdef TUNA_HAVE_CUDA
  return cuda::alloc(bytes);
#else
  throw_no_cuda();
#endif
}

void device_free(Device device, void* p) {
  if (p == nullptr) return;
  if (device == Device::CPU) return aligned_free(p);
#ifdef TUNA_HAVE_CUDA
  cuda::free(p);
#endif
}

void device_memset_zero(Device device, void* p, size_t bytes) {
  if (bytes == 0) return;
  if (device == Device::CPU) {
    std::memset(p, 0, bytes);
    return;
  }
#ifdef TUNA_HAVE_CUDA
  cuda::memset_zero(p, bytes);
#else
  throw_no_cuda();
#endif
}

void device_copy(void* dst, Device dst_device, const void* src, Device src_device, size_t bytes) {
  if (bytes == 0) return;
  if (dst_device == Device::CPU && src_device == Device::CPU) {
    std::memcpy(dst, src, bytes);
    return;
  }
#ifdef TUNA_HAVE_CUDA
  const int kind = src_device == Device::CPU ? 0 : dst_device == Device::CPU ? 1 : 2;
  cuda::copy(dst, src, bytes, kind);
#else
  throw_no_cuda();
#endif
}

}  // namespace tuna
