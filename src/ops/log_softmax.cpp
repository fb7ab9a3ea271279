// log_softmax_lse: shape and dtype checks, device dispatch.
#include "ops/log_softmax.h"

#include "core/error.h"
#include "ops/dispatch.h"

namespace tuna {

std::vector<double> log_softmax_lse(const Tensor& logits) {
  TUNA_ASSERT(logits.ndim() == 2 && logits.dtype() == DType::F32 && logits.dim(1) > 0,
              "log_softmax: logits are [N, V] F32 with V > 0, got " + logits.shape().to_string());
  const Device device = op_device("log_softmax_lse", {&logits});
  if (device == Device::CPU) return cpu::log_softmax_lse(logits);
#ifdef TUNA_HAVE_CUDA
  if (device == Device::CUDA) return cuda::log_softmax_lse(logits);
#endif
  throw_no_kernel("log_softmax_lse", device);
}

}  // namespace tuna
