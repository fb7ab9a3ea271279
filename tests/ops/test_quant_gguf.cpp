// GGUF dequantization tests: bit-identical to the gguf Python package on random blocks of every
// type (tests/golden/gguf/blocks, made by tools/reference/make_gguf_goldens.py) and on every
// tensor of the real Gemma 3 270M file; row access through dequantize_rows; golden sensitivity.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <vector>

#include "core/error.h"
#include "io/gguf.h"
#include "io/gguf_test_util.h"
#include "ops/dequantize.h"
#include "ops/quant_gguf.h"

namespace tuna {
namespace {

using gguf_test::bits_of;
using gguf_test::golden_dir;
using gguf_test::read_file;
using gguf_test::Sha256;

const char* const kTypes[] = {"F32",  "F16",  "BF16", "Q4_0", "Q4_1", "Q5_0", "Q5_1",
                              "Q8_0", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K"};

DType dtype_named(const std::string& name) {
  DType t;
  EXPECT_TRUE(dtype_from_name(name, &t)) << name;
  return t;
}

std::vector<float> as_floats(const std::string& bytes) {
  std::vector<float> v(bytes.size() / 4);
  std::memcpy(v.data(), bytes.data(), v.size() * 4);
  return v;
}

// Bitwise equality, except that any NaN equals any NaN: NaN payloads and signs are not specified
// by the reference (numpy may quiet a signalling NaN when converting halves). Returns the
// number of mismatches; reports the first few.
size_t compare_bits(const std::vector<float>& got, const std::vector<float>& want,
                    const std::string& what, size_t* nan_count = nullptr) {
  size_t bad = 0, nans = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    if (std::isnan(want[i]) && std::isnan(got[i])) {
      ++nans;
      continue;
    }
    if (bits_of(got[i]) != bits_of(want[i])) {
      if (bad++ < 5) {
        ADD_FAILURE() << what << " element " << i << ": got " << got[i] << " (0x" << std::hex
                      << bits_of(got[i]) << "), gguf-py " << want[i] << " (0x" << bits_of(want[i])
                      << std::dec << ")";
      }
    }
  }
  if (nan_count) *nan_count = nans;
  return bad;
}

class RandomBlocks : public ::testing::TestWithParam<const char*> {};

TEST_P(RandomBlocks, BitIdenticalToGgufPackage) {
  const std::string name = GetParam();
  const nlohmann::json manifest = gguf_test::read_json(golden_dir() + "/manifest.json");
  const nlohmann::json& entry = manifest.at("blocks").at(name);
  const std::string raw = read_file(golden_dir() + "/blocks/" + name + ".bin");
  const std::vector<float> want = as_floats(read_file(golden_dir() + "/blocks/" + name + ".f32"));
  ASSERT_EQ(Sha256::of(raw.data(), raw.size()), entry.at("input_sha256").get<std::string>());
  ASSERT_EQ(want.size(), entry.at("n_elements").get<size_t>());

  const DType t = dtype_named(name);
  EXPECT_EQ(dtype_block_size(t), entry.at("block_size").get<size_t>());
  EXPECT_EQ(dtype_block_bytes(t), entry.at("type_size").get<size_t>());
  ASSERT_EQ(dtype_nbytes(t, static_cast<int64_t>(want.size())), raw.size());
  EXPECT_TRUE(gguf_dequantizable(t));

  std::vector<float> got(want.size(), -12345.0f);
  dequantize_gguf(t, raw.data(), static_cast<int64_t>(got.size()), got.data());
  size_t nans = 0;
  EXPECT_EQ(compare_bits(got, want, name, &nans), 0u);
  // The deliberate NaN/Inf-scale blocks must have been exercised, NaN for NaN.
  EXPECT_EQ(nans, entry.at("n_nan_outputs").get<size_t>());
}

// The same bytes through dequantize_rows on a [rows, cols] weight view: any row range gives the
// matching slice of the full output (rows are 4 blocks, as the goldens laid them out).
TEST_P(RandomBlocks, DequantizeRowsMatchesSlices) {
  const std::string name = GetParam();
  const std::string raw = read_file(golden_dir() + "/blocks/" + name + ".bin");
  const std::vector<float> want = as_floats(read_file(golden_dir() + "/blocks/" + name + ".f32"));
  const DType t = dtype_named(name);
  const int64_t cols = 4 * static_cast<int64_t>(dtype_block_size(t));
  const int64_t rows = static_cast<int64_t>(want.size()) / cols;
  ASSERT_TRUE(weight_format_supported(t));
  Tensor w = Tensor::view(nullptr, raw.data(), Shape{rows, cols}, t);
  EXPECT_EQ(w.nbytes(), raw.size());
  const int64_t ranges[][2] = {{0, rows}, {0, 1}, {rows - 1, rows}, {1, rows / 2 + 1}, {3, 3}};
  for (const auto& r : ranges) {
    std::vector<float> got(static_cast<size_t>((r[1] - r[0]) * cols));
    dequantize_rows(w, r[0], r[1], got.data());
    std::vector<float> slice(want.begin() + r[0] * cols, want.begin() + r[1] * cols);
    EXPECT_EQ(
        compare_bits(got, slice,
                     name + " rows [" + std::to_string(r[0]) + ", " + std::to_string(r[1]) + ")"),
        0u);
  }
  // slice0 of a block-typed tensor addresses whole rows of blocks.
  Tensor s = w.slice0(2, 4);
  std::vector<float> got(static_cast<size_t>(2 * cols));
  dequantize_rows(s, 0, 2, got.data());
  std::vector<float> slice(want.begin() + 2 * cols, want.begin() + 4 * cols);
  EXPECT_EQ(compare_bits(got, slice, name + " slice0"), 0u);
}

INSTANTIATE_TEST_SUITE_P(Gguf, RandomBlocks, ::testing::ValuesIn(kTypes),
                         [](const auto& info) { return std::string(info.param); });

// Q4_K recomputed from the golden's bytes by an independent scalar loop, with one mistake chosen
// by `variant`: 0 none, 1 high nibble first, 2 the final subtraction written as -(ml - v) (wrong
// sign of zero), 3 scales and mins of sub-blocks 4..7 taken from the wrong bits.
std::vector<float> q4_k_variant(const std::string& raw, int variant) {
  std::vector<float> y(raw.size() / sizeof(BlockQ4_K) * 256);
  const auto* x = reinterpret_cast<const uint8_t*>(raw.data());
  for (size_t b = 0; b < raw.size() / sizeof(BlockQ4_K); ++b, x += sizeof(BlockQ4_K)) {
    uint16_t dh, mh;
    std::memcpy(&dh, x, 2);
    std::memcpy(&mh, x + 2, 2);
    const float d = f16_to_f32(dh), dmin = f16_to_f32(mh);
    const uint8_t* s = x + 4;
    for (int sub = 0; sub < 8; ++sub) {
      int sc = sub < 4 ? (s[sub] & 63) : ((s[sub + 4] & 0xF) | ((s[sub - 4] >> 6) << 4));
      int m = sub < 4 ? (s[sub + 4] & 63) : ((s[sub + 4] >> 4) | ((s[sub] >> 6) << 4));
      if (variant == 3 && sub >= 4) sc = s[sub + 4] & 63, m = s[sub + 4] >> 2;
      const float dl = d * static_cast<float>(sc), ml = dmin * static_cast<float>(m);
      const int shift = 4 * ((sub % 2) ^ (variant == 1 ? 1 : 0));
      for (int l = 0; l < 32; ++l) {
        const float v = dl * static_cast<float>((x[16 + (sub / 2) * 32 + l] >> shift) & 0xF);
        if (variant == 2) {
          volatile float t = ml - v;  // volatile: GCC -O3 folds -(ml - v) into v - ml here
          y[b * 256 + sub * 32 + l] = -t;
        } else {
          y[b * 256 + sub * 32 + l] = v - ml;
        }
      }
    }
  }
  return y;
}

size_t count_bit_differences(const std::vector<float>& a, const std::vector<float>& b) {
  size_t n = 0;
  for (size_t i = 0; i < a.size(); ++i)
    n += !(std::isnan(a[i]) && std::isnan(b[i])) && bits_of(a[i]) != bits_of(b[i]);
  return n;
}

// The deliberately broken variants: each mistake must be caught by the golden, or the bit-exact
// tests above prove nothing. (A fused multiply-add cannot be caught and cannot matter: every
// product here, an F16 scale times an integer of at most 8 bits, is exact in F32, so only the
// final addition rounds.)
TEST(QuantGgufGolden, CatchesBrokenVariants) {
  const std::string raw = read_file(golden_dir() + "/blocks/Q4_K.bin");
  const std::vector<float> want = as_floats(read_file(golden_dir() + "/blocks/Q4_K.f32"));
  EXPECT_EQ(count_bit_differences(q4_k_variant(raw, 0), want), 0u);
  for (int variant : {1, 2, 3})
    EXPECT_GT(count_bit_differences(q4_k_variant(raw, variant), want), 0u) << variant;

  std::string flipped = raw;
  flipped[16 + 5] = static_cast<char>(flipped[16 + 5] ^ 0x10);  // one quant nibble of block 0
  std::vector<float> got(want.size());
  dequantize_gguf(DType::Q4_K, flipped.data(), static_cast<int64_t>(got.size()), got.data());
  EXPECT_EQ(count_bit_differences(got, want), 1u);
}

TEST(QuantGguf, RejectsPartialBlocksAndUnknownFormats) {
  std::vector<uint8_t> raw(sizeof(BlockQ8_0), 0);
  std::vector<float> out(64);
  EXPECT_THROW(dequantize_gguf(DType::Q8_0, raw.data(), 31, out.data()), Error);
  EXPECT_THROW(dequantize_gguf(DType::I32, raw.data(), 4, out.data()), Error);
  EXPECT_FALSE(gguf_dequantizable(DType::I32));
  EXPECT_FALSE(weight_format_supported(DType::U8));
  EXPECT_THROW(dtype_size(DType::Q4_K), Error);  // bytes per element is meaningless for blocks
  EXPECT_EQ(dtype_nbytes(DType::Q4_K, 512), 288u);
  EXPECT_EQ(Tensor::empty(Shape{3, 64}, DType::Q5_0).nbytes(), 3u * 2 * 22);
}

// Every tensor of the real file, dequantized row-chunk by row-chunk (the token embedding alone is
// 671 MB as F32), hashed, and compared with the sha256 of gguf.quants.dequantize's output.
TEST(QuantGgufRealModel, EveryTensorBitIdenticalToGgufPackage) {
  TUNA_REQUIRE_REAL_MODEL();
  const nlohmann::json golden = gguf_test::read_json(golden_dir() + "/gemma3_270m.json");
  GgufFile f = GgufFile::open(gguf_test::real_model_path());
  ASSERT_EQ(f.tensors().size(), golden.at("tensors").size());
  std::vector<float> buf;
  std::map<std::string, int> types_seen;
  for (const nlohmann::json& g : golden.at("tensors")) {
    const std::string name = g.at("name").get<std::string>();
    SCOPED_TRACE(name);
    const GgufTensorInfo& info = f.tensor_info(name);
    ASSERT_EQ(std::string(dtype_name(info.dtype)), g.at("type").get<std::string>());
    Tensor w = f.tensor(info);
    ASSERT_TRUE(w.is_view());  // zero-copy: the mapping's bytes, not a copy
    const int64_t cols = w.dim(-1);
    const int64_t rows = w.numel() / cols;
    const int64_t chunk = std::max<int64_t>(1, (1 << 20) / cols);
    Sha256 sha;
    const nlohmann::json& samples = g.at("samples");
    size_t next_sample = 0;
    for (int64_t r0 = 0; r0 < rows; r0 += chunk) {
      const int64_t r1 = std::min(rows, r0 + chunk);
      buf.resize(static_cast<size_t>((r1 - r0) * cols));
      dequantize_rows(w, r0, r1, buf.data());
      sha.update(buf.data(), buf.size() * 4);
      for (; next_sample < samples.size(); ++next_sample) {
        const int64_t idx = samples[next_sample][0].get<int64_t>();
        if (idx >= r1 * cols) break;
        EXPECT_EQ(bits_of(buf[static_cast<size_t>(idx - r0 * cols)]),
                  samples[next_sample][1].get<uint32_t>())
            << "element " << idx;
      }
    }
    EXPECT_EQ(next_sample, samples.size());
    EXPECT_EQ(sha.hex(), g.at("f32_sha256").get<std::string>());
    ++types_seen[dtype_name(info.dtype)];
  }
  // The file mixes formats (640-wide rows cannot be K-quants): every one of them was checked.
  EXPECT_EQ(types_seen.size(), 5u);
  for (const char* t : {"F32", "Q5_0", "Q8_0", "Q4_K", "Q6_K"}) EXPECT_GT(types_seen[t], 0) << t;
}

}  // namespace
}  // namespace tuna
