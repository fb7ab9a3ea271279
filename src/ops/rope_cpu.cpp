// CPU RoPE: rotate each head's two halves in place; backward rotates by the negative angle.
#include "ops/rope.h"

namespace tuna::cpu {

void rope_rotate(Tensor& x, const RopeTables& tables, const std::vector<int32_t>& rows,
                 bool interleaved, float sign) {
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
        const float sn = sign * s[i];  // exact: sign is ±1
        p[0] = a * c[i] - b * sn;
        p[partner] = b * c[i] + a * sn;
      }
    }
  }
}

}  // namespace tuna::cpu
