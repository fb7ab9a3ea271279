// CPU 8-bit AdamW (see adamw_8bit.h). Each element's arithmetic follows the torch CPU
// operations bitsandbytes' reference code runs, in their order (float scalars where torch
// rounds them to float, FMAs where torch's kernels use them); 256-blocks of U8 state run in
// parallel (each block reads and writes only its own elements and scales), so results do not
// depend on how blocks are split across threads.
#include <algorithm>
#include <array>
#include <cmath>

#include "ops/adamw_8bit.h"
#include "ops/quant_blockwise8.h"

namespace tuna::cpu {

namespace {

// Per-step constants of the 8-bit update (optimizer_update_8bit_blockwise_pytorch, "adam").
struct Coeffs8bit {
  float beta1, one_minus_beta1;  // state1.mul_(β1).add_(g, alpha=1 − β1)
  float beta2, one_minus_beta2;  // state2.mul_(β2).addcmul_(g, g, value=1 − β2)
  float bc2_sqrt;                // math.sqrt(1 − β2ᵗ)
  float eps;
  float neg_step_size;  // addcdiv_ value: −lr / (1 − β1ᵗ)
  bool decays;
  float decay;  // 1 − lr·wd
};

// Per-step constants of bitsandbytes' F32 update (backends/default/ops.py, ADAM).
struct Coeffs32bit {
  float beta1, one_minus_beta1, beta2, one_minus_beta2;
  float eps_scaled;  // eps · √(1 − β2ᵗ)
  float step_size;   // −lr · √(1 − β2ᵗ) / (1 − β1ᵗ)
  bool decays;
  float decay;
};

// One 256-block [i0, i1) of an 8-bit tensor: dequantise, update m, v and p in F32, requantise
// with the block's new maxima. `block` indexes absmax.
void update_block_8bit(const Coeffs8bit& k, float* p, const float* g, uint8_t* q1, uint8_t* q2,
                       float* absmax1, float* absmax2, int64_t block, int64_t i0, int64_t i1) {
  const std::array<float, 256>& code1 = dynamic_map_pristine(DynamicMap::SIGNED);
  const std::array<float, 256>& code2 = dynamic_map_pristine(DynamicMap::UNSIGNED);
  float m[kBnbOptimBlocksize], v[kBnbOptimBlocksize];
  float max1 = 0.0f, max2 = 0.0f;
  for (int64_t j = i0; j < i1; ++j) {
    const int64_t l = j - i0;
    const float gj = g[j];
    float mj = code1[q1[j]] * absmax1[block];
    float vj = code2[q2[j]] * absmax2[block];
    mj = std::fma(gj, k.one_minus_beta1, mj * k.beta1);       // add(alpha) is vec::fmadd
    vj = std::fma(k.one_minus_beta2 * gj, gj, vj * k.beta2);  // addcmul: self + (c·t1)·t2
    const float denom = std::sqrt(vj) / k.bc2_sqrt + k.eps;
    float pj = p[j];
    if (k.decays) pj = pj * k.decay;
    p[j] = pj + (k.neg_step_size * mj) / denom;  // addcdiv: self + (c·t1) / t2
    m[l] = mj;
    v[l] = vj;
    max1 = std::max(max1, std::fabs(mj));
    max2 = std::max(max2, std::fabs(vj));
  }
  // bitsandbytes' reference quantiser replaces a zero block maximum by 1.
  if (max1 == 0.0f) max1 = 1.0f;
  if (max2 == 0.0f) max2 = 1.0f;
  absmax1[block] = max1;
  absmax2[block] = max2;
  for (int64_t j = i0; j < i1; ++j) {
    q1[j] = nearest_dynamic_code(code1, m[j - i0] / max1);
    q2[j] = nearest_dynamic_code(code2, v[j - i0] / max2);
  }
}

void update_32bit(const Coeffs32bit& k, float* p, const float* g, float* m, float* v, int64_t n) {
  for (int64_t j = 0; j < n; ++j) {
    const float gj = g[j];
    const float mj = m[j] * k.beta1 + gj * k.one_minus_beta1;
    const float vj = v[j] * k.beta2 + (gj * k.one_minus_beta2) * gj;
    const float denom = std::sqrt(vj) + k.eps_scaled;
    const float pj = k.decays ? p[j] * k.decay : p[j];
    p[j] = pj + (mj / denom) * k.step_size;
    m[j] = mj;
    v[j] = vj;
  }
}

}  // namespace

void adamw_8bit_update(Tensor& param, const Tensor& grad, Tensor& state1, Tensor& state2,
                       Tensor& absmax1, Tensor& absmax2, const Adamw8bitHyper& hyper) {
  const double lr = hyper.lr, beta1 = hyper.beta1, beta2 = hyper.beta2, eps = hyper.eps;
  const double wd = hyper.weight_decay;
  const double step = static_cast<double>(hyper.step);
  const double correction1 = 1.0 - std::pow(beta1, step);
  const double bias_correction2 = 1.0 - std::pow(beta2, step);
  const double correction2 = std::sqrt(bias_correction2);
  float* p = param.data_mut<float>();
  const float* g = grad.data<float>();
  const int64_t n = param.numel();
  if (state1.dtype() == DType::F32) {
    Coeffs32bit k32;
    k32.beta1 = static_cast<float>(beta1);
    k32.one_minus_beta1 = static_cast<float>(1.0 - beta1);
    k32.beta2 = static_cast<float>(beta2);
    k32.one_minus_beta2 = static_cast<float>(1.0 - beta2);
    k32.eps_scaled = static_cast<float>(eps * correction2);
    k32.step_size = static_cast<float>(-lr * correction2 / correction1);
    k32.decays = wd > 0.0;
    k32.decay = static_cast<float>(1.0 - lr * wd);
    update_32bit(k32, p, g, state1.data_mut<float>(), state2.data_mut<float>(), n);
    return;
  }
  Coeffs8bit k8;
  k8.beta1 = static_cast<float>(beta1);
  k8.one_minus_beta1 = static_cast<float>(1.0 - beta1);
  k8.beta2 = static_cast<float>(beta2);
  k8.one_minus_beta2 = static_cast<float>(1.0 - beta2);
  k8.bc2_sqrt = static_cast<float>(correction2);
  k8.eps = static_cast<float>(eps);
  k8.neg_step_size = static_cast<float>(-lr / correction1);
  k8.decays = wd > 0.0;
  k8.decay = static_cast<float>(1.0 - lr * wd);
  uint8_t* q1 = state1.data_mut<uint8_t>();
  uint8_t* q2 = state2.data_mut<uint8_t>();
  float* a1 = absmax1.data_mut<float>();
  float* a2 = absmax2.data_mut<float>();
  const int64_t blocks = blockwise_n_blocks(n, kBnbOptimBlocksize);
#pragma omp parallel for schedule(static) if (blocks > 16)
  for (int64_t b = 0; b < blocks; ++b)
    update_block_8bit(k8, p, g, q1, q2, a1, a2, b, b * kBnbOptimBlocksize,
                      std::min(n, (b + 1) * kBnbOptimBlocksize));
}

}  // namespace tuna::cpu
