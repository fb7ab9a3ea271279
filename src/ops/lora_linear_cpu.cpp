// CPU LoRA linear: the base path through cpu::linear_* (tiles for non-F32 weights), the
// low-rank path as four small SGEMMs. drop(x) is rebuilt from the RNG in backward ([N, in]
// scratch for the duration of the call).
#include <algorithm>
#include <vector>

#include "core/rng.h"
#include "ops/gemm_cpu.h"
#include "ops/linear.h"
#include "ops/lora_linear.h"

namespace tuna::cpu {

void lora_dropout(const Tensor& x, const LoraParams& params, Tensor& out) {
  const int64_t n = x.numel();
  const float* px = x.data<float>();
  float* po = out.data_mut<float>();
  if (params.dropout == 0.0f) {
    if (po != px) std::copy(px, px + n, po);
    return;
  }
  std::vector<uint8_t> keep(static_cast<size_t>(n));
  dropout_keep_mask(params.seed, params.stream, 0, n, params.dropout, keep.data());
  // torch: noise = bernoulli(1 - p) / (1 - p), then x · noise.
  const float inv_keep = 1.0f / (1.0f - params.dropout);
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) po[i] = keep[static_cast<size_t>(i)] ? px[i] * inv_keep : 0.0f;
}

void lora_linear_forward(const Tensor& x, const Tensor& w, const Tensor& bias, const Tensor& a,
                         const Tensor& b, const LoraParams& params, Tensor& y, Tensor& xa,
                         bool transposed) {
  cpu::linear_forward(x, w, bias, y, transposed);
  cpu::lora_add_forward(x, a, b, params, y, xa);
}

void lora_add_forward(const Tensor& x, const Tensor& a, const Tensor& b, const LoraParams& params,
                      Tensor& y, Tensor& xa) {
  const int64_t N = x.dim(0), I = x.dim(1), R = a.dim(0), O = b.dim(0);
  Tensor dropped = params.dropout > 0.0f ? Tensor::empty(x.shape(), DType::F32) : x;
  if (params.dropout > 0.0f) cpu::lora_dropout(x, params, dropped);
  // xa[N, R] = drop(x)[N, I] · A[R, I]ᵀ
  sgemm_blocked(false, true, N, R, I, 1.0f, dropped.data<float>(), I, a.data<float>(), I, 0.0f,
                xa.data_mut<float>(), R);
  // y[N, O] += s · xa[N, R] · B[O, R]ᵀ
  sgemm_blocked(false, true, N, O, R, params.scale, xa.data<float>(), R, b.data<float>(), R, 1.0f,
                y.data_mut<float>(), O);
}

void lora_linear_backward(const Tensor& x, const Tensor& w, const Tensor& a, const Tensor& b,
                          const LoraParams& params, const Tensor& xa, const Tensor& dy, Tensor* dx,
                          Tensor& da, Tensor& db, bool transposed) {
  const int64_t N = x.dim(0), I = x.dim(1), R = a.dim(0), O = b.dim(0);
  const float s = params.scale;
  // db[O, R] += s · dy[N, O]ᵀ · xa[N, R]
  sgemm_blocked(true, false, O, R, N, s, dy.data<float>(), O, xa.data<float>(), R, 1.0f,
                db.data_mut<float>(), R);
  // du[N, R] = s · dy[N, O] · B[O, R]
  std::vector<float> du(static_cast<size_t>(N * R));
  sgemm_blocked(false, false, N, R, O, s, dy.data<float>(), O, b.data<float>(), R, 0.0f, du.data(),
                R);
  Tensor dropped = params.dropout > 0.0f ? Tensor::empty(x.shape(), DType::F32) : x;
  if (params.dropout > 0.0f) cpu::lora_dropout(x, params, dropped);
  // da[R, I] += du[N, R]ᵀ · drop(x)[N, I]
  sgemm_blocked(true, false, R, I, N, 1.0f, du.data(), R, dropped.data<float>(), I, 1.0f,
                da.data_mut<float>(), I);
  if (dx == nullptr) return;
  // dx[N, I] = dy · W (base path), then + (du · A) through the dropout
  cpu::linear_backward_input(dy, w, *dx, transposed, false);
  float* pdx = dx->data_mut<float>();
  if (params.dropout == 0.0f) {
    sgemm_blocked(false, false, N, I, R, 1.0f, du.data(), R, a.data<float>(), I, 1.0f, pdx, I);
    return;
  }
  Tensor dxd = Tensor::empty(x.shape(), DType::F32);  // d drop(x) [N, I] = du · A
  sgemm_blocked(false, false, N, I, R, 1.0f, du.data(), R, a.data<float>(), I, 0.0f,
                dxd.data_mut<float>(), I);
  cpu::lora_dropout(dxd, params, dxd);  // same mask and scale: d/dx (x·m/q) = m/q
  const float* pd = dxd.data<float>();
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < N * I; ++i) pdx[i] += pd[i];
}

}  // namespace tuna::cpu
