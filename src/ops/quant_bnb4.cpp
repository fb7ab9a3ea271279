// NF4/FP4 quantization and dequantization, bit-identical to bitsandbytes' CPU backend. See
// quant_bnb4.h. Every float operation below mirrors one torch op of backends/default/ops.py in
// the same order and precision; -ffp-contract=off keeps the compiler from fusing them.
#include "ops/quant_bnb4.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/error.h"
#include "ops/dequantize.h"
#include "ops/quant_blockwise8.h"

namespace tuna {

namespace {

// backends/utils.py _NF4_QUANT_TABLE / _FP4_QUANT_TABLE (float32).
constexpr float kNf4Code[16] = {
    -1.0f,           -0x1.647362p-1f, -0x1.0cd66p-1f,  -0x1.94654p-2f,
    -0x1.23449ap-2f, -0x1.7a6a7ep-3f, -0x1.74f0e2p-4f, 0.0f,
    0x1.45f5fep-4f,  0x1.4995c6p-3f,  0x1.f809bap-3f,  0x1.5a0674p-2f,
    0x1.c3497p-2f,   0x1.200f56p-1f,  0x1.722766p-1f,  1.0f,
};
constexpr float kFp4Code[16] = {
    0.0f, 0x1.54c986p-8f,  0x1.5559b4p-1f,  1.0f,  0x1.554c98p-2f,  0.5f,  0x1.5566d0p-3f,  0.25f,
    0.0f, -0x1.54c986p-8f, -0x1.5559b4p-1f, -1.0f, -0x1.554c98p-2f, -0.5f, -0x1.5566d0p-3f, -0.25f,
};

bool is_float_dtype(DType t) {
  return t == DType::F32 || t == DType::F16 || t == DType::BF16;
}

// torch.argmin over |s - code[k]| in F32: the first minimum; NaN compares smallest, so a NaN s
// (every distance NaN) gives 0.
uint8_t nearest_4bit(const float* code, float s) {
  if (std::isnan(s)) return 0;
  uint8_t best = 0;
  float best_dist = std::fabs(s - code[0]);
  for (uint8_t k = 1; k < 16; ++k) {
    const float d = std::fabs(s - code[k]);
    if (d < best_dist) {
      best_dist = d;
      best = k;
    }
  }
  return best;
}

int ceil_log2(int64_t x) {
  int bits = 0;
  for (uint64_t v = x > 1 ? static_cast<uint64_t>(x - 1) : 0; v != 0; v >>= 1) ++bits;
  return bits;
}

constexpr int kTorchLanes = 8;  // Vectorized<float>::size() in torch's sum kernel
constexpr int kTorchIlp = 4;
constexpr int kTorchLevels = 4;

// torch's row_sum (ATen/native/cpu/SumKernel.cpp): `size` items of `lanes` floats (item j at
// x + j * lanes) summed by 4 interleaved accumulators, each a 4-level cascade; res: [lanes].
void torch_row_sum(const float* x, int64_t size, int lanes, float* res) {
  float acc[kTorchLevels][kTorchIlp][kTorchLanes] = {};
  const int64_t rows = size / kTorchIlp;  // multi_row_sum over rows of 4 items
  const int level_power = std::max(4, ceil_log2(rows) / kTorchLevels);
  const int64_t level_step = int64_t{1} << level_power;
  const int64_t level_mask = level_step - 1;
  auto add_row = [&](int64_t i) {
    for (int k = 0; k < kTorchIlp; ++k)
      for (int l = 0; l < lanes; ++l) acc[0][k][l] += x[(i * kTorchIlp + k) * lanes + l];
  };
  int64_t i = 0;
  while (i + level_step <= rows) {
    for (int64_t j = 0; j < level_step; ++j, ++i) add_row(i);
    for (int j = 1; j < kTorchLevels; ++j) {
      for (int k = 0; k < kTorchIlp; ++k) {
        for (int l = 0; l < lanes; ++l) {
          acc[j][k][l] += acc[j - 1][k][l];
          acc[j - 1][k][l] = 0.0f;
        }
      }
      if ((i & (level_mask << (j * level_power))) != 0) break;
    }
  }
  for (; i < rows; ++i) add_row(i);
  for (int j = 1; j < kTorchLevels; ++j)
    for (int k = 0; k < kTorchIlp; ++k)
      for (int l = 0; l < lanes; ++l) acc[0][k][l] += acc[j][k][l];
  for (int64_t item = rows * kTorchIlp; item < size; ++item)
    for (int l = 0; l < lanes; ++l) acc[0][0][l] += x[item * lanes + l];
  for (int k = 1; k < kTorchIlp; ++k)
    for (int l = 0; l < lanes; ++l) acc[0][0][l] += acc[0][k][l];
  for (int l = 0; l < lanes; ++l) res[l] = acc[0][0][l];
}

// torch's cascade_sum over one contiguous chunk (vectorized_inner_sum, or the scalar row_sum
// below one vector).
float torch_chunk_sum(const float* x, int64_t n) {
  float lanes[kTorchLanes];
  if (n < kTorchLanes) {
    torch_row_sum(x, n, 1, lanes);
    return lanes[0];
  }
  const int64_t vectors = n / kTorchLanes;
  torch_row_sum(x, vectors, kTorchLanes, lanes);
  float sum = 0.0f;
  for (int64_t k = vectors * kTorchLanes; k < n; ++k) sum += x[k];
  for (int l = 0; l < kTorchLanes; ++l) sum += lanes[l];
  return sum;
}

}  // namespace

const float* bnb4_code(Bnb4Type type) {
  return type == Bnb4Type::NF4 ? kNf4Code : kFp4Code;
}

DType bnb4_dtype(Bnb4Type type) {
  return type == Bnb4Type::NF4 ? DType::NF4 : DType::FP4;
}

bool bnb4_blocksize_valid(int64_t blocksize) {
  return blocksize == 32 || blockwise8_blocksize_valid(blocksize);
}

float torch_mean_f32(const float* x, int64_t n, int torch_threads) {
  constexpr int64_t kGrain = 32768;  // at::internal::GRAIN_SIZE
  float sum = 0.0f;
  if (n <= kGrain || torch_threads <= 1) {
    sum = torch_chunk_sum(x, n);
  } else {  // TensorIterator's two-pass reduction: at::parallel_for chunks, added in order
    const int64_t threads = std::min<int64_t>(torch_threads, (n + kGrain - 1) / kGrain);
    const int64_t chunk = (n + threads - 1) / threads;
    for (int64_t t = 0; t * chunk < n; ++t)
      sum += torch_chunk_sum(x + t * chunk, std::min(chunk, n - t * chunk));
  }
  return sum / static_cast<float>(n);
}

size_t Bnb4bitState::nbytes() const {
  return absmax.size() * sizeof(float) + nested_q.size() + nested_absmax.size() * sizeof(float) +
         (params.double_quant ? sizeof(float) : 0);
}

float Bnb4bitState::block_absmax(int64_t b) const {
  if (!params.double_quant) return absmax[static_cast<size_t>(b)];
  const float dq = dequantize_blockwise_8bit_one(dynamic_map(DynamicMap::SIGNED), nested_q.data(),
                                                 nested_absmax.data(), kNestedBlocksize, b);
  return dq + offset;
}

Bnb4bitState quantize_4bit(const float* x, int64_t n, const Bnb4bitParams& params,
                           uint8_t* packed) {
  TUNA_ASSERT(bnb4_blocksize_valid(params.blocksize) && n >= 0, "quantize_4bit: blocksize");
  TUNA_ASSERT(is_float_dtype(params.dtype) && is_float_dtype(params.compute_dtype),
              "quantize_4bit: dtypes");
  const int64_t bs = params.blocksize;
  Bnb4bitState st;
  st.params = params;
  st.numel = n;
  st.n_blocks = (n + bs - 1) / bs;
  std::vector<float> absmax(static_cast<size_t>(st.n_blocks));
  const float* code = bnb4_code(params.type);
  std::fill(packed, packed + (n + 1) / 2, uint8_t{0});
  for (int64_t b = 0; b < st.n_blocks; ++b) {
    const int64_t i0 = b * bs, i1 = std::min(n, i0 + bs);
    float amax = std::fabs(x[i0]);  // torch.abs(block).max(): NaN propagates
    for (int64_t i = i0 + 1; i < i1 && !std::isnan(amax); ++i) {
      const float a = std::fabs(x[i]);
      amax = std::isnan(a) ? a : std::max(amax, a);
    }
    absmax[static_cast<size_t>(b)] = amax;
    const float scale = 1.0f / amax;  // torch: A * (1 / absmax)
    // The partial block is scaled by a 0-dim tensor, which does not promote: its scaled values
    // are rounded to the input dtype (full blocks are scaled by a [blocks, 1] F32 tensor).
    const bool round_scaled = i1 - i0 < bs;
    for (int64_t i = i0; i < i1; ++i) {
      float s = x[i] * scale;
      if (round_scaled) s = round_to_dtype(params.dtype, s);
      s = s < -1.0f ? -1.0f : (s > 1.0f ? 1.0f : s);  // torch.clamp keeps NaN
      const uint8_t q = nearest_4bit(code, s);
      packed[i / 2] |= static_cast<uint8_t>((i % 2 == 0) ? q << 4 : q);
    }
  }
  if (!params.double_quant) {
    st.absmax = std::move(absmax);
    return st;
  }
  // compress_statistics: offset = absmax.mean(); quantize_blockwise(absmax - offset, 256).
  st.offset = torch_mean_f32(absmax.data(), st.n_blocks, params.offset_threads);
  for (float& a : absmax) a -= st.offset;
  st.nested_q.resize(absmax.size());
  st.nested_absmax.resize(
      static_cast<size_t>(blockwise_n_blocks(st.n_blocks, Bnb4bitState::kNestedBlocksize)));
  quantize_blockwise_8bit(absmax.data(), st.n_blocks, Bnb4bitState::kNestedBlocksize,
                          DynamicMap::SIGNED, st.nested_q.data(), st.nested_absmax.data());
  return st;
}

void dequantize_4bit(const uint8_t* packed, const Bnb4bitState& state, int64_t i0, int64_t i1,
                     float* out) {
  TUNA_ASSERT(0 <= i0 && i0 <= i1 && i1 <= state.numel, "dequantize_4bit: range");
  const DType dtype = state.params.dtype;
  float code[16];  // CODE[quant_type].to(dtype)
  for (int k = 0; k < 16; ++k) code[k] = round_to_dtype(dtype, bnb4_code(state.params.type)[k]);
  const int64_t bs = state.params.blocksize;
  int64_t block = -1;
  float amax = 0.0f;
  for (int64_t i = i0; i < i1; ++i) {
    if (i / bs != block) {
      block = i / bs;
      amax = state.block_absmax(block);
    }
    const uint8_t byte = packed[i / 2];
    const uint8_t q = (i % 2 == 0) ? static_cast<uint8_t>(byte >> 4) : byte & 0x0f;
    out[i - i0] = round_to_dtype(dtype, code[q] * amax);
  }
}

Tensor quantize_weight_4bit(const Tensor& w, const Bnb4bitParams& params) {
  if (!bnb4_blocksize_valid(params.blocksize)) {
    throw_user_error("quantization",
                     "bnb_4bit blocksize " + std::to_string(params.blocksize) + " is not valid",
                     "use 32, 64, 128, 256, 512, 1024, 2048 or 4096 (bitsandbytes' sizes)");
  }
  if (!is_float_dtype(params.dtype) || !is_float_dtype(params.compute_dtype)) {
    throw_user_error("quantization", "4-bit weights need a float32, float16 or bfloat16 dtype",
                     "set bnb_4bit_compute_dtype (and the model dtype) to one of those");
  }
  TUNA_ASSERT(w.ndim() == 2, "quantize_weight_4bit: a 2-D weight");
  const int64_t n = w.numel();
  std::vector<float> values(static_cast<size_t>(n));  // [out, in] F32, one weight at a time
  dequantize_rows(w, 0, w.dim(0), values.data());
  for (float& v : values) v = round_to_dtype(params.dtype, v);
  Tensor packed = Tensor::empty(w.shape(), bnb4_dtype(params.type));
  auto state = std::make_shared<Bnb4bitState>(
      quantize_4bit(values.data(), n, params, packed.data_mut<uint8_t>()));
  return packed.with_quant_state(std::move(state));
}

}  // namespace tuna
