// The shared decoder-only forward pass, wired by the spec's flags: embeddings (scaled for
// Gemma; + learned positions for GPT-2) → L pre-norm blocks (attention with optional q/k norm,
// RoPE, GQA, sliding windows, soft-capping; optional Gemma sandwich norms; gated or plain MLP)
// → final norm → LM head (+ final soft-capping). Computes in F32; weights stay in their stored
// dtype. Dimension letters: B batch, T tokens, N = B·T, C hidden, H heads, K kv heads,
// D head dim, F ffn width, V vocab.
#include "core/error.h"
#include "model/forward_common.h"
#include "model/model.h"
#include "ops/activation.h"
#include "ops/attention.h"
#include "ops/embedding.h"
#include "ops/linear.h"
#include "ops/lora_linear.h"
#include "ops/norm.h"
#include "ops/rope.h"

namespace tuna {

Tensor decoder_hidden(const ModelSpec& s, const ModelWeights& w, const std::vector<int32_t>& ids,
                      const std::vector<int32_t>& positions, const AttentionStep& attend,
                      const LayerAdapters* adapters) {
  const int64_t N = static_cast<int64_t>(ids.size()), C = s.hidden, H = s.n_heads, K = s.n_kv_heads,
                D = s.head_dim, F = s.ffn;
  const RopeSet rope = build_rope(s, positions);

  // x: [N, C] residual stream
  Tensor x = Tensor::empty({N, C}, DType::F32);
  embedding_forward(w.embed, ids, embedding_scale(s, DType::F32), x);
  if (s.learned_positions) embedding_add_forward(w.pos_embed, positions, x);

  Tensor h = Tensor::empty({N, C}, DType::F32);         // normed input of a sub-block
  Tensor q = Tensor::empty({N, H * D}, DType::F32);     // [N, H·D]
  Tensor k = Tensor::empty({N, K * D}, DType::F32);     // [N, K·D]
  Tensor v = Tensor::empty({N, K * D}, DType::F32);     // [N, K·D]
  Tensor attn = Tensor::empty({N, H * D}, DType::F32);  // [N, H·D]
  Tensor proj = Tensor::empty({N, C}, DType::F32);      // sub-block output [N, C]
  Tensor gate = Tensor::empty({N, F}, DType::F32);      // [N, F]
  Tensor up = Tensor::empty({N, F}, DType::F32);        // [N, F]
  Tensor qkv = s.family == Family::GPT2 ? Tensor::empty({N, 3 * C}, DType::F32) : Tensor();
  const bool tr = w.linear_transposed;
  const RmsNormKind qk_kind = qk_norm_kind(s);

  for (int64_t li = 0; li < s.n_layers; ++li) {
    const LayerWeights& lw = w.layers[static_cast<size_t>(li)];
    // y = x·Wᵀ + b, plus s·(x·Aᵀ)·Bᵀ when an adapter sits on this linear (no dropout: inference).
    auto project = [&](LoraTarget t, const Tensor& in, const Tensor& wt, const Tensor& bias,
                       Tensor& out) {
      const LoraAdapter* a = adapters != nullptr
                                 ? (*adapters)[static_cast<size_t>(li)][static_cast<size_t>(t)]
                                 : nullptr;
      if (a == nullptr) return linear_forward(in, wt, bias, out, tr);
      LoraParams lp;
      lp.scale = a->scale;
      Tensor xa = Tensor::empty({N, a->r}, DType::F32);  // [N, R]
      lora_linear_forward(in, wt, bias, a->a, a->b, lp, out, xa, tr);
    };

    // --- attention sub-block ---
    apply_norm(s, x, lw.attn_norm, lw.attn_norm_bias, h);
    if (lw.qkv.defined()) {
      project(LoraTarget::QKV, h, lw.qkv, lw.qkv_bias, qkv);  // [N, 3C] = q | k | v
      copy_columns(qkv, 0, q);
      copy_columns(qkv, C, k);
      copy_columns(qkv, 2 * C, v);
    } else {
      project(LoraTarget::Q, h, lw.q, lw.q_bias, q);
      project(LoraTarget::K, h, lw.k, lw.k_bias, k);
      project(LoraTarget::V, h, lw.v, lw.v_bias, v);
    }
    if (s.qk_norm) {
      Tensor qn = q.reshape({N * H, D}), kn = k.reshape({N * K, D});
      rms_norm_forward(qn, lw.q_norm, s.norm_eps, qk_kind, qn);
      rms_norm_forward(kn, lw.k_norm, s.norm_eps, qk_kind, kn);
    }
    if (!s.learned_positions) {
      const RopeTables& rt = rope.for_layer(li);
      Tensor qr = q.reshape({N, H, D}), kr = k.reshape({N, K, D});
      rope_forward(qr, rt, rope.rows, s.rope_interleaved);
      rope_forward(kr, rt, rope.rows, s.rope_interleaved);
    }
    attend(li, q, k, v, attn);
    project(LoraTarget::O, attn, lw.o, lw.o_bias, proj);
    if (s.sandwich_norm) apply_norm(s, proj, lw.post_attn_norm, Tensor(), proj);
    add_inplace(x, proj);

    // --- MLP sub-block ---
    apply_norm(s, x, lw.ffn_norm, lw.ffn_norm_bias, h);
    if (s.gated_mlp) {
      project(LoraTarget::GATE, h, lw.gate, lw.gate_bias, gate);
      project(LoraTarget::UP, h, lw.up, lw.up_bias, up);
      gated_activation_forward(gate, up, s.activation, gate);
      project(LoraTarget::DOWN, gate, lw.down, lw.down_bias, proj);
    } else {
      project(LoraTarget::UP, h, lw.up, lw.up_bias, up);
      activation_forward(up, s.activation, up);
      project(LoraTarget::DOWN, up, lw.down, lw.down_bias, proj);
    }
    if (s.sandwich_norm) apply_norm(s, proj, lw.post_ffn_norm, Tensor(), proj);
    add_inplace(x, proj);
  }
  apply_norm(s, x, w.final_norm, w.final_norm_bias, x);
  return x;
}

LayerAdapters layer_adapter_table(const std::vector<LoraAdapter>& adapters, int64_t n_layers) {
  LayerAdapters table(static_cast<size_t>(n_layers));
  for (auto& row : table) row.fill(nullptr);
  for (const LoraAdapter& a : adapters)
    if (a.layer >= 0 && a.layer < n_layers)  // layer −1: outside the text blocks (vision tower)
      table[static_cast<size_t>(a.layer)][static_cast<size_t>(a.target)] = &a;
  return table;
}

Tensor Model::forward_hidden(const Batch& batch) const {
  validate_batch(spec_, batch);
  const int64_t B = batch.B, T = batch.T, H = spec_.n_heads, K = spec_.n_kv_heads,
                D = spec_.head_dim;
  const Tensor key_valid = key_valid_mask(batch);
  return decoder_hidden(
      spec_, weights_, batch.ids, batch_positions(batch),
      [&](int64_t layer, const Tensor& q, const Tensor& k, const Tensor& v, Tensor& attn) {
        Tensor a4 = attn.reshape({B, T, H, D});
        attention_forward(q.reshape({B, T, H, D}), k.reshape({B, T, K, D}), v.reshape({B, T, K, D}),
                          key_valid, layer_attention_params(spec_, layer), a4);
      });
}

Tensor head_logits(const ModelSpec& s, const ModelWeights& w, const Tensor& hidden) {
  Tensor logits = Tensor::empty({hidden.dim(0), s.vocab}, DType::F32);
  // The LM head is an nn.Linear [V, C] (GPT-2's too): never transposed.
  linear_forward(hidden, w.lm_head, Tensor(), logits, false);
  if (s.final_softcap > 0.0f) softcap_forward(logits, s.final_softcap);
  return logits;
}

Tensor Model::logits_rows(const Tensor& hidden, int64_t r0, int64_t r1) const {
  TUNA_ASSERT(hidden.ndim() == 2 && hidden.dim(1) == spec_.hidden && 0 <= r0 && r0 <= r1 &&
                  r1 <= hidden.dim(0),
              "logits_rows range");
  return head_logits(spec_, weights_, hidden.slice0(r0, r1));
}

Tensor Model::forward(const Batch& batch) const {
  Tensor hidden = forward_hidden(batch);
  return logits_rows(hidden, 0, hidden.dim(0)).reshape({batch.B, batch.T, spec_.vocab});
}

}  // namespace tuna
