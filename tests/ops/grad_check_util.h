// Helpers for the backward tests: central finite differences of a scalar loss, per-tensor
// relative error max|analytic − numeric| / max|numeric| (the measure the gradient goldens use),
// and a check that a computation gives bit-identical results with 1 and 2 threads.
//
// Tolerance rationale (used by every *_backward test): the loss L = Σ r ⊙ out is evaluated from
// F32 forwards and summed in double. With inputs and r of order 1, each evaluation carries a
// rounding error of about 1e-6 (a few hundred F32 terms at ~6e-8 relative), which a central
// difference with step h = 1e-2 turns into ~1e-4 absolute error; the truncation error h²·L'''/6
// is ~1e-5. kGradTol = 2e-3 of the largest gradient therefore passes a correct backward with
// margin (observed: ≤ 2e-4 across all ops, most ≤ 3e-5), while a wrong term (a missing factor,
// a sign, a dropped path) gives errors of 1e-2 to 1 — each suite also checks that a
// deliberately wrong gradient fails this tolerance.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <random>
#include <vector>

#include "core/tensor.h"
#include "core/threads.h"

namespace tuna_test {

constexpr float kFdStep = 1e-2f;
constexpr double kGradTol = 2e-3;

// An F32 tensor of uniform values in [lo, hi).
inline tuna::Tensor random_tensor(const tuna::Shape& s, uint32_t seed, float lo = -1.0f,
                                  float hi = 1.0f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(lo, hi);
  std::vector<float> v(static_cast<size_t>(s.numel()));
  for (float& x : v) x = d(rng);
  return tuna::Tensor::from_f32(s, v);
}

// Σ_i t[i] · r[i] in double.
inline double weighted_sum(const tuna::Tensor& t, const std::vector<float>& r) {
  const float* p = t.data<float>();
  double s = 0.0;
  for (size_t i = 0; i < r.size(); ++i) s += static_cast<double>(p[i]) * r[i];
  return s;
}

// max|analytic − numeric| / max|numeric| over up to `max_checks` evenly spread elements of
// `param` (n floats), numeric = (L(θ + h) − L(θ − h)) / 2h. `param` is restored.
inline double fd_relative_error(const std::function<double()>& loss, float* param, size_t n,
                                const std::vector<float>& analytic, float h = kFdStep,
                                size_t max_checks = 96) {
  EXPECT_EQ(analytic.size(), n);
  // One thread: hundreds of tiny forwards, each an OpenMP region; on a shared, oversubscribed
  // machine spinning workers make them cost milliseconds each (results are thread-independent).
  const int saved_threads = tuna::num_threads();
  tuna::set_num_threads(1);
  const size_t stride = std::max<size_t>(1, n / max_checks);
  double max_err = 0.0, max_ref = 0.0;
  for (size_t i = 0; i < n; i += stride) {
    const float saved = param[i];
    param[i] = saved + h;
    const double up = loss();
    param[i] = saved - h;
    const double down = loss();
    param[i] = saved;
    const double numeric = (up - down) / (2.0 * static_cast<double>(h));
    max_err = std::max(max_err, std::fabs(numeric - static_cast<double>(analytic[i])));
    max_ref = std::max(max_ref, std::fabs(numeric));
  }
  tuna::set_num_threads(saved_threads);
  const double rel = max_ref == 0.0 ? max_err : max_err / max_ref;
  if (std::getenv("TUNA_PRINT_GRAD_ERRORS") != nullptr)
    std::printf("  [fd] %s: max rel error %.3g\n",
                testing::UnitTest::GetInstance()->current_test_info()->name(), rel);
  return rel;
}

// Per-tensor max|got − want| / max|want|.
inline double max_rel_diff(const std::vector<float>& got, const std::vector<float>& want) {
  EXPECT_EQ(got.size(), want.size());
  double err = 0.0, ref = 0.0;
  for (size_t i = 0; i < got.size() && i < want.size(); ++i) {
    err = std::max(err, std::fabs(static_cast<double>(got[i]) - want[i]));
    ref = std::max(ref, std::fabs(static_cast<double>(want[i])));
  }
  return ref == 0.0 ? err : err / ref;
}

// Runs `compute` with 1 thread and with 2 threads; every returned buffer must match bit for bit.
inline void expect_thread_invariant(
    const std::function<std::vector<std::vector<float>>()>& compute) {
  const int saved = tuna::num_threads();
  tuna::set_num_threads(1);
  const std::vector<std::vector<float>> one = compute();
  tuna::set_num_threads(2);
  const std::vector<std::vector<float>> two = compute();
  tuna::set_num_threads(saved);
  ASSERT_EQ(one.size(), two.size());
  for (size_t k = 0; k < one.size(); ++k) {
    ASSERT_EQ(one[k].size(), two[k].size()) << "buffer " << k;
    EXPECT_EQ(std::memcmp(one[k].data(), two[k].data(), one[k].size() * sizeof(float)), 0)
        << "buffer " << k << " differs between 1 and 2 threads";
  }
}

}  // namespace tuna_test
