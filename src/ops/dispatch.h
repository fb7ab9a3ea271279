// What every op's dispatch shares: the device its tensors live on (all on one) and the error for
// a device the op has no kernel for in this build. Kernels themselves live in <op>_cpu.cpp and
// <op>_cuda.cu; each <op>.cpp checks shapes and dtypes and dispatches once.
#pragma once

#include <initializer_list>

#include "core/tensor.h"

namespace tuna {

// The device of the defined tensors in `ts` (CPU when none is defined); an internal error when
// they are not all on one device.
Device op_device(const char* op, std::initializer_list<const Tensor*> ts);

// "[op] no <device> kernel for <op> in this build (hint: ...)": the hint says whether a rebuild
// with -DTUNA_CUDA=ON would help or the op has no kernel for that device yet.
[[noreturn]] void throw_no_kernel(const char* op, Device device);

}  // namespace tuna
