// CPU element-wise kernels: one OpenMP loop each, static schedule (results do not depend on the
// thread count: every element is written by exactly one iteration).
#include "ops/elementwise.h"

namespace tuna::cpu {

void add_inplace(Tensor& x, const Tensor& y) {
  float* px = x.data_mut<float>();
  const float* py = y.data<float>();
  const int64_t n = x.numel();
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) px[i] += py[i];
}

void add_into(const Tensor& a, const Tensor& b, Tensor& out) {
  const float* pa = a.data<float>();
  const float* pb = b.data<float>();
  float* po = out.data_mut<float>();
  const int64_t n = a.numel();
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) po[i] = pa[i] + pb[i];
}

void copy_columns(const Tensor& src, int64_t c0, Tensor& dst) {
  const int64_t N = src.dim(0), W = src.dim(1), width = dst.dim(1);
  const float* ps = src.data<float>();
  float* pd = dst.data_mut<float>();
#pragma omp parallel for schedule(static)
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < width; ++c) pd[n * width + c] = ps[n * W + c0 + c];
}

void put_columns(const Tensor& src, int64_t c0, Tensor& dst) {
  const int64_t N = src.dim(0), width = src.dim(1), W = dst.dim(1);
  const float* ps = src.data<float>();
  float* pd = dst.data_mut<float>();
#pragma omp parallel for schedule(static)
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < width; ++c) pd[n * W + c0 + c] = ps[n * width + c];
}

}  // namespace tuna::cpu
