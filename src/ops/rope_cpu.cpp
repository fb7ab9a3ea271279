// CPU RoPE: rotate each head's two halves in place.
#include "ops/rope.h"

namespace tuna::cpu {

void rope_forward(Tensor& x, const RopeTables& tables, const std::vector<int32_t>& rows,
                  bool interleaved) {
  const int64_t N = x.dim(0), H = x.dim(1), D = x.dim(2), half = D / 2;
  float* px = x.data_mut<float>();
#pragma omp parallel for schedule(static)
  for (int64_t n = 0; n < N; ++n) {
    const float* c = tables.cos.data() +
                     static_cast<size_t>(rows[static_cast<size_t>(n)]) * static_cast<size_t>(half);
    const float* s = tables.sin.data() +
                     static_cast<size_t>(rows[static_cast<size_t>(n)]) * static_cast<size_t>(half);
    for (int64_t h = 0; h < H; ++h) {
      float* v = px + (n * H + h) * D;
      const int64_t stride = interleaved ? 2 : 1, partner = interleaved ? 1 : half;
      for (int64_t i = 0; i < half; ++i) {
        float* p = v + i * stride;
        const float a = p[0], b = p[partner];
        p[0] = a * c[i] - b * s[i];
        p[partner] = b * c[i] + a * s[i];
      }
    }
  }
}

}  // namespace tuna::cpu
