// The decoder block's training forward and its hand-written backward, side by side (the llm.c
// way), wired by the same spec flags as the inference forward (transformer.cpp): pre-norm
// attention with optional q/k norm, RoPE, GQA/MQA, sliding windows and soft-capping, optional
// Gemma sandwich norms, gated (SwiGLU/GeGLU) or plain (GPT-2) MLP, GPT-2's fused c_attn. Every
// linear may carry a LoRA adapter and/or a trainable weight and bias. Dimension letters as in
// transformer_train.h.
#include "model/transformer_train.h"

#include "core/error.h"
#include "model/train_step.h"
#include "ops/activation.h"
#include "ops/attention.h"
#include "ops/linear.h"
#include "ops/lora_linear.h"
#include "ops/norm.h"
#include "ops/rope.h"

namespace tuna {

namespace {

Tensor f32(int64_t rows, int64_t cols) {
  return Tensor::empty({rows, cols}, DType::F32);
}

// A trainable slot (defined gradient tensor) or nullptr.
Tensor* trainable(Tensor& t) {
  return t.defined() ? &t : nullptr;
}

LoraAdapter* adapter_of(const TrainContext& c, int64_t layer, LoraTarget t) {
  return c.adapters[static_cast<size_t>(layer)][static_cast<size_t>(t)];
}

LoraParams lora_params(const TrainContext& c, int64_t layer, LoraTarget t, const LoraAdapter& a) {
  LoraParams p;
  p.scale = a.scale;
  p.dropout = c.dropout ? a.dropout : 0.0f;
  p.seed = c.seed;
  p.stream = lora_dropout_stream(c.step, c.micro, layer, t);
  return p;
}

// y [N, out] = x [N, in] · Wᵀ + b (+ s·drop(x)·Aᵀ·Bᵀ with an adapter, xa [N, R] kept).
void linear_fwd(const TrainContext& c, int64_t layer, LoraTarget t, const Tensor& x, Tensor& y,
                Tensor& xa) {
  const auto [w, bias] = linear_slots(c.weights->layers[static_cast<size_t>(layer)], t);
  const bool tr = c.weights->linear_transposed;
  LoraAdapter* ad = adapter_of(c, layer, t);
  if (ad == nullptr) return linear_forward(x, *w, *bias, y, tr);
  xa = f32(c.N, ad->r);
  lora_linear_forward(x, *w, *bias, ad->a, ad->b, lora_params(c, layer, t, *ad), y, xa, tr);
}

// Backward of linear_fwd: dx [N, in] written (accumulate: added), weight/bias/adapter gradients
// added where trainable.
void linear_bwd(const TrainContext& c, int64_t layer, LoraTarget t, const Tensor& x,
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

void block_forward(const TrainContext& c, int64_t li, BlockActs& a, Tensor& x_out) {
  const ModelSpec& s = *c.spec;
  const LayerWeights& lw = c.weights->layers[static_cast<size_t>(li)];
  const int64_t B = c.B, T = c.T, N = c.N, C = s.hidden, H = s.n_heads, K = s.n_kv_heads,
                D = s.head_dim, F = s.ffn;

  // --- attention sub-block: x_mid = x_in + post_norm(o(attention(rope(qk_norm(qkv(norm(x_in))))))
  Tensor h = f32(N, C);  // [N, C] normed input (recomputed in backward, not kept)
  apply_norm(s, a.x_in, lw.attn_norm, lw.attn_norm_bias, h);
  Tensor q = f32(N, H * D), k = f32(N, K * D), v = f32(N, K * D);
  if (lw.qkv.defined()) {
    Tensor qkv = f32(N, 3 * C);  // [N, 3C] = q | k | v (GPT-2 c_attn)
    linear_fwd(c, li, LoraTarget::QKV, h, qkv, a.xa[static_cast<size_t>(LoraTarget::QKV)]);
    copy_columns(qkv, 0, q);
    copy_columns(qkv, C, k);
    copy_columns(qkv, 2 * C, v);
  } else {
    linear_fwd(c, li, LoraTarget::Q, h, q, a.xa[static_cast<size_t>(LoraTarget::Q)]);
    linear_fwd(c, li, LoraTarget::K, h, k, a.xa[static_cast<size_t>(LoraTarget::K)]);
    linear_fwd(c, li, LoraTarget::V, h, v, a.xa[static_cast<size_t>(LoraTarget::V)]);
  }
  if (s.qk_norm) {
    a.q_pre = q;
    a.k_pre = k;
    q = f32(N, H * D);
    k = f32(N, K * D);
    Tensor qn = q.reshape({N * H, D}), kn = k.reshape({N * K, D});
    rms_norm_forward(a.q_pre.reshape({N * H, D}), lw.q_norm, s.norm_eps, qk_norm_kind(s), qn);
    rms_norm_forward(a.k_pre.reshape({N * K, D}), lw.k_norm, s.norm_eps, qk_norm_kind(s), kn);
  }
  if (!s.learned_positions) {
    Tensor qr = q.reshape({N, H, D}), kr = k.reshape({N, K, D});
    rope_forward(qr, c.rope.for_layer(li), c.rope.rows, s.rope_interleaved);
    rope_forward(kr, c.rope.for_layer(li), c.rope.rows, s.rope_interleaved);
  }
  a.q = q;
  a.k = k;
  a.v = v;
  a.attn = f32(N, H * D);
  Tensor a4 = a.attn.reshape({B, T, H, D});
  attention_forward(q.reshape({B, T, H, D}), k.reshape({B, T, K, D}), v.reshape({B, T, K, D}),
                    c.key_valid, layer_attention_params(s, li), a4, c.segment_start);
  Tensor proj = f32(N, C);  // [N, C] sub-block output
  linear_fwd(c, li, LoraTarget::O, a.attn, proj, a.xa[static_cast<size_t>(LoraTarget::O)]);
  if (s.sandwich_norm) {
    a.o_out = proj;
    proj = f32(N, C);
    apply_norm(s, a.o_out, lw.post_attn_norm, Tensor(), proj);
  }
  a.x_mid = f32(N, C);
  add_into(a.x_in, proj, a.x_mid);

  // --- MLP sub-block: x_out = x_mid + post_norm(down(act(gate) · up))   (GPT-2: down(act(up)))
  apply_norm(s, a.x_mid, lw.ffn_norm, lw.ffn_norm_bias, h);
  Tensor act = f32(N, F);  // [N, F] down-projection input (recomputed in backward)
  a.up = f32(N, F);
  if (s.gated_mlp) {
    a.gate = f32(N, F);
    linear_fwd(c, li, LoraTarget::GATE, h, a.gate, a.xa[static_cast<size_t>(LoraTarget::GATE)]);
    linear_fwd(c, li, LoraTarget::UP, h, a.up, a.xa[static_cast<size_t>(LoraTarget::UP)]);
    gated_activation_forward(a.gate, a.up, s.activation, act);
  } else {
    linear_fwd(c, li, LoraTarget::UP, h, a.up, a.xa[static_cast<size_t>(LoraTarget::UP)]);
    activation_forward(a.up, s.activation, act);
  }
  linear_fwd(c, li, LoraTarget::DOWN, act, proj, a.xa[static_cast<size_t>(LoraTarget::DOWN)]);
  if (s.sandwich_norm) {
    a.down_out = proj;
    proj = f32(N, C);
    apply_norm(s, a.down_out, lw.post_ffn_norm, Tensor(), proj);
  }
  x_out = f32(N, C);
  add_into(a.x_mid, proj, x_out);
}

void block_backward(const TrainContext& c, int64_t li, const BlockActs& a, const Tensor& d_out,
                    Tensor& d_in) {
  const ModelSpec& s = *c.spec;
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
  if (s.sandwich_norm) {
    d_proj = f32(N, C);
    apply_norm_backward(s, a.down_out, lw.post_ffn_norm, d_out, d_proj,
                        grad(&LayerWeights::post_ffn_norm), nullptr);
  }
  Tensor h = f32(N, C);  // recomputed norm(x_mid)
  apply_norm(s, a.x_mid, lw.ffn_norm, lw.ffn_norm_bias, h);
  Tensor act = f32(N, F), d_act = f32(N, F);  // [N, F] down input and its gradient
  Tensor dh = f32(N, C);                      // [N, C] ∂/∂h
  if (s.gated_mlp) {
    gated_activation_forward(a.gate, a.up, s.activation, act);
    linear_bwd(c, li, LoraTarget::DOWN, act, xa(LoraTarget::DOWN), d_proj, d_act, false);
    Tensor d_up = f32(N, F);
    gated_activation_backward(a.gate, a.up, d_act, s.activation, d_act, d_up);  // d_act → d_gate
    linear_bwd(c, li, LoraTarget::GATE, h, xa(LoraTarget::GATE), d_act, dh, false);
    linear_bwd(c, li, LoraTarget::UP, h, xa(LoraTarget::UP), d_up, dh, true);
  } else {
    activation_forward(a.up, s.activation, act);
    linear_bwd(c, li, LoraTarget::DOWN, act, xa(LoraTarget::DOWN), d_proj, d_act, false);
    activation_backward(a.up, d_act, s.activation, d_act);  // d_act → d(c_fc output)
    linear_bwd(c, li, LoraTarget::UP, h, xa(LoraTarget::UP), d_act, dh, false);
  }
  Tensor d_mid = f32(N, C);  // [N, C] ∂/∂x_mid = d_out + norm backward
  apply_norm_backward(s, a.x_mid, lw.ffn_norm, dh, d_mid, grad(&LayerWeights::ffn_norm),
                      grad(&LayerWeights::ffn_norm_bias));
  add_inplace(d_mid, d_out);

  // --- attention sub-block ---
  d_proj = d_mid;
  if (s.sandwich_norm) {
    d_proj = f32(N, C);
    apply_norm_backward(s, a.o_out, lw.post_attn_norm, d_mid, d_proj,
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
  if (!s.learned_positions) {
    Tensor dqr = dq.reshape({N, H, D}), dkr = dk.reshape({N, K, D});
    rope_backward(dqr, c.rope.for_layer(li), c.rope.rows, s.rope_interleaved);
    rope_backward(dkr, c.rope.for_layer(li), c.rope.rows, s.rope_interleaved);
  }
  if (s.qk_norm) {
    Tensor dq_pre = f32(N, H * D), dk_pre = f32(N, K * D);
    Tensor dqn = dq_pre.reshape({N * H, D}), dkn = dk_pre.reshape({N * K, D});
    rms_norm_backward(a.q_pre.reshape({N * H, D}), lw.q_norm, s.norm_eps, qk_norm_kind(s),
                      dq.reshape({N * H, D}), dqn, grad(&LayerWeights::q_norm));
    rms_norm_backward(a.k_pre.reshape({N * K, D}), lw.k_norm, s.norm_eps, qk_norm_kind(s),
                      dk.reshape({N * K, D}), dkn, grad(&LayerWeights::k_norm));
    dq = dq_pre;
    dk = dk_pre;
  }
  apply_norm(s, a.x_in, lw.attn_norm, lw.attn_norm_bias, h);  // recomputed norm(x_in)
  if (lw.qkv.defined()) {
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
  apply_norm_backward(s, a.x_in, lw.attn_norm, dh, d_in, grad(&LayerWeights::attn_norm),
                      grad(&LayerWeights::attn_norm_bias));
  add_inplace(d_in, d_mid);
}

}  // namespace tuna
