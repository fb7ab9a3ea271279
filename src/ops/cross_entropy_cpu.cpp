// CPU fused LM head + cross-entropy. Only counted tokens (label != −100 after the shift) reach
// the head: they are gathered into chunks, so prompt and padding positions cost no logits.
// Logits are computed once per step, never recomputed for the gradient:
// - frozen head (LoRA, QLoRA, evaluation): one pass over the vocabulary in tiles (dequantized
//   once each) with an online log-sum-exp. With gradients, each tile's logits become
//   p = exp(z − running max) (times the soft-cap derivative) and are multiplied straight into an
//   unnormalised accumulator acc += p·Wtile, rescaled whenever a row's running max grows (the
//   flash-attention recurrence); at the end dH = grad_scale·(acc / Σexp − cap'(z_y)·W[y]).
// - trained head (full fine-tuning, F32): rows are chunked so that [chunk × V] logits fit in
//   ≈ 256 MiB; each chunk's logits turn into g = (softmax − onehot)·grad_scale in place, then
//   dH = g·W and dW += gᵀ·H (the dW of a tile needs the final normaliser, so a one-pass
//   accumulator cannot give it).
// Also count_loss_tokens (the labels a loss counts). Tile and chunk sizes follow from the shapes
// only and per-token sums run in one thread in vocabulary order: results do not depend on the
// number of threads.
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "core/error.h"
#include "ops/cross_entropy.h"
#include "ops/gemm_cpu.h"
#include "ops/vector_math.h"

namespace tuna::cpu {

namespace {

constexpr int64_t kTokenChunk = 2048;                 // frozen head: rows per chunk
constexpr int64_t kLogitElements = int64_t{1} << 22;  // ≈ 16 MiB of F32 logits per tile
// ≈ 16 MiB of dequantized weight rows per tile: with few tokens the logit budget alone would
// allow 32,768 rows (84 MiB of Gemma's head at 128 tokens).
constexpr int64_t kWeightTileElements = int64_t{1} << 22;
// Trained head: ≈ 256 MiB of [chunk × V] logits (256 rows of Gemma's vocabulary). Each chunk
// streams W twice and dW once through memory, so small chunks would make the head memory-bound.
constexpr int64_t kChunkLogitElements = int64_t{1} << 26;

// Frozen head: rows per chunk, and vocabulary rows per tile ([chunk × tile] logits and
// [tile × C] weights each ≤ ≈ 16 MiB).
int64_t online_chunk(int64_t tokens) {
  return std::min(tokens, kTokenChunk);
}
int64_t online_vocab_tile(int64_t tokens, int64_t V, int64_t C) {
  const int64_t by_logits = kLogitElements / std::max<int64_t>(1, online_chunk(tokens));
  const int64_t by_weights = kWeightTileElements / std::max<int64_t>(1, C);
  return std::max<int64_t>(1, std::min({V, by_logits, by_weights}));
}
// Trained head: rows per chunk ([chunk × V] ≈ 256 MiB).
int64_t trained_chunk(int64_t tokens, int64_t V) {
  return std::max<int64_t>(1, std::min(tokens, kChunkLogitElements / std::max<int64_t>(1, V)));
}

// logits[m, v] = softcap(h[m] · tile[v]) for a tile of vocabulary rows.
void tile_logits(const float* h, int64_t M, int64_t C, const float* tile, int64_t rows, float cap,
                 float* logits) {
  gemm_column_blocked(false, true, M, rows, C, 1.0f, h, C, tile, C, 0.0f, logits, rows);
  if (cap <= 0.0f) return;
#pragma omp parallel for schedule(static)
  for (int64_t m = 0; m < M; ++m)
    map_lanes(logits + m * rows, rows, logits + m * rows,
              [cap](Lanes z) { return tanh_lanes(z / cap) * cap; });
}

// First index of the maximum of row[0, n).
int64_t first_max_index(const float* row, int64_t n, float max) {
  int64_t v = 0;
  while (v + 1 < n && row[v] != max) ++v;
  return v;
}

// d(capped)/d(raw) at a capped logit z: 1 − (z / cap)²; 1 without a cap.
inline float cap_derivative(float z, float cap) {
  if (cap <= 0.0f) return 1.0f;
  const float t = z / cap;
  return 1.0f - t * t;
}

// The same on 8 lanes (cap > 0).
struct CapDerivative {
  float cap;
  Lanes operator()(Lanes z) const {
    const Lanes t = z / cap;
    return 1.0f - t * t;
  }
};

// The counted positions (rows of hidden) and their targets, in token order.
struct Counted {
  std::vector<int64_t> rows;
  std::vector<int32_t> targets;
};

Counted counted_positions(const Tensor& labels) {
  const int64_t B = labels.ndim() == 2 ? labels.dim(0) : 1, T = labels.dim(-1);
  const int32_t* lab = labels.data<int32_t>();
  Counted c;
  for (int64_t b = 0; b < B; ++b)
    for (int64_t t = 0; t + 1 < T; ++t)
      if (lab[b * T + t + 1] != kIgnoreIndex) {
        c.rows.push_back(b * T + t);
        c.targets.push_back(lab[b * T + t + 1]);
      }
  return c;
}

// Frozen head: loss (and dH when pdh != nullptr) in one pass over the vocabulary per chunk.
void head_loss_online(const float* ph, const Tensor& w, const Counted& cp, int64_t C, float cap,
                      float grad_scale, float* pdh, LmHeadLossResult& result) {
  const int64_t M_all = static_cast<int64_t>(cp.rows.size()), V = w.dim(0);
  const bool grads = pdh != nullptr;
  const int64_t chunk = online_chunk(M_all);
  const int64_t vocab_tile = online_vocab_tile(M_all, V, C);
  const size_t mc = static_cast<size_t>(chunk), mcc = static_cast<size_t>(chunk * C);
  std::vector<float> h(mcc), acc, w_target;  // h, acc, w_target: [chunk, C]
  if (grads) acc.resize(mcc), w_target.resize(mcc);
  std::vector<float> logits(static_cast<size_t>(chunk * vocab_tile));  // [chunk, tile]
  std::vector<float> run_max(mc), run_sum(mc), target_logit(mc), best(mc);
  std::vector<int64_t> best_index(mc);
  const float neg_inf = -std::numeric_limits<float>::infinity();

  for (int64_t m0 = 0; m0 < M_all; m0 += chunk) {
    const int64_t M = std::min(chunk, M_all - m0);
    const int32_t* tgt = cp.targets.data() + m0;
    for (int64_t m = 0; m < M; ++m)
      std::copy_n(ph + cp.rows[static_cast<size_t>(m0 + m)] * C, C, h.data() + m * C);
    std::fill(run_max.begin(), run_max.end(), neg_inf);
    std::fill(run_sum.begin(), run_sum.end(), 0.0f);
    std::fill(best.begin(), best.end(), neg_inf);
    if (grads) std::fill(acc.begin(), acc.end(), 0.0f);

    for_each_weight_tile(w, vocab_tile, [&](int64_t r0, int64_t r1, const float* tile) {
      const int64_t n = r1 - r0;
      tile_logits(h.data(), M, C, tile, n, cap, logits.data());
#pragma omp parallel for schedule(static)
      for (int64_t m = 0; m < M; ++m) {
        float* row = logits.data() + m * n;
        const size_t mi = static_cast<size_t>(m);
        const float tile_max = max_of(row, n);
        if (tile_max > best[mi])
          best[mi] = tile_max, best_index[mi] = r0 + first_max_index(row, n, tile_max);
        const int64_t y = tgt[m] - r0;
        if (y >= 0 && y < n) {
          target_logit[mi] = row[y];
          if (grads) std::copy_n(tile + y * C, C, w_target.data() + m * C);
        }
        const float new_max = std::max(run_max[mi], tile_max);
        const float rescale = std::exp(run_max[mi] - new_max);  // 0 on the first tile
        float s = 0.0f;
        if (!grads || cap <= 0.0f) {
          s = exp_shifted_sum(row, n, new_max, row);  // row ← p = exp(z − max)
        } else {
          // row ← p = exp(z − max) · cap'(z): this tile's unnormalised softmax, through the cap
          s = exp_shifted_sum_weighted(row, n, new_max, row, CapDerivative{cap});
        }
        if (grads && rescale != 1.0f)
          for (int64_t c = 0; c < C; ++c) acc[mi * static_cast<size_t>(C) + c] *= rescale;
        run_sum[mi] = run_sum[mi] * rescale + s;
        run_max[mi] = new_max;
      }
      // acc[M, C] += p[M, n] · tile[n, C]
      if (grads)
        gemm_blocked(false, false, M, C, n, 1.0f, logits.data(), n, tile, C, 1.0f, acc.data(), C);
    });
    for (int64_t m = 0; m < M; ++m) {
      const size_t mi = static_cast<size_t>(m);
      const float lse = run_max[mi] + std::log(run_sum[mi]);
      result.loss_sum += static_cast<double>(lse) - static_cast<double>(target_logit[mi]);
      result.n_correct += best_index[mi] == tgt[m] ? 1 : 0;
    }
    if (!grads) continue;
      // dH[m] = grad_scale · (acc[m] / Σexp − cap'(z_y) · W[y])
#pragma omp parallel for schedule(static)
    for (int64_t m = 0; m < M; ++m) {
      const size_t mi = static_cast<size_t>(m);
      const float soft = grad_scale / run_sum[mi];
      const float hard = grad_scale * cap_derivative(target_logit[mi], cap);
      const float* a = acc.data() + m * C;
      const float* wy = w_target.data() + m * C;
      float* out = pdh + cp.rows[static_cast<size_t>(m0 + m)] * C;
      for (int64_t c = 0; c < C; ++c) out[c] = a[c] * soft - hard * wy[c];
    }
  }
}

// Trained F32 head: per chunk of rows, [chunk × V] logits once → g in place → dH, dW.
void head_loss_trained(const float* ph, const Tensor& w, const Counted& cp, int64_t C, float cap,
                       float grad_scale, float* pdh, float* pdw, LmHeadLossResult& result) {
  const int64_t M_all = static_cast<int64_t>(cp.rows.size()), V = w.dim(0);
  const float* pw = w.data<float>();
  const int64_t chunk = trained_chunk(M_all, V);
  std::vector<float> h(static_cast<size_t>(chunk * C)), dh;  // [chunk, C]
  if (pdh != nullptr) dh.resize(static_cast<size_t>(chunk * C));
  std::vector<float> g(static_cast<size_t>(chunk * V));  // [chunk, V] logits, then gradients
  std::vector<float> lse(static_cast<size_t>(chunk)), target_logit(static_cast<size_t>(chunk));
  std::vector<int64_t> best_index(static_cast<size_t>(chunk));

  for (int64_t m0 = 0; m0 < M_all; m0 += chunk) {
    const int64_t M = std::min(chunk, M_all - m0);
    const int32_t* tgt = cp.targets.data() + m0;
    for (int64_t m = 0; m < M; ++m)
      std::copy_n(ph + cp.rows[static_cast<size_t>(m0 + m)] * C, C, h.data() + m * C);
    tile_logits(h.data(), M, C, pw, V, cap, g.data());
#pragma omp parallel for schedule(static)
    for (int64_t m = 0; m < M; ++m) {
      float* row = g.data() + m * V;
      const size_t mi = static_cast<size_t>(m);
      const float mx = max_of(row, V);
      best_index[mi] = first_max_index(row, V, mx);
      target_logit[mi] = row[tgt[m]];
      float s = 0.0f;
      if (cap <= 0.0f) {
        s = exp_shifted_sum(row, V, mx, row);  // row ← e = exp(z − max)
        const float soft = grad_scale / s;
        map_lanes(row, V, row, [soft](Lanes e) { return e * soft; });
      } else {
        // row ← exp(z − max) · cap'(z), then normalised with the sum of the unweighted exps.
        s = exp_shifted_sum_weighted(row, V, mx, row, CapDerivative{cap});
        const float soft = grad_scale / s;
        map_lanes(row, V, row, [soft](Lanes p) { return p * soft; });
      }
      lse[mi] = mx + std::log(s);
      row[tgt[m]] -= grad_scale * cap_derivative(target_logit[mi], cap);
    }
    for (int64_t m = 0; m < M; ++m) {
      const size_t mi = static_cast<size_t>(m);
      result.loss_sum += static_cast<double>(lse[mi]) - static_cast<double>(target_logit[mi]);
      result.n_correct += best_index[mi] == tgt[m] ? 1 : 0;
    }
    if (pdh != nullptr) {
      // dh[M, C] = g[M, V] · W[V, C]
      gemm_blocked(false, false, M, C, V, 1.0f, g.data(), V, pw, C, 0.0f, dh.data(), C);
      for (int64_t m = 0; m < M; ++m)
        std::copy_n(dh.data() + m * C, C, pdh + cp.rows[static_cast<size_t>(m0 + m)] * C);
    }
    // dW[V, C] += g[M, V]ᵀ · h[M, C]
    gemm_blocked(true, false, V, C, M, 1.0f, g.data(), V, h.data(), C, 1.0f, pdw, C);
  }
}

// A user error for a label outside [0, V) that is not kIgnoreIndex (labels come from datasets).
void check_labels_in_vocab(const Tensor& labels, int64_t V) {
  const int32_t* p = labels.data<int32_t>();
  for (int64_t i = 0; i < labels.numel(); ++i) {
    if (p[i] != kIgnoreIndex && (p[i] < 0 || p[i] >= V)) {
      throw_user_error("loss",
                       "label " + std::to_string(p[i]) + " at position " + std::to_string(i) +
                           " is outside the vocabulary (size " + std::to_string(V) + ")",
                       "labels are token ids in [0, vocab size), or -100 for positions without a "
                       "loss; check the dataset's labels and the tokenizer");
    }
  }
}

}  // namespace

int64_t count_loss_tokens(const Tensor& labels) {
  const int64_t B = labels.ndim() == 2 ? labels.dim(0) : 1, T = labels.dim(-1);
  const int32_t* p = labels.data<int32_t>();
  int64_t n = 0;
  for (int64_t b = 0; b < B; ++b)
    for (int64_t t = 1; t < T; ++t) n += p[b * T + t] != kIgnoreIndex ? 1 : 0;
  return n;
}

int64_t lm_head_loss_scratch_bytes(int64_t tokens, int64_t V, int64_t C, bool head_trained) {
  tokens = std::max<int64_t>(1, tokens);
  if (head_trained) {  // h, dh [chunk, C]; g [chunk, V]; the F32 head needs no tile
    const int64_t chunk = trained_chunk(tokens, V);
    return 4 * (2 * chunk * C + chunk * V);
  }
  // h, acc, w_target [chunk, C]; logits [chunk, tile]; one dequantized weight tile [tile, C].
  // Bounds over any count of counted tokens up to `tokens` (fewer tokens: a smaller chunk but a
  // wider tile, up to the weight-tile cap).
  const int64_t chunk = online_chunk(tokens);
  const int64_t logits = std::min(chunk * V, kLogitElements);
  const int64_t tile_rows =
      std::max<int64_t>(1, std::min(V, kWeightTileElements / std::max<int64_t>(1, C)));
  return 4 * (3 * chunk * C + logits + tile_rows * C);
}

LmHeadLossResult lm_head_cross_entropy(const Tensor& hidden, const Tensor& w, const Tensor& labels,
                                       float final_softcap, float grad_scale, Tensor* d_hidden,
                                       Tensor* d_w) {
  const int64_t C = hidden.dim(-1), V = w.dim(0);
  check_labels_in_vocab(labels, V);
  const float* ph = hidden.data<float>();
  const Counted cp = counted_positions(labels);
  float* pdh = d_hidden != nullptr ? d_hidden->data_mut<float>() : nullptr;
  if (pdh != nullptr) std::fill(pdh, pdh + d_hidden->numel(), 0.0f);
  LmHeadLossResult result;
  result.n_counted = static_cast<int64_t>(cp.rows.size());
  if (result.n_counted == 0 || V == 0) return result;
  if (d_w != nullptr)
    head_loss_trained(ph, w, cp, C, final_softcap, grad_scale, pdh, d_w->data_mut<float>(), result);
  else
    head_loss_online(ph, w, cp, C, final_softcap, grad_scale, pdh, result);
  return result;
}

}  // namespace tuna::cpu
