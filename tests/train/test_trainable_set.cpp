// What `tuna train` trains besides plain LoRA, against the Hugging Face Trainer
// (tests/golden/fullft, made by tools/reference/make_fullft_goldens.py): full fine-tuning
// (use_peft: false) of the tiny llama and gemma3 (tied), PEFT LoRA + modules_to_save=[lm_head]
// and LoRA + bias="all" (also with modules_to_save=[v_proj], a saved module with its own bias),
// started from PEFT's own initial adapter through `adapter:`. Same data order and arguments;
// every step's loss and grad norm and the final weights must match, and
// print_trainable_parameters' counts must be PEFT's. The saved full model reloads with the
// trained weights and transformers' tensor names.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "io/safetensors.h"
#include "lora/adapter_io.h"
#include "model/model.h"
#include "export/save_hf_model.h"
#include "model/train_step.h"
#include "test_util.h"
#include "train/config.h"
#include "train/trainable_set.h"
#include "train/trainer.h"

namespace tuna {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
const std::string kGolden = std::string(TUNA_GOLDEN_DIR) + "/fullft/";
const std::string kModels = std::string(TUNA_GOLDEN_DIR) + "/models/";

struct TrainedRun {
  Model model;
  TrainableSet set;
  std::vector<StepLog> logs;
  std::vector<TrainRow> rows;
};

TrainConfig config_for(const std::string& name, const std::string& extra = "") {
  json curve = json::parse(tuna_test::read_file(kGolden + name + "/curve.json"));
  std::string yaml = "model: " + kModels + curve["model"].get<std::string>() + "\n";
  if (curve["lora"].is_null())
    yaml += "use_peft: false\n";
  else
    yaml += "adapter: " + kGolden + name + "/init\n";
  return parse_train_config(yaml + extra, name + ".yaml");
}

TrainedRun train_like_hf(const std::string& name) {
  json curve = json::parse(tuna_test::read_file(kGolden + name + "/curve.json"));
  json data = json::parse(tuna_test::read_file(kGolden + name + "/data.json"));
  const json& a = curve["args"];
  TrainedRun run{Model::load(kModels + curve["model"].get<std::string>()), {}, {}, {}};
  run.set = make_trainable_set(config_for(name), run.model, "m");
  for (const json& r : data)
    run.rows.push_back(
        {r["input_ids"].get<std::vector<int32_t>>(), r["labels"].get<std::vector<int32_t>>()});
  TrainerArgs args;
  args.per_device_train_batch_size = a["per_device_train_batch_size"];
  args.gradient_accumulation_steps = a["gradient_accumulation_steps"];
  args.max_steps = a["max_steps"];
  args.learning_rate = a["learning_rate"];
  args.lr_scheduler_type = a["lr_scheduler_type"];
  args.warmup_steps = a["warmup_steps"];
  args.max_grad_norm = a["max_grad_norm"];
  args.optim = a["optim"];
  args.optimizer.weight_decay = a["weight_decay"];
  TrainableSet& ts = run.set;
  Trainer trainer(args, ts.params, [&](const MicroBatch& mb, float scale, int64_t step, int micro) {
    StepOptions o;
    o.grad_scale = scale;
    o.step = static_cast<uint64_t>(step);
    o.micro = static_cast<uint64_t>(micro);
    StepResult r = forward_backward(run.model, ts.weights, &ts.adapters,
                                    ts.base_trainable ? &ts.grads : nullptr, to_train_batch(mb), o);
    return MicroStats{r.loss_sum, r.n_counted, r.n_correct};
  });
  run.logs = trainer.train(run.rows);
  return run;
}

double rel_diff(const Tensor& got, const Tensor& ref) {
  const Tensor g = got.to_f32(), r = ref.to_f32();
  EXPECT_EQ(g.shape(), r.shape());
  double md = 0, mr = 0;
  for (int64_t k = 0; k < r.numel(); ++k) {
    md = std::max(md, static_cast<double>(std::abs(g.data<float>()[k] - r.data<float>()[k])));
    mr = std::max(mr, static_cast<double>(std::abs(r.data<float>()[k])));
  }
  return mr > 0 ? md / mr : md;
}

// Mean loss of the rows through forward_backward (no backward) with `weights`.
double eval_loss(const Model& model, const ModelWeights& weights, std::vector<LoraAdapter>* ad,
                 const std::vector<TrainRow>& rows) {
  double loss = 0;
  int64_t n = 0;
  for (size_t i = 0; i < rows.size(); i += 4) {
    MicroBatch mb = collate(rows, i, std::min<size_t>(4, rows.size() - i), 0);
    StepOptions o;
    o.backward = false;
    StepResult r = forward_backward(model, weights, ad, nullptr, to_train_batch(mb), o);
    loss += r.loss_sum;
    n += r.n_counted;
  }
  return loss / static_cast<double>(n);
}

class FullFtParity : public ::testing::TestWithParam<std::string> {};

TEST_P(FullFtParity, MatchesHfTrainer) {
  const std::string name = GetParam();
  json curve = json::parse(tuna_test::read_file(kGolden + name + "/curve.json"));
  TrainedRun run = train_like_hf(name);
  EXPECT_EQ(run.set.trainable_parameters, curve["trainable"].get<int64_t>());
  EXPECT_EQ(run.set.trainable_line, trainable_parameters_line({curve["trainable"].get<int64_t>(),
                                                               curve["all"].get<int64_t>()}))
      << "print_trainable_parameters";
  const json& steps = curve["steps"];
  ASSERT_EQ(run.logs.size(), steps.size());
  double worst_loss = 0, worst_norm = 0;
  for (size_t i = 0; i < steps.size(); ++i) {
    const double loss = steps[i]["loss"], norm = steps[i]["grad_norm"];
    EXPECT_EQ(run.logs[i].num_items_in_batch, steps[i]["num_items_in_batch"].get<int64_t>()) << i;
    EXPECT_NEAR(run.logs[i].lr_used, steps[i]["lr"].get<double>(), 1e-12) << "step " << i;
    worst_loss = std::max(worst_loss, std::abs(run.logs[i].loss - loss) / std::abs(loss));
    worst_norm = std::max(worst_norm, std::abs(run.logs[i].grad_norm - norm) / std::abs(norm));
  }
  EXPECT_LE(worst_loss, 1e-4) << "per-step relative loss difference";
  EXPECT_LE(worst_norm, 1e-4) << "per-step relative grad-norm difference";

  // Final weights: every tensor the reference saved, under the name tuna saves it.
  const fs::path out = fs::temp_directory_path() / ("tuna_fullft_" + name);
  fs::remove_all(out);
  run.set.save(out.string(), run.model);
  double worst_w = 0;
  size_t compared = 0;
  if (run.set.full) {
    const SafetensorsFile ref = SafetensorsFile::open(kGolden + name + "/final/model.safetensors");
    const SafetensorsFile got = SafetensorsFile::open((out / "model.safetensors").string());
    std::vector<std::string> ref_names = ref.names(), got_names = got.names();
    std::sort(ref_names.begin(), ref_names.end());
    std::sort(got_names.begin(), got_names.end());
    EXPECT_EQ(got_names, ref_names) << "transformers' tensor names";
    for (const std::string& n : ref_names) {
      if (!got.contains(n)) continue;
      worst_w = std::max(worst_w, rel_diff(got.tensor(n), ref.tensor(n)));
      ++compared;
    }
    // Reloaded from the saved directory: the same model, bit for bit.
    Model again = Model::load(out.string());
    EXPECT_EQ(eval_loss(again, again.weights(), nullptr, run.rows),
              eval_loss(run.model, run.set.weights, nullptr, run.rows));
    EXPECT_TRUE(fs::exists(out / "config.json"));
    EXPECT_TRUE(fs::exists(out / "generation_config.json"));
  } else {
    const SafetensorsFile ref =
        SafetensorsFile::open(kGolden + name + "/final/adapter_model.safetensors");
    const SafetensorsFile got = SafetensorsFile::open((out / "adapter_model.safetensors").string());
    std::vector<std::string> ref_names = ref.names(), got_names = got.names();
    std::sort(ref_names.begin(), ref_names.end());
    std::sort(got_names.begin(), got_names.end());
    EXPECT_EQ(got_names, ref_names) << "PEFT's adapter keys";
    for (const std::string& n : ref_names) {
      if (!got.contains(n)) continue;
      // A k_proj bias adds q·b to every score of a query row: softmax cancels it, so its exact
      // gradient is zero and AdamW normalises float rounding noise (~1e-9) into full-size steps
      // whose signs are arbitrary in both implementations. Its trajectory is not comparable.
      if (n.find("k_proj.base_layer.bias") != std::string::npos) continue;
      const double d = rel_diff(got.tensor(n), ref.tensor(n));
      if (std::getenv("TUNA_DEBUG")) std::printf("  %s %.2e\n", n.c_str(), d);
      worst_w = std::max(worst_w, d);
      ++compared;
    }
  }
  EXPECT_GT(compared, 0u);
  EXPECT_LE(worst_w, 1e-4) << "final weights";
  std::printf("[%s] worst relative: loss %.2e, grad_norm %.2e, final weights %.2e (%zu tensors)\n",
              name.c_str(), worst_loss, worst_norm, worst_w, compared);
  fs::remove_all(out);
}

INSTANTIATE_TEST_SUITE_P(Goldens, FullFtParity,
                         ::testing::Values("full_llama", "full_gemma3", "mts_llama", "bias_qwen2",
                                           "mts_bias_qwen2"));

// Full fine-tuning's final model is written in the dtype save_pretrained would use after
// transformers loaded the base with the config's torch_dtype ("auto": the base's own dtype;
// unset: float32, transformers 4.57's default);
// checkpoints keep the F32 masters. BF16/F16 are the masters rounded to nearest even.
TEST(TrainableSet, FullSaveDtypeFollowsTorchDtype) {
  Model llama = Model::load(kModels + "llama");  // config dtype float32
  Model qwen2 = Model::load(kModels + "qwen2");  // config dtype bfloat16
  const std::string full = "use_peft: false\n";
  auto set_for = [&](const Model& m, const std::string& extra) {
    return make_trainable_set(parse_train_config("model: m\n" + full + extra, "t.yaml"), m, "m");
  };
  EXPECT_EQ(set_for(llama, "").save_dtype, DType::F32);
  EXPECT_EQ(set_for(qwen2, "").save_dtype, DType::F32);  // unset: transformers loads float32
  EXPECT_EQ(set_for(llama, "torch_dtype: auto\n").save_dtype, DType::F32);
  EXPECT_EQ(set_for(qwen2, "torch_dtype: auto\n").save_dtype, DType::BF16);
  EXPECT_EQ(set_for(qwen2, "torch_dtype: float32\n").save_dtype, DType::F32);
  EXPECT_EQ(set_for(llama, "torch_dtype: float16\n").save_dtype, DType::F16);

  TrainableSet set = set_for(llama, "torch_dtype: bfloat16\n");
  const fs::path out = fs::temp_directory_path() / "tuna_fullft_bf16";
  fs::remove_all(out);
  set.save((out / "final").string(), llama, true);
  set.save((out / "checkpoint").string(), llama);
  const SafetensorsFile fin = SafetensorsFile::open((out / "final/model.safetensors").string());
  const SafetensorsFile ckpt =
      SafetensorsFile::open((out / "checkpoint/model.safetensors").string());
  const Tensor master = set.weights.layers[0].q;
  const Tensor saved = fin.tensor("model.layers.0.self_attn.q_proj.weight");
  ASSERT_EQ(saved.dtype(), DType::BF16);
  ASSERT_EQ(saved.numel(), master.numel());
  for (int64_t i = 0; i < master.numel(); ++i)
    ASSERT_EQ(saved.data<uint16_t>()[i], f32_to_bf16(master.data<float>()[i])) << i;
  EXPECT_EQ(ckpt.tensor("model.layers.0.self_attn.q_proj.weight").dtype(), DType::F32);
  EXPECT_EQ(json::parse(tuna_test::read_file((out / "final/config.json").string()))["dtype"],
            "bfloat16");
  EXPECT_EQ(json::parse(tuna_test::read_file((out / "checkpoint/config.json").string()))["dtype"],
            "float32");
  EXPECT_EQ(Model::load((out / "final").string()).spec().torch_dtype, "bfloat16");
  fs::remove_all(out);
}

TEST(TrainableSet, ConfigConflictsAreUserErrors) {
  Model model = Model::load(kModels + "llama");
  tuna_test::expect_user_error(
      [&] { make_trainable_set(config_for("full_llama", "r: 16\n"), model, "m"); },
      {"LoRA keys are set: r"});
  tuna_test::expect_user_error(
      [&] { make_trainable_set(config_for("full_llama", "load_in_4bit: true\n"), model, "m"); },
      {"load_in_4bit with use_peft: false"});
  // An adapter start uses the adapter's own config; a contradicting lora key is refused.
  tuna_test::expect_user_error(
      [&] { make_trainable_set(config_for("mts_llama", "r: 16\n"), model, "m"); },
      {"was made with r 4"});
  TrainableSet same = make_trainable_set(config_for("mts_llama", "r: 4\n"), model, "m");
  EXPECT_EQ(same.lora.config.r, 4);
  // modules_to_save on a tied head: PEFT would untie it; tuna refuses.
  Model tied = Model::load(kModels + "gemma3");
  tuna_test::expect_user_error(
      [&] {
        make_trainable_set(parse_train_config("modules_to_save: [lm_head]\n", "t.yaml"), tied, "m");
      },
      {"tied to the input embedding"});
}

}  // namespace
}  // namespace tuna
