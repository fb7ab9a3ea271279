// Flat trainable storage. See param_buffer.h.
#include "train/param_buffer.h"

#include <cstring>

#include "core/error.h"

namespace tuna {

namespace {

// Copies `from` into `view` and re-points every alias of `from`'s storage (and `from` itself) at
// `view`, so the old storage is released once nothing else holds it.
void move_into(Tensor& from, Tensor view, const std::vector<Tensor*>& aliases) {
  const void* old = from.raw();
  std::memcpy(view.raw_mut(), old, view.nbytes());
  for (Tensor* a : aliases)
    if (a->defined() && a->raw() == old) {
      TUNA_ASSERT(a->numel() == view.numel() && a->dtype() == DType::F32,
                  "an alias of a trainable tensor differs from it");
      *a = view.reshape(a->shape());
    }
  from = view;
}

}  // namespace

ParamBufferBytes param_buffer_bytes(int64_t numel) {
  const auto bytes = static_cast<int64_t>(dtype_nbytes(DType::F32, numel));
  return {bytes, bytes};
}

ParamBuffer ParamBuffer::flatten(std::vector<TrainableParam>& params,
                                 const std::vector<Tensor*>& aliases) {
  ParamBuffer buf;
  if (params.empty()) return buf;
  int64_t n = 0;
  for (const TrainableParam& p : params) {
    TUNA_ASSERT(p.param.dtype() == DType::F32 && p.grad.dtype() == DType::F32 &&
                    p.grad.shape() == p.param.shape(),
                "trainable parameter " + p.name + " must be F32 with a grad of its shape");
    n += p.param.numel();
  }
  const ParamBufferBytes bytes = param_buffer_bytes(n);
  // Each buffer separately: adopted when its tensors already lie back to back (writable),
  // otherwise allocated and filled tensor by tensor.
  auto build = [&](Tensor TrainableParam::*member, int64_t nbytes) {
    std::vector<Tensor> parts;
    parts.reserve(params.size());
    for (const TrainableParam& p : params) parts.push_back(p.*member);
    Tensor flat = Tensor::span_of(parts);
    parts.clear();
    if (flat.defined() && !flat.is_view()) return flat;
    flat = Tensor::empty({n}, DType::F32);
    TUNA_ASSERT(static_cast<int64_t>(flat.nbytes()) == nbytes, "param buffer size");
    int64_t offset = 0;
    for (TrainableParam& p : params) {
      const Shape shape = p.param.shape();
      move_into(p.*member, flat.view_at(offset, shape), aliases);
      offset += shape.numel();
    }
    return flat;
  };
  buf.values_ = build(&TrainableParam::param, bytes.values);
  buf.grads_ = build(&TrainableParam::grad, bytes.grads);
  return buf;
}

}  // namespace tuna
