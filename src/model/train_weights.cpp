// Trainable base weights for full fine-tuning / modules_to_save / bias training: slot naming,
// gradient sets shaped like ModelWeights, F32 master copies. A set's gradients (and its masters)
// are views into one flat F32 buffer, in slot order (train/param_buffer.h adopts it as is). Tied
// embeddings are one parameter (its gradient lives in the embed slot). The step itself is in
// train_step.cpp.
#include <cstring>
#include <vector>

#include "core/error.h"
#include "model/train_step.h"
#include "ops/dequantize.h"

namespace tuna {

namespace {

// One visitor for const and mutable weights (W is ModelWeights or const ModelWeights); visits
// undefined slots too when `all`.
template <typename W, typename Fn>
void visit_slots(W& w, const Fn& fn, bool all = false) {
  auto top = [&](const char* name, auto& t) {
    if (all || t.defined()) fn(std::string(name), t);
  };
  top("embed", w.embed);
  top("pos_embed", w.pos_embed);
  top("final_norm", w.final_norm);
  top("final_norm_bias", w.final_norm_bias);
  top("lm_head", w.lm_head);
  for (size_t i = 0; i < w.layers.size(); ++i) {
    auto& l = w.layers[i];
    const std::string p = "layers." + std::to_string(i) + ".";
    auto slot = [&](const char* name, auto& t) {
      if (all || t.defined()) fn(p + name, t);
    };
    slot("attn_norm", l.attn_norm);
    slot("attn_norm_bias", l.attn_norm_bias);
    slot("q", l.q);
    slot("k", l.k);
    slot("v", l.v);
    slot("o", l.o);
    slot("q_bias", l.q_bias);
    slot("k_bias", l.k_bias);
    slot("v_bias", l.v_bias);
    slot("o_bias", l.o_bias);
    slot("qkv", l.qkv);
    slot("qkv_bias", l.qkv_bias);
    slot("q_norm", l.q_norm);
    slot("k_norm", l.k_norm);
    slot("post_attn_norm", l.post_attn_norm);
    slot("ffn_norm", l.ffn_norm);
    slot("ffn_norm_bias", l.ffn_norm_bias);
    slot("post_ffn_norm", l.post_ffn_norm);
    slot("gate", l.gate);
    slot("up", l.up);
    slot("down", l.down);
    slot("gate_bias", l.gate_bias);
    slot("up_bias", l.up_bias);
    slot("down_bias", l.down_bias);
  }
}

// The tensor of `slot` in `w`, defined or not (nullptr for an unknown name).
Tensor* find_slot(ModelWeights& w, const std::string& slot) {
  Tensor* found = nullptr;
  visit_slots(
      w,
      [&](const std::string& name, Tensor& t) {
        if (name == slot) found = &t;
      },
      true);
  return found;
}

// A weight in any stored format as F32 into `out` (block formats through dequantize_rows).
void f32_into(const Tensor& t, Tensor& out) {
  if (dtype_is_block(t.dtype())) {
    TUNA_ASSERT(t.ndim() == 2, "block-quantized weights are 2-D");
    dequantize_rows(t, 0, t.dim(0), out.data_mut<float>());
  } else {
    convert_to_f32(t.dtype(), t.raw(), out.data_mut<float>(), static_cast<size_t>(t.numel()));
  }
}

// One F32 buffer (zero-filled when `zero`) for `shapes`, as views in order.
std::vector<Tensor> flat_views(const std::vector<Shape>& shapes, bool zero) {
  int64_t n = 0;
  for (const Shape& s : shapes) n += s.numel();
  const Tensor flat = zero ? Tensor::zeros({n}, DType::F32) : Tensor::empty({n}, DType::F32);
  std::vector<Tensor> views;
  int64_t offset = 0;
  for (const Shape& s : shapes) {
    views.push_back(flat.view_at(offset, s));
    offset += s.numel();
  }
  return views;
}

}  // namespace

void for_each_weight_slot(ModelWeights& w,
                          const std::function<void(const std::string&, Tensor&)>& fn) {
  visit_slots(w, fn);
}

void for_each_weight_slot(const ModelWeights& w,
                          const std::function<void(const std::string&, const Tensor&)>& fn) {
  visit_slots(w, fn);
}

ModelWeights make_weight_gradients(const ModelSpec& spec, const ModelWeights& w,
                                   const SlotFilter& trainable) {
  ModelWeights g;
  g.linear_transposed = w.linear_transposed;
  g.layers.resize(w.layers.size());
  auto selected = [&](const std::string& slot) { return !trainable || trainable(slot); };
  std::vector<Shape> shapes;
  for_each_weight_slot(w, [&](const std::string& slot, const Tensor& t) {
    if (spec.tied_embeddings && slot == "lm_head") return;  // one parameter with embed
    const bool want =
        selected(slot) || (spec.tied_embeddings && slot == "embed" && selected("lm_head"));
    if (!want) return;
    shapes.push_back(t.shape());
    g.names.push_back(slot);
  });
  const std::vector<Tensor> views = flat_views(shapes, true);
  for (size_t i = 0; i < views.size(); ++i) {
    Tensor* dst = find_slot(g, g.names[i]);
    TUNA_ASSERT(dst != nullptr, "gradient slot " + g.names[i]);
    *dst = views[i];
  }
  return g;
}

ModelWeights make_master_weights(const ModelSpec& spec, const ModelWeights& w,
                                 const ModelWeights& grads) {
  ModelWeights m = w;
  std::vector<Tensor*> slots;
  std::vector<Shape> shapes;
  for_each_weight_slot(grads, [&](const std::string& slot, const Tensor& g) {
    Tensor* dst = find_slot(m, slot);
    TUNA_ASSERT(dst != nullptr && dst->shape() == g.shape(), "master slot " + slot);
    slots.push_back(dst);
    shapes.push_back(g.shape());
  });
  std::vector<Tensor> views = flat_views(shapes, false);
  for (size_t i = 0; i < slots.size(); ++i) {
    f32_into(*slots[i], views[i]);
    *slots[i] = views[i];
  }
  if (spec.tied_embeddings) m.lm_head = m.embed;
  return m;
}

void zero_weight_gradients(ModelWeights& grads) {
  for_each_weight_slot(
      grads, [](const std::string&, Tensor& t) { std::memset(t.raw_mut(), 0, t.nbytes()); });
}

}  // namespace tuna
