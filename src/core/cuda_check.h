// TUNA_CUDA_CHECK(call): every CUDA runtime call is checked (DESIGN.md §7.5); a failure becomes
// "[cuda] <call> failed: <CUDA's message>, at file:line". TUNA_CUDA_CHECK_LAUNCH() checks the
// kernel launch just made. Included only by *_cuda.cu files (needs the CUDA runtime headers).
#pragma once

#include <cuda_runtime.h>

#include <string>

#include "core/error.h"

namespace tuna::cuda {

[[noreturn]] inline void throw_cuda_error(cudaError_t err, const char* call, const char* file,
                                          int line) {
  const std::string what = std::string(call) + " failed: " + cudaGetErrorString(err) + ", at " +
                           file + ":" + std::to_string(line);
  if (err == cudaErrorMemoryAllocation)
    throw_user_error("cuda", what, "the GPU is out of memory: use a smaller batch or model");
  if (err == cudaErrorNoDevice || err == cudaErrorInsufficientDriver || err == cudaErrorStubLibrary)
    throw_user_error("cuda", what, "no usable GPU: check the driver (nvidia-smi) or use CPU");
  throw_internal_error("cuda", what);
}

}  // namespace tuna::cuda

#define TUNA_CUDA_CHECK(call)                                                    \
  do {                                                                           \
    const cudaError_t tuna_cuda_err_ = (call);                                   \
    if (tuna_cuda_err_ != cudaSuccess)                                           \
      ::tuna::cuda::throw_cuda_error(tuna_cuda_err_, #call, __FILE__, __LINE__); \
  } while (0)

#define TUNA_CUDA_CHECK_LAUNCH() TUNA_CUDA_CHECK(cudaGetLastError())
