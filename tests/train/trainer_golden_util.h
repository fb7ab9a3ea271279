// Shared helpers of the Trainer parity tests (test_trainer_parity.cpp against tests/golden/trainer,
// test_trainer_bf16_parity.cpp against tests/golden/trainer_bf16): tuna's Trainer run the way the
// golden's Hugging Face Trainer ran (same initial adapter, rows, order, arguments), optionally
// with BF16 matrix products, and the final-adapter comparison. Test-only.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "lora/adapter_io.h"
#include "model/model.h"
#include "model/train_step.h"
#include "ops/gemm_bf16.h"
#include "test_util.h"
#include "train/trainer.h"

namespace tuna_test {

inline const std::string kTrainerModels = std::string(TUNA_GOLDEN_DIR) + "/models/";

struct TrainRun {
  std::vector<tuna::StepLog> logs;
  std::vector<tuna::LoraAdapter> adapters;
};

// tuna's Trainer over `golden_dir + name`'s data.json from its init/ adapter with the arguments of
// its curve.json. bf16: every forward/backward runs under Bf16MatmulScope(true) — made inside the
// gradient function because the scope belongs to the thread that runs forward_backward.
inline TrainRun train_like_hf(const std::string& golden_dir, const std::string& name,
                              bool bf16 = false) {
  using nlohmann::json;
  using namespace tuna;
  json curve = json::parse(read_file(golden_dir + name + "/curve.json"));
  json data = json::parse(read_file(golden_dir + name + "/data.json"));
  const json& a = curve["args"];
  const std::string model_name = curve["model"];
  Model model = Model::load(kTrainerModels + model_name);
  TrainRun run;
  run.adapters = load_peft_adapter(golden_dir + name + "/init", model).adapters;
  std::vector<TrainRow> rows;
  for (const json& r : data)
    rows.push_back(
        {r["input_ids"].get<std::vector<int32_t>>(), r["labels"].get<std::vector<int32_t>>()});
  TrainerArgs args;
  args.per_device_train_batch_size = a["per_device_train_batch_size"];
  args.gradient_accumulation_steps = a["gradient_accumulation_steps"];
  args.max_steps = a["max_steps"];
  if (a.contains("num_train_epochs")) args.num_train_epochs = a["num_train_epochs"];
  args.learning_rate = a["learning_rate"];
  args.lr_scheduler_type = a["lr_scheduler_type"];
  args.warmup_steps = a["warmup_steps"];
  args.max_grad_norm = a["max_grad_norm"];
  args.optim = a["optim"];
  args.optimizer.weight_decay = a["weight_decay"];
  std::vector<TrainableParam> params;
  for (LoraAdapter& ad : run.adapters) {  // PEFT's parameter order: per module, A then B
    params.push_back({ad.module + ".lora_A.weight", ad.a, ad.grad_a, true});
    params.push_back({ad.module + ".lora_B.weight", ad.b, ad.grad_b, true});
  }
  Trainer trainer(
      args, params, [&](const MicroBatch& mb, float grad_scale, int64_t step, int micro) {
        const Bf16MatmulScope precision(bf16);
        StepOptions o;
        o.grad_scale = grad_scale;
        o.step = static_cast<uint64_t>(step);
        o.micro = static_cast<uint64_t>(micro);
        StepResult r =
            forward_backward(model, model.weights(), &run.adapters, nullptr, to_train_batch(mb), o);
        return MicroStats{r.loss_sum, r.n_counted, r.n_correct};
      });
  run.logs = trainer.train(rows);
  return run;
}

// The worst over the adapters' A and B tensors of max|got − ref| / max|ref|.
inline double worst_adapter_difference(const std::vector<tuna::LoraAdapter>& got,
                                       const std::vector<tuna::LoraAdapter>& ref) {
  EXPECT_EQ(got.size(), ref.size());
  double worst = 0;
  for (size_t i = 0; i < std::min(got.size(), ref.size()); ++i) {
    EXPECT_EQ(got[i].module, ref[i].module);
    for (int which = 0; which < 2; ++which) {
      const tuna::Tensor& r = which == 0 ? ref[i].a : ref[i].b;
      const tuna::Tensor& g = which == 0 ? got[i].a : got[i].b;
      double md = 0, mr = 0;
      for (int64_t k = 0; k < r.numel(); ++k) {
        md = std::max(md, static_cast<double>(std::abs(g.data<float>()[k] - r.data<float>()[k])));
        mr = std::max(mr, static_cast<double>(std::abs(r.data<float>()[k])));
      }
      worst = std::max(worst, md / mr);
    }
  }
  return worst;
}

}  // namespace tuna_test
