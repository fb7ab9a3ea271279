// bitsandbytes' 8-bit AdamW: which tensors get 8-bit state, its layout, and one call of the
// update op (ops/adamw_8bit.h, which holds the arithmetic) per tensor. See optimizer_8bit.h.
#include "train/optimizer_8bit.h"

#include <utility>

#include "ops/adamw_8bit.h"
#include "ops/quant_blockwise8.h"

namespace tuna {

namespace {

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
    for (size_t i = 0; i < params_.size(); ++i) {
      TrainableParam& tp = params_[i];
      const Adamw8bitHyper h{lr,
                             options_.adam_beta1,
                             options_.adam_beta2,
                             options_.adam_epsilon,
                             tp.apply_weight_decay ? options_.weight_decay : 0.0,
                             steps_};
      const Shape n{tp.param.numel()};
      Tensor p = tp.param.reshape(n), s1 = state_[i][0].reshape(n), s2 = state_[i][1].reshape(n);
      adamw_8bit_update(p, tp.grad.reshape(n), s1, s2, state_[i][2], state_[i][3], h);
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
  bool is_8bit(size_t i) const { return params_[i].param.numel() >= kBnbMin8bitSize; }
};

}  // namespace

std::unique_ptr<Optimizer> make_adamw_8bit(std::string name, std::vector<TrainableParam> params,
                                           const OptimizerOptions& options) {
  return std::make_unique<AdamW8bit>(std::move(name), std::move(params), options);
}

}  // namespace tuna
