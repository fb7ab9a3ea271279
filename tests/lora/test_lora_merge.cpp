// Merge / unmerge against PEFT's merge_and_unload and merge_adapter + unmerge_adapter on tiny
// models (tests/golden/lora/adapters/<model>/merge.safetensors): F32 bases bit-identical, BF16
// within 1 ulp; a broken variant (scale forgotten) must fail. NF4: merge re-quantizes.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "io/safetensors.h"
#include "lora/adapter_io.h"
#include "lora/merge.h"
#include "lora_test_util.h"
#include "model/quantize_base.h"

namespace tuna {
namespace {

using tuna_test::kLoraGolden;
using tuna_test::load_tiny;

// Max distance in units in the last place of the base dtype.
int64_t max_ulps(const Tensor& a, const Tensor& b) {
  const auto x = a.to_f32_vector(), y = b.to_f32_vector();
  EXPECT_EQ(x.size(), y.size());
  const int shift = a.dtype() == DType::BF16 ? 16 : 0;
  int64_t worst = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    auto key = [&](float f) {
      const int32_t u = static_cast<int32_t>(f32_bits(f));
      return static_cast<int64_t>(u < 0 ? INT32_MIN - u : u) >> shift;
    };
    const int64_t d = key(x[i]) - key(y[i]);
    worst = std::max(worst, d < 0 ? -d : d);
  }
  return worst;
}

struct MergeResult {
  int64_t merged = 0, unmerged = 0;
  size_t modules = 0;
};

MergeResult compare_with_peft(const std::string& name, bool broken = false) {
  const Model model = load_tiny(name);
  LoraSet set = load_peft_adapter(kLoraGolden + "/adapters/" + name, model);
  const SafetensorsFile golden =
      SafetensorsFile::open(kLoraGolden + "/adapters/" + name + "/merge.safetensors");
  const auto linears = linear_modules(model);
  MergeResult r;
  for (auto& a : set.adapters) {
    if (broken) a.scale = 1.0f;
    const auto it = std::find_if(linears.begin(), linears.end(),
                                 [&](const LinearModule& m) { return m.name == a.module; });
    const Tensor merged = merge_lora_weight(it->weight, a);
    EXPECT_EQ(merged.dtype(), it->weight.dtype());
    r.merged = std::max(r.merged, max_ulps(merged, golden.tensor(a.module + ".merged")));
    const Tensor unmerged = unmerge_lora_weight(merged, a);
    r.unmerged = std::max(r.unmerged, max_ulps(unmerged, golden.tensor(a.module + ".unmerged")));
    ++r.modules;
  }
  return r;
}

TEST(LoraMerge, F32BasesBitIdenticalToPeft) {
  for (const char* name : {"llama", "gpt2"}) {
    const MergeResult r = compare_with_peft(name);
    EXPECT_GT(r.modules, 0u);
    EXPECT_EQ(r.merged, 0) << name;
    EXPECT_EQ(r.unmerged, 0) << name;
  }
}

TEST(LoraMerge, Bf16BasesWithinOneUlpOfPeft) {
  for (const char* name : {"qwen2", "gemma3_bf16"}) {
    const MergeResult r = compare_with_peft(name);
    EXPECT_LE(r.merged, 1) << name;
    EXPECT_LE(r.unmerged, 1) << name;
  }
}

TEST(LoraMerge, BrokenVariantFails) {
  EXPECT_GT(compare_with_peft("gpt2", /*broken=*/true).merged, 1);  // gpt2 uses rsLoRA scale 8
}

TEST(LoraMerge, Nf4MergeRequantizes) {
  Model model = load_tiny("llama");
  Bnb4bitConfig q;
  q.params.type = Bnb4Type::NF4;
  model.quantize_base_4bit(q);
  LoraSet set = load_peft_adapter(kLoraGolden + "/adapters/llama", model);
  const auto linears = linear_modules(model);
  const Tensor& w = linears[0].weight;
  ASSERT_EQ(w.dtype(), DType::NF4);
  const Tensor merged = merge_lora_weight(w, set.adapters[0]);
  EXPECT_EQ(merged.dtype(), DType::NF4);
  EXPECT_EQ(merged.shape(), w.shape());
}

}  // namespace
}  // namespace tuna
