// Helpers for the training forward/backward tests: the golden batch and adapters of
// tests/golden/train (made by tools/reference/make_train_goldens.py), gradient comparison per
// tensor (max|Δ| / max|ref|, DESIGN.md §8) and flattening of every gradient for bit-exact checks.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "io/safetensors.h"
#include "model/model.h"
#include "model/train_step.h"
#include "ops/cross_entropy.h"

namespace tuna_test {

inline const std::string kTrainGolden = std::string(TUNA_GOLDEN_DIR) + "/train";
inline const std::string kGoldenModels = std::string(TUNA_GOLDEN_DIR) + "/models";

inline const nlohmann::json& train_manifest() {
  static const nlohmann::json m = [] {
    std::ifstream in(kTrainGolden + "/manifest.json");
    return nlohmann::json::parse(in);
  }();
  return m;
}

inline std::vector<int32_t> i32_values(const tuna::Tensor& t) {
  const int32_t* p = t.data<int32_t>();
  return {p, p + t.numel()};
}

// The golden micro-batch of one model: [2, 24], right-padded, −100 labels.
inline tuna::TrainBatch golden_batch(const tuna::SafetensorsFile& f) {
  tuna::TrainBatch b;
  const tuna::Tensor ids = f.tensor("input_ids");
  b.B = ids.dim(0);
  b.T = ids.dim(1);
  b.ids = i32_values(ids);
  b.attention_mask = i32_values(f.tensor("attention_mask"));
  b.labels = i32_values(f.tensor("labels"));
  return b;
}

// Rows [r0, r1) of a batch (a micro-batch of it).
inline tuna::TrainBatch batch_rows(const tuna::TrainBatch& b, int64_t r0, int64_t r1) {
  tuna::TrainBatch out;
  out.B = r1 - r0;
  out.T = b.T;
  auto rows = [&](const std::vector<int32_t>& v) {
    return std::vector<int32_t>(v.begin() + r0 * b.T, v.begin() + r1 * b.T);
  };
  out.ids = rows(b.ids);
  out.attention_mask = rows(b.attention_mask);
  out.labels = rows(b.labels);
  return out;
}

inline int64_t loss_tokens(const tuna::TrainBatch& b) {
  tuna::Tensor labels = tuna::Tensor::empty({b.B, b.T}, tuna::DType::I32);
  std::memcpy(labels.data_mut<int32_t>(), b.labels.data(), b.labels.size() * sizeof(int32_t));
  return tuna::count_loss_tokens(labels);
}

inline tuna::LoraTarget target_named(const std::string& s) {
  static const char* names[] = {"Q", "K", "V", "O", "GATE", "UP", "DOWN", "QKV"};
  for (int i = 0; i < 8; ++i)
    if (s == names[i]) return static_cast<tuna::LoraTarget>(i);
  ADD_FAILURE() << "unknown target " << s;
  return tuna::LoraTarget::Q;
}

// The golden's PEFT adapters (r=4, alpha=8, random non-zero B), gradients zeroed.
inline std::vector<tuna::LoraAdapter> golden_adapters(const std::string& model,
                                                      const tuna::SafetensorsFile& f,
                                                      float dropout = 0.0f) {
  const nlohmann::json& lora = train_manifest()["models"][model]["lora"];
  std::vector<tuna::LoraAdapter> out;
  for (const auto& m : lora["modules"]) {
    tuna::LoraAdapter a;
    a.module = m["module"].get<std::string>();
    a.layer = m["layer"].get<int>();
    a.target = target_named(m["target"].get<std::string>());
    a.in = m["in"].get<int64_t>();
    a.out = m["out"].get<int64_t>();
    a.r = lora["r"].get<int64_t>();
    a.scale = lora["scale"].get<float>();
    a.dropout = dropout;
    a.fan_in_fan_out = model == "gpt2";
    a.a = f.tensor("lora." + a.module + ".A").copy();
    a.b = f.tensor("lora." + a.module + ".B").copy();
    a.grad_a = tuna::Tensor::zeros(a.a.shape(), tuna::DType::F32);
    a.grad_b = tuna::Tensor::zeros(a.b.shape(), tuna::DType::F32);
    out.push_back(std::move(a));
  }
  return out;
}

// max|got − want| / max|want| over two F32 buffers of equal size.
inline double rel_diff(const float* got, const float* want, int64_t n) {
  double err = 0.0, ref = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    const double d = std::fabs(static_cast<double>(got[i]) - want[i]);
    if (!(d <= err)) err = d;  // NaN propagates
    ref = std::max(ref, std::fabs(static_cast<double>(want[i])));
  }
  return ref == 0.0 ? err : err / ref;
}

// Every gradient of a run, flattened in a fixed order (adapters, then weight slots).
inline std::vector<std::vector<float>> all_gradients(const std::vector<tuna::LoraAdapter>& ads,
                                                     const tuna::ModelWeights* grads) {
  std::vector<std::vector<float>> out;
  for (const auto& a : ads) {
    out.push_back(a.grad_a.to_f32_vector());
    out.push_back(a.grad_b.to_f32_vector());
  }
  if (grads != nullptr)
    tuna::for_each_weight_slot(*grads, [&](const std::string&, const tuna::Tensor& t) {
      out.push_back(t.to_f32_vector());
    });
  return out;
}

}  // namespace tuna_test
