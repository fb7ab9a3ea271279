// CPU fused LM head + cross-entropy. Counted tokens (label != −100 after the shift) are gathered
// into chunks of up to kTokenChunk rows; for each chunk, pass 1 walks the vocabulary in tiles
// (logits tile = H·Wtileᵀ, one SGEMM) keeping a running max / rescaled sum per token (online
// log-sum-exp), the target logit and the argmax; pass 2 (gradients) recomputes each tile's
// logits, turns them into g = (softmax − onehot)·grad_scale (through the soft-cap), and
// accumulates dH += g·Wtile and dW[tile] += gᵀ·H. Tile sizes follow from the shapes only and
// per-token sums run in one thread in vocabulary order: results do not depend on the threads.
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "ops/cross_entropy.h"
#include "ops/gemm_cpu.h"

namespace tuna::cpu {

namespace {

constexpr int64_t kTokenChunk = 2048;
constexpr int64_t kLogitElements = int64_t{1} << 22;  // ≈ 16 MiB of F32 logits per tile

// logits[m, v] = softcap(h[m] · tile[v]) for a tile of vocabulary rows.
void tile_logits(const float* h, int64_t M, int64_t C, const float* tile, int64_t rows, float cap,
                 float* logits) {
  sgemm_blocked(false, true, M, rows, C, 1.0f, h, C, tile, C, 0.0f, logits, rows);
  if (cap <= 0.0f) return;
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < M * rows; ++i) logits[i] = std::tanh(logits[i] / cap) * cap;
}

}  // namespace

LmHeadLossResult lm_head_cross_entropy(const Tensor& hidden, const Tensor& w, const Tensor& labels,
                                       float final_softcap, float grad_scale, Tensor* d_hidden,
                                       Tensor* d_w) {
  const int64_t C = hidden.dim(-1), V = w.dim(0);
  const int64_t B = labels.ndim() == 2 ? labels.dim(0) : 1, T = labels.dim(-1);
  const int32_t* lab = labels.data<int32_t>();
  const float* ph = hidden.data<float>();
  // Counted positions (row of hidden) and their targets, in token order.
  std::vector<int64_t> rows;
  std::vector<int32_t> targets;
  for (int64_t b = 0; b < B; ++b)
    for (int64_t t = 0; t + 1 < T; ++t)
      if (lab[b * T + t + 1] != kIgnoreIndex) {
        rows.push_back(b * T + t);
        targets.push_back(lab[b * T + t + 1]);
      }
  const int64_t M_all = static_cast<int64_t>(rows.size());
  float* pdh = d_hidden != nullptr ? d_hidden->data_mut<float>() : nullptr;
  if (pdh != nullptr) std::fill(pdh, pdh + B * T * C, 0.0f);
  LmHeadLossResult result;
  result.n_counted = M_all;
  if (M_all == 0 || V == 0) return result;

  const bool grads = pdh != nullptr || d_w != nullptr;
  const int64_t chunk = std::min(M_all, kTokenChunk);
  const int64_t vocab_tile = std::max<int64_t>(1, std::min(V, kLogitElements / chunk));
  std::vector<float> h(static_cast<size_t>(chunk * C)), dh;
  if (pdh != nullptr) dh.resize(static_cast<size_t>(chunk * C));
  std::vector<float> logits(static_cast<size_t>(chunk * vocab_tile));
  std::vector<float> run_max(static_cast<size_t>(chunk)), run_sum(static_cast<size_t>(chunk)),
      target_logit(static_cast<size_t>(chunk)), best(static_cast<size_t>(chunk)),
      lse(static_cast<size_t>(chunk));
  std::vector<int64_t> best_index(static_cast<size_t>(chunk));
  const float neg_inf = -std::numeric_limits<float>::infinity();

  for (int64_t m0 = 0; m0 < M_all; m0 += chunk) {
    const int64_t M = std::min(chunk, M_all - m0);
    const int32_t* tgt = targets.data() + m0;
    for (int64_t m = 0; m < M; ++m)
      std::copy_n(ph + rows[static_cast<size_t>(m0 + m)] * C, C, h.data() + m * C);
    std::fill(run_max.begin(), run_max.end(), neg_inf);
    std::fill(run_sum.begin(), run_sum.end(), 0.0f);
    std::fill(best.begin(), best.end(), neg_inf);

    // Pass 1: online log-sum-exp over vocabulary tiles.
    for_each_weight_tile(w, vocab_tile, [&](int64_t r0, int64_t r1, const float* tile) {
      const int64_t n = r1 - r0;
      tile_logits(h.data(), M, C, tile, n, final_softcap, logits.data());
#pragma omp parallel for schedule(static)
      for (int64_t m = 0; m < M; ++m) {
        const float* row = logits.data() + m * n;
        const size_t mi = static_cast<size_t>(m);
        float tile_max = neg_inf;
        int64_t tile_arg = 0;
        for (int64_t v = 0; v < n; ++v)
          if (row[v] > tile_max) tile_max = row[v], tile_arg = v;
        if (tile_max > best[mi]) best[mi] = tile_max, best_index[mi] = r0 + tile_arg;
        const float new_max = std::max(run_max[mi], tile_max);
        float s = 0.0f;
        for (int64_t v = 0; v < n; ++v) s += std::exp(row[v] - new_max);
        run_sum[mi] = run_sum[mi] * std::exp(run_max[mi] - new_max) + s;
        run_max[mi] = new_max;
        if (tgt[m] >= r0 && tgt[m] < r1) target_logit[mi] = row[tgt[m] - r0];
      }
    });
    for (int64_t m = 0; m < M; ++m) {
      const size_t mi = static_cast<size_t>(m);
      lse[mi] = run_max[mi] + std::log(run_sum[mi]);
      result.loss_sum += static_cast<double>(lse[mi]) - static_cast<double>(target_logit[mi]);
      result.n_correct += best_index[mi] == tgt[m] ? 1 : 0;
    }
    if (!grads) continue;

    // Pass 2: g = (softmax − onehot) · grad_scale · d(capped)/d(raw); dH += g·W, dW += gᵀ·H.
    for_each_weight_tile(w, vocab_tile, [&](int64_t r0, int64_t r1, const float* tile) {
      const int64_t n = r1 - r0;
      float* g = logits.data();
      tile_logits(h.data(), M, C, tile, n, final_softcap, g);
#pragma omp parallel for schedule(static)
      for (int64_t m = 0; m < M; ++m) {
        float* row = g + m * n;
        const float l = lse[static_cast<size_t>(m)];
        for (int64_t v = 0; v < n; ++v) {
          const float z = row[v];
          float d = std::exp(z - l);
          if (r0 + v == tgt[m]) d -= 1.0f;
          d *= grad_scale;
          if (final_softcap > 0.0f) {
            const float t = z / final_softcap;
            d *= 1.0f - t * t;
          }
          row[v] = d;
        }
      }
      // dh[M, C] (+)= g[M, n] · tile[n, C]
      if (pdh != nullptr)
        sgemm_blocked(false, false, M, C, n, 1.0f, g, n, tile, C, r0 == 0 ? 0.0f : 1.0f, dh.data(),
                      C);
      // dW[r0:r1] += g[M, n]ᵀ · h[M, C]
      if (d_w != nullptr)
        sgemm_blocked(true, false, n, C, M, 1.0f, g, n, h.data(), C, 1.0f,
                      d_w->data_mut<float>() + r0 * C, C);
    });
    if (pdh != nullptr)
      for (int64_t m = 0; m < M; ++m)
        std::copy_n(dh.data() + m * C, C, pdh + rows[static_cast<size_t>(m0 + m)] * C);
  }
  return result;
}

}  // namespace tuna::cpu
