// RoPE frequencies and tables (host math, shared by every backend) and rope_forward dispatch.
#include "ops/rope.h"

#include <cmath>

#include "core/error.h"
#include "ops/dispatch.h"

namespace tuna {

std::vector<float> rope_inv_freq(const RopeConfig& c) {
  TUNA_ASSERT(c.dim > 0 && c.dim % 2 == 0, "rope: even rotary dim");
  const int64_t half = c.dim / 2;
  std::vector<float> inv(static_cast<size_t>(half));
  for (int64_t i = 0; i < half; ++i) {
    // transformers: 1.0 / (base ** (arange(0, dim, 2).float() / dim)), all in F32
    float exponent = static_cast<float>(2 * i) / static_cast<float>(c.dim);
    float p =
        static_cast<float>(std::pow(static_cast<double>(c.theta), static_cast<double>(exponent)));
    inv[static_cast<size_t>(i)] = 1.0f / p;
  }
  if (c.scaling == RopeScalingType::LINEAR) {
    for (float& f : inv) f = f / c.factor;
  } else if (c.scaling == RopeScalingType::LLAMA3) {
    const float old_ctx = static_cast<float>(c.original_max_position);
    const float low_wavelen = old_ctx / c.low_freq_factor;
    const float high_wavelen = old_ctx / c.high_freq_factor;
    const float two_pi = static_cast<float>(2.0 * M_PI);
    for (float& f : inv) {
      // torch evaluates `scalar / tensor` as reciprocal(tensor) * scalar; mirror it bit for bit.
      const float wavelen = (1.0f / f) * two_pi;
      float scaled = wavelen > low_wavelen ? f / c.factor : f;
      const float smooth = ((1.0f / wavelen) * old_ctx - c.low_freq_factor) /
                           (c.high_freq_factor - c.low_freq_factor);
      const float smoothed = (1.0f - smooth) * scaled / c.factor + smooth * scaled;
      const bool medium = !(wavelen < high_wavelen) && !(wavelen > low_wavelen);
      f = medium ? smoothed : scaled;
    }
  }
  return inv;
}

RopeTables rope_tables(const RopeConfig& config, const std::vector<int32_t>& positions) {
  std::vector<float> inv = rope_inv_freq(config);
  RopeTables t;
  t.half = static_cast<int64_t>(inv.size());
  t.cos.resize(positions.size() * inv.size());
  t.sin.resize(positions.size() * inv.size());
  for (size_t p = 0; p < positions.size(); ++p) {
    for (size_t i = 0; i < inv.size(); ++i) {
      const float angle = static_cast<float>(positions[p]) * inv[i];
      t.cos[p * inv.size() + i] = std::cos(angle);
      t.sin[p * inv.size() + i] = std::sin(angle);
    }
  }
  return t;
}

static void check_rope_args(const Tensor& x, const RopeTables& tables,
                            const std::vector<int32_t>& rows) {
  TUNA_ASSERT(x.ndim() == 3 && x.dtype() == DType::F32, "rope: x is [N, H, D] F32");
  TUNA_ASSERT(x.dim(2) == 2 * tables.half, "rope: head dim vs table");
  TUNA_ASSERT(static_cast<int64_t>(rows.size()) == x.dim(0), "rope: one table row per token");
  const size_t table_rows =
      tables.cos.size() / static_cast<size_t>(tables.half == 0 ? 1 : tables.half);
  for (int32_t r : rows)
    TUNA_ASSERT(r >= 0 && static_cast<size_t>(r) < table_rows, "rope: row index");
}

void rope_forward(Tensor& x, const RopeTables& tables, const std::vector<int32_t>& rows,
                  bool interleaved) {
  check_rope_args(x, tables, rows);
  const Device device = op_device("rope_forward", {&x});
  if (device == Device::CPU) return cpu::rope_rotate(x, tables, rows, interleaved, 1.0f);
  throw_no_kernel("rope_forward", device);
}

void rope_backward(Tensor& dy, const RopeTables& tables, const std::vector<int32_t>& rows,
                   bool interleaved) {
  check_rope_args(dy, tables, rows);
  const Device device = op_device("rope_backward", {&dy});
  if (device == Device::CPU) return cpu::rope_rotate(dy, tables, rows, interleaved, -1.0f);
  throw_no_kernel("rope_backward", device);
}

}  // namespace tuna
