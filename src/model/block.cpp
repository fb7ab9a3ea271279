// The decoder block's forward and its hand-written backward, side by side (the llm.c way), wired
// by ModelWiring: pre-norm attention with optional q/k norm, RoPE, GQA/MQA, sliding windows and
// soft-capping (in-batch, or against a KV cache when decoding), optional Gemma sandwich norms,
// gated (SwiGLU/GeGLU) or plain (GPT-2) MLP, GPT-2's fused c_attn. Every linear may carry a LoRA
// adapter and/or a trainable weight and bias. Dimension letters as in block.h.
#include "model/block.h"

#include <algorithm>
#include <string>

#include "core/error.h"
#include "model/families/registry.h"
#include "model/train_step.h"
#include "ops/activation.h"
#include "ops/attention.h"
#include "ops/embedding.h"
#include "ops/linear.h"
#include "ops/lora_linear.h"
#include "ops/norm.h"
#include "ops/rope.h"

namespace tuna {

ModelWiring model_wiring(const ModelSpec& s) {
  ModelWiring wr;
  wr.norm = s.norm;
  wr.norm_eps = s.norm_eps;
  const ModelFamily& family = *family_of(s).family;
  wr.fused_qkv = family.find_slot("qkv") != nullptr;  // the family's table has one q|k|v linear
  wr.qk_norm = s.qk_norm;
  wr.qk_norm_kind = s.norm == NormType::RMS_GEMMA ? RmsNormKind::GEMMA : RmsNormKind::LLAMA;
  wr.learned_positions = s.learned_positions;
  wr.rope_interleaved = s.rope_interleaved;
  wr.sandwich_norm = s.sandwich_norm;
  wr.gated_mlp = s.gated_mlp;
  wr.activation = s.activation;
  wr.embed_scale = embedding_scale(s, DType::F32);
  if (family.embedding_padding_idx && s.pad_id >= 0 && s.pad_id < s.vocab)
    wr.embed_padding_idx = static_cast<int32_t>(s.pad_id);
  return wr;
}

int64_t block_kept_floats_per_token(const ModelSpec& s, const ModelWiring& wr,
                                    int64_t adapted_rank_sum) {
  const int64_t C = s.hidden, HD = s.n_heads * s.head_dim, KD = s.n_kv_heads * s.head_dim;
  int64_t floats = C;                        // x_in
  if (wr.qk_norm) floats += HD + KD;         // q_pre, k_pre
  floats += HD + 2 * KD;                     // q, k, v
  floats += HD;                              // attn
  if (wr.sandwich_norm) floats += 2 * C;     // o_out, down_out
  floats += C;                               // x_mid
  floats += (wr.gated_mlp ? 2 : 1) * s.ffn;  // gate, up
  floats += adapted_rank_sum;                // xa of each adapted linear
  return floats;
}

ActivationPlan step_activation_plan(const ModelSpec& s, const ModelWiring& wr,
                                    const std::vector<int64_t>& rank_sums, bool checkpointing) {
  TUNA_ASSERT(static_cast<int64_t>(rank_sums.size()) == s.n_layers, "one rank sum per layer");
  ActivationPlan plan;
  plan.embed_floats = s.hidden;
  int64_t widest = 0;
  for (int64_t r : rank_sums) {
    const int64_t kept = block_kept_floats_per_token(s, wr, r);
    widest = std::max(widest, kept);
    plan.block_floats += checkpointing ? s.hidden : kept;  // the block's output, or all it keeps
  }
  if (checkpointing) plan.block_floats += widest;  // the block being (re)computed
  plan.carves = 1 + s.n_layers * (16 + static_cast<int64_t>(kLoraTargets));
  return plan;
}

void ActivationWorkspace::reserve(int64_t floats, int64_t carves) {
  const int64_t need = floats + carves * kAlignFloats;
  if (capacity() < need) buffer_ = Tensor::empty({need}, DType::F32);
  used_ = high_water_ = 0;
}

Tensor ActivationWorkspace::take(int64_t rows, int64_t cols) {
  const int64_t n = rows * cols, start = align(used_);
  TUNA_ASSERT(start + n <= capacity(), "activation workspace exhausted: the plan is short of " +
                                           std::to_string(start + n - capacity()) + " floats");
  used_ = start + n;
  high_water_ = std::max(high_water_, used_);
  return buffer_.view_at(start, {rows, cols});
}

void apply_norm(const ModelWiring& wr, const Tensor& x, const Tensor& w, const Tensor& b,
                Tensor& y) {
  switch (wr.norm) {
    case NormType::RMS:
      return rms_norm_forward(x, w, wr.norm_eps, RmsNormKind::LLAMA, y);
    case NormType::RMS_GEMMA:
      return rms_norm_forward(x, w, wr.norm_eps, RmsNormKind::GEMMA, y);
    case NormType::LAYER:
      return layer_norm_forward(x, w, b, wr.norm_eps, y);
  }
}

void apply_norm_backward(const ModelWiring& wr, const Tensor& x, const Tensor& w, const Tensor& dy,
                         Tensor& dx, Tensor* dw, Tensor* db) {
  switch (wr.norm) {
    case NormType::RMS:
      return rms_norm_backward(x, w, wr.norm_eps, RmsNormKind::LLAMA, dy, dx, dw);
    case NormType::RMS_GEMMA:
      return rms_norm_backward(x, w, wr.norm_eps, RmsNormKind::GEMMA, dy, dx, dw);
    case NormType::LAYER:
      return layer_norm_backward(x, w, wr.norm_eps, dy, dx, dw, db);
  }
}

LayerAdapters layer_adapter_table(const ModelSpec& s, const ModelWeights& w,
                                  std::vector<LoraAdapter>* adapters, AdapterUse use) {
  LayerAdapters table(static_cast<size_t>(s.n_layers));
  for (auto& row : table) row.fill(nullptr);
  if (adapters == nullptr) return table;
  for (LoraAdapter& ad : *adapters) {
    const bool in_blocks = ad.layer >= 0 && ad.layer < s.n_layers;
    if (use == AdapterUse::INFER) {
      // layer −1: outside the text blocks (vision tower)
      if (in_blocks) table[static_cast<size_t>(ad.layer)][static_cast<size_t>(ad.target)] = &ad;
      continue;
    }
    if (!in_blocks)
      throw_user_error("train", "adapter " + ad.module + ": layer " + std::to_string(ad.layer) +
                                    " is outside the model's " + std::to_string(s.n_layers));
    LoraAdapter*& slot = table[static_cast<size_t>(ad.layer)][static_cast<size_t>(ad.target)];
    if (slot != nullptr) throw_user_error("train", "two adapters on " + ad.module);
    const Tensor* base = linear_slots(w.layers[static_cast<size_t>(ad.layer)], ad.target).first;
    if (!base->defined())
      throw_user_error("train", "adapter " + ad.module + " targets a linear this model lacks");
    const int64_t in = w.linear_transposed ? base->dim(0) : base->dim(1);
    const int64_t out = w.linear_transposed ? base->dim(1) : base->dim(0);
    if (ad.a.shape() != Shape{ad.r, in} || ad.b.shape() != Shape{out, ad.r} ||
        ad.a.dtype() != DType::F32 || ad.b.dtype() != DType::F32)
      throw_user_error("train", "adapter " + ad.module + ": A " + ad.a.shape().to_string() +
                                    ", B " + ad.b.shape().to_string() + " do not fit the base " +
                                    base->shape().to_string() +
                                    " with r = " + std::to_string(ad.r));
    if (!ad.grad_a.defined()) ad.grad_a = Tensor::zeros(ad.a.shape(), DType::F32);
    if (!ad.grad_b.defined()) ad.grad_b = Tensor::zeros(ad.b.shape(), DType::F32);
    slot = &ad;
  }
  return table;
}

namespace {

Tensor f32(int64_t rows, int64_t cols) {
  return Tensor::empty({rows, cols}, DType::F32);
}

// `t` as an [rows, cols] F32 buffer: t itself when it already has that shape (inference reuses
// one BlockActs from layer to layer), else a fresh tensor.
Tensor& reuse(Tensor& t, int64_t rows, int64_t cols) {
  if (!t.defined() || t.dim(0) != rows || t.dim(1) != cols) t = f32(rows, cols);
  return t;
}

// A buffer the backward reads: with c.keep a new one (carved from c.workspace when there is
// one), else reused.
Tensor& kept(const BlockContext& c, Tensor& t, int64_t rows, int64_t cols) {
  if (!c.keep) return reuse(t, rows, cols);
  t = c.workspace != nullptr ? c.workspace->take(rows, cols) : f32(rows, cols);
  return t;
}

// Scratch the backward does not read (h, qkv, proj, act): with c.keep a fresh tensor the block
// drops at its end, else reused.
Tensor& scratch(const BlockContext& c, Tensor& t, int64_t rows, int64_t cols) {
  if (c.keep) t = f32(rows, cols);
  return reuse(t, rows, cols);
}

// A trainable slot (defined gradient tensor) or nullptr.
Tensor* trainable(Tensor& t) {
  return t.defined() ? &t : nullptr;
}

LoraAdapter* adapter_of(const BlockContext& c, int64_t layer, LoraTarget t) {
  if (c.adapters == nullptr) return nullptr;
  return (*c.adapters)[static_cast<size_t>(layer)][static_cast<size_t>(t)];
}

LoraParams lora_params(const BlockContext& c, int64_t layer, LoraTarget t, const LoraAdapter& a) {
  LoraParams p;
  p.scale = a.scale;
  p.dropout = c.dropout ? a.dropout : 0.0f;
  p.seed = c.seed;
  p.stream = lora_dropout_stream(c.step, c.micro, layer, t);
  return p;
}

// y [N, out] = x [N, in] · Wᵀ + b (+ s·drop(x)·Aᵀ·Bᵀ with an adapter, acts.xa[t] [N, R] kept).
void linear_fwd(const BlockContext& c, int64_t layer, LoraTarget t, BlockActs& acts,
                const Tensor& x, Tensor& y) {
  const auto [w, bias] = linear_slots(c.weights->layers[static_cast<size_t>(layer)], t);
  const bool tr = c.weights->linear_transposed;
  if (c.row_adapters != nullptr) {
    // One base pass for every row, then each sequence's own low-rank path on its rows — the
    // same calls, on the same rows, as that sequence decoded alone.
    TUNA_ASSERT(!c.keep && c.grads == nullptr, "block: per-row adapters are for inference");
    linear_forward(x, *w, *bias, y, tr);
    for (const RowAdapters& g : *c.row_adapters) {
      const LoraAdapter* ga =
          g.table ? (*g.table)[static_cast<size_t>(layer)][static_cast<size_t>(t)] : nullptr;
      if (ga == nullptr || g.end <= g.begin) continue;
      Tensor yg = y.slice0(g.begin, g.end);
      Tensor xa = f32(g.end - g.begin, ga->r);
      lora_add_forward(x.slice0(g.begin, g.end), ga->a, ga->b, lora_params(c, layer, t, *ga), yg,
                       xa);
    }
    return;
  }
  LoraAdapter* ad = adapter_of(c, layer, t);
  if (ad == nullptr) return linear_forward(x, *w, *bias, y, tr);
  Tensor& xa = kept(c, acts.xa[static_cast<size_t>(t)], c.N, ad->r);
  lora_linear_forward(x, *w, *bias, ad->a, ad->b, lora_params(c, layer, t, *ad), y, xa, tr);
}

// Backward of linear_fwd: dx [N, in] written (accumulate: added), weight/bias/adapter gradients
// added where trainable.
void linear_bwd(const BlockContext& c, int64_t layer, LoraTarget t, const Tensor& x,
                const Tensor& xa, const Tensor& dy, Tensor& dx, bool accumulate) {
  const auto [w, bias] = linear_slots(c.weights->layers[static_cast<size_t>(layer)], t);
  const bool tr = c.weights->linear_transposed;
  if (c.grads != nullptr) {
    const auto [dw, db] = linear_slots(c.grads->layers[static_cast<size_t>(layer)], t);
    if (dw->defined()) linear_backward_weight(dy, x, *dw, tr);
    if (db->defined()) linear_backward_bias(dy, *db);
  }
  LoraAdapter* ad = adapter_of(c, layer, t);
  if (ad == nullptr) return linear_backward_input(dy, *w, dx, tr, accumulate);
  const LoraParams p = lora_params(c, layer, t, *ad);
  if (!accumulate) {
    lora_linear_backward(x, *w, ad->a, ad->b, p, xa, dy, &dx, ad->grad_a, ad->grad_b, tr);
    return;
  }
  Tensor part = f32(dx.dim(0), dx.dim(1));
  lora_linear_backward(x, *w, ad->a, ad->b, p, xa, dy, &part, ad->grad_a, ad->grad_b, tr);
  add_inplace(dx, part);
}

}  // namespace

void block_forward(const BlockContext& c, int64_t li, BlockActs& a, Tensor& x_out) {
  const ModelSpec& s = *c.spec;
  const ModelWiring& wr = c.wiring;
  const LayerWeights& lw = c.weights->layers[static_cast<size_t>(li)];
  const int64_t B = c.B, T = c.T, N = c.N, C = s.hidden, H = s.n_heads, K = s.n_kv_heads,
                D = s.head_dim, F = s.ffn;
  TUNA_ASSERT(lw.qkv.defined() == wr.fused_qkv, "block: fused q|k|v weight matches the wiring");
  if (c.keep) kept(c, x_out, N, C);  // first, so a checkpointed step can drop what follows it

  // --- attention sub-block: x_mid = x_in + post_norm(o(attention(rope(qk_norm(qkv(norm(x_in))))))
  Tensor& h = scratch(c, a.h, N, C);
  apply_norm(wr, a.x_in, lw.attn_norm, lw.attn_norm_bias, h);
  // The projections land in q_pre/k_pre when a q/k norm follows, else straight in q/k.
  Tensor& q_proj = kept(c, wr.qk_norm ? a.q_pre : a.q, N, H * D);
  Tensor& k_proj = kept(c, wr.qk_norm ? a.k_pre : a.k, N, K * D);
  Tensor& v = kept(c, a.v, N, K * D);
  if (wr.fused_qkv) {
    Tensor& qkv = scratch(c, a.qkv, N, 3 * C);  // [N, 3C] = q | k | v
    linear_fwd(c, li, LoraTarget::QKV, a, h, qkv);
    copy_columns(qkv, 0, q_proj);
    copy_columns(qkv, C, k_proj);
    copy_columns(qkv, 2 * C, v);
  } else {
    linear_fwd(c, li, LoraTarget::Q, a, h, q_proj);
    linear_fwd(c, li, LoraTarget::K, a, h, k_proj);
    linear_fwd(c, li, LoraTarget::V, a, h, v);
  }
  if (wr.qk_norm) {
    Tensor qn = kept(c, a.q, N, H * D).reshape({N * H, D});
    Tensor kn = kept(c, a.k, N, K * D).reshape({N * K, D});
    rms_norm_forward(a.q_pre.reshape({N * H, D}), lw.q_norm, wr.norm_eps, wr.qk_norm_kind, qn);
    rms_norm_forward(a.k_pre.reshape({N * K, D}), lw.k_norm, wr.norm_eps, wr.qk_norm_kind, kn);
  }
  if (!wr.learned_positions) {
    Tensor qr = a.q.reshape({N, H, D}), kr = a.k.reshape({N, K, D});
    rope_forward(qr, c.rope.for_layer(li), c.rope.rows, wr.rope_interleaved);
    rope_forward(kr, c.rope.for_layer(li), c.rope.rows, wr.rope_interleaved);
  }
  Tensor& attn = kept(c, a.attn, N, H * D);
  if (c.cache != nullptr) {
    c.cache->attend(li, a.q, a.k, a.v, attn);
  } else {
    Tensor a4 = attn.reshape({B, T, H, D});
    attention_forward(a.q.reshape({B, T, H, D}), a.k.reshape({B, T, K, D}),
                      a.v.reshape({B, T, K, D}), c.key_valid, layer_attention_params(s, li), a4,
                      c.segment_start);
  }
  // The o-projection lands in o_out when a sandwich norm follows (kept), else straight in proj.
  Tensor* proj = wr.sandwich_norm ? &kept(c, a.o_out, N, C) : &scratch(c, a.proj, N, C);
  linear_fwd(c, li, LoraTarget::O, a, attn, *proj);
  if (wr.sandwich_norm) {
    proj = &scratch(c, a.proj, N, C);
    apply_norm(wr, a.o_out, lw.post_attn_norm, Tensor(), *proj);
  }
  Tensor& x_mid = kept(c, a.x_mid, N, C);
  add_into(a.x_in, *proj, x_mid);

  // --- MLP sub-block: x_out = x_mid + post_norm(down(act(gate) · up))   (GPT-2: down(act(up)))
  apply_norm(wr, x_mid, lw.ffn_norm, lw.ffn_norm_bias, h);
  Tensor& act = scratch(c, a.act, N, F);
  Tensor& up = kept(c, a.up, N, F);
  if (wr.gated_mlp) {
    Tensor& gate = kept(c, a.gate, N, F);
    linear_fwd(c, li, LoraTarget::GATE, a, h, gate);
    linear_fwd(c, li, LoraTarget::UP, a, h, up);
    gated_activation_forward(gate, up, wr.activation, act);
  } else {
    linear_fwd(c, li, LoraTarget::UP, a, h, up);
    activation_forward(up, wr.activation, act);
  }
  proj = wr.sandwich_norm ? &kept(c, a.down_out, N, C) : &reuse(a.proj, N, C);
  linear_fwd(c, li, LoraTarget::DOWN, a, act, *proj);
  if (wr.sandwich_norm) {
    proj = &reuse(a.proj, N, C);
    apply_norm(wr, a.down_out, lw.post_ffn_norm, Tensor(), *proj);
  }
  Tensor& out = c.keep ? x_out : reuse(x_out, N, C);  // kept above, else in place over x_in
  add_into(x_mid, *proj, out);
  if (c.keep) a.h = a.qkv = a.proj = a.act = Tensor();  // the backward recomputes these
}

void block_backward(const BlockContext& c, int64_t li, const BlockActs& a, const Tensor& d_out,
                    Tensor& d_in) {
  const ModelSpec& s = *c.spec;
  const ModelWiring& wr = c.wiring;
  const LayerWeights& lw = c.weights->layers[static_cast<size_t>(li)];
  LayerWeights* gw = c.grads != nullptr ? &c.grads->layers[static_cast<size_t>(li)] : nullptr;
  auto grad = [&](Tensor LayerWeights::*slot) -> Tensor* {
    return gw != nullptr ? trainable(gw->*slot) : nullptr;
  };
  const int64_t B = c.B, T = c.T, N = c.N, C = s.hidden, H = s.n_heads, K = s.n_kv_heads,
                D = s.head_dim, F = s.ffn;
  auto xa = [&](LoraTarget t) -> const Tensor& { return a.xa[static_cast<size_t>(t)]; };

  // --- MLP sub-block (d_out flows unchanged into d_mid through the residual) ---
  Tensor d_proj = d_out;  // [N, C] ∂/∂(MLP sub-block output before the residual add)
  if (wr.sandwich_norm) {
    d_proj = f32(N, C);
    apply_norm_backward(wr, a.down_out, lw.post_ffn_norm, d_out, d_proj,
                        grad(&LayerWeights::post_ffn_norm), nullptr);
  }
  Tensor h = f32(N, C);  // recomputed norm(x_mid)
  apply_norm(wr, a.x_mid, lw.ffn_norm, lw.ffn_norm_bias, h);
  Tensor act = f32(N, F), d_act = f32(N, F);  // [N, F] down input and its gradient
  Tensor dh = f32(N, C);                      // [N, C] ∂/∂h
  if (wr.gated_mlp) {
    gated_activation_forward(a.gate, a.up, wr.activation, act);
    linear_bwd(c, li, LoraTarget::DOWN, act, xa(LoraTarget::DOWN), d_proj, d_act, false);
    Tensor d_up = f32(N, F);
    gated_activation_backward(a.gate, a.up, d_act, wr.activation, d_act, d_up);  // → d_gate
    linear_bwd(c, li, LoraTarget::GATE, h, xa(LoraTarget::GATE), d_act, dh, false);
    linear_bwd(c, li, LoraTarget::UP, h, xa(LoraTarget::UP), d_up, dh, true);
  } else {
    activation_forward(a.up, wr.activation, act);
    linear_bwd(c, li, LoraTarget::DOWN, act, xa(LoraTarget::DOWN), d_proj, d_act, false);
    activation_backward(a.up, d_act, wr.activation, d_act);  // d_act → d(c_fc output)
    linear_bwd(c, li, LoraTarget::UP, h, xa(LoraTarget::UP), d_act, dh, false);
  }
  Tensor d_mid = f32(N, C);  // [N, C] ∂/∂x_mid = d_out + norm backward
  apply_norm_backward(wr, a.x_mid, lw.ffn_norm, dh, d_mid, grad(&LayerWeights::ffn_norm),
                      grad(&LayerWeights::ffn_norm_bias));
  add_inplace(d_mid, d_out);

  // --- attention sub-block ---
  d_proj = d_mid;
  if (wr.sandwich_norm) {
    d_proj = f32(N, C);
    apply_norm_backward(wr, a.o_out, lw.post_attn_norm, d_mid, d_proj,
                        grad(&LayerWeights::post_attn_norm), nullptr);
  }
  Tensor d_attn = f32(N, H * D);
  linear_bwd(c, li, LoraTarget::O, a.attn, xa(LoraTarget::O), d_proj, d_attn, false);
  Tensor dq = f32(N, H * D), dk = f32(N, K * D), dv = f32(N, K * D);
  {
    Tensor dq4 = dq.reshape({B, T, H, D}), dk4 = dk.reshape({B, T, K, D}),
           dv4 = dv.reshape({B, T, K, D});
    attention_backward(a.q.reshape({B, T, H, D}), a.k.reshape({B, T, K, D}),
                       a.v.reshape({B, T, K, D}), c.key_valid, layer_attention_params(s, li),
                       d_attn.reshape({B, T, H, D}), dq4, dk4, dv4, c.segment_start);
  }
  if (!wr.learned_positions) {
    Tensor dqr = dq.reshape({N, H, D}), dkr = dk.reshape({N, K, D});
    rope_backward(dqr, c.rope.for_layer(li), c.rope.rows, wr.rope_interleaved);
    rope_backward(dkr, c.rope.for_layer(li), c.rope.rows, wr.rope_interleaved);
  }
  if (wr.qk_norm) {
    Tensor dq_pre = f32(N, H * D), dk_pre = f32(N, K * D);
    Tensor dqn = dq_pre.reshape({N * H, D}), dkn = dk_pre.reshape({N * K, D});
    rms_norm_backward(a.q_pre.reshape({N * H, D}), lw.q_norm, wr.norm_eps, wr.qk_norm_kind,
                      dq.reshape({N * H, D}), dqn, grad(&LayerWeights::q_norm));
    rms_norm_backward(a.k_pre.reshape({N * K, D}), lw.k_norm, wr.norm_eps, wr.qk_norm_kind,
                      dk.reshape({N * K, D}), dkn, grad(&LayerWeights::k_norm));
    dq = dq_pre;
    dk = dk_pre;
  }
  apply_norm(wr, a.x_in, lw.attn_norm, lw.attn_norm_bias, h);  // recomputed norm(x_in)
  if (wr.fused_qkv) {
    Tensor dqkv = f32(N, 3 * C);  // [N, 3C] = dq | dk | dv
    put_columns(dq, 0, dqkv);
    put_columns(dk, C, dqkv);
    put_columns(dv, 2 * C, dqkv);
    linear_bwd(c, li, LoraTarget::QKV, h, xa(LoraTarget::QKV), dqkv, dh, false);
  } else {
    linear_bwd(c, li, LoraTarget::Q, h, xa(LoraTarget::Q), dq, dh, false);
    linear_bwd(c, li, LoraTarget::K, h, xa(LoraTarget::K), dk, dh, true);
    linear_bwd(c, li, LoraTarget::V, h, xa(LoraTarget::V), dv, dh, true);
  }
  apply_norm_backward(wr, a.x_in, lw.attn_norm, dh, d_in, grad(&LayerWeights::attn_norm),
                      grad(&LayerWeights::attn_norm_bias));
  add_inplace(d_in, d_mid);
}

void embed_forward(const ModelWiring& wr, const ModelWeights& w, const std::vector<int32_t>& ids,
                   const std::vector<int32_t>& positions, Tensor& x) {
  embedding_forward(w.embed, ids, wr.embed_scale, x);
  if (wr.learned_positions) embedding_add_forward(w.pos_embed, positions, x);
}

Tensor stack_hidden(const BlockContext& c, const std::vector<int32_t>& ids,
                    const std::vector<int32_t>& positions) {
  TUNA_ASSERT(!c.keep && c.N == static_cast<int64_t>(ids.size()), "stack_hidden: N ids, no keep");
  const ModelSpec& s = *c.spec;
  Tensor x = Tensor::empty({c.N, s.hidden}, DType::F32);  // [N, C] residual stream
  embed_forward(c.wiring, *c.weights, ids, positions, x);
  BlockActs workspace;  // buffers allocated by the first block, reused by the others
  for (int64_t li = 0; li < s.n_layers; ++li) {
    workspace.x_in = x;
    block_forward(c, li, workspace, x);  // x updated in place
  }
  apply_norm(c.wiring, x, c.weights->final_norm, c.weights->final_norm_bias, x);
  return x;
}

}  // namespace tuna
