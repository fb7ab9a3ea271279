// PEFT adapter files: tuna reads adapters PEFT saved (random non-zero lora_B) and writes them
// back byte-identical (adapter_model.safetensors) so PeftModel.from_pretrained loads tuna's files
// as its own; mismatching bases fail with user errors; GGUF RoPE row permutation round-trips.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/error.h"
#include "io/safetensors.h"
#include "lora/adapter_io.h"
#include "lora_test_util.h"
#include "test_util.h"

namespace tuna {
namespace {

using tuna_test::kLoraGolden;
using tuna_test::load_tiny;

std::string bytes_of(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class LoraIo : public tuna_test::TempDirTest {
 protected:
  LoraIo() : TempDirTest("lora_io") {}
};

TEST_F(LoraIo, ReadsPeftAdaptersAndWritesThemBackIdentically) {
  for (const char* name : {"llama", "gpt2", "qwen2", "gemma3_bf16"}) {
    const std::string dir = kLoraGolden + "/adapters/" + name;
    const Model model = load_tiny(name);
    const LoraSet set = load_peft_adapter(dir, model);
    const SafetensorsFile peft = SafetensorsFile::open(dir + "/adapter_model.safetensors");
    ASSERT_EQ(set.adapters.size() * 2, peft.names().size()) << name;
    for (const auto& a : set.adapters) {
      EXPECT_EQ(a.a.to_f32_vector(),
                peft.tensor("base_model.model." + a.module + ".lora_A.weight").to_f32_vector());
      EXPECT_EQ(a.b.to_f32_vector(),
                peft.tensor("base_model.model." + a.module + ".lora_B.weight").to_f32_vector());
      EXPECT_EQ(a.fan_in_fan_out, std::string(name) == "gpt2");
    }
    const std::string out = path(name);
    save_peft_adapter(out, set, model);
    EXPECT_EQ(bytes_of(out + "/adapter_model.safetensors"),
              bytes_of(dir + "/adapter_model.safetensors"))
        << name << ": tuna's adapter_model.safetensors differs from PEFT's";
    EXPECT_EQ(nlohmann::json::parse(bytes_of(out + "/adapter_config.json")).size(),
              nlohmann::json::parse(bytes_of(dir + "/adapter_config.json")).size());
  }
}

TEST_F(LoraIo, CreatedAdapterRoundTrips) {
  const Model model = load_tiny("gemma3_conditional");
  LoraConfig c = lora_config_from_json({{"target_modules", {"q_proj", "v_proj"}},
                                        {"r", 4},
                                        {"bias", "all"},
                                        {"modules_to_save", {"lm_head"}},
                                        {"task_type", "CAUSAL_LM"}},
                                       "test");
  const LoraSet set = create_lora(model, c, "tests/golden/models/gemma3_conditional");
  save_peft_adapter(path("a"), set, model);
  const LoraSet back = load_peft_adapter(path("a"), model);
  ASSERT_EQ(back.adapters.size(), set.adapters.size());
  for (size_t i = 0; i < set.adapters.size(); ++i) {
    EXPECT_EQ(back.adapters[i].module, set.adapters[i].module);
    EXPECT_EQ(back.adapters[i].a.to_f32_vector(), set.adapters[i].a.to_f32_vector());
  }
  EXPECT_EQ(back.saved.size(), 1u);
  EXPECT_EQ(back.biases.size(), set.biases.size());
  EXPECT_EQ(count_trainable_parameters(model, back).trainable,
            count_trainable_parameters(model, set).trainable);
}

// A modules_to_save copy of a linear with a bias (Qwen2's q_proj) keeps its bias with bias "none":
// PEFT saves the copy's whole state dict, and tuna reads it back onto the copy.
TEST_F(LoraIo, ModulesToSaveBiasRoundTripsWithBiasNone) {
  const Model model = load_tiny("qwen2");
  LoraConfig c = lora_config_from_json({{"target_modules", {"v_proj"}},
                                        {"r", 4},
                                        {"modules_to_save", {"q_proj"}},
                                        {"task_type", "CAUSAL_LM"}},
                                       "test");
  LoraSet set = create_lora(model, c, "tests/golden/models/qwen2");
  ASSERT_FALSE(set.saved.empty());
  ASSERT_TRUE(set.saved[0].bias.defined());
  set.saved[0].bias.data_mut<float>()[0] = 0.25f;  // a trained value, to see it come back
  save_peft_adapter(path("q"), set, model);
  const LoraSet back = load_peft_adapter(path("q"), model);
  ASSERT_EQ(back.saved.size(), set.saved.size());
  for (size_t i = 0; i < set.saved.size(); ++i) {
    EXPECT_EQ(back.saved[i].name, set.saved[i].name);
    ASSERT_TRUE(back.saved[i].bias.defined()) << back.saved[i].name;
    EXPECT_EQ(back.saved[i].bias.to_f32_vector(), set.saved[i].bias.to_f32_vector());
  }
  EXPECT_TRUE(back.biases.empty());
}

TEST_F(LoraIo, MismatchingBaseIsAUserError) {
  const std::string dir = kLoraGolden + "/adapters/llama";
  auto message = [](const std::function<void()>& f) {
    try {
      f();
    } catch (const Error& e) {
      EXPECT_EQ(e.exit_status(), 2);
      return std::string(e.what());
    }
    return std::string("no error");
  };
  // Missing modules: a GPT-2 base has no model.layers.*.
  const Model gpt2 = load_tiny("gpt2");
  EXPECT_NE(message([&] { load_peft_adapter(dir, gpt2); }).find("does not exist in the base"),
            std::string::npos);
  // Same names, other shapes: qwen3 (head_dim differs from llama's).
  const Model qwen3 = load_tiny("qwen3");
  EXPECT_NE(message([&] { load_peft_adapter(dir, qwen3); }).find("do not fit"), std::string::npos);
  EXPECT_NE(message([&] { load_peft_adapter(path("nothing"), gpt2); }).find("cannot read"),
            std::string::npos);
}

TEST(LoraRope, PermutationRoundTripsAndMatchesLlamaCpp) {
  // 2 heads, D = 4: HF rows (h, half, j) -> GGUF rows (h, j, half): 0 2 1 3 | 4 6 5 7.
  std::vector<float> v(8);
  for (int i = 0; i < 8; ++i) v[i] = static_cast<float>(i);
  const Tensor hf = Tensor::from_f32({8, 1}, v);
  const Tensor gguf = permute_rope_rows(hf, 2, false);
  EXPECT_EQ(gguf.to_f32_vector(), (std::vector<float>{0, 2, 1, 3, 4, 6, 5, 7}));
  EXPECT_EQ(permute_rope_rows(gguf, 2, true).to_f32_vector(), v);
}

}  // namespace
}  // namespace tuna
