// Whole-model training forward/backward against transformers + PEFT (tests/golden/train, made by
// tools/reference/make_train_goldens.py): LoRA loss and every lora_A/lora_B gradient (with and
// without Philox dropout), full fine-tuning loss and every parameter gradient, for each tiny
// golden family; deliberately broken variants (labels shifted twice, padding_idx ignored) must
// fail the same comparison.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <map>
#include <set>

#include "model/train_test_util.h"

namespace tuna {
namespace {

using namespace tuna_test;

constexpr double kTolerance = 1e-4;  // per tensor max|Δ| / max|ref| (DESIGN.md §8)

struct LoraDiff {
  double loss = 0.0, worst = 0.0;
  std::string worst_name;
};

// Runs the golden LoRA case on `model` and compares with the tensors `prefix`.<module>.dA/dB.
LoraDiff lora_vs_golden(const std::string& name, const Model& model, const TrainBatch& batch,
                        const StepOptions& base_opts, float dropout, const std::string& prefix,
                        double golden_loss) {
  SafetensorsFile f = SafetensorsFile::open(kTrainGolden + "/" + name + ".safetensors");
  std::vector<LoraAdapter> ads = golden_adapters(name, f, dropout);
  StepOptions opts = base_opts;
  const int64_t n = loss_tokens(batch);
  opts.grad_scale = 1.0f / static_cast<float>(n);
  const StepResult r = forward_backward(model, model.weights(), &ads, nullptr, batch, opts);
  LoraDiff d;
  d.loss = std::fabs(r.loss_sum / static_cast<double>(r.n_counted) - golden_loss) /
           std::fabs(golden_loss);
  for (const LoraAdapter& a : ads) {
    for (const auto& [grad, key] : {std::pair{&a.grad_a, ".dA"}, std::pair{&a.grad_b, ".dB"}}) {
      const Tensor want = f.tensor(prefix + a.module + key);
      EXPECT_EQ(grad->shape(), want.shape()) << a.module << key;
      const double e = rel_diff(grad->data<float>(), want.data<float>(), want.numel());
      if (!(e <= d.worst)) {
        d.worst = e;
        d.worst_name = a.module + key;
      }
    }
  }
  return d;
}

struct FullDiff {
  double loss = 0.0, worst = 0.0, worst_l2 = 0.0;
  std::string worst_name;
  std::set<std::string> slots;  // gradient slots tuna produced
};

FullDiff full_vs_golden(const std::string& name, const Model& model) {
  SafetensorsFile f = SafetensorsFile::open(kTrainGolden + "/" + name + ".safetensors");
  const nlohmann::json& golden = train_manifest()["models"][name]["full"];
  const TrainBatch batch = golden_batch(f);
  ModelWeights grads = make_weight_gradients(model.spec(), model.weights());
  const ModelWeights master = make_master_weights(model.spec(), model.weights(), grads);
  StepOptions opts;
  opts.grad_scale = 1.0f / static_cast<float>(golden["num_items_in_batch"].get<int64_t>());
  const StepResult r = forward_backward(model, master, nullptr, &grads, batch, opts);
  FullDiff d;
  const double want_loss = golden["loss"].get<double>();
  d.loss = std::fabs(r.loss_sum * opts.grad_scale - want_loss) / std::fabs(want_loss);
  std::map<std::string, const Tensor*> by_slot;
  for_each_weight_slot(grads, [&](const std::string& slot, const Tensor& t) {
    by_slot[slot] = &t;
    d.slots.insert(slot);
  });
  for (const auto& s : golden["slots"]) {
    const std::string slot = s["slot"].get<std::string>();
    if (!by_slot.count(slot)) {
      ADD_FAILURE() << name << ": no gradient for " << slot;
      continue;
    }
    const Tensor& g = *by_slot[slot];
    const float* pg = g.data<float>();
    double e = 0.0;
    if (f.contains("full." + slot)) {
      const Tensor want = f.tensor("full." + slot);
      EXPECT_EQ(g.numel(), want.numel()) << slot;
      e = rel_diff(pg, want.data<float>(), want.numel());
    } else {  // sampled: over the samples, relative to the full tensor's max|ref|
      const Tensor idx = f.tensor("full." + slot + ".idx"), val = f.tensor("full." + slot + ".val");
      for (int64_t i = 0; i < idx.numel(); ++i) {
        const double diff = std::fabs(pg[idx.data<int64_t>()[i]] - val.data<float>()[i]);
        if (!(diff <= e)) e = diff;
      }
      e /= s["max_abs"].get<double>();
    }
    double l2 = 0.0;
    for (int64_t i = 0; i < g.numel(); ++i) l2 += static_cast<double>(pg[i]) * pg[i];
    const double want_l2 = s["l2"].get<double>();
    const double el2 = std::fabs(std::sqrt(l2) - want_l2) / want_l2;
    d.worst_l2 = std::max(d.worst_l2, el2);
    if (!(e <= d.worst)) {
      d.worst = e;
      d.worst_name = slot;
    }
  }
  return d;
}

class TrainGolden : public ::testing::TestWithParam<std::string> {};

TEST_P(TrainGolden, LoraMatchesPeft) {
  const std::string name = GetParam();
  const nlohmann::json& golden = train_manifest()["models"][name];
  Model model = Model::load(kGoldenModels + "/" + name);
  SafetensorsFile f = SafetensorsFile::open(kTrainGolden + "/" + name + ".safetensors");
  const TrainBatch batch = golden_batch(f);
  EXPECT_EQ(loss_tokens(batch), golden["n_counted"].get<int64_t>());
  const LoraDiff d = lora_vs_golden(name, model, batch, StepOptions{}, 0.0f, "lora.",
                                    golden["lora"]["loss"].get<double>());
  std::printf("  %-18s LoRA: loss rel %.2g, worst grad %.2g (%s)\n", name.c_str(), d.loss, d.worst,
              d.worst_name.c_str());
  EXPECT_LE(d.loss, kTolerance);
  EXPECT_LE(d.worst, kTolerance) << d.worst_name;
}

TEST_P(TrainGolden, FullFineTuningMatchesTransformers) {
  const std::string name = GetParam();
  Model model = Model::load(kGoldenModels + "/" + name);
  const FullDiff d = full_vs_golden(name, model);
  std::printf("  %-18s full FT: loss rel %.2g, worst grad %.2g (%s), worst L2 rel %.2g\n",
              name.c_str(), d.loss, d.worst, d.worst_name.c_str(), d.worst_l2);
  EXPECT_LE(d.loss, kTolerance);
  EXPECT_LE(d.worst, kTolerance) << d.worst_name;
  EXPECT_LE(d.worst_l2, kTolerance);
  // Every parameter transformers trains, each once (tied embeddings: one gradient).
  const auto& slots = train_manifest()["models"][name]["full"]["slots"];
  EXPECT_EQ(d.slots.size(), slots.size());
}

INSTANTIATE_TEST_SUITE_P(Families, TrainGolden,
                         ::testing::Values("llama", "llama_linear_tied", "mistral", "qwen2",
                                           "qwen3", "gemma2", "gemma3", "gpt2"));

TEST(TrainGoldenDropout, LoraWithPhiloxMaskMatchesPeft) {
  const nlohmann::json& golden = train_manifest()["models"]["llama"]["lora_dropout"];
  Model model = Model::load(kGoldenModels + "/llama");
  SafetensorsFile f = SafetensorsFile::open(kTrainGolden + "/llama.safetensors");
  StepOptions opts;
  opts.seed = golden["seed"].get<uint64_t>();
  opts.step = golden["step"].get<uint64_t>();
  opts.micro = golden["micro"].get<uint64_t>();
  const LoraDiff d = lora_vs_golden("llama", model, golden_batch(f), opts, golden["p"].get<float>(),
                                    "dropout.", golden["loss"].get<double>());
  std::printf("  llama LoRA dropout %.2f: loss rel %.2g, worst grad %.2g (%s)\n",
              golden["p"].get<double>(), d.loss, d.worst, d.worst_name.c_str());
  EXPECT_LE(d.loss, kTolerance);
  EXPECT_LE(d.worst, kTolerance) << d.worst_name;
  // Another micro-batch index draws other masks: the gradients no longer match.
  opts.micro += 1;
  const LoraDiff other =
      lora_vs_golden("llama", model, golden_batch(f), opts, golden["p"].get<float>(), "dropout.",
                     golden["loss"].get<double>());
  EXPECT_GT(other.worst, 100 * kTolerance);
}

// Broken variant 1: labels shifted by the caller as well (the op already shifts: HF's labels).
TEST(TrainGoldenBroken, LabelsShiftedTwiceFail) {
  Model model = Model::load(kGoldenModels + "/llama");
  SafetensorsFile f = SafetensorsFile::open(kTrainGolden + "/llama.safetensors");
  TrainBatch batch = golden_batch(f);
  for (int64_t b = 0; b < batch.B; ++b)
    for (int64_t t = 0; t < batch.T; ++t) {
      const size_t i = static_cast<size_t>(b * batch.T + t);
      batch.labels[i] = t + 1 < batch.T ? batch.labels[i + 1] : kIgnoreIndex;
    }
  const LoraDiff d =
      lora_vs_golden("llama", model, batch, StepOptions{}, 0.0f, "lora.",
                     train_manifest()["models"]["llama"]["lora"]["loss"].get<double>());
  std::printf("  broken (labels shifted twice): loss rel %.2g, worst grad %.2g\n", d.loss, d.worst);
  EXPECT_GT(d.loss, 100 * kTolerance);
  EXPECT_GT(d.worst, 100 * kTolerance);
}

// Broken variant 2: the embedding's padding_idx ignored (Gemma 3 passes pad_token_id 0, and the
// golden batch has a real token equal to it): the embedding gradient must no longer match.
TEST(TrainGoldenBroken, PaddingIdxIgnoredFails) {
  const std::string dir = kGoldenModels + "/gemma3";
  ModelSpec spec = Model::load(dir).spec();
  ASSERT_EQ(spec.pad_id, 0);
  spec.pad_id = -1;
  Model broken = Model::load_with_spec(dir, spec);
  const FullDiff d = full_vs_golden("gemma3", broken);
  std::printf("  broken (padding_idx ignored): worst grad %.2g (%s)\n", d.worst,
              d.worst_name.c_str());
  EXPECT_EQ(d.worst_name, "embed");
  EXPECT_GT(d.worst, 100 * kTolerance);
}

}  // namespace
}  // namespace tuna
