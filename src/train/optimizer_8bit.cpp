// bitsandbytes' 8-bit AdamW. See optimizer_8bit.h. Each element's arithmetic follows the torch
// CPU operations bitsandbytes' reference code runs, in their order (float scalars where torch
// rounds them to float, FMAs where torch's kernels use them), so results do not depend on how
// blocks are split across threads.
#include "train/optimizer_8bit.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <utility>

#include "core/error.h"
#include "ops/quant_blockwise8.h"

namespace tuna {

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

class AdamW8bit final : public Optimizer {
 public:
  AdamW8bit(std::string name, std::vector<TrainableParam> params, const OptimizerOptions& options)
      : Optimizer(std::move(name), std::move(params), options) {
    allocate_state();
  }
  std::vector<std::string> state_names() const override {
    return {"state1", "state2", "absmax1", "absmax2"};
  }

  void step(double lr) override {
    ++steps_;
    const double beta1 = options_.adam_beta1, beta2 = options_.adam_beta2;
    const double eps = options_.adam_epsilon;
    const double step = static_cast<double>(steps_);
    const double correction1 = 1.0 - std::pow(beta1, step);
    const double bias_correction2 = 1.0 - std::pow(beta2, step);
    const double correction2 = std::sqrt(bias_correction2);
    Coeffs8bit k8;
    k8.beta1 = static_cast<float>(beta1);
    k8.one_minus_beta1 = static_cast<float>(1.0 - beta1);
    k8.beta2 = static_cast<float>(beta2);
    k8.one_minus_beta2 = static_cast<float>(1.0 - beta2);
    k8.bc2_sqrt = static_cast<float>(correction2);
    k8.eps = static_cast<float>(eps);
    k8.neg_step_size = static_cast<float>(-lr / correction1);
    Coeffs32bit k32;
    k32.beta1 = k8.beta1;
    k32.one_minus_beta1 = k8.one_minus_beta1;
    k32.beta2 = k8.beta2;
    k32.one_minus_beta2 = k8.one_minus_beta2;
    k32.eps_scaled = static_cast<float>(eps * correction2);
    k32.step_size = static_cast<float>(-lr * correction2 / correction1);
    for (size_t i = 0; i < params_.size(); ++i) {
      TrainableParam& tp = params_[i];
      const double wd = tp.apply_weight_decay ? options_.weight_decay : 0.0;
      k8.decays = k32.decays = wd > 0.0;
      k8.decay = k32.decay = static_cast<float>(1.0 - lr * wd);
      float* p = tp.param.data_mut<float>();
      const float* g = tp.grad.data<float>();
      const int64_t n = tp.param.numel();
      if (!is_8bit(i)) {
        update_32bit(k32, p, g, state_[i][0].data_mut<float>(), state_[i][1].data_mut<float>(), n);
        continue;
      }
      uint8_t* q1 = state_[i][0].data_mut<uint8_t>();
      uint8_t* q2 = state_[i][1].data_mut<uint8_t>();
      float* absmax1 = state_[i][2].data_mut<float>();
      float* absmax2 = state_[i][3].data_mut<float>();
      const int64_t blocks = blockwise_n_blocks(n, kBnbOptimBlocksize);
#pragma omp parallel for schedule(static) if (blocks > 16)
      for (int64_t b = 0; b < blocks; ++b)
        update_block_8bit(k8, p, g, q1, q2, absmax1, absmax2, b, b * kBnbOptimBlocksize,
                          std::min(n, (b + 1) * kBnbOptimBlocksize));
    }
  }

 protected:
  std::optional<StateLayout> state_layout(size_t i, size_t k) const override {
    const Shape& shape = params_[i].param.shape();
    if (!is_8bit(i)) {
      if (k >= 2) return std::nullopt;  // F32 state has no absmax
      return StateLayout{DType::F32, shape};
    }
    if (k < 2) return StateLayout{DType::U8, shape};
    return StateLayout{DType::F32,
                       Shape{blockwise_n_blocks(params_[i].param.numel(), kBnbOptimBlocksize)}};
  }

 private:
  bool is_8bit(size_t i) const {
    return params_[i].param.numel() >= kBnbMin8bitSize;
  }
};

}  // namespace

std::unique_ptr<Optimizer> make_adamw_8bit(std::string name, std::vector<TrainableParam> params,
                                           const OptimizerOptions& options) {
  return std::make_unique<AdamW8bit>(std::move(name), std::move(params), options);
}

}  // namespace tuna
