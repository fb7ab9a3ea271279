// CPU attention, tiled over query rows: for each (batch, head, block of up to 128 queries) one
// SGEMM for the scores against the keys that block can see (causal, and inside the sliding
// window when there is one), the mask + softmax row by row, one SGEMM for P·V. Tasks run in
// parallel; OpenBLAS runs single-threaded inside the parallel region. Scratch is allocated
// before the region (threads × 128 × T floats), so a sequence too long for memory is a user
// error, never an exception escaping OpenMP.
#include <cblas.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <new>
#include <vector>

#include "core/error.h"
#include "ops/attention.h"

namespace tuna::cpu {

void attention_forward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& key_valid,
                       const AttentionParams& params, Tensor& out) {
  const int64_t B = q.dim(0), T = q.dim(1), H = q.dim(2), D = q.dim(3), K = k.dim(2);
  const int64_t group = H / K;
  const int64_t QB = std::min<int64_t>(T, 128);  // query rows per task
  const int64_t n_blocks = (T + QB - 1) / QB;
  const float* pq = q.data<float>();
  const float* pk = k.data<float>();
  const float* pv = v.data<float>();
  const int32_t* valid = key_valid.defined() ? key_valid.data<int32_t>() : nullptr;
  float* po = out.data_mut<float>();
  const float neg_inf = -std::numeric_limits<float>::infinity();

  const int threads = omp_get_max_threads();
  std::vector<float> scratch;
  try {
    scratch.resize(static_cast<size_t>(threads) * static_cast<size_t>(QB * T));
  } catch (const std::bad_alloc&) {
    throw_user_error("attention",
                     "out of memory for attention over " + std::to_string(T) + " tokens",
                     "score shorter sequences or use fewer threads");
  }

#pragma omp parallel num_threads(threads)
  {
    float* scores =
        scratch.data() + static_cast<size_t>(omp_get_thread_num()) * static_cast<size_t>(QB * T);
#pragma omp for schedule(dynamic) collapse(3)
    for (int64_t b = 0; b < B; ++b) {
      for (int64_t h = 0; h < H; ++h) {
        for (int64_t blk = 0; blk < n_blocks; ++blk) {
          const int64_t q0 = blk * QB, q1 = std::min(T, q0 + QB), nq = q1 - q0;
          // Keys visible to any query of the block: [k0, q1).
          const int64_t k0 = params.window > 0 ? std::max<int64_t>(0, q0 - params.window + 1) : 0;
          const int64_t nk = q1 - k0;
          const int64_t kh = h / group;
          const float* qh = pq + ((b * T + q0) * H + h) * D;   // rows strided by H*D
          const float* kb = pk + ((b * T + k0) * K + kh) * D;  // rows strided by K*D
          const float* vb = pv + ((b * T + k0) * K + kh) * D;
          float* oh = po + ((b * T + q0) * H + h) * D;
          // scores[nq, nk] = Q[q0:q1] · K[k0:q1]ᵀ
          cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(nq),
                      static_cast<int>(nk), static_cast<int>(D), 1.0f, qh, static_cast<int>(H * D),
                      kb, static_cast<int>(K * D), 0.0f, scores, static_cast<int>(nk));
          for (int64_t r = 0; r < nq; ++r) {
            const int64_t i = q0 + r;
            float* row = scores + r * nk;
            const int64_t lo = params.window > 0 ? std::max<int64_t>(0, i - params.window + 1) : 0;
            float max = neg_inf;
            for (int64_t c = 0; c < nk; ++c) {
              const int64_t j = k0 + c;
              const bool visible = j <= i && j >= lo && (valid == nullptr || valid[b * T + j] != 0);
              if (!visible) {
                row[c] = neg_inf;
                continue;
              }
              float s = row[c] * params.scale;
              if (params.softcap > 0.0f) s = std::tanh(s / params.softcap) * params.softcap;
              row[c] = s;
              max = std::max(max, s);
            }
            if (max == neg_inf) {  // nothing visible (a padded query with no valid key): zeros
              std::fill(row, row + nk, 0.0f);
              continue;
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
          // out[q0:q1] = P[nq, nk] · V[k0:q1]
          cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, static_cast<int>(nq),
                      static_cast<int>(D), static_cast<int>(nk), 1.0f, scores, static_cast<int>(nk),
                      vb, static_cast<int>(K * D), 0.0f, oh, static_cast<int>(H * D));
        }
      }
    }
  }
}

}  // namespace tuna::cpu
