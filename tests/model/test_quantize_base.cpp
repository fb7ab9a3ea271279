// load_in_4bit parity with transformers + bitsandbytes on CPU: tiny golden models quantized by
// quantize_base_4bit give transformers' BitsAndBytesConfig(load_in_4bit=True) logits
// (tests/golden/bnb, tools/reference/make_bnb_goldens.py) and the same packed weights; the
// unquantized model must not pass the same check; skip modules and GGUF bases.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "io/safetensors.h"
#include "model/model.h"
#include "model/quantize_base.h"
#include "test_util.h"

namespace tuna {
namespace {

const std::string kGolden = std::string(TUNA_GOLDEN_DIR);
constexpr float kTolerance = 1e-4f;  // the F32 forward-parity tolerance

nlohmann::json bnb_manifest() {
  std::ifstream in(kGolden + "/bnb/manifest.json");
  return nlohmann::json::parse(in);
}

const SafetensorsFile& bnb_goldens() {
  static const SafetensorsFile f = SafetensorsFile::open(kGolden + "/bnb/blockwise.safetensors");
  return f;
}

Bnb4bitConfig config_of(const nlohmann::json& m) {
  Bnb4bitConfig c;
  c.params.type = m.at("quant_type") == "nf4" ? Bnb4Type::NF4 : Bnb4Type::FP4;
  c.params.double_quant = m.at("double_quant").get<bool>();
  return c;
}

// Max |Δ| of the padded batch's logits against `golden` over unmasked positions.
float max_logit_diff(const Model& model, const std::string& folder, const Tensor& golden) {
  SafetensorsFile io = SafetensorsFile::open(kGolden + "/models/" + folder + "/io.safetensors");
  const Tensor ids = io.tensor("input_ids"), mask = io.tensor("attention_mask");
  Batch batch;
  batch.B = ids.dim(0);
  batch.T = ids.dim(1);
  for (int64_t i = 0; i < ids.numel(); ++i) {
    batch.ids.push_back(static_cast<int32_t>(ids.data<int64_t>()[i]));
    batch.mask.push_back(static_cast<int32_t>(mask.data<int64_t>()[i]));
  }
  const Tensor logits = model.forward(batch);
  EXPECT_EQ(logits.shape(), golden.shape());
  const int64_t V = golden.dim(2);
  float worst = 0.0f;
  for (int64_t r = 0; r < batch.B * batch.T; ++r) {
    if (batch.mask[static_cast<size_t>(r)] == 0) continue;
    for (int64_t v = 0; v < V; ++v) {
      const float d = std::fabs(logits.data<float>()[r * V + v] - golden.data<float>()[r * V + v]);
      if (!(d <= worst)) worst = d;
    }
  }
  return worst;
}

const Tensor& layer_weight(const Model& m, const std::string& path) {
  const LayerWeights& l0 = m.weights().layers[0];
  const LayerWeights& l1 = m.weights().layers[1];
  if (path == "model.layers.0.self_attn.q_proj") return l0.q;
  EXPECT_EQ(path, "model.layers.1.mlp.down_proj");
  return l1.down;
}

TEST(QuantizeBase4bit, LogitsMatchTransformersBitsandbytes) {
  const nlohmann::json manifest = bnb_manifest();
  ASSERT_GE(manifest.at("models").size(), 2u);
  for (const auto& m : manifest.at("models")) {
    const std::string name = m.at("name");
    const std::string folder = m.at("model").get<std::string>().substr(19);  // tests/golden/models/
    SCOPED_TRACE(name);
    Model model = Model::load(kGolden + "/models/" + folder);
    const Tensor golden = bnb_goldens().tensor(name + ".logits");
    const float unquantized = max_logit_diff(model, folder, golden);
    const QuantizedBase q = model.quantize_base_4bit(config_of(m));
    EXPECT_EQ(q.tensors, m.at("converted_modules").get<int64_t>());
    for (const auto& w : m.at("sampled_weights")) {
      const Tensor& t = layer_weight(model, w.get<std::string>());
      const Tensor want = bnb_goldens().tensor(name + "." + w.get<std::string>() + ".packed");
      ASSERT_EQ(t.nbytes(), static_cast<size_t>(want.numel()));
      EXPECT_EQ(std::memcmp(t.raw(), want.raw(), t.nbytes()), 0) << w;
    }
    const float d = max_logit_diff(model, folder, golden);
    std::printf(
        "  %-22s max|dlogit| %.3g (unquantized model: %.3g); %lld weights, %.4f bytes/param\n",
        name.c_str(), d, unquantized, static_cast<long long>(q.tensors),
        static_cast<double>(q.resident_bytes()) / static_cast<double>(q.parameters));
    EXPECT_LE(d, kTolerance);
    EXPECT_GT(unquantized, 100 * kTolerance) << "the golden does not tell quantized from F32";
  }
}

TEST(QuantizeBase4bit, SkipModulesAndBytes) {
  Model model = Model::load(kGolden + "/models/llama");
  Bnb4bitConfig c;
  c.params.type = Bnb4Type::NF4;
  c.skip_modules = {"lm_head", "o_proj", "model.layers.1.mlp"};
  const QuantizedBase q = model.quantize_base_4bit(c);
  const LayerWeights& l0 = model.weights().layers[0];
  const LayerWeights& l1 = model.weights().layers[1];
  EXPECT_EQ(l0.q.dtype(), DType::NF4);
  EXPECT_EQ(l0.o.dtype(), DType::F32);
  EXPECT_EQ(l0.down.dtype(), DType::NF4);
  EXPECT_EQ(l1.down.dtype(), DType::F32);
  EXPECT_EQ(l1.k.dtype(), DType::NF4);
  EXPECT_EQ(model.weights().embed.dtype(), DType::F32);
  EXPECT_EQ(model.weights().lm_head.dtype(), DType::F32);
  EXPECT_EQ(q.tensors, 2 * 3 + 3);  // layer 0: q k v gate up down; layer 1: q k v
  EXPECT_EQ(q.packed_bytes, q.parameters / 2);
  EXPECT_EQ(q.stats_bytes, q.parameters / 64 * 4);  // one F32 absmax per 64
}

TEST(QuantizeBase4bit, GgufWeightsAreAUserError) {
  ModelWeights w;
  w.layers.resize(1);
  w.layers[0].q = Tensor::zeros({32, 32}, DType::Q8_0);
  tuna_test::expect_user_error([&] { quantize_base_4bit(w, Bnb4bitConfig{}); }, {"Q8_0"});
  EXPECT_EQ(w.layers[0].q.dtype(), DType::Q8_0);
}

}  // namespace
}  // namespace tuna
