// bitsandbytes 4-bit (NF4/FP4, with and without double quantization) and 8-bit blockwise
// quantization: packed bytes, statistics and dequantized values bit-identical to bitsandbytes'
// CPU backend (tests/golden/bnb, made by tools/reference/make_bnb_goldens.py); the
// double-quant offset's torch summation order; weights through dequantize_rows and
// linear_forward; broken variants that the goldens must reject.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "io/gguf_test_util.h"
#include "io/safetensors.h"
#include "ops/dequantize.h"
#include "ops/linear.h"
#include "ops/quant_blockwise8.h"
#include "ops/quant_bnb4.h"

namespace tuna {
namespace {

using gguf_test::bits_of;
using gguf_test::read_json;

std::string bnb_dir() {
  return std::string(TUNA_GOLDEN_DIR) + "/bnb";
}

const SafetensorsFile& goldens() {
  static const SafetensorsFile file = SafetensorsFile::open(bnb_dir() + "/blockwise.safetensors");
  return file;
}

const nlohmann::json& manifest() {
  static const nlohmann::json m = read_json(bnb_dir() + "/manifest.json");
  return m;
}

std::vector<float> floats(const std::string& name) {
  return goldens().tensor(name).to_f32_vector();
}

std::vector<uint8_t> bytes(const std::string& name) {
  const Tensor t = goldens().tensor(name);
  EXPECT_EQ(t.dtype(), DType::U8) << name;
  const auto* p = t.data<uint8_t>();
  return {p, p + t.numel()};
}

// Bitwise equality of floats; returns the mismatch count and reports the first few.
size_t bit_mismatches(const float* got, const std::vector<float>& want, const std::string& what) {
  size_t bad = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    if (bits_of(got[i]) == bits_of(want[i])) continue;
    if (bad++ < 5) {
      ADD_FAILURE() << what << "[" << i << "]: got " << got[i] << " (0x" << std::hex
                    << bits_of(got[i]) << "), bitsandbytes " << want[i] << " (0x"
                    << bits_of(want[i]) << std::dec << ")";
    }
  }
  return bad;
}

size_t byte_mismatches(const std::vector<uint8_t>& got, const std::vector<uint8_t>& want,
                       const std::string& what) {
  EXPECT_EQ(got.size(), want.size()) << what;
  size_t bad = 0;
  for (size_t i = 0; i < std::min(got.size(), want.size()); ++i) {
    if (got[i] != want[i] && bad++ < 5) {
      ADD_FAILURE() << what << "[" << i << "]: got " << int{got[i]} << ", bitsandbytes "
                    << int{want[i]};
    }
  }
  return bad;
}

DType dtype_of(const nlohmann::json& c) {
  DType t = DType::F32;
  EXPECT_TRUE(dtype_from_name(c.at("dtype").get<std::string>(), &t));
  return t;
}

Bnb4bitParams params_of(const nlohmann::json& c) {
  Bnb4bitParams p;
  p.type = c.at("quant_type") == "nf4" ? Bnb4Type::NF4 : Bnb4Type::FP4;
  p.blocksize = c.at("blocksize").get<int64_t>();
  p.double_quant = c.at("double_quant").get<bool>();
  p.dtype = dtype_of(c);
  p.compute_dtype = p.dtype;
  return p;
}

std::vector<nlohmann::json> cases(const std::string& kind) {
  std::vector<nlohmann::json> out;
  for (const auto& c : manifest().at("cases"))
    if (c.at("kind") == kind) out.push_back(c);
  return out;
}

TEST(QuantBnb, GoldensRecordTheBackend) {
  EXPECT_EQ(manifest().at("versions").at("bitsandbytes"), "0.48.2");
  EXPECT_NE(manifest().at("backend").get<std::string>().find("cpu"), std::string::npos);
  EXPECT_GE(cases("4bit").size(), 40u);
  EXPECT_GE(cases("8bit").size(), 10u);
}

TEST(QuantBnb, DynamicMapsAreBitsandbytes) {
  for (DynamicMap m : {DynamicMap::SIGNED, DynamicMap::UNSIGNED}) {
    const std::string tag = m == DynamicMap::SIGNED ? "signed" : "unsigned";
    const auto& pristine = dynamic_map_pristine(m);
    EXPECT_EQ(bit_mismatches(pristine.data(), floats("dynamic_map." + tag), tag), 0u);
    EXPECT_EQ(
        bit_mismatches(dynamic_map(m).data(), floats("dynamic_map." + tag + "_cpu"), tag + "_cpu"),
        0u);
  }
}

TEST(QuantBnb, Blockwise8BitIdentical) {
  for (const auto& c : cases("8bit")) {
    const std::string name = c.at("name");
    SCOPED_TRACE(name);
    const DynamicMap map = c.at("map") == "signed" ? DynamicMap::SIGNED : DynamicMap::UNSIGNED;
    const int64_t bs = c.at("blocksize").get<int64_t>();
    const std::vector<float> x = floats(c.at("input"));
    const int64_t n = static_cast<int64_t>(x.size());
    std::vector<uint8_t> q(x.size());
    std::vector<float> absmax(static_cast<size_t>(blockwise_n_blocks(n, bs)));
    quantize_blockwise_8bit(x.data(), n, bs, map, q.data(), absmax.data());
    EXPECT_EQ(byte_mismatches(q, bytes(name + ".q"), "q"), 0u);
    EXPECT_EQ(bit_mismatches(absmax.data(), floats(name + ".absmax"), "absmax"), 0u);
    // Dequantize bitsandbytes' own codes (independent of our quantizer).
    const std::vector<uint8_t> gq = bytes(name + ".q");
    const std::vector<float> gabs = floats(name + ".absmax");
    std::vector<float> out(x.size());
    dequantize_blockwise_8bit(gq.data(), gabs.data(), bs, map, 0, n, out.data());
    EXPECT_EQ(bit_mismatches(out.data(), floats(name + ".dequant"), "dequant"), 0u);
  }
}

TEST(QuantBnb, FourBitBitIdentical) {
  for (const auto& c : cases("4bit")) {
    const std::string name = c.at("name");
    SCOPED_TRACE(name);
    const Bnb4bitParams p = params_of(c);
    const std::vector<float> x = floats(c.at("input"));
    const int64_t n = static_cast<int64_t>(x.size());
    std::vector<uint8_t> packed(static_cast<size_t>((n + 1) / 2));
    const Bnb4bitState st = quantize_4bit(x.data(), n, p, packed.data());
    EXPECT_EQ(byte_mismatches(packed, bytes(name + ".packed"), "packed"), 0u);
    if (p.double_quant) {
      EXPECT_EQ(byte_mismatches(st.nested_q, bytes(name + ".nested_q"), "nested_q"), 0u);
      EXPECT_EQ(bit_mismatches(st.nested_absmax.data(), floats(name + ".nested_absmax"), "n_abs"),
                0u);
      EXPECT_EQ(bit_mismatches(&st.offset, floats(name + ".offset"), "offset"), 0u);
    } else {
      EXPECT_EQ(bit_mismatches(st.absmax.data(), floats(name + ".absmax"), "absmax"), 0u);
    }
    std::vector<float> out(x.size());
    dequantize_4bit(packed.data(), st, 0, n, out.data());
    EXPECT_EQ(bit_mismatches(out.data(), floats(name + ".dequant"), "dequant"), 0u);
  }
}

// The same cases as weights: quantize_weight_4bit from a tensor in the case's dtype, then
// dequantize_rows one row at a time (blocks span rows) must give bitsandbytes' values.
TEST(QuantBnb, WeightRowsBitIdentical) {
  for (const auto& c : cases("4bit")) {
    const std::string name = c.at("name");
    SCOPED_TRACE(name);
    const Shape shape{c.at("shape")[0].get<int64_t>(), c.at("shape")[1].get<int64_t>()};
    const Bnb4bitParams p = params_of(c);
    Tensor w = Tensor::from_f32(shape, floats(c.at("input")));
    const Tensor q = quantize_weight_4bit(w, p);
    ASSERT_EQ(q.dtype(), p.type == Bnb4Type::NF4 ? DType::NF4 : DType::FP4);
    ASSERT_EQ(q.nbytes(), static_cast<size_t>((shape.numel() + 1) / 2));
    const std::vector<float> want = floats(name + ".dequant");
    std::vector<float> row(static_cast<size_t>(shape[1]));
    size_t bad = 0;
    for (int64_t r = 0; r < shape[0]; ++r) {
      dequantize_rows(q, r, r + 1, row.data());
      const std::vector<float> want_row(want.begin() + r * shape[1],
                                        want.begin() + (r + 1) * shape[1]);
      bad += bit_mismatches(row.data(), want_row, "row " + std::to_string(r));
    }
    EXPECT_EQ(bad, 0u);
  }
}

TEST(QuantBnb, TorchMeanOrder) {
  const nlohmann::json j = read_json(bnb_dir() + "/mean.json");
  size_t checked = 0;
  for (const auto& m : j.at("means")) {
    const int64_t n = m.at("n").get<int64_t>();
    std::vector<float> x(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i)  // the generator's formula_input
      x[static_cast<size_t>(i)] =
          static_cast<float>(static_cast<double>((i * 2654435761LL) % 1000003 + 1) / 1000003.0);
    const float want = std::strtof(m.at("mean").get<std::string>().c_str(), nullptr);
    const int threads = m.at("threads").get<int>();
    EXPECT_EQ(bits_of(torch_mean_f32(x.data(), n, threads)), bits_of(want))
        << "n " << n << " threads " << threads;
    ++checked;
  }
  EXPECT_GT(checked, 100u);
}

// bnb_4bit_compute_dtype: what the matmul sees is dequantize_4bit(...).to(compute_dtype).
TEST(QuantBnb, ComputeDtypeRounding) {
  const nlohmann::json c = cases("4bit").front();
  Bnb4bitParams p = params_of(c);
  const Shape shape{c.at("shape")[0].get<int64_t>(), c.at("shape")[1].get<int64_t>()};
  const std::vector<float> want = floats(c.at("name").get<std::string>() + ".dequant");
  for (DType compute : {DType::BF16, DType::F16}) {
    p.compute_dtype = compute;
    const Tensor q = quantize_weight_4bit(Tensor::from_f32(shape, floats(c.at("input"))), p);
    std::vector<float> out(want.size());
    dequantize_rows(q, 0, shape[0], out.data());
    std::vector<float> rounded(want);
    for (float& v : rounded) v = round_to_dtype(compute, v);
    EXPECT_EQ(bit_mismatches(out.data(), rounded, dtype_name(compute)), 0u);
  }
}

// linear_forward reads an NF4 weight through dequantize_rows: same result as the dequantized
// F32 weight (up to SGEMM tiling).
TEST(QuantBnb, LinearForwardUsesDequantizedWeight) {
  const int64_t N = 3, I = 96, O = 10;  // 960 elements: blocks of 64 span rows of 96
  std::vector<float> wv(static_cast<size_t>(O * I)), xv(static_cast<size_t>(N * I));
  for (size_t i = 0; i < wv.size(); ++i) wv[i] = std::sin(0.37f * static_cast<float>(i));
  for (size_t i = 0; i < xv.size(); ++i) xv[i] = std::cos(0.11f * static_cast<float>(i));
  Bnb4bitParams p;
  p.type = Bnb4Type::NF4;
  p.double_quant = true;
  const Tensor q = quantize_weight_4bit(Tensor::from_f32({O, I}, wv), p);
  Tensor deq = Tensor::empty({O, I}, DType::F32);
  dequantize_rows(q, 0, O, deq.data_mut<float>());
  const Tensor x = Tensor::from_f32({N, I}, xv);
  Tensor y_q = Tensor::empty({N, O}, DType::F32), y_f = Tensor::empty({N, O}, DType::F32);
  linear_forward(x, q, Tensor(), y_q);
  linear_forward(x, deq, Tensor(), y_f);
  for (int64_t i = 0; i < N * O; ++i)
    EXPECT_NEAR(y_q.data<float>()[i], y_f.data<float>()[i], 1e-5f) << i;
}

// Broken variants the goldens must reject: ties to the higher code index, the odd element in
// the high nibble, and dequantizing 8-bit codes with the pristine map (entry 0 not -1).
TEST(QuantBnb, BrokenVariantsFail) {
  const std::string name = "nf4_ties";
  const std::vector<float> x = floats(name + ".input");
  const std::vector<float> want = floats(name + ".dequant");
  const std::vector<uint8_t> packed = bytes(name + ".packed");
  const std::vector<float> absmax = floats(name + ".absmax");
  const float* code = bnb4_code(Bnb4Type::NF4);
  size_t ties_differ = 0, swapped_differ = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    const float s = x[i] * (1.0f / absmax[i / 64]);
    uint8_t hi = 0;  // last minimum instead of the first
    for (uint8_t k = 1; k < 16; ++k)
      if (std::fabs(s - code[k]) <= std::fabs(s - code[hi])) hi = k;
    const uint8_t q = (i % 2 == 0) ? packed[i / 2] >> 4 : packed[i / 2] & 15;
    ties_differ += hi != q;
    const uint8_t swapped = (i % 2 == 0) ? packed[i / 2] & 15 : packed[i / 2] >> 4;
    swapped_differ += bits_of(code[swapped] * absmax[i / 64]) != bits_of(want[i]);
  }
  EXPECT_GT(ties_differ, 0u) << "the ties golden does not pin tie-breaking";
  EXPECT_GT(swapped_differ, 0u) << "the golden does not pin the nibble order";

  const std::string q8 = "q8_signed_ties";
  const std::vector<uint8_t> q = bytes(q8 + ".q");
  const std::vector<float> am = floats(q8 + ".absmax");
  const std::vector<float> deq = floats(q8 + ".dequant");
  const auto& pristine = dynamic_map_pristine(DynamicMap::SIGNED);
  size_t map_differ = 0;
  for (size_t i = 0; i < q.size(); ++i)
    map_differ += bits_of(pristine[q[i]] * am[i / 256]) != bits_of(deq[i]);
  EXPECT_GT(map_differ, 0u) << "the golden does not pin the CPU map's entry 0";
}

}  // namespace
}  // namespace tuna
