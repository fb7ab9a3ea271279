// CPU attention, tiled over query rows: for each (batch, head, block of up to 128 queries) one
// SGEMM for the scores against the keys that block can see (causal, and inside the sliding
// window when there is one), the mask + softmax row by row, one SGEMM for P·V. Tasks run in
// parallel; OpenBLAS runs single-threaded inside the parallel region. Scratch is allocated
// before the region (threads × 128 × T floats), so a sequence too long for memory is a user
// error, never an exception escaping OpenMP.
// Backward uses the same tiling: for each (batch, kv head) task, every query head of its group
// and every query block recomputes its probabilities P (nothing [T × T] is kept from the
// forward), then dP = dO·Vᵀ, dS = P ⊙ (dP − rowsum(P ⊙ dP)) back through the cap and the scale,
// dQ = dS·K (written), dK += dSᵀ·Q, dV += Pᵀ·dO. A task owns its kv head's dK/dV rows and adds
// into them in a fixed order (heads, then blocks), so results do not depend on the thread
// count. Its parallelism is B × K tasks.
// While the caller's Bf16MatmulScope is on (training with bf16: true), the tiles' products run in
// BF16 with F32 accumulation (gemm_bf16, single-threaded inside the region); softmax stays F32.
// Packed rows (segment_start): a query's visible keys start at its sample's first token, so a
// block's key range starts at the smallest such start among its queries (no work across
// samples beyond the tile's edge, and none of it reaches the probabilities).
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <new>
#include <vector>

#include "core/error.h"
#include "ops/attention.h"
#include "ops/gemm_bf16.h"
#include "ops/gemm_cpu.h"

namespace tuna::cpu {

namespace {

// One query row of a tile: row[c] holds Q_i·K_(k0+c); turns it into the probabilities of the
// forward (scale, soft-cap, causal/window/sample/padding mask, softmax in F32). A row with no
// visible key (a padded query) becomes zeros. dcap (backward): d(capped score)/d(raw dot) per key.
// seg_b: the batch row's segment_start (nullptr: one sample per row).
void softmax_row(float* row, int64_t nk, int64_t i, int64_t k0, const int32_t* valid_b,
                 const int32_t* seg_b, const AttentionParams& params, float* dcap) {
  const float neg_inf = -std::numeric_limits<float>::infinity();
  int64_t lo = params.window > 0 ? std::max<int64_t>(0, i - params.window + 1) : 0;
  if (seg_b != nullptr) lo = std::max<int64_t>(lo, seg_b[i]);
  float max = neg_inf;
  for (int64_t c = 0; c < nk; ++c) {
    const int64_t j = k0 + c;
    const bool visible = j <= i && j >= lo && (valid_b == nullptr || valid_b[j] != 0);
    if (!visible) {
      row[c] = neg_inf;
      continue;
    }
    float s = row[c] * params.scale;
    if (params.softcap > 0.0f) {
      const float th = std::tanh(s / params.softcap);
      s = th * params.softcap;
      if (dcap != nullptr) dcap[c] = params.scale * (1.0f - th * th);
    } else if (dcap != nullptr) {
      dcap[c] = params.scale;
    }
    row[c] = s;
    max = std::max(max, s);
  }
  if (max == neg_inf) {  // nothing visible (a padded query with no valid key): zeros
    std::fill(row, row + nk, 0.0f);
    return;
  }
  float sum = 0.0f;
  for (int64_t c = 0; c < nk; ++c) {
    const float e = row[c] == neg_inf ? 0.0f : std::exp(row[c] - max);
    row[c] = e;
    sum += e;
  }
  const float inv = 1.0f / sum;
  for (int64_t c = 0; c < nk; ++c) row[c] *= inv;
}

// The first key any query of [q0, q1) can see: the window's start for the first query, raised to
// the smallest sample start among the block's queries when rows are packed.
int64_t block_first_key(int64_t q0, int64_t q1, const AttentionParams& params,
                        const int32_t* seg_b) {
  int64_t k0 = params.window > 0 ? std::max<int64_t>(0, q0 - params.window + 1) : 0;
  if (seg_b != nullptr) {
    int64_t first = q0;
    for (int64_t i = q0; i < q1; ++i) first = std::min<int64_t>(first, seg_b[i]);
    k0 = std::max(k0, first);
  }
  return k0;
}

// segment_start's rows as a pointer (nullptr when undefined), each value checked to lie in
// [0, i] — a data check, so it lives here rather than in the shape-only argument checks.
const int32_t* checked_segment_start(const Tensor& segment_start, int64_t T) {
  if (!segment_start.defined()) return nullptr;
  const int32_t* s = segment_start.data<int32_t>();
  for (int64_t i = 0; i < segment_start.numel(); ++i)
    TUNA_ASSERT(s[i] >= 0 && s[i] <= i % T, "attention: segment_start[i] must lie in [0, i]");
  return s;
}

}  // namespace

void attention_forward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& key_valid,
                       const AttentionParams& params, Tensor& out, const Tensor& segment_start) {
  const int64_t B = q.dim(0), T = q.dim(1), H = q.dim(2), D = q.dim(3), K = k.dim(2);
  const int64_t group = H / K;
  const int64_t QB = std::min<int64_t>(T, 128);  // query rows per task
  const int64_t n_blocks = (T + QB - 1) / QB;
  const float* pq = q.data<float>();
  const float* pk = k.data<float>();
  const float* pv = v.data<float>();
  const int32_t* valid = key_valid.defined() ? key_valid.data<int32_t>() : nullptr;
  const int32_t* seg = checked_segment_start(segment_start, T);
  float* po = out.data_mut<float>();

  const int threads = omp_get_max_threads();
  const bool bf16 = bf16_matmuls();
  std::vector<float> scratch;
  try {
    scratch.resize(static_cast<size_t>(threads) * static_cast<size_t>(QB * T));
  } catch (const std::bad_alloc&) {
    throw_user_error("attention",
                     "out of memory for attention over " + std::to_string(T) + " tokens",
                     "score shorter sequences or use fewer threads");
  }
  if (bf16) reserve_bf16_gemm_scratch_per_thread(threads);  // before the region: see its doc

#pragma omp parallel num_threads(threads)
  {
    float* scores =
        scratch.data() + static_cast<size_t>(omp_get_thread_num()) * static_cast<size_t>(QB * T);
#pragma omp for schedule(dynamic) collapse(3)
    for (int64_t b = 0; b < B; ++b) {
      for (int64_t h = 0; h < H; ++h) {
        for (int64_t blk = 0; blk < n_blocks; ++blk) {
          const int64_t q0 = blk * QB, q1 = std::min(T, q0 + QB), nq = q1 - q0;
          const int32_t* seg_b = seg != nullptr ? seg + b * T : nullptr;
          // Keys visible to any query of the block: [k0, q1).
          const int64_t k0 = block_first_key(q0, q1, params, seg_b);
          const int64_t nk = q1 - k0;
          const int64_t kh = h / group;
          const float* qh = pq + ((b * T + q0) * H + h) * D;   // rows strided by H*D
          const float* kb = pk + ((b * T + k0) * K + kh) * D;  // rows strided by K*D
          const float* vb = pv + ((b * T + k0) * K + kh) * D;
          float* oh = po + ((b * T + q0) * H + h) * D;
          // scores[nq, nk] = Q[q0:q1] · K[k0:q1]ᵀ
          gemm_as(bf16, false, true, nq, nk, D, 1.0f, qh, H * D, kb, K * D, 0.0f, scores, nk);
          const int32_t* valid_b = valid != nullptr ? valid + b * T : nullptr;
          for (int64_t r = 0; r < nq; ++r) {
            softmax_row(scores + r * nk, nk, q0 + r, k0, valid_b, seg_b, params, nullptr);
          }
          // out[q0:q1] = P[nq, nk] · V[k0:q1]
          gemm_as(bf16, false, false, nq, D, nk, 1.0f, scores, nk, vb, K * D, 0.0f, oh, H * D);
        }
      }
    }
  }
}

void attention_backward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& key_valid,
                        const AttentionParams& params, const Tensor& d_out, Tensor& dq, Tensor& dk,
                        Tensor& dv, const Tensor& segment_start) {
  const int64_t B = q.dim(0), T = q.dim(1), H = q.dim(2), D = q.dim(3), K = k.dim(2);
  const int64_t group = H / K;
  const int64_t QB = std::min<int64_t>(T, 128);
  const int64_t n_blocks = (T + QB - 1) / QB;
  const float* pq = q.data<float>();
  const float* pk = k.data<float>();
  const float* pv = v.data<float>();
  const float* pdo = d_out.data<float>();
  const int32_t* valid = key_valid.defined() ? key_valid.data<int32_t>() : nullptr;
  const int32_t* seg = checked_segment_start(segment_start, T);
  float* pdq = dq.data_mut<float>();
  float* pdk = dk.data_mut<float>();
  float* pdv = dv.data_mut<float>();

  const int threads = omp_get_max_threads();
  const bool bf16 = bf16_matmuls();
  const size_t per_thread = static_cast<size_t>(3 * QB * T);  // P, dP, d(score)/d(raw)
  std::vector<float> scratch;
  try {
    scratch.resize(static_cast<size_t>(threads) * per_thread);
  } catch (const std::bad_alloc&) {
    throw_user_error("attention",
                     "out of memory for attention backward over " + std::to_string(T) + " tokens",
                     "train on shorter sequences or use fewer threads");
  }
  if (bf16) reserve_bf16_gemm_scratch_per_thread(threads);  // before the region: see its doc

#pragma omp parallel num_threads(threads)
  {
    float* prob = scratch.data() + static_cast<size_t>(omp_get_thread_num()) * per_thread;
    float* dprob = prob + QB * T;
    float* dcap = dprob + QB * T;
#pragma omp for schedule(static) collapse(2)
    for (int64_t b = 0; b < B; ++b) {
      for (int64_t kh = 0; kh < K; ++kh) {
        for (int64_t t = 0; t < T; ++t) {
          std::fill_n(pdk + ((b * T + t) * K + kh) * D, D, 0.0f);
          std::fill_n(pdv + ((b * T + t) * K + kh) * D, D, 0.0f);
        }
        for (int64_t h = kh * group; h < (kh + 1) * group; ++h) {
          for (int64_t blk = 0; blk < n_blocks; ++blk) {
            const int64_t q0 = blk * QB, q1 = std::min(T, q0 + QB), nq = q1 - q0;
            const int32_t* seg_b = seg != nullptr ? seg + b * T : nullptr;
            const int64_t k0 = block_first_key(q0, q1, params, seg_b);
            const int64_t nk = q1 - k0;
            const float* qh = pq + ((b * T + q0) * H + h) * D;  // rows strided by H*D
            const float* doh = pdo + ((b * T + q0) * H + h) * D;
            const float* kb = pk + ((b * T + k0) * K + kh) * D;  // rows strided by K*D
            const float* vb = pv + ((b * T + k0) * K + kh) * D;
            float* dqh = pdq + ((b * T + q0) * H + h) * D;
            float* dkb = pdk + ((b * T + k0) * K + kh) * D;
            float* dvb = pdv + ((b * T + k0) * K + kh) * D;
            const int32_t* valid_b = valid != nullptr ? valid + b * T : nullptr;
            // prob[nq, nk] = Q[q0:q1] · K[k0:q1]ᵀ, then mask/scale/cap/softmax as the forward
            gemm_as(bf16, false, true, nq, nk, D, 1.0f, qh, H * D, kb, K * D, 0.0f, prob, nk);
            // dprob[nq, nk] = dO[q0:q1] · V[k0:q1]ᵀ
            gemm_as(bf16, false, true, nq, nk, D, 1.0f, doh, H * D, vb, K * D, 0.0f, dprob, nk);
            for (int64_t r = 0; r < nq; ++r) {
              float* row = prob + r * nk;
              float* drow = dprob + r * nk;
              float* crow = dcap + r * nk;
              softmax_row(row, nk, q0 + r, k0, valid_b, seg_b, params, crow);
              float dot = 0.0f;  // Σ_j P_ij · dP_ij
              for (int64_t c = 0; c < nk; ++c) dot += row[c] * drow[c];
              // d(raw dot) = P ⊙ (dP − dot) ⊙ d(capped score)/d(raw dot); masked keys have P = 0
              for (int64_t c = 0; c < nk; ++c)
                drow[c] = row[c] == 0.0f ? 0.0f : row[c] * (drow[c] - dot) * crow[c];
            }
            // dQ[q0:q1] = dS[nq, nk] · K[k0:q1]
            gemm_as(bf16, false, false, nq, D, nk, 1.0f, dprob, nk, kb, K * D, 0.0f, dqh, H * D);
            // dK[k0:q1] += dS[nq, nk]ᵀ · Q[q0:q1]
            gemm_as(bf16, true, false, nk, D, nq, 1.0f, dprob, nk, qh, H * D, 1.0f, dkb, K * D);
            // dV[k0:q1] += P[nq, nk]ᵀ · dO[q0:q1]
            gemm_as(bf16, true, false, nk, D, nq, 1.0f, prob, nk, doh, H * D, 1.0f, dvb, K * D);
          }
        }
      }
    }
  }
}

// Decoding against the KV cache (infer/kv_decoder.cpp's attention hook): one (query, head)
// pair per iteration, scores over the visible cached keys, F32 softmax, then P·V.
void attention_decode_forward(const Tensor& q_t, const Tensor& k_cache, const Tensor& v_cache,
                              int64_t p0, const AttentionParams& ap, Tensor& out_t, int64_t first) {
  const int64_t n = q_t.dim(0), H = q_t.dim(1), D = q_t.dim(2), K = k_cache.dim(1);
  const float* q = q_t.data<float>();
  // Row r of the caches is position first + r.
  const float* k = k_cache.data<float>();
  const float* v = v_cache.data<float>();
  float* out = out_t.data_mut<float>();
  const int64_t S = p0 + n, group = H / K;
  const float neg_inf = -std::numeric_limits<float>::infinity();
#pragma omp parallel
  {
    std::vector<float> scores(static_cast<size_t>(S));
#pragma omp for collapse(2) schedule(static)
    for (int64_t i = 0; i < n; ++i) {
      for (int64_t h = 0; h < H; ++h) {
        const int64_t pos = p0 + i, kh = h / group;
        const int64_t lo = ap.window > 0 ? std::max<int64_t>(first, pos - ap.window + 1) : first;
        const float* qi = q + (i * H + h) * D;
        float max = neg_inf;
        for (int64_t j = lo; j <= pos; ++j) {
          const float* kj = k + ((j - first) * K + kh) * D;
          // Vector partial sums in a fixed order (the same for every sequence and batch).
          float dot = 0.0f;
#pragma omp simd reduction(+ : dot)
          for (int64_t d = 0; d < D; ++d) dot += qi[d] * kj[d];
          float sc = dot * ap.scale;
          if (ap.softcap > 0.0f) sc = std::tanh(sc / ap.softcap) * ap.softcap;
          scores[static_cast<size_t>(j)] = sc;
          max = std::max(max, sc);
        }
        float sum = 0.0f;
        for (int64_t j = lo; j <= pos; ++j) {
          const float e = std::exp(scores[static_cast<size_t>(j)] - max);
          scores[static_cast<size_t>(j)] = e;
          sum += e;
        }
        const float inv = 1.0f / sum;
        float* oi = out + (i * H + h) * D;
        std::fill(oi, oi + D, 0.0f);
        for (int64_t j = lo; j <= pos; ++j) {
          const float p = scores[static_cast<size_t>(j)] * inv;
          const float* vj = v + ((j - first) * K + kh) * D;
          for (int64_t d = 0; d < D; ++d) oi[d] += p * vj[d];
        }
      }
    }
  }
}

}  // namespace tuna::cpu
