// transformers' LR lambdas (optimization.py, 4.57), transcribed with Python's evaluation order
// and float semantics (int/int is a double division, `%` is Python's modulo, max(0, x) keeps
// the first argument unless the second is larger). See scheduler.h.
#include "train/scheduler.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "core/error.h"

namespace tuna {

namespace {

constexpr double kPi = std::numbers::pi;  // math.pi

struct KindName {
  const char* name;
  ScheduleKind kind;
};
const KindName kKinds[] = {
    {"linear", ScheduleKind::LINEAR},
    {"cosine", ScheduleKind::COSINE},
    {"cosine_with_restarts", ScheduleKind::COSINE_WITH_RESTARTS},
    {"polynomial", ScheduleKind::POLYNOMIAL},
    {"constant", ScheduleKind::CONSTANT},
    {"constant_with_warmup", ScheduleKind::CONSTANT_WITH_WARMUP},
    {"inverse_sqrt", ScheduleKind::INVERSE_SQRT},
    {"cosine_with_min_lr", ScheduleKind::COSINE_WITH_MIN_LR},
    {"cosine_warmup_with_min_lr", ScheduleKind::COSINE_WARMUP_WITH_MIN_LR},
    {"warmup_stable_decay", ScheduleKind::WARMUP_STABLE_DECAY},
};

// Python's max(a, b) for floats: a unless b > a.
double py_max(double a, double b) {
  return b > a ? b : a;
}

// Python's float modulo (float_rem): the result takes the sign of the divisor.
double py_mod(double x, double y) {
  double mod = std::fmod(x, y);
  if (mod != 0) {
    if ((y < 0) != (mod < 0)) mod += y;
  } else {
    mod = std::copysign(0.0, y);
  }
  return mod;
}

double warmup_multiplier(int64_t step, int64_t warmup) {
  return static_cast<double>(step) / static_cast<double>(std::max<int64_t>(1, warmup));
}

int wsd_shape(const std::optional<std::string>& v, const char* key, int fallback) {
  if (!v) return fallback;
  if (*v == "linear") return 0;
  if (*v == "cosine") return 1;
  if (*v == "1-sqrt") return 2;
  throw_user_error("lr_scheduler_kwargs", std::string("unknown ") + key + " '" + *v + "'",
                   "use linear, cosine or 1-sqrt");
}

void check_kwargs(const std::string& type, ScheduleKind kind, const ScheduleKwargs& kw) {
  using K = ScheduleKind;
  if (kind == K::CONSTANT || kind == K::CONSTANT_WITH_WARMUP || kind == K::INVERSE_SQRT) return;
  auto allow = [&](bool set, const char* key, std::initializer_list<K> kinds) {
    if (!set) return;
    for (K k : kinds)
      if (k == kind) return;
    throw_user_error("lr_scheduler_kwargs",
                     std::string("'") + key + "' does not apply to lr_scheduler_type " + type,
                     "remove it from lr_scheduler_kwargs (transformers raises a TypeError)");
  };
  allow(kw.num_cycles.has_value(), "num_cycles",
        {K::COSINE, K::COSINE_WITH_RESTARTS, K::COSINE_WITH_MIN_LR, K::COSINE_WARMUP_WITH_MIN_LR,
         K::WARMUP_STABLE_DECAY});
  allow(kw.power.has_value(), "power", {K::POLYNOMIAL});
  allow(kw.lr_end.has_value(), "lr_end", {K::POLYNOMIAL});
  allow(kw.min_lr.has_value(), "min_lr", {K::COSINE_WITH_MIN_LR, K::COSINE_WARMUP_WITH_MIN_LR});
  allow(kw.min_lr_rate.has_value(), "min_lr_rate",
        {K::COSINE_WITH_MIN_LR, K::COSINE_WARMUP_WITH_MIN_LR});
  allow(kw.warmup_lr_rate.has_value(), "warmup_lr_rate", {K::COSINE_WARMUP_WITH_MIN_LR});
  for (auto [set, key] : {std::pair{kw.num_decay_steps.has_value(), "num_decay_steps"},
                          std::pair{kw.num_stable_steps.has_value(), "num_stable_steps"},
                          std::pair{kw.warmup_type.has_value(), "warmup_type"},
                          std::pair{kw.decay_type.has_value(), "decay_type"},
                          std::pair{kw.min_lr_ratio.has_value(), "min_lr_ratio"}})
    allow(set, key, {K::WARMUP_STABLE_DECAY});
}

}  // namespace

const std::vector<std::string>& supported_schedule_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    for (const KindName& k : kKinds) v.push_back(k.name);
    return v;
  }();
  return names;
}

int64_t hf_warmup_steps(double warmup_steps, double warmup_ratio, int64_t num_training_steps) {
  if (!(warmup_ratio >= 0 && warmup_ratio <= 1))
    throw_user_error("config",
                     "warmup_ratio must lie in [0, 1], got " + std::to_string(warmup_ratio),
                     "use a fraction of the training steps, e.g. 0.03");
  if (!(warmup_steps >= 0))
    throw_user_error("config",
                     "warmup_steps must be 0 or positive, got " + std::to_string(warmup_steps),
                     "use a step count, or a value below 1 for a ratio");
  const double total = static_cast<double>(num_training_steps);
  if (warmup_steps >= 1) {
    if (warmup_steps != std::floor(warmup_steps))
      throw_user_error("config",
                       "warmup_steps " + std::to_string(warmup_steps) +
                           " is neither a whole number "
                           "of steps nor a ratio below 1",
                       "use an integer, or a value in (0, 1) for a fraction of the training steps");
    return static_cast<int64_t>(warmup_steps);
  }
  if (warmup_steps > 0) return static_cast<int64_t>(std::ceil(total * warmup_steps));
  return static_cast<int64_t>(std::ceil(total * warmup_ratio));
}

LrSchedule::LrSchedule(const std::string& type, double learning_rate, int64_t num_warmup_steps,
                       int64_t num_training_steps, const ScheduleKwargs& kw)
    : learning_rate_(learning_rate), warmup_(num_warmup_steps), total_(num_training_steps) {
  const KindName* found = nullptr;
  for (const KindName& k : kKinds)
    if (type == k.name) found = &k;
  if (found == nullptr) {
    std::string list;
    for (const std::string& n : supported_schedule_names()) list += (list.empty() ? "" : ", ") + n;
    throw_user_error("lr_scheduler_type",
                     type == "reduce_lr_on_plateau"
                         ? "reduce_lr_on_plateau is not supported by tuna"
                         : "unknown lr_scheduler_type '" + type + "'",
                     "use one of: " + list);
  }
  kind_ = found->kind;
  check_kwargs(type, kind_, kw);
  TUNA_ASSERT(num_warmup_steps >= 0 && num_training_steps >= 0, "negative step counts");
  using K = ScheduleKind;
  num_cycles_ = kw.num_cycles.value_or(kind_ == K::COSINE_WITH_RESTARTS ? 1.0 : 0.5);
  power_ = kw.power.value_or(1.0);
  lr_end_ = kw.lr_end.value_or(1e-7);
  if (kind_ == K::POLYNOMIAL && !(learning_rate_ > lr_end_))
    throw_user_error("lr_scheduler_kwargs",
                     "lr_end (" + std::to_string(lr_end_) +
                         ") must be smaller than learning_rate (" + std::to_string(learning_rate_) +
                         ")",
                     "lower lr_end or raise learning_rate");
  timescale_ = warmup_ != 0 ? warmup_ : 10000;
  if (kind_ == K::COSINE_WITH_MIN_LR || kind_ == K::COSINE_WARMUP_WITH_MIN_LR) {
    if (kw.min_lr && kw.min_lr_rate)
      throw_user_error("lr_scheduler_kwargs", "only one of min_lr or min_lr_rate may be set",
                       "remove one of them");
    if (!kw.min_lr && !kw.min_lr_rate)
      throw_user_error("lr_scheduler_kwargs", type + " needs min_lr or min_lr_rate",
                       "e.g. lr_scheduler_kwargs: {min_lr_rate: 0.1}");
    min_lr_rate_ = kw.min_lr ? *kw.min_lr / learning_rate_ : *kw.min_lr_rate;
  }
  warmup_lr_rate_ = kw.warmup_lr_rate;
  if (kind_ == K::WARMUP_STABLE_DECAY) {
    if (!kw.num_decay_steps)
      throw_user_error("lr_scheduler_kwargs", "warmup_stable_decay needs num_decay_steps",
                       "e.g. lr_scheduler_kwargs: {num_decay_steps: 100}");
    decay_ = *kw.num_decay_steps;
    stable_ = kw.num_stable_steps.value_or(total_ - warmup_ - decay_);
    warmup_shape_ = wsd_shape(kw.warmup_type, "warmup_type", 0);
    decay_shape_ = wsd_shape(kw.decay_type, "decay_type", 1);
    min_lr_ratio_ = kw.min_lr_ratio.value_or(0.0);
  }
}

double LrSchedule::multiplier(int64_t step) const {
  using K = ScheduleKind;
  const int64_t s = step, W = warmup_, T = total_;
  switch (kind_) {
    case K::CONSTANT:
      return 1.0;
    case K::CONSTANT_WITH_WARMUP:
      return s < W ? warmup_multiplier(s, W) : 1.0;
    case K::LINEAR:
      if (s < W) return warmup_multiplier(s, W);
      return py_max(0.0,
                    static_cast<double>(T - s) / static_cast<double>(std::max<int64_t>(1, T - W)));
    case K::COSINE:
    case K::COSINE_WITH_MIN_LR: {
      // Both run the min-lr lambda (optimization.py redefines the cosine lambda with
      // min_lr_rate = 0 as the default), so cosine computes factor·(1 − 0) + 0 as well.
      if (s < W) return warmup_multiplier(s, W);
      const double progress =
          static_cast<double>(s - W) / static_cast<double>(std::max<int64_t>(1, T - W));
      double factor = 0.5 * (1.0 + std::cos(kPi * num_cycles_ * 2.0 * progress));
      factor = factor * (1 - min_lr_rate_) + min_lr_rate_;
      return py_max(0, factor);
    }
    case K::COSINE_WITH_RESTARTS: {
      if (s < W) return warmup_multiplier(s, W);
      const double progress =
          static_cast<double>(s - W) / static_cast<double>(std::max<int64_t>(1, T - W));
      if (progress >= 1.0) return 0.0;
      return py_max(0.0, 0.5 * (1.0 + std::cos(kPi * py_mod(num_cycles_ * progress, 1.0))));
    }
    case K::POLYNOMIAL: {
      if (s < W) return warmup_multiplier(s, W);
      if (s > T || T == W) return lr_end_ / learning_rate_;  // T == W: Python divides by zero
      const double lr_range = learning_rate_ - lr_end_;
      const int64_t decay_steps = T - W;
      const double pct_remaining =
          1 - static_cast<double>(s - W) / static_cast<double>(decay_steps);
      const double decay = lr_range * std::pow(pct_remaining, power_) + lr_end_;
      return decay / learning_rate_;
    }
    case K::INVERSE_SQRT: {
      if (s < W) return warmup_multiplier(s, W);
      const int64_t shift = timescale_ - W;
      return 1.0 / std::sqrt(static_cast<double>(s + shift) / static_cast<double>(timescale_));
    }
    case K::COSINE_WARMUP_WITH_MIN_LR: {
      const double sf = static_cast<double>(s), wf = static_cast<double>(W);
      if (sf < wf) {
        if (!warmup_lr_rate_) return (sf + 1.0) / py_max(1.0, wf);
        const double r = *warmup_lr_rate_;
        return r + (1.0 - r) * sf / py_max(1, wf - 1);
      }
      const double progress = (sf - wf + 1.0) / py_max(1.0, static_cast<double>(T) - wf);
      double factor = 0.5 * (1.0 + std::cos(kPi * num_cycles_ * 2.0 * progress));
      factor = factor * (1 - min_lr_rate_) + min_lr_rate_;
      return py_max(0, factor);
    }
    case K::WARMUP_STABLE_DECAY: {
      const double m = min_lr_ratio_;
      if (s < W) {
        const double progress = warmup_multiplier(s, W);
        double factor = warmup_shape_ == 0   ? progress
                        : warmup_shape_ == 1 ? 0.5 * (1.0 - std::cos(kPi * progress))
                                             : 1.0 - std::sqrt(1.0 - progress);
        factor = factor * (1.0 - m) + m;
        return py_max(0.0, factor);
      }
      if (s < W + stable_) return 1.0;
      if (s < W + stable_ + decay_) {
        const double progress = static_cast<double>(s - W - stable_) /
                                static_cast<double>(std::max<int64_t>(1, decay_));
        double factor = decay_shape_ == 0 ? 1.0 - progress
                        : decay_shape_ == 1
                            ? 0.5 * (1.0 + std::cos(kPi * num_cycles_ * 2.0 * progress))
                            : 1.0 - std::sqrt(progress);
        factor = factor * (1.0 - m) + m;
        return py_max(0.0, factor);
      }
      return m;
    }
  }
  throw_internal_error("scheduler", "unhandled schedule kind");
}

}  // namespace tuna
