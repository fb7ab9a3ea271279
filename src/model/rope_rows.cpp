// The GGUF llama q/k row permutation. See rope_rows.h.
#include "model/rope_rows.h"

#include <algorithm>

#include "core/error.h"

namespace tuna {

Tensor permute_rope_rows(const Tensor& rows, int64_t heads, bool to_hf) {
  const int64_t n = rows.dim(0), cols = rows.ndim() == 2 ? rows.dim(1) : 1, D = n / heads,
                half = D / 2;
  TUNA_ASSERT(n % heads == 0 && D % 2 == 0, "rope permutation needs heads · even head dim rows");
  Tensor out = Tensor::empty(rows.shape(), DType::F32);
  const float* src = rows.data<float>();
  float* dst = out.data_mut<float>();
  for (int64_t h = 0; h < heads; ++h)
    for (int64_t s = 0; s < 2; ++s)
      for (int64_t j = 0; j < half; ++j) {
        const int64_t hf = h * D + s * half + j, gguf = h * D + j * 2 + s;
        const int64_t from = to_hf ? gguf : hf, to = to_hf ? hf : gguf;
        std::copy(src + from * cols, src + (from + 1) * cols, dst + to * cols);
      }
  return out;
}

}  // namespace tuna
