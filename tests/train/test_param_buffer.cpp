// The flat trainable storage (train/param_buffer.h): every trainable value and gradient of a
// TrainableSet is a view into one flat buffer each, so writing through a LoRA tensor, a weight
// slot or a modules_to_save copy writes the buffer; flattening copies exactly and adopts
// buffers that are already flat (full fine-tuning's masters and gradients); the memory estimate
// counts what the buffers hold; and the optimizer's multi-tensor update over the flat buffers is
// bit-identical to its tensor-by-tensor update, optimizer.safetensors included.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>

#include "io/safetensors.h"
#include "model/model.h"
#include "model/train_step.h"
#include "test_util.h"
#include "train/config.h"
#include "train/memory_estimate.h"
#include "train/param_buffer.h"
#include "train/trainable_set.h"

namespace tuna {
namespace {

const std::string kModels = std::string(TUNA_GOLDEN_DIR) + "/models/";

// Every param's value and grad is the view at its offset in the set's flat buffers.
void expect_views_of_buffer(const TrainableSet& set) {
  ASSERT_TRUE(set.buffer.values().defined());
  const auto* values = static_cast<const char*>(set.buffer.values().raw());
  const auto* grads = static_cast<const char*>(set.buffer.grads().raw());
  int64_t offset = 0;
  for (const TrainableParam& p : set.params) {
    EXPECT_EQ(p.param.raw(), values + offset * 4) << p.name;
    EXPECT_EQ(p.grad.raw(), grads + offset * 4) << p.name;
    EXPECT_FALSE(p.param.is_view()) << p.name;
    offset += p.param.numel();
  }
  EXPECT_EQ(offset, set.buffer.numel());
}

float& at(const Tensor& buffer, const Tensor& view, int64_t j) {
  const int64_t offset =
      (static_cast<const char*>(view.raw()) - static_cast<const char*>(buffer.raw())) / 4;
  return const_cast<float*>(buffer.data<float>())[offset + j];
}

TEST(ParamBuffer, LoraAndModulesToSaveAreViewsOfOneBuffer) {
  Model model = Model::load(kModels + "llama");
  TrainableSet set = make_trainable_set(
      parse_train_config("model: m\nr: 4\nmodules_to_save: [lm_head]\n", "t.yaml"), model, "m");
  expect_views_of_buffer(set);
  ASSERT_FALSE(set.adapters.empty());
  // The trainer's adapter table, the LoraSet (what is saved) and the optimizer's params share
  // the buffer: a write through one is seen by all.
  LoraAdapter& ad = set.adapters[1];
  const LoraAdapter& saved = set.lora.adapters[1];
  ASSERT_EQ(ad.module, saved.module);
  EXPECT_EQ(ad.a.raw(), saved.a.raw());
  ad.a.data_mut<float>()[3] = 42.0f;
  EXPECT_EQ(at(set.buffer.values(), ad.a, 3), 42.0f);
  EXPECT_EQ(saved.a.data<float>()[3], 42.0f);
  ad.grad_b.data_mut<float>()[0] = -7.0f;
  EXPECT_EQ(at(set.buffer.grads(), ad.grad_b, 0), -7.0f);
  // modules_to_save: the forward's lm_head slot, the saved copy and the gradient slot.
  ASSERT_EQ(set.lora.saved.size(), 1u);
  EXPECT_EQ(set.weights.lm_head.raw(), set.lora.saved[0].weight.raw());
  EXPECT_EQ(set.params.back().param.raw(), set.weights.lm_head.raw());
  EXPECT_EQ(set.params.back().grad.raw(), set.grads.lm_head.raw());
  // The copy kept the model's values exactly.
  EXPECT_EQ(set.weights.lm_head.to_f32_vector(), model.weights().lm_head.to_f32_vector());
  // The memory estimate counts exactly the flat buffers the set allocated (+ AdamW's 8 B/param).
  int64_t base = 0;
  for_each_weight_slot(set.grads, [&](const std::string&, const Tensor& g) { base += g.numel(); });
  const MemoryEstimate e = estimate_training_memory(model, set.adapters, 16, false, 8.0, base);
  EXPECT_EQ(e.trainable,
            static_cast<int64_t>(set.buffer.values().nbytes() + set.buffer.grads().nbytes()) +
                8 * set.buffer.numel());
}

TEST(ParamBuffer, TrainableBiasesAreViews) {
  Model model = Model::load(kModels + "qwen2");
  TrainableSet set =
      make_trainable_set(parse_train_config("model: m\nbias: all\n", "t.yaml"), model, "m");
  expect_views_of_buffer(set);
  ASSERT_FALSE(set.lora.biases.empty());
  const Tensor& bias = set.lora.biases.front().second;
  bool found = false;
  for (const TrainableParam& p : set.params) found = found || p.param.raw() == bias.raw();
  EXPECT_TRUE(found);
}

TEST(ParamBuffer, FullFineTuningAdoptsTheMastersAsAllocated) {
  Model model = Model::load(kModels + "llama");
  TrainableSet set =
      make_trainable_set(parse_train_config("model: m\nuse_peft: false\n", "t.yaml"), model, "m");
  expect_views_of_buffer(set);
  EXPECT_EQ(set.buffer.values().raw(), set.weights.embed.raw());  // no second copy
  EXPECT_EQ(set.buffer.grads().raw(), set.grads.embed.raw());
  set.weights.layers[1].q.data_mut<float>()[5] = 0.5f;
  EXPECT_EQ(at(set.buffer.values(), set.weights.layers[1].q, 5), 0.5f);
}

// Mixed sizes (empty, below/above the 8-lane body, several update chunks) and decay groups.
std::vector<TrainableParam> random_params(uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<TrainableParam> ps;
  const std::vector<Shape> shapes = {{3, 5}, {7}, {64, 9}, {1}, {20000, 2}, {0}, {130, 130}};
  for (size_t i = 0; i < shapes.size(); ++i) {
    TrainableParam p;
    p.name = "t" + std::to_string(i);
    p.param = Tensor::empty(shapes[i], DType::F32);
    p.grad = Tensor::zeros(shapes[i], DType::F32);
    for (int64_t j = 0; j < p.param.numel(); ++j) p.param.data_mut<float>()[j] = u(rng);
    p.apply_weight_decay = rng() % 2 == 0;
    ps.push_back(p);
  }
  return ps;
}

std::vector<Tensor*> no_aliases() {
  return {};
}

TEST(ParamBuffer, FlattenCopiesExactlyAndRepointsAliases) {
  std::vector<TrainableParam> ps = random_params(1);
  const std::vector<TrainableParam> before = random_params(1);
  Tensor alias = ps[2].param;  // e.g. a LoRA adapter's handle
  Tensor grad_alias = ps[4].grad;
  const ParamBuffer buf = ParamBuffer::flatten(ps, {&alias, &grad_alias});
  EXPECT_EQ(buf.numel(), 15 + 7 + 576 + 1 + 40000 + 0 + 16900);
  EXPECT_EQ(buf.values().nbytes(), static_cast<size_t>(param_buffer_bytes(buf.numel()).values));
  for (size_t i = 0; i < ps.size(); ++i) {
    EXPECT_EQ(ps[i].param.shape(), before[i].param.shape());
    EXPECT_EQ(ps[i].param.to_f32_vector(), before[i].param.to_f32_vector());
  }
  EXPECT_EQ(alias.raw(), ps[2].param.raw());
  EXPECT_EQ(alias.shape(), ps[2].param.shape());
  EXPECT_EQ(grad_alias.raw(), ps[4].grad.raw());
  // Already flat: adopted, nothing moves.
  const void* first = ps[0].param.raw();
  const ParamBuffer again = ParamBuffer::flatten(ps, no_aliases());
  EXPECT_EQ(again.values().raw(), first);
  EXPECT_EQ(ps[0].param.raw(), first);
}

class FlatOptimizer : public tuna_test::TempDirTest {
 protected:
  FlatOptimizer() : TempDirTest("flat_optimizer") {}
};

// The same parameters as separate tensors (the optimizer updates them one by one) and flattened
// (one multi-tensor call): bit-identical values, states and optimizer.safetensors.
TEST_F(FlatOptimizer, MultiTensorUpdateEqualsTensorByTensor) {
  for (const std::string optim : {"adamw_torch_fused", "sgd"}) {
    SCOPED_TRACE(optim);
    const OptimizerOptions o{.weight_decay = 0.05, .momentum = optim == "sgd" ? 0.9 : 0.0};
    std::vector<TrainableParam> separate = random_params(2), flat = random_params(2);
    ParamBuffer::flatten(flat, no_aliases());
    std::vector<Tensor> parts;
    for (const TrainableParam& p : flat) parts.push_back(p.param);
    ASSERT_TRUE(Tensor::span_of(parts).defined());
    auto a = make_optimizer(optim, separate, o);
    auto b = make_optimizer(optim, flat, o);
    for (int step = 0; step < 3; ++step) {
      for (size_t i = 0; i < separate.size(); ++i)
        for (int64_t j = 0; j < separate[i].grad.numel(); ++j) {
          const float g = 0.01f * std::cos(0.37f * static_cast<float>(j + 31 * i + step));
          separate[i].grad.data_mut<float>()[j] = g;
          flat[i].grad.data_mut<float>()[j] = g;
        }
      a->step(1e-2 / (step + 1));
      b->step(1e-2 / (step + 1));
    }
    for (size_t i = 0; i < separate.size(); ++i) {
      ASSERT_EQ(
          0, std::memcmp(separate[i].param.raw(), flat[i].param.raw(), separate[i].param.nbytes()))
          << separate[i].name;
      for (const std::string& st : a->state_names()) {
        const Tensor x = a->state(separate[i].name, st), y = b->state(flat[i].name, st);
        ASSERT_EQ(x.nbytes(), y.nbytes());
        EXPECT_EQ(0, std::memcmp(x.raw(), y.raw(), x.nbytes())) << separate[i].name << " " << st;
      }
    }
    EXPECT_EQ(a->state_bytes(), b->state_bytes());
    a->save(path("a.safetensors"));
    b->save(path("b.safetensors"));
    EXPECT_EQ(tuna_test::read_file(path("a.safetensors")),
              tuna_test::read_file(path("b.safetensors")));
    // Loading writes into the flat state: the reloaded optimizer continues identically.
    std::vector<TrainableParam> resumed = random_params(2);
    for (size_t i = 0; i < resumed.size(); ++i)
      std::memcpy(resumed[i].param.raw_mut(), flat[i].param.raw(), flat[i].param.nbytes());
    ParamBuffer::flatten(resumed, no_aliases());
    auto c = make_optimizer(optim, resumed, o);
    c->load(path("b.safetensors"));
    for (size_t i = 0; i < resumed.size(); ++i)
      std::memcpy(resumed[i].grad.raw_mut(), flat[i].grad.raw(), flat[i].grad.nbytes());
    b->step(1e-3);
    c->step(1e-3);
    for (size_t i = 0; i < resumed.size(); ++i)
      EXPECT_EQ(0,
                std::memcmp(resumed[i].param.raw(), flat[i].param.raw(), flat[i].param.nbytes()));
  }
}

}  // namespace
}  // namespace tuna
