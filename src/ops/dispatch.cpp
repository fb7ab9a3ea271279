// op_device and throw_no_kernel (see dispatch.h).
#include "ops/dispatch.h"

#include <string>

#include "core/error.h"

namespace tuna {

Device op_device(const char* op, std::initializer_list<const Tensor*> ts) {
  const Tensor* first = nullptr;
  for (const Tensor* t : ts) {
    if (t == nullptr || !t->defined()) continue;
    if (first == nullptr) first = t;
    TUNA_ASSERT(t->device() == first->device(),
                std::string(op) + ": tensors on different devices (" +
                    device_name(first->device()) + " and " + device_name(t->device()) + ")");
  }
  return first != nullptr ? first->device() : Device::CPU;
}

void throw_no_kernel(const char* op, Device device) {
#ifdef TUNA_HAVE_CUDA
  const char* hint = "this op has no kernel for that device yet: pass it CPU tensors";
#else
  const char* hint =
      "rebuild with -DTUNA_CUDA=ON (needs nvcc from the CUDA toolkit) for CUDA kernels";
#endif
  throw_user_error(
      op, std::string("no ") + device_name(device) + " kernel for " + op + " in this build", hint);
}

}  // namespace tuna
