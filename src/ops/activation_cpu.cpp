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

// act'(x), the analytic derivative of apply(act, x).
static inline float derivative(Activation act, float x) {
  switch (act) {
    case Activation::SILU: {
      const float sig = 1.0f / (1.0f + std::exp(-x));
      return sig * (1.0f + x * (1.0f - sig));
    }
    case Activation::GELU_TANH: {
      constexpr float kBeta = 0.7978845608028654f;
      constexpr float kKappa = 0.044715f;
      const float t = std::tanh(kBeta * (x + kKappa * x * x * x));
      return 0.5f * (1.0f + t) + 0.5f * x * (1.0f - t * t) * kBeta * (1.0f + 3.0f * kKappa * x * x);
    }
    case Activation::GELU_ERF: {
      constexpr float kInvSqrt2Pi = 0.3989422804014327f;  // 1 / sqrt(2 pi)
      return 0.5f * (1.0f + std::erf(x * 0.7071067811865476f)) +
             x * kInvSqrt2Pi * std::exp(-0.5f * x * x);
    }
  }
  return 1.0f;
}

void activation_backward(const Tensor& x, const Tensor& dy, Activation act, Tensor& dx) {
  const int64_t n = x.numel();
  const float* px = x.data<float>();
  const float* pdy = dy.data<float>();
  float* pdx = dx.data_mut<float>();
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) pdx[i] = pdy[i] * derivative(act, px[i]);
}

void gated_activation_backward(const Tensor& gate, const Tensor& up, const Tensor& dy,
                               Activation act, Tensor& dgate, Tensor& dup) {
  const int64_t n = gate.numel();
  const float* pg = gate.data<float>();
  const float* pu = up.data<float>();
  const float* pdy = dy.data<float>();
  float* pdg = dgate.data_mut<float>();
  float* pdu = dup.data_mut<float>();
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) {
    const float d = pdy[i];  // read first: dgate or dup may alias dy
    pdg[i] = d * pu[i] * derivative(act, pg[i]);
    pdu[i] = d * apply(act, pg[i]);
  }
}

void softcap_backward(const Tensor& y, const Tensor& dy, float cap, Tensor& dx) {
  const int64_t n = y.numel();
  const float* py = y.data<float>();
  const float* pdy = dy.data<float>();
  float* pdx = dx.data_mut<float>();
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) {
    const float t = py[i] / cap;
    pdx[i] = pdy[i] * (1.0f - t * t);
  }
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
