// The shared decoder-only forward pass, wired by the spec's flags: embeddings (scaled for
// Gemma; + learned positions for GPT-2) → L pre-norm blocks (attention with optional q/k norm,
// RoPE, GQA, sliding windows, soft-capping; optional Gemma sandwich norms; gated or plain MLP)
// → final norm → LM head (+ final soft-capping). Computes in F32; weights stay in their stored
// dtype. Dimension letters: B batch, T tokens, N = B·T, C hidden, H heads, K kv heads,
// D head dim, F ffn width, V vocab.
#include <map>
#include <tuple>

#include "core/error.h"
#include "core/log.h"
#include "model/model.h"
#include "ops/activation.h"
#include "ops/attention.h"
#include "ops/embedding.h"
#include "ops/linear.h"
#include "ops/norm.h"
#include "ops/rope.h"

namespace tuna {

namespace {

void apply_norm(const ModelSpec& s, const Tensor& x, const Tensor& w, const Tensor& b, Tensor& y) {
  switch (s.norm) {
    case NormType::RMS:
      return rms_norm_forward(x, w, s.norm_eps, RmsNormKind::LLAMA, y);
    case NormType::RMS_GEMMA:
      return rms_norm_forward(x, w, s.norm_eps, RmsNormKind::GEMMA, y);
    case NormType::LAYER:
      return layer_norm_forward(x, w, b, s.norm_eps, y);
  }
}

void add_inplace(Tensor& x, const Tensor& y) {
  float* px = x.data_mut<float>();
  const float* py = y.data<float>();
  const int64_t n = x.numel();
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) px[i] += py[i];
}

// Copies columns [c0, c0 + width) of src [N, W] into dst [N, width].
void copy_columns(const Tensor& src, int64_t c0, Tensor& dst) {
  const int64_t N = src.dim(0), W = src.dim(1), width = dst.dim(1);
  const float* ps = src.data<float>();
  float* pd = dst.data_mut<float>();
#pragma omp parallel for schedule(static)
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < width; ++c) pd[n * width + c] = ps[n * W + c0 + c];
}

using RopeKey = std::tuple<float, int64_t, int, float, float, float, int64_t>;
RopeKey rope_key(const RopeConfig& r) {
  return {r.theta,
          r.dim,
          static_cast<int>(r.scaling),
          r.factor,
          r.low_freq_factor,
          r.high_freq_factor,
          r.original_max_position};
}

void validate_batch(const ModelSpec& s, const Batch& batch) {
  const size_t n = static_cast<size_t>(batch.B * batch.T);
  if (batch.B <= 0 || batch.T <= 0 || batch.ids.size() != n)
    throw_user_error("forward", "batch of " + std::to_string(batch.ids.size()) +
                                    " ids is not B×T = " + std::to_string(batch.B) + "×" +
                                    std::to_string(batch.T));
  if (!batch.mask.empty() && batch.mask.size() != n)
    throw_user_error("forward", "attention mask size does not match the ids");
  if (!batch.positions.empty() && batch.positions.size() != n)
    throw_user_error("forward", "position ids size does not match the ids");
  if (s.learned_positions) {
    for (int32_t p : batch.positions)
      if (p >= s.max_positions)
        throw_user_error("forward",
                         "position " + std::to_string(p) + " exceeds the model's " +
                             std::to_string(s.max_positions) + " learned positions",
                         "score shorter sequences");
    if (batch.positions.empty() && batch.T > s.max_positions)
      throw_user_error("forward",
                       std::to_string(batch.T) + " tokens exceed the model's " +
                           std::to_string(s.max_positions) + " learned positions",
                       "score shorter sequences");
  }
}

}  // namespace

Tensor Model::forward_hidden(const Batch& batch) const {
  const ModelSpec& s = spec_;
  const ModelWeights& w = weights_;
  validate_batch(s, batch);
  const int64_t B = batch.B, T = batch.T, N = B * T, C = s.hidden, H = s.n_heads, K = s.n_kv_heads,
                D = s.head_dim, F = s.ffn;

  std::vector<int32_t> positions = batch.positions;
  if (positions.empty()) {
    positions.resize(static_cast<size_t>(N));
    for (int64_t b = 0; b < B; ++b)
      for (int64_t t = 0; t < T; ++t)
        positions[static_cast<size_t>(b * T + t)] = static_cast<int32_t>(t);
  }
  Tensor key_valid;
  if (!batch.mask.empty()) {
    key_valid = Tensor::empty({B, T}, DType::I32);
    std::copy(batch.mask.begin(), batch.mask.end(), key_valid.data_mut<int32_t>());
  }

  // x: [N, C] residual stream
  Tensor x = Tensor::empty({N, C}, DType::F32);
  embedding_forward(w.embed, batch.ids, embedding_scale(s, DType::F32), x);
  if (s.learned_positions) embedding_add_forward(w.pos_embed, positions, x);

  // RoPE tables, one per distinct layer config, indexed by position.
  std::map<RopeKey, RopeTables> tables;
  std::vector<int32_t> table_rows = positions;
  if (!s.learned_positions) {
    int32_t max_pos = 0;
    for (int32_t p : positions) {
      if (p < 0) throw_user_error("forward", "negative position id " + std::to_string(p));
      max_pos = std::max(max_pos, p);
    }
    if (max_pos >= s.max_positions)
      log_warn(
          "position {} is beyond the model's context length ({}); results are out of distribution",
          max_pos, s.max_positions);
    std::vector<int32_t> all(static_cast<size_t>(max_pos) + 1);
    for (size_t i = 0; i < all.size(); ++i) all[i] = static_cast<int32_t>(i);
    for (const LayerSpec& l : s.layers) {
      RopeKey key = rope_key(l.rope);
      if (!tables.count(key)) tables[key] = rope_tables(l.rope, all);
    }
  }

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
  const RmsNormKind qk_kind =
      s.norm == NormType::RMS_GEMMA ? RmsNormKind::GEMMA : RmsNormKind::LLAMA;

  for (int64_t li = 0; li < s.n_layers; ++li) {
    const LayerWeights& lw = w.layers[static_cast<size_t>(li)];
    const LayerSpec& ls = s.layers[static_cast<size_t>(li)];

    // --- attention sub-block ---
    apply_norm(s, x, lw.attn_norm, lw.attn_norm_bias, h);
    if (lw.qkv.defined()) {
      linear_forward(h, lw.qkv, lw.qkv_bias, qkv, tr);  // [N, 3C] = q | k | v
      copy_columns(qkv, 0, q);
      copy_columns(qkv, C, k);
      copy_columns(qkv, 2 * C, v);
    } else {
      linear_forward(h, lw.q, lw.q_bias, q, tr);
      linear_forward(h, lw.k, lw.k_bias, k, tr);
      linear_forward(h, lw.v, lw.v_bias, v, tr);
    }
    if (s.qk_norm) {
      Tensor qn = q.reshape({N * H, D}), kn = k.reshape({N * K, D});
      rms_norm_forward(qn, lw.q_norm, s.norm_eps, qk_kind, qn);
      rms_norm_forward(kn, lw.k_norm, s.norm_eps, qk_kind, kn);
    }
    if (!s.learned_positions) {
      const RopeTables& rt = tables.at(rope_key(ls.rope));
      Tensor qr = q.reshape({N, H, D}), kr = k.reshape({N, K, D});
      rope_forward(qr, rt, table_rows, s.rope_interleaved);
      rope_forward(kr, rt, table_rows, s.rope_interleaved);
    }
    AttentionParams ap;
    ap.scale = s.attn_scale;
    ap.softcap = s.attn_softcap;
    ap.window = ls.sliding ? ls.window : 0;
    Tensor a4 = attn.reshape({B, T, H, D});
    attention_forward(q.reshape({B, T, H, D}), k.reshape({B, T, K, D}), v.reshape({B, T, K, D}),
                      key_valid, ap, a4);
    linear_forward(attn, lw.o, lw.o_bias, proj, tr);
    if (s.sandwich_norm) apply_norm(s, proj, lw.post_attn_norm, Tensor(), proj);
    add_inplace(x, proj);

    // --- MLP sub-block ---
    apply_norm(s, x, lw.ffn_norm, lw.ffn_norm_bias, h);
    if (s.gated_mlp) {
      linear_forward(h, lw.gate, lw.gate_bias, gate, tr);
      linear_forward(h, lw.up, lw.up_bias, up, tr);
      gated_activation_forward(gate, up, s.activation, gate);
      linear_forward(gate, lw.down, lw.down_bias, proj, tr);
    } else {
      linear_forward(h, lw.up, lw.up_bias, up, tr);
      activation_forward(up, s.activation, up);
      linear_forward(up, lw.down, lw.down_bias, proj, tr);
    }
    if (s.sandwich_norm) apply_norm(s, proj, lw.post_ffn_norm, Tensor(), proj);
    add_inplace(x, proj);
  }
  apply_norm(s, x, w.final_norm, w.final_norm_bias, x);
  return x;
}

Tensor Model::logits_rows(const Tensor& hidden, int64_t r0, int64_t r1) const {
  TUNA_ASSERT(hidden.ndim() == 2 && hidden.dim(1) == spec_.hidden && 0 <= r0 && r0 <= r1 &&
                  r1 <= hidden.dim(0),
              "logits_rows range");
  Tensor logits = Tensor::empty({r1 - r0, spec_.vocab}, DType::F32);
  // The LM head is an nn.Linear [V, C] (GPT-2's too): never transposed.
  linear_forward(hidden.slice0(r0, r1), weights_.lm_head, Tensor(), logits, false);
  if (spec_.final_softcap > 0.0f) softcap_forward(logits, spec_.final_softcap);
  return logits;
}

Tensor Model::forward(const Batch& batch) const {
  Tensor hidden = forward_hidden(batch);
  return logits_rows(hidden, 0, hidden.dim(0)).reshape({batch.B, batch.T, spec_.vocab});
}

}  // namespace tuna
