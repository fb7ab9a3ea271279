// CPU norms and their backward. Row statistics are summed in F64 sequentially (torch's CPU
// reduction order differs in the last bits; tolerances absorb it). Rows run in parallel; weight
// gradients are fixed-order column sums (each column summed by one thread in row order), so
// results are bit-identical for any thread count.
#include <cmath>
#include <vector>

#include "ops/gemm_cpu.h"
#include "ops/norm.h"

namespace tuna::cpu {

namespace {

// 1 / sqrt(mean(x²) + eps) of one row.
float rms_rstd(const float* xr, int64_t C, float eps) {
  double sum = 0.0;  // F64 accumulation: closer to torch's pairwise F32 sum than a naive F32 loop
  for (int64_t c = 0; c < C; ++c) sum += static_cast<double>(xr[c]) * xr[c];
  const float mean = static_cast<float>(sum / static_cast<double>(C));
  return 1.0f / std::sqrt(mean + eps);
}

struct RowStats {
  float mean, rstd;
};

// Mean and 1 / sqrt(biased variance + eps) of one row (torch's layer_norm).
RowStats layer_norm_stats(const float* xr, int64_t C, float eps) {
  double sum = 0.0;
  for (int64_t c = 0; c < C; ++c) sum += xr[c];
  const double mean = sum / static_cast<double>(C);
  double var = 0.0;
  for (int64_t c = 0; c < C; ++c) var += (xr[c] - mean) * (xr[c] - mean);
  return {static_cast<float>(mean),
          1.0f / std::sqrt(static_cast<float>(var / static_cast<double>(C)) + eps)};
}

}  // namespace

void rms_norm_forward(const Tensor& x, const Tensor& w, float eps, RmsNormKind kind, Tensor& y) {
  const int64_t N = x.dim(0), C = x.dim(1);
  std::vector<float> scale = w.to_f32_vector();
  if (kind == RmsNormKind::GEMMA)
    for (float& s : scale) s = 1.0f + s;
  const float* px = x.data<float>();
  float* py = y.data_mut<float>();
#pragma omp parallel for schedule(static)
  for (int64_t n = 0; n < N; ++n) {
    const float* xr = px + n * C;
    float* yr = py + n * C;
    const float r = rms_rstd(xr, C, eps);
    for (int64_t c = 0; c < C; ++c) yr[c] = scale[static_cast<size_t>(c)] * (xr[c] * r);
  }
}

void layer_norm_forward(const Tensor& x, const Tensor& w, const Tensor& b, float eps, Tensor& y) {
  const int64_t N = x.dim(0), C = x.dim(1);
  std::vector<float> gamma = w.to_f32_vector();
  std::vector<float> beta =
      b.defined() ? b.to_f32_vector() : std::vector<float>(static_cast<size_t>(C), 0.0f);
  const float* px = x.data<float>();
  float* py = y.data_mut<float>();
#pragma omp parallel for schedule(static)
  for (int64_t n = 0; n < N; ++n) {
    const float* xr = px + n * C;
    float* yr = py + n * C;
    const RowStats st = layer_norm_stats(xr, C, eps);
    const float m = st.mean, r = st.rstd;
    for (int64_t c = 0; c < C; ++c)
      yr[c] = (xr[c] - m) * r * gamma[static_cast<size_t>(c)] + beta[static_cast<size_t>(c)];
  }
}

void rms_norm_backward(const Tensor& x, const Tensor& w, float eps, RmsNormKind kind,
                       const Tensor& dy, Tensor& dx, Tensor* dw) {
  const int64_t N = x.dim(0), C = x.dim(1);
  std::vector<float> g = w.to_f32_vector();
  if (kind == RmsNormKind::GEMMA)
    for (float& v : g) v = 1.0f + v;
  const float* px = x.data<float>();
  const float* pdy = dy.data<float>();
  float* pdx = dx.data_mut<float>();
  std::vector<float> rstd(static_cast<size_t>(N));
#pragma omp parallel for schedule(static)
  for (int64_t n = 0; n < N; ++n) {
    const float* xr = px + n * C;
    const float* dyr = pdy + n * C;
    double dot = 0.0;
    for (int64_t c = 0; c < C; ++c)
      dot += static_cast<double>(dyr[c]) * g[static_cast<size_t>(c)] * xr[c];
    const float r = rms_rstd(xr, C, eps);
    rstd[static_cast<size_t>(n)] = r;
    // y = g ⊙ x·r, r = (mean(x²) + eps)^-½:  dx = r·(g ⊙ dy) − x · r³ · Σ(g ⊙ dy ⊙ x) / C
    const float k = static_cast<float>(dot / static_cast<double>(C)) * r * r * r;
    float* dxr = pdx + n * C;
    for (int64_t c = 0; c < C; ++c) dxr[c] = r * g[static_cast<size_t>(c)] * dyr[c] - k * xr[c];
  }
  if (dw == nullptr) return;
  // dw[c] += Σ_n dy[n, c] · x̂[n, c]  (the same for Gemma's (1 + w))
  std::vector<float> prod(static_cast<size_t>(N * C));
#pragma omp parallel for schedule(static)
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c)
      prod[static_cast<size_t>(n * C + c)] =
          pdy[n * C + c] * (px[n * C + c] * rstd[static_cast<size_t>(n)]);
  column_sums(prod.data(), N, C, dw->data_mut<float>(), true);
}

void layer_norm_backward(const Tensor& x, const Tensor& w, float eps, const Tensor& dy, Tensor& dx,
                         Tensor* dw, Tensor* db) {
  const int64_t N = x.dim(0), C = x.dim(1);
  std::vector<float> gamma = w.to_f32_vector();
  const float* px = x.data<float>();
  const float* pdy = dy.data<float>();
  float* pdx = dx.data_mut<float>();
  std::vector<float> xhat(static_cast<size_t>(N * C));
#pragma omp parallel for schedule(static)
  for (int64_t n = 0; n < N; ++n) {
    const float* xr = px + n * C;
    const float* dyr = pdy + n * C;
    float* xh = xhat.data() + n * C;
    const RowStats st = layer_norm_stats(xr, C, eps);
    const float m = st.mean, r = st.rstd;
    // x̂ = (x − μ)·r, y = γ ⊙ x̂ + β:  dx = r · (γdy − mean(γdy) − x̂ · mean(γdy ⊙ x̂))
    double s1 = 0.0, s2 = 0.0;
    for (int64_t c = 0; c < C; ++c) {
      xh[c] = (xr[c] - m) * r;
      const double gd = static_cast<double>(gamma[static_cast<size_t>(c)]) * dyr[c];
      s1 += gd;
      s2 += gd * xh[c];
    }
    const float mean_gd = static_cast<float>(s1 / static_cast<double>(C));
    const float mean_gdx = static_cast<float>(s2 / static_cast<double>(C));
    float* dxr = pdx + n * C;
    for (int64_t c = 0; c < C; ++c)
      dxr[c] = r * (gamma[static_cast<size_t>(c)] * dyr[c] - mean_gd - xh[c] * mean_gdx);
  }
  if (db != nullptr) column_sums(pdy, N, C, db->data_mut<float>(), true);
  if (dw == nullptr) return;
  for (int64_t i = 0; i < N * C; ++i) xhat[static_cast<size_t>(i)] *= pdy[i];  // dy ⊙ x̂
  column_sums(xhat.data(), N, C, dw->data_mut<float>(), true);
}

}  // namespace tuna::cpu
