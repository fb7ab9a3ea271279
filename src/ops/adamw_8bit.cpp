// bitsandbytes' 8-bit AdamW update: argument checks (shapes and dtypes only) and device
// dispatch. See adamw_8bit.h; the kernel is adamw_8bit_cpu.cpp.
#include "ops/adamw_8bit.h"

#include <initializer_list>

#include "core/error.h"
#include "ops/dispatch.h"
#include "ops/quant_blockwise8.h"

namespace tuna {

void adamw_8bit_update(Tensor& param, const Tensor& grad, Tensor& state1, Tensor& state2,
                       Tensor& absmax1, Tensor& absmax2, const Adamw8bitHyper& hyper) {
  const int64_t n = param.numel();
  TUNA_ASSERT(param.dtype() == DType::F32 && param.ndim() == 1 && grad.dtype() == DType::F32 &&
                  grad.ndim() == 1 && grad.numel() == n,
              "adamw_8bit: param and grad must be [N] F32");
  const DType sd = state1.dtype();
  for (const Tensor* s : std::initializer_list<const Tensor*>{&state1, &state2})
    TUNA_ASSERT(s->defined() && (sd == DType::U8 || sd == DType::F32) && s->dtype() == sd &&
                    s->ndim() == 1 && s->numel() == n,
                "adamw_8bit: state1 and state2 must both be [N] U8 or both [N] F32");
  const int64_t blocks = blockwise_n_blocks(n, kBnbOptimBlocksize);
  for (const Tensor* a : std::initializer_list<const Tensor*>{&absmax1, &absmax2}) {
    if (sd == DType::U8)
      TUNA_ASSERT(
          a->defined() && a->dtype() == DType::F32 && a->ndim() == 1 && a->numel() == blocks,
          "adamw_8bit: U8 state needs absmax1 and absmax2 [ceil(N / 256)] F32");
    else
      TUNA_ASSERT(!a->defined(), "adamw_8bit: F32 state has no absmax");
  }
  TUNA_ASSERT(hyper.step >= 1, "adamw_8bit: step counts from 1");
  const Device device =
      op_device("adamw_8bit_update", {&param, &grad, &state1, &state2, &absmax1, &absmax2});
  if (device == Device::CPU)
    return cpu::adamw_8bit_update(param, grad, state1, state2, absmax1, absmax2, hyper);
  throw_no_kernel("adamw_8bit_update", device);
}

}  // namespace tuna
