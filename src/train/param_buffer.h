// Flat storage for a run's trainable tensors (llm.c's one allocation for all parameters): one F32
// buffer holds every trainable value and one every gradient, in the optimizer's parameter order
// (the order of optimizer.safetensors); each TrainableParam's `param` and `grad` are writable
// views into them (Tensor::view_at). The optimizer then updates everything in one multi-tensor
// call, the gradient norm is one op over one buffer, and an all-reduce of gradients will be one
// call. Not here: what trains (trainable_set.h), the optimizer's flat state (optimizer.h).
#pragma once

#include <cstdint>
#include <vector>

#include "core/tensor.h"
#include "train/optimizer.h"

namespace tuna {

// Bytes of the flat buffers for `numel` trainable elements: what ParamBuffer allocates, and what
// the memory estimate (memory_estimate.h) counts.
struct ParamBufferBytes {
  int64_t values = 0;  // [N] F32
  int64_t grads = 0;   // [N] F32
  int64_t total() const { return values + grads; }
};
ParamBufferBytes param_buffer_bytes(int64_t numel);

class ParamBuffer {
 public:
  ParamBuffer() = default;
  // Moves every param's value and grad into the flat buffers, in order, and points them — and
  // every handle in `aliases` that shared a moved tensor's storage (LoRA adapters, weight slots)
  // — at their views. Values and grads are copied exactly; each old tensor that owns its storage
  // is released as soon as it is moved, so separately allocated params never exist twice. Params
  // that already lie back to back in one buffer (make_weight_gradients / make_master_weights
  // allocate so, in parameter order) are adopted as they are; were they views of one buffer in
  // another order, that buffer would stay alive until its last view moved (twice the memory).
  static ParamBuffer flatten(std::vector<TrainableParam>& params,
                             const std::vector<Tensor*>& aliases);

  const Tensor& values() const { return values_; }  // [N] F32, undefined when nothing trains
  const Tensor& grads() const { return grads_; }    // [N] F32
  int64_t numel() const { return values_.defined() ? values_.numel() : 0; }

 private:
  Tensor values_, grads_;
};

}  // namespace tuna
