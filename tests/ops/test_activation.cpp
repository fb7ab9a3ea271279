// SiLU, GELU (tanh approximation and erf) and soft-capping against double formulas, the gated
// product act(gate)·up with aliasing, and argument checks.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <tuple>
#include <vector>

#include "core/error.h"
#include "ops/activation.h"
#include "ops_test_util.h"

namespace {

using tuna::Activation;
using tuna::DType;
using tuna::Tensor;

double ref_act(Activation act, double x) {
  switch (act) {
    case Activation::SILU:
      return x / (1.0 + std::exp(-x));
    case Activation::GELU_TANH:
      return 0.5 * x * (1.0 + std::tanh(std::sqrt(2.0 / M_PI) * (x + 0.044715 * x * x * x)));
    case Activation::GELU_ERF:
      return 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0)));
  }
  return NAN;
}

std::vector<float> inputs() {
  std::vector<float> x;
  for (int i = -400; i <= 400; ++i) x.push_back(static_cast<float>(i) / 40.0f);  // [-10, 10]
  for (float v : {-100.0f, -88.0f, -30.0f, 30.0f, 88.0f, 100.0f, 1e-6f, -1e-6f, 0.0f, -0.0f})
    x.push_back(v);
  auto r = tuna_test::random_values(500, 1, -6.0f, 6.0f);
  x.insert(x.end(), r.begin(), r.end());
  return x;
}

// Cases: (device, dtype) × activation.
class ActivationTest : public testing::TestWithParam<std::tuple<tuna_test::OpCase, Activation>> {
 protected:
  void SetUp() override { tuna_test::current_device() = std::get<0>(GetParam()).device; }
  void TearDown() override { tuna_test::current_device() = tuna::Device::CPU; }
  Activation activation() const { return std::get<1>(GetParam()); }
};

TEST_P(ActivationTest, MatchesDoubleFormula) {
  const Activation act = activation();
  std::vector<float> x = inputs();
  Tensor tx = Tensor::from_f32({static_cast<int64_t>(x.size())}, x);
  Tensor ty = Tensor::empty(tx.shape(), DType::F32);
  OP_CALL(tuna::activation_forward, tx, act, ty);
  std::vector<double> want;
  for (float v : x) want.push_back(ref_act(act, v));
  // 1 − tanh / 1 + erf cancel for negative inputs in F32 (torch has the same error): allow an
  // absolute 1e-6 on top of the relative 1e-5.
  tuna_test::expect_near_vec(ty.to_f32_vector(), want, 1e-5, 1e-6);
}

TEST_P(ActivationTest, InPlaceAndAnyShape) {
  const Activation act = activation();
  std::vector<float> x = tuna_test::random_values(2 * 3 * 5, 2, -4, 4);
  Tensor t = Tensor::from_f32({2, 3, 5}, x);
  OP_CALL(tuna::activation_forward, t, act, t);
  std::vector<double> want;
  for (float v : x) want.push_back(ref_act(act, v));
  tuna_test::expect_near_vec(t.to_f32_vector(), want, 1e-5, 1e-6);
}

TEST_P(ActivationTest, GatedProduct) {
  const Activation act = activation();
  const int64_t N = 4, F = 37;
  std::vector<float> g = tuna_test::random_values(N * F, 3, -5, 5);
  std::vector<float> u = tuna_test::random_values(N * F, 4, -3, 3);
  std::vector<double> want;
  for (size_t i = 0; i < g.size(); ++i) want.push_back(ref_act(act, g[i]) * u[i]);
  Tensor y = Tensor::empty({N, F}, DType::F32);
  OP_CALL(tuna::gated_activation_forward, Tensor::from_f32({N, F}, g), Tensor::from_f32({N, F}, u),
          act, y);
  tuna_test::expect_near_vec(y.to_f32_vector(), want, 1e-5, 3e-6, nullptr, "gated");
  Tensor gate = Tensor::from_f32({N, F}, g), up = Tensor::from_f32({N, F}, u);
  OP_CALL(tuna::gated_activation_forward, gate, up, act, gate);  // y aliases gate
  tuna_test::expect_near_vec(gate.to_f32_vector(), want, 1e-5, 3e-6, nullptr, "alias gate");
  gate = Tensor::from_f32({N, F}, g);
  OP_CALL(tuna::gated_activation_forward, gate, up, act, up);  // y aliases up
  tuna_test::expect_near_vec(up.to_f32_vector(), want, 1e-5, 3e-6, nullptr, "alias up");
}

INSTANTIATE_TEST_SUITE_P(
    Ops, ActivationTest,
    testing::Combine(testing::ValuesIn(tuna_test::op_cases({tuna::Device::CPU}, {DType::F32})),
                     testing::Values(Activation::SILU, Activation::GELU_TANH,
                                     Activation::GELU_ERF)),
    [](const testing::TestParamInfo<std::tuple<tuna_test::OpCase, Activation>>& i) {
      const Activation a = std::get<1>(i.param);
      return tuna_test::op_case_name({std::get<0>(i.param), i.index}) + "_" +
             (a == Activation::SILU        ? std::string("SILU")
              : a == Activation::GELU_TANH ? std::string("GELU_TANH")
                                           : std::string("GELU_ERF"));
    });

class ActivationOp : public tuna_test::OpTest {};
INSTANTIATE_TEST_SUITE_P(Ops, ActivationOp,
                         testing::ValuesIn(tuna_test::op_cases({tuna::Device::CPU},
                                                               {tuna::DType::F32})),
                         tuna_test::op_case_name);

TEST_P(ActivationOp, HandCheckedValues) {
  Tensor x = Tensor::from_f32({3}, {0.0f, 1.0f, -1.0f});
  Tensor y = Tensor::empty({3}, DType::F32);
  OP_CALL(tuna::activation_forward, x, Activation::SILU, y);
  std::vector<float> v = y.to_f32_vector();
  EXPECT_EQ(v[0], 0.0f);
  EXPECT_NEAR(v[1], 0.7310585786, 1e-7);   // 1 / (1 + e^-1)
  EXPECT_NEAR(v[2], -0.2689414214, 1e-7);  // -1 / (1 + e)
  OP_CALL(tuna::activation_forward, x, Activation::GELU_ERF, y);
  v = y.to_f32_vector();
  EXPECT_NEAR(v[1], 0.8413447461, 1e-7);  // Φ(1)
  EXPECT_NEAR(v[2], -0.1586552539, 1e-7);
  OP_CALL(tuna::activation_forward, x, Activation::GELU_TANH, y);
  v = y.to_f32_vector();
  EXPECT_NEAR(v[1], 0.8411919906, 1e-7);  // 0.5·(1 + tanh(√(2/π)·1.044715))
  EXPECT_NEAR(v[2], -0.1588080094, 1e-7);
}

TEST_P(ActivationOp, LargeInputsStayFinite) {
  Tensor x = Tensor::from_f32({4}, {-1000.0f, 1000.0f, -3e38f, 3e38f});
  Tensor y = Tensor::empty({4}, DType::F32);
  for (Activation act : {Activation::SILU, Activation::GELU_ERF}) {
    OP_CALL(tuna::activation_forward, x, act, y);
    std::vector<float> v = y.to_f32_vector();
    EXPECT_EQ(v[0], 0.0f);
    EXPECT_EQ(v[1], 1000.0f);
    EXPECT_FALSE(std::isnan(v[2]));
  }
}

class SoftcapOp : public tuna_test::OpTest {};
INSTANTIATE_TEST_SUITE_P(Ops, SoftcapOp,
                         testing::ValuesIn(tuna_test::op_cases({tuna::Device::CPU},
                                                               {tuna::DType::F32})),
                         tuna_test::op_case_name);

TEST_P(SoftcapOp, MatchesFormulaInPlace) {
  std::vector<float> x = tuna_test::random_values(300, 5, -200, 200);
  x.push_back(0.0f);
  x.push_back(std::numeric_limits<float>::infinity());
  Tensor t = Tensor::from_f32({static_cast<int64_t>(x.size())}, x);
  OP_CALL(tuna::softcap_forward, t, 30.0f);
  std::vector<double> want;
  for (float v : x) want.push_back(std::tanh(static_cast<double>(v) / 30.0) * 30.0);
  tuna_test::expect_near_vec(t.to_f32_vector(), want, 1e-5, 1e-6);
  std::vector<float> got = t.to_f32_vector();
  for (float v : got) EXPECT_LE(std::fabs(v), 30.0f);
  EXPECT_EQ(got.back(), 30.0f);
}

TEST_P(SoftcapOp, HandChecked) {
  Tensor t = Tensor::from_f32({3}, {50.0f, -50.0f, 1.0f});
  OP_CALL(tuna::softcap_forward, t, 50.0f);
  std::vector<float> v = t.to_f32_vector();
  EXPECT_NEAR(v[0], 50.0 * std::tanh(1.0), 1e-5);  // 38.0797
  EXPECT_NEAR(v[1], -50.0 * std::tanh(1.0), 1e-5);
  EXPECT_NEAR(v[2], 50.0 * std::tanh(0.02), 1e-6);
}

TEST_P(ActivationOp, ArgumentErrors) {
  Tensor x = Tensor::zeros({4}, DType::F32);
  Tensor y3 = Tensor::zeros({3}, DType::F32);
  Tensor h = Tensor::zeros({4}, DType::F16);
  EXPECT_THROW(OP_CALL(tuna::activation_forward, x, Activation::SILU, y3), tuna::Error);
  EXPECT_THROW(OP_CALL(tuna::activation_forward, h, Activation::SILU, x), tuna::Error);
  EXPECT_THROW(OP_CALL(tuna::gated_activation_forward, x, y3, Activation::SILU, x), tuna::Error);
  EXPECT_THROW(OP_CALL(tuna::softcap_forward, x, 0.0f), tuna::Error);
  EXPECT_THROW(OP_CALL(tuna::softcap_forward, x, -1.0f), tuna::Error);
}

}  // namespace
