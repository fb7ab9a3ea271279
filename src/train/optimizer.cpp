// Optimizer names, AdamW and SGD (through the multi-tensor ops ops/adamw.h and ops/sgd.h, whose
// per-element arithmetic follows torch 2.9's CPU kernels operation by operation), flat optimizer
// state and optimizer.safetensors. See optimizer.h.
#include "train/optimizer.h"

#include <cstring>
#include <set>
#include <span>
#include <utility>

#include "core/error.h"
#include "core/message.h"
#include "io/safetensors.h"
#include "ops/adamw.h"
#include "ops/sgd.h"
#include "train/optimizer_8bit.h"

namespace tuna {

namespace {

const char* kind_name(OptimizerKind kind) {
  switch (kind) {
    case OptimizerKind::ADAMW:
      return "adamw";
    case OptimizerKind::SGD:
      return "sgd";
    case OptimizerKind::ADAMW_8BIT:
      return "adamw_8bit";
  }
  return "?";
}

// torch.optim.AdamW (amsgrad=False, maximize=False) as one multi-tensor update (ops/adamw.h,
// which follows the fused CPU kernel, what adamw_torch_fused runs); the single-tensor path
// (adamw_torch) does the same operations but takes its sqrt from MKL, which is not always
// correctly rounded, so it can differ by an ulp there (docs/training.md). One call over the flat
// buffers when the parameters and gradients are views of one (train/param_buffer.h), else one
// call per tensor — the same arithmetic either way.
class AdamW final : public Optimizer {
 public:
  AdamW(std::string name, std::vector<TrainableParam> params, const OptimizerOptions& options)
      : Optimizer(std::move(name), std::move(params), options) {
    allocate_state();
    for (const TrainableParam& tp : params_)
      segments_.push_back({tp.param.numel(), tp.apply_weight_decay});
  }
  std::vector<std::string> state_names() const override { return {"exp_avg", "exp_avg_sq"}; }

  void step(double lr) override {
    ++steps_;
    const AdamwHyper h{lr,
                       options_.adam_beta1,
                       options_.adam_beta2,
                       options_.adam_epsilon,
                       options_.weight_decay,
                       steps_};
    if (flat_params_.defined() && flat_grads_.defined()) {
      adamw_update(flat_params_, flat_grads_, flat_state_[0], flat_state_[1], segments_, h);
      return;
    }
    for (size_t i = 0; i < params_.size(); ++i) {
      const Shape n{params_[i].param.numel()};
      Tensor p = params_[i].param.reshape(n), m = state_[i][0].reshape(n),
             v = state_[i][1].reshape(n);
      adamw_update(p, params_[i].grad.reshape(n), m, v, std::span(segments_).subspan(i, 1), h);
    }
  }

 private:
  std::vector<AdamwSegment> segments_;  // per parameter: numel, weight-decay group
};

// torch.optim.SGD, single-tensor path (what CPU tensors get), as one multi-tensor update
// (ops/sgd.h): weight decay is coupled (grad + wd·p), the momentum buffer starts as a copy of the
// first gradient, and every `add(x, alpha=a)` is torch's vectorised fmadd(x, a, self). One call
// over the flat buffers when the parameters and gradients are views of one, else one call per
// tensor — the same arithmetic either way.
class Sgd final : public Optimizer {
 public:
  Sgd(std::string name, std::vector<TrainableParam> params, const OptimizerOptions& options)
      : Optimizer(std::move(name), std::move(params), options) {
    if (options_.momentum != 0) {
      state_lazy_ = true;
      state_.assign(params_.size(), std::vector<Tensor>(1));
    } else {
      state_.assign(params_.size(), std::vector<Tensor>());
    }
    for (const TrainableParam& tp : params_)
      segments_.push_back({tp.param.numel(), tp.apply_weight_decay, false});
  }
  std::vector<std::string> state_names() const override {
    if (options_.momentum == 0) return {};
    return {"momentum_buffer"};
  }

  void step(double lr) override {
    ++steps_;
    const bool momentum = options_.momentum != 0;
    for (size_t i = 0; i < params_.size(); ++i) {
      segments_[i].momentum_fresh = momentum && !state_[i][0].defined();
      if (segments_[i].momentum_fresh) state_[i][0] = flat_state_view(0, i);
    }
    const SgdHyper h{lr, options_.momentum, options_.dampening, options_.weight_decay,
                     options_.nesterov};
    if (flat_params_.defined() && flat_grads_.defined()) {
      Tensor none;
      sgd_update(flat_params_, flat_grads_, momentum ? flat_state_[0] : none, segments_, h);
      return;
    }
    for (size_t i = 0; i < params_.size(); ++i) {
      const Shape n{params_[i].param.numel()};
      Tensor p = params_[i].param.reshape(n), buf = momentum ? state_[i][0].reshape(n) : Tensor();
      sgd_update(p, params_[i].grad.reshape(n), buf, std::span(segments_).subspan(i, 1), h);
    }
  }

 private:
  std::vector<SgdSegment> segments_;  // per parameter: numel, weight-decay group, fresh buffer
};

}  // namespace

Optimizer::Optimizer(std::string name, std::vector<TrainableParam> params, OptimizerOptions options)
    : name_(std::move(name)), params_(std::move(params)), options_(options) {
  std::set<std::string> seen;
  for (const TrainableParam& tp : params_) {
    TUNA_ASSERT(tp.param.dtype() == DType::F32 && tp.grad.dtype() == DType::F32,
                "optimizer parameter " + tp.name + " must be F32");
    TUNA_ASSERT(tp.param.device() == Device::CPU && tp.grad.device() == Device::CPU,
                "optimizer parameter " + tp.name + " must be on the CPU");
    TUNA_ASSERT(tp.param.shape() == tp.grad.shape(),
                "grad shape differs from parameter " + tp.name);
    TUNA_ASSERT(!tp.param.is_view(), "optimizer parameter " + tp.name + " is read-only");
    TUNA_ASSERT(seen.insert(tp.name).second, "duplicate optimizer parameter " + tp.name);
    offsets_.push_back(numel_);
    numel_ += tp.param.numel();
  }
  std::vector<Tensor> values, grads;
  for (const TrainableParam& tp : params_) {
    values.push_back(tp.param);
    grads.push_back(tp.grad);
  }
  flat_params_ = Tensor::span_of(values);
  flat_grads_ = Tensor::span_of(grads);
}

void Optimizer::allocate_state() {
  const size_t n_states = state_names().size();
  state_.assign(params_.size(), std::vector<Tensor>(n_states));
  for (size_t k = 0; k < n_states; ++k) {
    const bool flat = state_is_flat(k);
    for (size_t i = 0; i < params_.size(); ++i)
      if (flat)
        state_[i][k] = flat_state_view(k, i);
      else if (const auto layout = state_layout(i, k))
        state_[i][k] = Tensor::zeros(layout->shape, layout->dtype);
  }
}

bool Optimizer::state_is_flat(size_t k) const {
  for (size_t i = 0; i < params_.size(); ++i) {
    const std::optional<StateLayout> layout = state_layout(i, k);
    if (!layout || layout->dtype != DType::F32 || layout->shape != params_[i].param.shape())
      return false;
  }
  return !params_.empty();
}

Tensor Optimizer::flat_state_view(size_t k, size_t i) {
  if (flat_state_.size() <= k) flat_state_.resize(k + 1);
  if (!flat_state_[k].defined()) flat_state_[k] = Tensor::zeros({numel_}, DType::F32);
  return flat_state_[k].view_at(offsets_[i], params_[i].param.shape());
}

std::optional<Optimizer::StateLayout> Optimizer::state_layout(size_t i, size_t) const {
  return StateLayout{DType::F32, params_[i].param.shape()};
}

int64_t Optimizer::state_bytes() const {
  int64_t bytes = 0;
  for (const std::vector<Tensor>& per_param : state_)
    for (const Tensor& t : per_param)
      if (t.defined()) bytes += static_cast<int64_t>(t.nbytes());
  return bytes;
}

Tensor Optimizer::state(const std::string& param, const std::string& state_name) const {
  const std::vector<std::string> names = state_names();
  for (size_t i = 0; i < params_.size(); ++i) {
    if (params_[i].name != param) continue;
    for (size_t k = 0; k < names.size(); ++k)
      if (names[k] == state_name) return state_[i][k];
  }
  return Tensor();
}

void Optimizer::save(const std::string& path) const {
  std::vector<std::pair<std::string, Tensor>> tensors;
  const std::vector<std::string> names = state_names();
  for (size_t i = 0; i < params_.size(); ++i)
    for (size_t k = 0; k < names.size(); ++k)
      if (state_[i][k].defined())
        tensors.emplace_back(params_[i].name + "." + names[k], state_[i][k]);
  write_safetensors(path, tensors,
                    {{"format", "tuna-optimizer"},
                     {"optimizer", kind_name(resolve_optimizer(name_).kind)},
                     {"step", std::to_string(steps_)}});
}

void Optimizer::load(const std::string& path) {
  const SafetensorsFile file = SafetensorsFile::open(path);
  const auto& meta = file.metadata();
  const std::string kind = kind_name(resolve_optimizer(name_).kind);
  const auto fmt = meta.find("format");
  const auto opt = meta.find("optimizer");
  const auto step = meta.find("step");
  if (fmt == meta.end() || fmt->second != "tuna-optimizer" || opt == meta.end() ||
      step == meta.end())
    throw_user_error("optimizer", path + " is not a tuna optimizer state file",
                     "resume from a checkpoint directory that tuna wrote");
  if (opt->second != kind)
    throw_user_error(
        "optimizer",
        path + " holds " + opt->second + " state but optim is " + name_ + " (" + kind + ")",
        "resume with the optim the checkpoint was trained with");
  int64_t steps = -1;
  try {
    size_t used = 0;
    steps = std::stoll(step->second, &used);
    if (used != step->second.size()) steps = -1;
  } catch (const std::exception&) {
    steps = -1;
  }
  if (steps < 0)
    throw_user_error("optimizer", path + ": invalid step '" + step->second + "'",
                     "the file is damaged; resume from another checkpoint");
  const std::vector<std::string> names = state_names();
  size_t used_tensors = 0;
  for (size_t i = 0; i < params_.size(); ++i) {
    for (size_t k = 0; k < names.size(); ++k) {
      const std::string key = params_[i].name + "." + names[k];
      const std::optional<StateLayout> layout = state_layout(i, k);
      if (!layout) continue;  // a stray key is caught by the tensor count below
      if (!file.contains(key)) {
        if (state_lazy_ && steps == 0) continue;
        throw_user_error("optimizer", path + " has no state '" + key + "'",
                         "the checkpoint was trained with other trainable parameters; resume "
                         "with the same LoRA/target settings");
      }
      const SafetensorsEntry& en = file.entry(key);
      if (en.dtype != layout->dtype || en.shape != layout->shape)
        throw_user_error("optimizer",
                         path + ": '" + key + "' is " + dtype_name(en.dtype) + " " +
                             en.shape.to_string() + ", expected " + dtype_name(layout->dtype) +
                             " " + layout->shape.to_string(),
                         "the checkpoint was trained with other parameter shapes");
      ++used_tensors;
    }
  }
  if (used_tensors != file.names().size())
    throw_user_error("optimizer",
                     path + " holds state for " + std::to_string(file.names().size()) +
                         " tensors, this run has " + std::to_string(used_tensors),
                     "the checkpoint was trained with other trainable parameters");
  // Checked: copy straight from the file into the (flat) state.
  std::vector<std::vector<Tensor>> loaded(params_.size(), std::vector<Tensor>(names.size()));
  for (size_t k = 0; k < names.size(); ++k) {
    const bool flat = state_is_flat(k);
    for (size_t i = 0; i < params_.size(); ++i) {
      const std::string key = params_[i].name + "." + names[k];
      const std::optional<StateLayout> layout = state_layout(i, k);
      if (!layout || !file.contains(key)) continue;
      Tensor dst = flat ? flat_state_view(k, i) : Tensor::empty(layout->shape, layout->dtype);
      std::memcpy(dst.raw_mut(), file.tensor(key).raw(), dst.nbytes());
      loaded[i][k] = std::move(dst);
    }
  }
  state_ = std::move(loaded);
  steps_ = steps;
}

std::unique_ptr<Optimizer> make_optimizer(const std::string& optim,
                                          std::vector<TrainableParam> params,
                                          const OptimizerOptions& options) {
  const OptimizerChoice choice = resolve_optimizer(optim);
  switch (choice.kind) {
    case OptimizerKind::ADAMW:
      return std::make_unique<AdamW>(optim, std::move(params), options);
    case OptimizerKind::SGD:
      return std::make_unique<Sgd>(optim, std::move(params), options);
    case OptimizerKind::ADAMW_8BIT:
      return make_adamw_8bit(optim, std::move(params), options);
  }
  throw_internal_error("optim", "unhandled optimizer kind");
}

}  // namespace tuna
