// CPU norms. Row statistics are summed in F32 sequentially (torch's CPU reduction order differs
// in the last bits; tolerances absorb it). Rows run in parallel.
#include <cmath>
#include <vector>

#include "ops/norm.h"

namespace tuna::cpu {

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
    double sum = 0.0;  // F64 accumulation: closer to torch's pairwise F32 sum than a naive F32 loop
    for (int64_t c = 0; c < C; ++c) sum += static_cast<double>(xr[c]) * xr[c];
    const float mean = static_cast<float>(sum / static_cast<double>(C));
    const float r = 1.0f / std::sqrt(mean + eps);
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
    double sum = 0.0;
    for (int64_t c = 0; c < C; ++c) sum += xr[c];
    const double mean = sum / static_cast<double>(C);
    double var = 0.0;
    for (int64_t c = 0; c < C; ++c) var += (xr[c] - mean) * (xr[c] - mean);
    const float m = static_cast<float>(mean);
    const float r = 1.0f / std::sqrt(static_cast<float>(var / static_cast<double>(C)) + eps);
    for (int64_t c = 0; c < C; ++c)
      yr[c] = (xr[c] - m) * r * gamma[static_cast<size_t>(c)] + beta[static_cast<size_t>(c)];
  }
}

}  // namespace tuna::cpu
