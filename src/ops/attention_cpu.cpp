// CPU attention: per (batch, head) one SGEMM for the scores over the visible key range, the
// mask + softmax row by row, one SGEMM for P·V. (batch, head) pairs run in parallel; OpenBLAS
// runs single-threaded inside the parallel region. Scratch is per pair, [T, T] F32.
#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "ops/attention.h"

namespace tuna::cpu {

void attention_forward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& key_valid,
                       const AttentionParams& params, Tensor& out) {
  const int64_t B = q.dim(0), T = q.dim(1), H = q.dim(2), D = q.dim(3), K = k.dim(2);
  const int64_t group = H / K;
  const float* pq = q.data<float>();
  const float* pk = k.data<float>();
  const float* pv = v.data<float>();
  const int32_t* valid = key_valid.defined() ? key_valid.data<int32_t>() : nullptr;
  float* po = out.data_mut<float>();
  const float neg_inf = -std::numeric_limits<float>::infinity();

#pragma omp parallel
  {
    std::vector<float> scores(static_cast<size_t>(T * T));
#pragma omp for schedule(dynamic) collapse(2)
    for (int64_t b = 0; b < B; ++b) {
      for (int64_t h = 0; h < H; ++h) {
        const int64_t kh = h / group;
        const float* qh = pq + (b * T * H + h) * D;   // rows strided by H*D
        const float* kb = pk + (b * T * K + kh) * D;  // rows strided by K*D
        const float* vb = pv + (b * T * K + kh) * D;
        float* oh = po + (b * T * H + h) * D;
        // scores[T,T] = Q_h[T,D] · K_kh[T,D]ᵀ
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(T),
                    static_cast<int>(T), static_cast<int>(D), 1.0f, qh, static_cast<int>(H * D), kb,
                    static_cast<int>(K * D), 0.0f, scores.data(), static_cast<int>(T));
        for (int64_t i = 0; i < T; ++i) {
          float* row = scores.data() + i * T;
          const int64_t lo = params.window > 0 ? std::max<int64_t>(0, i - params.window + 1) : 0;
          float max = neg_inf;
          for (int64_t j = 0; j < T; ++j) {
            const bool visible = j <= i && j >= lo && (valid == nullptr || valid[b * T + j] != 0);
            if (!visible) {
              row[j] = neg_inf;
              continue;
            }
            float s = row[j] * params.scale;
            if (params.softcap > 0.0f) s = std::tanh(s / params.softcap) * params.softcap;
            row[j] = s;
            max = std::max(max, s);
          }
          if (max == neg_inf) {  // nothing visible (a padded query with no valid key): zeros
            std::fill(row, row + T, 0.0f);
            continue;
          }
          float sum = 0.0f;
          for (int64_t j = 0; j < T; ++j) {
            const float e = row[j] == neg_inf ? 0.0f : std::exp(row[j] - max);
            row[j] = e;
            sum += e;
          }
          const float inv = 1.0f / sum;
          for (int64_t j = 0; j < T; ++j) row[j] *= inv;
        }
        // out_h[T,D] = P[T,T] · V_kh[T,D]
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, static_cast<int>(T),
                    static_cast<int>(D), static_cast<int>(T), 1.0f, scores.data(),
                    static_cast<int>(T), vb, static_cast<int>(K * D), 0.0f, oh,
                    static_cast<int>(H * D));
      }
    }
  }
}

}  // namespace tuna::cpu
