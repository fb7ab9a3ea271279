// ModelSpec helpers. See model_spec.h.
#include "io/model_spec.h"

#include <cmath>

namespace tuna {

const char* family_name(Family f) {
  switch (f) {
    case Family::LLAMA:
      return "llama";
    case Family::MISTRAL:
      return "mistral";
    case Family::QWEN2:
      return "qwen2";
    case Family::QWEN3:
      return "qwen3";
    case Family::GEMMA2:
      return "gemma2";
    case Family::GEMMA3:
      return "gemma3";
    case Family::GPT2:
      return "gpt2";
    case Family::EXAONE:
      return "exaone";
  }
  return "?";
}

float embedding_scale(const ModelSpec& spec, DType compute_dtype) {
  if (!spec.scale_embeddings) return 1.0f;
  // transformers: torch.tensor(hidden ** 0.5) (F32), then .to(weight dtype)
  const float s = static_cast<float>(std::sqrt(static_cast<double>(spec.hidden)));
  if (compute_dtype == DType::BF16) return bf16_to_f32(f32_to_bf16(s));
  if (compute_dtype == DType::F16) return f16_to_f32(f32_to_f16(s));
  return s;
}

}  // namespace tuna
