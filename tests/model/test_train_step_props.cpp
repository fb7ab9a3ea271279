// Properties of the training forward/backward beyond the goldens: gradient checkpointing and the
// thread count change no bit of the loss or of any gradient; gradient accumulation over two
// micro-batches with the whole-batch normaliser equals one batch of both; finite differences of
// the whole-model loss agree with LoRA and base-weight gradients; evaluation mode leaves
// gradients alone.
#include <gtest/gtest.h>

#include <cstring>
#include <functional>
#include <set>

#include "core/error.h"
#include "model/quantize_base.h"
#include "model/train_test_util.h"
#include "ops/grad_check_util.h"

namespace tuna {
namespace {

using namespace tuna_test;

// Everything trainable at once: LoRA (with dropout) on every projection plus every base weight.
struct Everything {
  Model model;
  TrainBatch batch;
  std::vector<LoraAdapter> ads;
  ModelWeights grads, master;

  explicit Everything(const std::string& name, float dropout = 0.1f)
      : model(Model::load(kGoldenModels + "/" + name)) {
    SafetensorsFile f = SafetensorsFile::open(kTrainGolden + "/" + name + ".safetensors");
    batch = golden_batch(f);
    ads = golden_adapters(name, f, dropout);
    grads = make_weight_gradients(model.spec(), model.weights());
    master = make_master_weights(model.spec(), model.weights(), grads);
  }
  void zero() {
    zero_weight_gradients(grads);
    for (LoraAdapter& a : ads) {
      std::memset(a.grad_a.raw_mut(), 0, a.grad_a.nbytes());
      std::memset(a.grad_b.raw_mut(), 0, a.grad_b.nbytes());
    }
  }
  // Loss sum followed by every gradient.
  std::vector<std::vector<float>> run(const TrainBatch& b, StepOptions opts) {
    zero();
    const StepResult r = forward_backward(model, master, &ads, &grads, b, opts);
    std::vector<std::vector<float>> out = all_gradients(ads, &grads);
    out.push_back({static_cast<float>(r.loss_sum), static_cast<float>(r.n_correct)});
    return out;
  }
};

StepOptions dropout_options(const TrainBatch& b) {
  StepOptions o;
  o.grad_scale = 1.0f / static_cast<float>(loss_tokens(b));
  o.seed = 7;
  o.step = 11;
  o.micro = 2;
  return o;
}

void expect_bitwise_equal(const std::vector<std::vector<float>>& x,
                          const std::vector<std::vector<float>>& y, const char* what) {
  ASSERT_EQ(x.size(), y.size());
  for (size_t k = 0; k < x.size(); ++k) {
    ASSERT_EQ(x[k].size(), y[k].size());
    EXPECT_EQ(std::memcmp(x[k].data(), y[k].data(), x[k].size() * sizeof(float)), 0)
        << "buffer " << k << " differs " << what;
  }
}

class TrainProps : public ::testing::TestWithParam<std::string> {};

TEST_P(TrainProps, GradientCheckpointingIsBitIdentical) {
  Everything e(GetParam());
  StepOptions opts = dropout_options(e.batch);
  const auto plain = e.run(e.batch, opts);
  opts.gradient_checkpointing = true;
  const auto ckpt = e.run(e.batch, opts);
  expect_bitwise_equal(plain, ckpt, "with gradient checkpointing");
}

TEST_P(TrainProps, OneAndTwoThreadsAreBitIdentical) {
  Everything e(GetParam());
  const StepOptions opts = dropout_options(e.batch);
  expect_thread_invariant([&] { return e.run(e.batch, opts); });
}

// Two micro-batches (one row each) with grad_scale = 1 / tokens of both == one batch of both.
TEST_P(TrainProps, AccumulationEqualsWholeBatch) {
  Everything e(GetParam(), 0.0f);
  StepOptions opts;
  opts.grad_scale = 1.0f / static_cast<float>(loss_tokens(e.batch));
  const auto whole = e.run(e.batch, opts);
  e.zero();
  double loss = 0.0;
  for (int64_t row = 0; row < 2; ++row) {
    opts.micro = static_cast<uint64_t>(row);
    loss += forward_backward(e.model, e.master, &e.ads, &e.grads, batch_rows(e.batch, row, row + 1),
                             opts)
                .loss_sum;
  }
  const auto accumulated = all_gradients(e.ads, &e.grads);
  double worst = 0.0;
  for (size_t k = 0; k < accumulated.size(); ++k)
    worst = std::max(worst, rel_diff(accumulated[k].data(), whole[k].data(),
                                     static_cast<int64_t>(whole[k].size())));
  std::printf("  %s accumulation vs whole batch: worst grad rel %.2g, loss %.9g vs %.9g\n",
              GetParam().c_str(), worst, loss, static_cast<double>(whole.back()[0]));
  EXPECT_LE(worst, 1e-5);
  EXPECT_NEAR(loss, whole.back()[0], 1e-5 * loss);
}

INSTANTIATE_TEST_SUITE_P(Families, TrainProps,
                         ::testing::Values("llama_linear_tied", "qwen3", "gemma2", "gemma3",
                                           "gpt2"));

// Finite differences of the mean loss w.r.t. LoRA entries (A and B of several linears) and a few
// base weights, through the whole model. The whole-model loss passes through far more F32 ops
// than one op, so its rounding noise in the central difference is larger: tolerance 2·kGradTol
// (observed ≤ 1.3e-3; a wrong term gives ≥ 1e-2, see grad_check_util.h).
constexpr double kModelFdTol = 2 * kGradTol;

TEST(TrainFiniteDifference, LossGradientMatchesFiniteDifferences) {
  for (const std::string name : {"llama", "gemma3", "gpt2"}) {
    Everything e(name, 0.0f);
    const int64_t n = loss_tokens(e.batch);
    StepOptions opts;
    opts.grad_scale = 1.0f / static_cast<float>(n);
    e.run(e.batch, opts);
    StepOptions eval = opts;
    eval.backward = false;
    auto loss = [&] {
      return forward_backward(e.model, e.master, &e.ads, nullptr, e.batch, eval).loss_sum /
             static_cast<double>(n);
    };
    for (size_t i : {size_t{0}, e.ads.size() / 2, e.ads.size() - 1}) {
      LoraAdapter& a = e.ads[i];
      EXPECT_LE(fd_relative_error(loss, a.a.data_mut<float>(), a.a.numel(),
                                  a.grad_a.to_f32_vector(), kFdStep, 24),
                kModelFdTol)
          << name << " " << a.module << " A";
      EXPECT_LE(fd_relative_error(loss, a.b.data_mut<float>(), a.b.numel(),
                                  a.grad_b.to_f32_vector(), kFdStep, 24),
                kModelFdTol)
          << name << " " << a.module << " B";
    }
    for (auto [w, g] : {std::pair{&e.master.final_norm, &e.grads.final_norm},
                        std::pair{&e.master.layers[0].attn_norm, &e.grads.layers[0].attn_norm}}) {
      EXPECT_LE(fd_relative_error(loss, w->data_mut<float>(), w->numel(), g->to_f32_vector(),
                                  kFdStep, 16),
                kModelFdTol)
          << name << " norm weight";
    }
  }
}

// backward = false: the same loss, no gradient touched, no dropout.
TEST(TrainStep, EvaluationModeLeavesGradientsAlone) {
  Everything e("gemma3", 0.0f);
  StepOptions opts = dropout_options(e.batch);
  const auto trained = e.run(e.batch, opts);
  e.zero();
  opts.backward = false;
  const StepResult r = forward_backward(e.model, e.master, &e.ads, &e.grads, e.batch, opts);
  EXPECT_EQ(static_cast<float>(r.loss_sum), trained.back()[0]);
  for (const auto& g : all_gradients(e.ads, &e.grads))
    for (float v : g) ASSERT_EQ(v, 0.0f);
}

TEST(TrainStep, DropoutStreamsAreDistinct) {
  std::set<uint64_t> seen;
  for (uint64_t step : {0u, 1u, 4095u})
    for (uint64_t micro : {0u, 1u, 7u})
      for (int64_t layer : {0, 1, 33})
        for (int t = 0; t < 8; ++t)
          EXPECT_TRUE(
              seen.insert(lora_dropout_stream(step, micro, layer, static_cast<LoraTarget>(t)))
                  .second);
}

void expect_user_error(const std::function<void()>& fn) {
  try {
    fn();
    ADD_FAILURE() << "no error";
  } catch (const Error& err) {
    EXPECT_EQ(err.kind(), ErrorKind::USER) << err.what();
  }
}

TEST(TrainStep, BadInputIsAUserError) {
  Everything e("llama", 0.0f);
  TrainBatch bad = e.batch;
  bad.labels.pop_back();
  expect_user_error([&] { forward_backward(e.model, e.master, &e.ads, &e.grads, bad, {}); });
  std::vector<LoraAdapter> wrong = e.ads;
  wrong[0].layer = 99;
  expect_user_error([&] { forward_backward(e.model, e.master, &wrong, nullptr, e.batch, {}); });
}

// QLoRA: LoRA over an NF4 base (load_in_4bit) gives the gradients of LoRA over an F32 base holding
// the same dequantized values (the linears dequantize tiles on the fly; nothing else changes).
TEST(TrainStep, LoraOverNf4BaseMatchesDequantizedBase) {
  Model model = Model::load(kGoldenModels + "/llama");
  Bnb4bitConfig config;
  config.params.type = Bnb4Type::NF4;
  model.quantize_base_4bit(config);
  ASSERT_EQ(model.weights().layers[0].q.dtype(), DType::NF4);
  SafetensorsFile f = SafetensorsFile::open(kTrainGolden + "/llama.safetensors");
  const TrainBatch batch = golden_batch(f);
  const ModelWeights linears =
      make_weight_gradients(model.spec(), model.weights(), [](const std::string& slot) {
        for (const char* l : {".q", ".k", ".v", ".o", ".gate", ".up", ".down"})
          if (slot.find('.') != std::string::npos && slot.substr(slot.rfind('.')) == l) return true;
        return false;
      });
  const ModelWeights dequantized = make_master_weights(model.spec(), model.weights(), linears);
  ASSERT_EQ(dequantized.layers[0].q.dtype(), DType::F32);
  StepOptions opts;
  opts.grad_scale = 1.0f / static_cast<float>(loss_tokens(batch));
  std::vector<LoraAdapter> on_nf4 = golden_adapters("llama", f), on_f32 = on_nf4;
  for (LoraAdapter& a : on_f32) {
    a.grad_a = a.grad_a.copy();
    a.grad_b = a.grad_b.copy();
  }
  const StepResult r4 = forward_backward(model, model.weights(), &on_nf4, nullptr, batch, opts);
  const StepResult r32 = forward_backward(model, dequantized, &on_f32, nullptr, batch, opts);
  EXPECT_NEAR(r4.loss_sum, r32.loss_sum, 1e-5 * r32.loss_sum);
  const auto g4 = all_gradients(on_nf4, nullptr), g32 = all_gradients(on_f32, nullptr);
  double worst = 0.0;
  for (size_t k = 0; k < g4.size(); ++k)
    worst =
        std::max(worst, rel_diff(g4[k].data(), g32[k].data(), static_cast<int64_t>(g32[k].size())));
  std::printf("  NF4 base vs dequantized F32 base: worst LoRA grad rel %.2g\n", worst);
  EXPECT_LE(worst, 1e-5);
}

}  // namespace
}  // namespace tuna
