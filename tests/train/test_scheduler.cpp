// LR schedules against transformers.get_scheduler (tests/golden/optim/schedules.json) and
// TrainingArguments.get_warmup_steps. The multipliers are computed as Python computes them, so
// the learning rates must be bit-identical doubles.
#include <gtest/gtest.h>

#include <set>

#include "optim_golden.h"
#include "test_util.h"
#include "train/scheduler.h"

namespace {

tuna::ScheduleKwargs kwargs_of(const nlohmann::json& j) {
  tuna::ScheduleKwargs k;
  for (const auto& [key, v] : j.items()) {
    if (key == "num_cycles")
      k.num_cycles = v.get<double>();
    else if (key == "power")
      k.power = v.get<double>();
    else if (key == "lr_end")
      k.lr_end = v.get<double>();
    else if (key == "timescale")
      continue;  // inverse_sqrt: transformers ignores kwargs
    else if (key == "min_lr")
      k.min_lr = v.get<double>();
    else if (key == "min_lr_rate")
      k.min_lr_rate = v.get<double>();
    else if (key == "warmup_lr_rate")
      k.warmup_lr_rate = v.get<double>();
    else if (key == "num_decay_steps")
      k.num_decay_steps = v.get<int64_t>();
    else if (key == "num_stable_steps")
      k.num_stable_steps = v.get<int64_t>();
    else if (key == "warmup_type")
      k.warmup_type = v.get<std::string>();
    else if (key == "decay_type")
      k.decay_type = v.get<std::string>();
    else if (key == "min_lr_ratio")
      k.min_lr_ratio = v.get<double>();
    else
      ADD_FAILURE() << "golden kwarg not mapped: " << key;
  }
  return k;
}

TEST(ScheduleGolden, EveryTypeMatchesTransformersExactly) {
  const nlohmann::json doc = tuna_test::read_optim_json("schedules.json");
  std::set<std::string> types;
  for (const auto& e : doc["schedules"]) {
    const std::string type = e["type"];
    types.insert(type);
    const int64_t total = e["num_training_steps"];
    SCOPED_TRACE(type + " total " + std::to_string(total) + " kwargs " + e["kwargs"].dump());
    const int64_t warmup = tuna::hf_warmup_steps(e["warmup_steps"].get<double>(),
                                                 e["warmup_ratio"].get<double>(), total);
    EXPECT_EQ(warmup, e["resolved_warmup_steps"].get<int64_t>());
    const tuna::LrSchedule sched(type, e["learning_rate"].get<double>(), warmup, total,
                                 kwargs_of(e["kwargs"]));
    const auto& lrs = e["lrs"];
    for (size_t s = 0; s < lrs.size(); ++s)
      EXPECT_EQ(sched.lr(static_cast<int64_t>(s)), lrs[s].get<double>()) << "step " << s;
  }
  for (const std::string& name : tuna::supported_schedule_names())
    EXPECT_TRUE(types.count(name)) << name << " has no golden";
}

TEST(ScheduleGolden, BrokenWarmupRoundingMisses) {
  // Rounding the warmup ratio down (int() instead of math.ceil) must change a golden case.
  EXPECT_EQ(tuna::hf_warmup_steps(0, 0.1, 23), 3);
  EXPECT_NE(static_cast<int64_t>(23 * 0.1), 3);
}

TEST(Warmup, StepsRatioAndPrecedence) {
  EXPECT_EQ(tuna::hf_warmup_steps(0, 0.0, 100), 0);
  EXPECT_EQ(tuna::hf_warmup_steps(7, 0.5, 100), 7);     // warmup_steps wins
  EXPECT_EQ(tuna::hf_warmup_steps(0.05, 0.0, 101), 6);  // ratio in warmup_steps: ceil(5.05)
  EXPECT_EQ(tuna::hf_warmup_steps(0.1, 0.0, 30), 3);    // ceil(3.0000000000000004)? no: 30·0.1 = 3
  EXPECT_EQ(tuna::hf_warmup_steps(0, 0.03, 1000), 30);
  tuna_test::expect_user_error([] { tuna::hf_warmup_steps(2.5, 0, 10); }, {"2.5", "warmup_steps"});
  tuna_test::expect_user_error([] { tuna::hf_warmup_steps(-1, 0, 10); }, {"warmup_steps"});
  tuna_test::expect_user_error([] { tuna::hf_warmup_steps(0, 1.5, 10); }, {"warmup_ratio"});
}

TEST(Schedule, UserErrors) {
  tuna_test::expect_user_error([] { tuna::LrSchedule("cosine_annealing", 1e-4, 0, 10); },
                               {"unknown lr_scheduler_type 'cosine_annealing'", "linear"});
  tuna_test::expect_user_error([] { tuna::LrSchedule("reduce_lr_on_plateau", 1e-4, 0, 10); },
                               {"not supported"});
  tuna_test::expect_user_error([] { tuna::LrSchedule("linear", 1e-4, 0, 10, {.power = 2.0}); },
                               {"'power'", "linear"});
  tuna_test::expect_user_error([] { tuna::LrSchedule("polynomial", 1e-8, 0, 10); }, {"lr_end"});
  tuna_test::expect_user_error([] { tuna::LrSchedule("cosine_with_min_lr", 1e-4, 0, 10); },
                               {"min_lr"});
  tuna_test::expect_user_error(
      [] {
        tuna::LrSchedule("warmup_stable_decay", 1e-4, 0, 10,
                         {.num_decay_steps = 3, .decay_type = "exp"});
      },
      {"decay_type", "exp"});
}

}  // namespace
