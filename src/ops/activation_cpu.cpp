// CPU activations. SiLU and GELU-tanh run 8 lanes at a time through ops/vector_math.h (glibc's
// scalar tanhf/expm1f were ~10 % of a Gemma training step); exact GELU (erf) stays one element
// at a time with std::erf. The gated backward evaluates tanh / the sigmoid once per element for
// both act(gate) and act'(gate).
#include <algorithm>
#include <cmath>

#include "ops/activation.h"
#include "ops/vector_math.h"

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

constexpr float kGeluBeta = 0.7978845608028654f;  // sqrt(2 / pi)
constexpr float kGeluKappa = 0.044715f;

bool has_lanes(Activation act) {
  return act == Activation::SILU || act == Activation::GELU_TANH;
}

// act(x) and act'(x) on 8 lanes (SiLU, GELU-tanh): the same formulas as apply/derivative.
struct LaneActivation {
  Lanes value, slope;
};

inline LaneActivation activation_lanes(Activation act, Lanes x) {
  if (act == Activation::SILU) {
    const Lanes denom = 1.0f + exp_lanes(-x);
    const Lanes sig = 1.0f / denom;
    return {x / denom, sig * (1.0f + x * (1.0f - sig))};
  }
  const Lanes t = tanh_lanes(kGeluBeta * (x + kGeluKappa * (x * x * x)));
  return {0.5f * x * (1.0f + t), 0.5f * (1.0f + t) + 0.5f * x * (1.0f - t * t) * kGeluBeta *
                                                         (1.0f + 3.0f * kGeluKappa * x * x)};
}

inline Lanes activation_value_lanes(Activation act, Lanes x) {
  if (act == Activation::SILU) return x / (1.0f + exp_lanes(-x));
  return 0.5f * x * (1.0f + tanh_lanes(kGeluBeta * (x + kGeluKappa * (x * x * x))));
}

// fn(i, count) for the 8-element groups [i, i + count) of [0, n), count = 8 but for the last.
template <typename Fn>
void for_lane_groups(int64_t n, Fn fn) {
  const int64_t groups = (n + kLaneCount - 1) / kLaneCount;
#pragma omp parallel for schedule(static)
  for (int64_t g = 0; g < groups; ++g) fn(g * kLaneCount, std::min(kLaneCount, n - g * kLaneCount));
}

void activation_backward(const Tensor& x, const Tensor& dy, Activation act, Tensor& dx) {
  const int64_t n = x.numel();
  const float* px = x.data<float>();
  const float* pdy = dy.data<float>();
  float* pdx = dx.data_mut<float>();
  if (has_lanes(act)) {
    for_lane_groups(n, [&](int64_t i, int64_t k) {
      const Lanes d = load_lanes(pdy + i, k);
      store_lanes(pdx + i, d * activation_lanes(act, load_lanes(px + i, k)).slope, k);
    });
    return;
  }
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
  if (has_lanes(act)) {
    for_lane_groups(n, [&](int64_t i, int64_t k) {
      const Lanes d = load_lanes(pdy + i, k);  // read first: dgate or dup may alias dy
      const LaneActivation a = activation_lanes(act, load_lanes(pg + i, k));
      store_lanes(pdg + i, d * load_lanes(pu + i, k) * a.slope, k);
      store_lanes(pdu + i, d * a.value, k);
    });
    return;
  }
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
  if (has_lanes(act)) {
    for_lane_groups(n, [&](int64_t i, int64_t k) {
      store_lanes(py + i, activation_value_lanes(act, load_lanes(px + i, k)), k);
    });
    return;
  }
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) py[i] = apply(act, px[i]);
}

void gated_activation_forward(const Tensor& gate, const Tensor& up, Activation act, Tensor& y) {
  const int64_t n = gate.numel();
  const float* pg = gate.data<float>();
  const float* pu = up.data<float>();
  float* py = y.data_mut<float>();
  if (has_lanes(act)) {
    for_lane_groups(n, [&](int64_t i, int64_t k) {
      const Lanes u = load_lanes(pu + i, k);
      store_lanes(py + i, activation_value_lanes(act, load_lanes(pg + i, k)) * u, k);
    });
    return;
  }
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) py[i] = apply(act, pg[i]) * pu[i];
}

void softcap_forward(Tensor& x, float cap) {
  const int64_t n = x.numel();
  float* px = x.data_mut<float>();
  for_lane_groups(n, [&](int64_t i, int64_t k) {
    store_lanes(px + i, tanh_lanes(load_lanes(px + i, k) / cap) * cap, k);
  });
}

}  // namespace tuna::cpu
