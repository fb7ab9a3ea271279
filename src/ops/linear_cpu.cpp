// CPU linear: OpenBLAS SGEMM on F32 weights (one token: our own row dots — see rows_dot); for other
// formats, up to kRowDotMaxTokens tokens go through row dots on cache-sized chunks of dequantized
// rows (rows_dot_stored), more through tiles (≈ 4 MiB of F32) dequantized into scratch and
// multiplied tile by tile. Bias added last. Backward: dX through the same tiles, dW (F32 weights)
// one SGEMM, db a fixed-order column sum. The tiles' GEMMs (gemm / gemm_blocked) run in BF16 while a
// Bf16MatmulScope is on (gemm_bf16.h: `bf16: true` training).
#include <algorithm>
#include <vector>

#include "core/memory.h"
#include "ops/dequantize.h"
#include "ops/gemm_cpu.h"
#include "ops/linear.h"
#include "ops/quant_dot.h"

namespace tuna::cpu {

namespace {

// Up to this many tokens, stored weights go through rows_dot_stored (row dots) instead of
// dequantized tiles and SGEMM; the chunk of rows a thread dequantizes at a time, in elements.
// The same bound as the quantized kernels': a pass of up to this many rows treats every row
// alike whatever the weight format (batched decoding relies on it, KvDecoder::next_logits_batch).
constexpr int64_t kRowDotMaxTokens = kQuantDotMaxN;
constexpr int64_t kRowChunkElements = 16384;

void add_bias(const Tensor& bias, Tensor& y) {
  if (!bias.defined()) return;
  const int64_t N = y.dim(0), O = y.dim(1);
  std::vector<float> b = bias.to_f32_vector();
  float* py = y.data_mut<float>();
#pragma omp parallel for schedule(static)
  for (int64_t n = 0; n < N; ++n)
    for (int64_t o = 0; o < O; ++o) py[n * O + o] += b[static_cast<size_t>(o)];
}

// ≈ 4 MiB of F32 per tile: few enough tiles that the per-tile OpenMP region and SGEMM call
// stay cheap (the tied 262,144-row LM head is 160 tiles), small enough to stay in L2/L3.
// F32 weights are one tile (no copy is made for them).
int64_t tile_rows_for(const Tensor& w) {
  if (w.dtype() == DType::F32) return w.dim(0);
  return std::max<int64_t>(1, kLinearTileElements / std::max<int64_t>(1, w.dim(1)));
}

// w[I] · x[I] in a fixed order (one per output: the same for a token alone or in a batch).
inline float dot_f32(const float* w, const float* x, int64_t I) {
  float acc = 0.0f;
#pragma omp simd reduction(+ : acc)
  for (int64_t i = 0; i < I; ++i) acc += w[i] * x[i];
  return acc;
}

// One token through F32 weights: y[r0:r1] = tile[r1 - r0, I] · x[I], rows split across threads
// — SGEMM with M = 1 spends most of its time packing the tile it reads once.
void rows_dot(const float* tile, int64_t rows, int64_t I, const float* x, float* y) {
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < rows; ++r) y[r] = dot_f32(tile + r * I, x, I);
}

// Few tokens (decoding; small batches) through stored (non-F32) weights: each thread
// dequantizes a chunk of rows (≈ 64 KiB of F32, cache-resident) into a buffer of its own and
// dots every row with every token: one parallel region per call and no tile written to memory
// and read back. y[N, O] = x[N, I] · Wᵀ, each output one dot_f32 (a token's results do not
// depend on the batch it is in).
void rows_dot_stored(const Tensor& w, int64_t N, int64_t I, int64_t O, const float* x, float* y) {
  const int64_t chunk = std::max<int64_t>(1, kRowChunkElements / std::max<int64_t>(1, I));
  const int64_t n_chunks = (O + chunk - 1) / chunk;
#pragma omp parallel
  {
    AlignedBuffer scratch = make_aligned_buffer(static_cast<size_t>(chunk * I) * 4);
    float* rows = static_cast<float*>(scratch.get());
#pragma omp for schedule(static)
    for (int64_t c = 0; c < n_chunks; ++c) {
      const int64_t r0 = c * chunk, r1 = std::min(O, r0 + chunk);
      dequantize_rows(w, r0, r1, rows);
      for (int64_t r = r0; r < r1; ++r)
        for (int64_t n = 0; n < N; ++n) y[n * O + r] = dot_f32(rows + (r - r0) * I, x + n * I, I);
    }
  }
}

// One token through a transposed (GPT-2 Conv1D) tile: y[O] (+)= x[r0:r1] · tile[r1 - r0, O],
// columns split across threads, rows added in order.
void rows_axpy(const float* tile, int64_t rows, int64_t O, const float* x, float* y, bool add) {
#pragma omp parallel for schedule(static)
  for (int64_t c0 = 0; c0 < O; c0 += 256) {
    const int64_t c1 = std::min(O, c0 + 256);
    float acc[256];
    for (int64_t c = c0; c < c1; ++c) acc[c - c0] = add ? y[c] : 0.0f;
    for (int64_t r = 0; r < rows; ++r) {
      const float xr = x[r];
      const float* w = tile + r * O;
#pragma omp simd
      for (int64_t c = c0; c < c1; ++c) acc[c - c0] += xr * w[c];
    }
    for (int64_t c = c0; c < c1; ++c) y[c] = acc[c - c0];
  }
}

// Few tokens through GGUF Q8_0 / Q5_0 / Q4_K / Q6_K weights: dots straight from the blocks
// (ops/quant_dot.h), rows split across threads in chunks.
void rows_dot_quantized(const Tensor& w, int64_t N, int64_t I, int64_t O, const float* x,
                        float* y) {
  const auto* base = static_cast<const uint8_t*>(w.raw());
  const size_t row_bytes = dtype_nbytes(w.dtype(), I);
  // Rows in chunks of 16 across threads: fn(first row's blocks, r0, r1).
  auto for_row_chunks = [&](const auto& fn) {
    constexpr int64_t kChunk = 16;
    const int64_t n_chunks = (O + kChunk - 1) / kChunk;
#pragma omp parallel for schedule(static)
    for (int64_t c = 0; c < n_chunks; ++c) {
      const int64_t r0 = c * kChunk;
      fn(base + static_cast<size_t>(r0) * row_bytes, r0, std::min(O, r0 + kChunk));
    }
  };
  if (int8_activations()) {
    // The decoding fast path (quant_dot.h: Int8ActivationScope): activations rounded to 8 bits,
    // integer block dots. One token: the per-token kernel; more: the tokens in the lanes of one
    // weight pass (so a token's result depends on whether it is alone, not on the others).
    const ActQ8 a = quantize_act_q8(x, N, I);
    if (N == 1) {
      for_row_chunks([&](const uint8_t* rows, int64_t r0, int64_t r1) {
        quant_dot_rows_q8act(w.dtype(), rows, r1 - r0, I, a, 0, 1, y + r0, O);
      });
      return;
    }
    const ActQ8Lanes lanes = act_q8_lanes(a, 0, N);
    for_row_chunks([&](const uint8_t* rows, int64_t r0, int64_t r1) {
      quant_dot_rows_lanes(w.dtype(), rows, r1 - r0, I, lanes, y + r0, O);
    });
    return;
  }
  const ActSums sums = act_sums(x, N, I);
  for_row_chunks([&](const uint8_t* rows, int64_t r0, int64_t r1) {
    quant_dot_rows(w.dtype(), rows, r1 - r0, I, x, sums, N, y + r0, O);
  });
}

}  // namespace

void linear_forward(const Tensor& x, const Tensor& w, const Tensor& bias, Tensor& y,
                    bool transposed) {
  const int64_t N = x.dim(0), I = x.dim(1), O = y.dim(1);
  const float* px = x.data<float>();
  float* py = y.data_mut<float>();
  if (N == 0 || O == 0) return;
  if (w.dtype() == DType::F32 && N <= kRowDotMaxTokens) {
    // Per token the same row dots (or column sums) as a token alone: batch-invariant decoding.
    const float* pw = w.data<float>();
    if (!transposed) {
#pragma omp parallel for schedule(static)
      for (int64_t r = 0; r < O; ++r)
        for (int64_t n = 0; n < N; ++n) py[n * O + r] = dot_f32(pw + r * I, px + n * I, I);
    } else {
      for (int64_t n = 0; n < N; ++n) rows_axpy(pw, I, O, px + n * I, py + n * O, false);
    }
    add_bias(bias, y);
    return;
  }
  if (transposed && N <= kRowDotMaxTokens) {
    for_each_weight_tile(w, tile_rows_for(w), [&](int64_t r0, int64_t r1, const float* tile) {
      for (int64_t n = 0; n < N; ++n)
        rows_axpy(tile, r1 - r0, O, px + n * I + r0, py + n * O, r0 != 0);
    });
    add_bias(bias, y);
    return;
  }
  if (!transposed && quant_dot_supported(w.dtype()) && N <= kQuantDotMaxN) {
    rows_dot_quantized(w, N, I, O, px, py);
    add_bias(bias, y);
    return;
  }
  if (!transposed && w.dtype() != DType::F32 && N <= kRowDotMaxTokens) {
    rows_dot_stored(w, N, I, O, px, py);
    add_bias(bias, y);
    return;
  }
  for_each_weight_tile(w, tile_rows_for(w), [&](int64_t r0, int64_t r1, const float* tile) {
    if (N == 1) {
      if (!transposed)
        rows_dot(tile, r1 - r0, I, px, py + r0);
      else
        rows_axpy(tile, r1 - r0, O, px + r0, py, r0 != 0);
    } else if (!transposed) {
      // y[:, r0:r1] = x[N, I] · tile[r1 - r0, I]ᵀ
      gemm(false, true, N, r1 - r0, I, 1.0f, px, I, tile, I, 0.0f, py + r0, O);
    } else {
      // y[N, O] (+)= x[:, r0:r1] · tile[r1 - r0, O]   (K-split over the input dim)
      gemm(false, false, N, O, r1 - r0, 1.0f, px + r0, I, tile, O, r0 == 0 ? 0.0f : 1.0f, py, O);
    }
  });
  add_bias(bias, y);
}

void linear_backward_input(const Tensor& dy, const Tensor& w, Tensor& dx, bool transposed,
                           bool accumulate) {
  const int64_t N = dy.dim(0), O = dy.dim(1), I = dx.dim(1);
  const float* pdy = dy.data<float>();
  float* pdx = dx.data_mut<float>();
  if (N == 0 || I == 0) return;
  if (O == 0) {
    if (!accumulate) std::fill(pdx, pdx + N * I, 0.0f);
    return;
  }
  for_each_weight_tile(w, tile_rows_for(w), [&](int64_t r0, int64_t r1, const float* tile) {
    if (!transposed) {
      // dx[N, I] (+)= dy[:, r0:r1] · tile[r1 - r0, I]   (K-split over the output dim)
      const float beta = (r0 == 0 && !accumulate) ? 0.0f : 1.0f;
      gemm_blocked(false, false, N, I, r1 - r0, 1.0f, pdy + r0, O, tile, I, beta, pdx, I);
    } else {
      // dx[:, r0:r1] (+)= dy[N, O] · tile[r1 - r0, O]ᵀ
      gemm_blocked(false, true, N, r1 - r0, O, 1.0f, pdy, O, tile, O, accumulate ? 1.0f : 0.0f,
                   pdx + r0, I);
    }
  });
}

void linear_backward_weight(const Tensor& dy, const Tensor& x, Tensor& dw, bool transposed) {
  const int64_t N = dy.dim(0), O = dy.dim(1), I = x.dim(1);
  if (N == 0) return;
  if (!transposed) {
    // dw[O, I] += dy[N, O]ᵀ · x[N, I]
    gemm_blocked(true, false, O, I, N, 1.0f, dy.data<float>(), O, x.data<float>(), I, 1.0f,
                 dw.data_mut<float>(), I);
  } else {
    // dw[I, O] += x[N, I]ᵀ · dy[N, O]
    gemm_blocked(true, false, I, O, N, 1.0f, x.data<float>(), I, dy.data<float>(), O, 1.0f,
                 dw.data_mut<float>(), O);
  }
}

void linear_backward_bias(const Tensor& dy, Tensor& dbias) {
  column_sums(dy.data<float>(), dy.dim(0), dy.dim(1), dbias.data_mut<float>(), true);
}

}  // namespace tuna::cpu
