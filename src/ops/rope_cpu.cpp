// CPU RoPE: rotate each head's two halves in place.
#include "ops/rope.h"

namespace tuna::cpu {

void rope_forward(Tensor& x, const RopeTables& tables, const std::vector<int32_t>& rows) {
  const int64_t N = x.dim(0), H = x.dim(1), D = x.dim(2), half = D / 2;
  float* px = x.data_mut<float>();
#pragma omp parallel for schedule(static)
  for (int64_t n = 0; n < N; ++n) {
    const float* c = tables.cos.data() + static_cast<size_t>(rows[static_cast<size_t>(n)]) * static_cast<size_t>(half);
    const float* s = tables.sin.data() + static_cast<size_t>(rows[static_cast<size_t>(n)]) * static_cast<size_t>(half);
    for (int64_t h = 0; h < H; ++h) {
      float* v = px + (n * H + h) * D;
      for (int64_t i = 0; i < half; ++i) {
        const float a = v[i], b = v[i + half];
        v[i] = a * c[i] - b * s[i];
        v[i + half] = b * c[i] + a * s[i];
      }
    }
  }
}

}  // namespace tuna::cpu
