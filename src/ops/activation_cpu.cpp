// CPU activations, one element at a time (the compiler vectorises what it can; exactness
// against torch matters more here than the last cycle).
#include <cmath>

#include "ops/activation.h"

namespace tuna::cpu {

static inline float apply(Activation act, float x) {
  switch (act) {
    case Activation::SILU:
      return x / (1.0f + std::exp(-x));
    case Activation::GELU_TANH: {
      constexpr float kBeta = 0.7978845608028654f;  // sqrt(2 / pi)
      constexpr float kKappa = 0.044715f;
      const float x_cube = x * x * x;
      const float inner = kBeta * (x + kKappa * x_cube);
      return 0.5f * x * (1.0f + std::tanh(inner));
    }
    case Activation::GELU_ERF:
      return 0.5f * x * (1.0f + std::erf(x * 0.7071067811865476f));
  }
  return x;
}

void activation_forward(const Tensor& x, Activation act, Tensor& y) {
  const int64_t n = x.numel();
  const float* px = x.data<float>();
  float* py = y.data_mut<float>();
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) py[i] = apply(act, px[i]);
}

void gated_activation_forward(const Tensor& gate, const Tensor& up, Activation act, Tensor& y) {
  const int64_t n = gate.numel();
  const float* pg = gate.data<float>();
  const float* pu = up.data<float>();
  float* py = y.data_mut<float>();
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) py[i] = apply(act, pg[i]) * pu[i];
}

void softcap_forward(Tensor& x, float cap) {
  const int64_t n = x.numel();
  float* px = x.data_mut<float>();
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) px[i] = std::tanh(px[i] / cap) * cap;
}

}  // namespace tuna::cpu
