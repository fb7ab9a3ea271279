// Helpers shared by the op tests: the (device, dtype) cases every op test runs over and OP_CALL,
// which runs an op on the case's device (inputs copied there, outputs copied back into the host
// tensors the test reads); weights in F32/F16/BF16 built from values that every one of those
// formats holds exactly (so double references need no rounding), random inputs, checks.
// A CUDA kernel joins an op's tests by adding Device::CUDA to that suite's op_cases list.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <deque>
#include <initializer_list>
#include <random>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "core/device.h"
#include "core/dtype.h"
#include "core/tensor.h"

namespace tuna_test {

// The devices op tests can run on here: the CPU, and CUDA when built in and a GPU is visible.
inline std::vector<tuna::Device> available_devices() {
  std::vector<tuna::Device> d{tuna::Device::CPU};
  if (tuna::cuda_available()) d.push_back(tuna::Device::CUDA);
  return d;
}

struct OpCase {
  tuna::Device device;
  tuna::DType dtype;  // the dtype under test (weights or inputs, as the suite says)
};

// Every (device, dtype) pair with `device` available here and among `kernels` (the devices the
// op has kernels for).
inline std::vector<OpCase> op_cases(std::initializer_list<tuna::Device> kernels,
                                    std::initializer_list<tuna::DType> dtypes) {
  std::vector<OpCase> cases;
  for (tuna::Device d : available_devices())
    for (tuna::Device k : kernels)
      if (k == d)
        for (tuna::DType t : dtypes) cases.push_back({d, t});
  return cases;
}

inline std::string op_case_name(const testing::TestParamInfo<OpCase>& info) {
  return std::string(tuna::device_name(info.param.device)) + "_" +
         tuna::dtype_name(info.param.dtype);
}

// The device OP_CALL runs on: the current OpTest case's, else the CPU.
inline tuna::Device& current_device() {
  static tuna::Device device = tuna::Device::CPU;
  return device;
}

// Fixture of every op test: parameterised by OpCase, sets current_device() for OP_CALL.
class OpTest : public testing::TestWithParam<OpCase> {
 protected:
  void SetUp() override { current_device() = GetParam().device; }
  void TearDown() override { current_device() = tuna::Device::CPU; }
  tuna::DType dtype() const { return GetParam().dtype; }
};

// Runs f(args...) on `device`. On the CPU the arguments pass through untouched. Elsewhere every
// Tensor argument is copied to the device (tensors sharing storage share one copy, so in-place
// calls stay in place), and those passed as Tensor& or Tensor* are copied back afterwards.
class DeviceRun {
 public:
  explicit DeviceRun(tuna::Device device) : device_(device) {}

  template <class F, class... A>
  decltype(auto) operator()(F&& f, A&&... a) {
    if (device_ == tuna::Device::CPU) return f(std::forward<A>(a)...);
    using R = decltype(f(std::forward<A>(a)...));
    if constexpr (std::is_void_v<R>) {
      f(map(std::forward<A>(a))...);
      write_back();
    } else {
      R r = f(map(std::forward<A>(a))...);
      write_back();
      return r;
    }
  }

 private:
  tuna::Tensor& slot(const tuna::Tensor& host) {
    for (auto& [ptr, i] : index_) {
      if (ptr != host.raw() || slots_[i].nbytes() != host.nbytes()) continue;
      if (slots_[i].shape() == host.shape()) return slots_[i];
      slots_.push_back(slots_[i].reshape(host.shape()));
      return slots_.back();
    }
    slots_.push_back(host.to(device_));
    index_.emplace_back(host.raw(), slots_.size() - 1);
    return slots_.back();
  }
  tuna::Tensor& map(tuna::Tensor& t) {
    if (!t.defined()) return t;
    tuna::Tensor& d = slot(t);
    writes_.emplace_back(&t, &d);
    return d;
  }
  const tuna::Tensor& map(const tuna::Tensor& t) { return t.defined() ? slot(t) : t; }
  const tuna::Tensor& map(tuna::Tensor&& t) { return t.defined() ? slot(t) : t; }
  tuna::Tensor* map(tuna::Tensor* t) { return t != nullptr ? &map(*t) : nullptr; }
  const tuna::Tensor* map(const tuna::Tensor* t) { return t != nullptr ? &map(*t) : nullptr; }
  template <class T>
  T&& map(T&& x) {
    return std::forward<T>(x);
  }
  void write_back() {
    for (auto& [host, dev] : writes_)
      tuna::device_copy(host->raw_mut(), tuna::Device::CPU, dev->raw(), device_, host->nbytes());
  }

  tuna::Device device_;
  std::deque<tuna::Tensor> slots_;
  std::vector<std::pair<const void*, size_t>> index_;
  std::vector<std::pair<tuna::Tensor*, tuna::Tensor*>> writes_;
};

}  // namespace tuna_test

// OP_CALL(tuna::rms_norm_forward, x, w, eps, kind, y): the op through its dispatcher on the
// current case's device (see DeviceRun).
#define OP_CALL(fn, ...)                                          \
  ::tuna_test::DeviceRun(::tuna_test::current_device())(          \
      [&](auto&&... op_args_) -> decltype(auto) {                 \
        return fn(std::forward<decltype(op_args_)>(op_args_)...); \
      },                                                          \
      __VA_ARGS__)

namespace tuna_test {

// n values k/64 with |k| <= 128: exact in F32, F16 and BF16.
inline std::vector<float> grid_values(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> k(-128, 128);
  std::vector<float> v(n);
  for (float& x : v) x = static_cast<float>(k(rng)) / 64.0f;
  return v;
}

inline std::vector<float> random_values(size_t n, uint32_t seed, float lo = -1.0f,
                                        float hi = 1.0f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = d(rng);
  return v;
}

// A weight tensor of `dtype` holding `values` exactly (fails the test if one does not fit).
inline tuna::Tensor make_weight(const tuna::Shape& shape, tuna::DType dtype,
                                const std::vector<float>& values) {
  EXPECT_EQ(static_cast<int64_t>(values.size()), shape.numel());
  if (dtype == tuna::DType::F32) return tuna::Tensor::from_f32(shape, values);
  tuna::Tensor t = tuna::Tensor::empty(shape, dtype);
  uint16_t* p = t.data_mut<uint16_t>();
  for (size_t i = 0; i < values.size(); ++i) {
    p[i] = dtype == tuna::DType::F16 ? tuna::f32_to_f16(values[i]) : tuna::f32_to_bf16(values[i]);
    const float back = dtype == tuna::DType::F16 ? tuna::f16_to_f32(p[i]) : tuna::bf16_to_f32(p[i]);
    EXPECT_EQ(back, values[i]) << "value " << values[i] << " is not exact in this dtype";
  }
  return t;
}

// |got - want| <= rel·scale + abs, where scale defaults to |want|.
inline void expect_near_vec(const std::vector<float>& got, const std::vector<double>& want,
                            double rel, double abs, const std::vector<double>* scale = nullptr,
                            const std::string& what = "") {
  ASSERT_EQ(got.size(), want.size()) << what;
  int reported = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    const double s = scale ? (*scale)[i] : std::fabs(want[i]);
    const double tol = rel * s + abs;
    if (!(std::fabs(static_cast<double>(got[i]) - want[i]) <= tol) && reported++ < 10) {
      ADD_FAILURE() << what << " [" << i << "] got " << got[i] << " want " << want[i] << " (tol "
                    << tol << ")";
    }
  }
}

// Bit-for-bit equality of two result vectors (an empty pair is equal; memcmp never sees null).
template <class T>
bool same_bits(const std::vector<T>& a, const std::vector<T>& b) {
  return a.size() == b.size() &&
         (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0);
}

}  // namespace tuna_test
