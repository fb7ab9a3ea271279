// What every op's dispatch shares: the device its tensors live on (all on one) and the error for
// a device the op has no kernel for in this build. Kernels themselves live in <op>_cpu.cpp and
// <op>_cuda.cu; each <op>.cpp checks shapes and dtypes and dispatches once.
#pragma once

#include <initializer_list>
#include <string>

#include "core/error.h"
#include "core/tensor.h"

namespace tuna {

// The device of the defined tensors in `ts` (CPU when none is defined); an internal error when
// they are not all on one device.
Device op_device(const char* op, std::initializer_list<const Tensor*> ts);

// "[op] no <device> kernel for <op> in this build (hint: ...)": the hint says whether a rebuild
// with -DTUNA_CUDA=ON would help or the op has no kernel for that device yet.
[[noreturn]] void throw_no_kernel(const char* op, Device device);

// An internal error unless the per-tensor segments of a multi-tensor op (their sizes:
// numel_of(segment), each ≥ 0) tile its flat buffers of n elements exactly.
template <class Segments, class NumelOf>
void check_segments_tile(const char* op, const Segments& segments, NumelOf numel_of, int64_t n) {
  int64_t covered = 0;
  for (const auto& s : segments) {
    const int64_t k = numel_of(s);
    TUNA_ASSERT(k >= 0, std::string(op) + ": negative segment size");
    covered += k;
  }
  TUNA_ASSERT(covered == n, std::string(op) + ": segments must tile the flat buffers");
}

}  // namespace tuna
