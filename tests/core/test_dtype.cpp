// DType tables and the bit-exact F16/BF16 <-> F32 conversions, checked against independent
// references written here in double arithmetic (ldexp / nearbyint), exhaustively where cheap.
#include <gtest/gtest.h>

#include <cfenv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "core/dtype.h"
#include "core/error.h"

namespace {

using tuna::DType;

// Independent F16 decode: (-1)^s · 2^(e-15) · (1 + m/1024), or m · 2^-24 for e == 0.
double ref_f16_decode(uint16_t h) {
  const int sign = (h >> 15) & 1;
  const int e = (h >> 10) & 0x1f;
  const int m = h & 0x3ff;
  double v;
  if (e == 0) {
    v = std::ldexp(static_cast<double>(m), -24);
  } else if (e == 31) {
    v = m == 0 ? std::numeric_limits<double>::infinity() : std::numeric_limits<double>::quiet_NaN();
  } else {
    v = std::ldexp(static_cast<double>(1024 + m), e - 25);
  }
  return sign ? -v : v;
}

// Independent F16 encode with round-to-nearest-even, from an exact double.
uint16_t ref_f16_encode(double x) {
  const uint16_t sign = std::signbit(x) ? 0x8000 : 0;
  const double a = std::fabs(x);
  if (std::isnan(x)) return sign | 0x7e00;
  if (a >= 65520.0) return sign | 0x7c00;  // halfway between 65504 and 2^16 ties up to Inf
  if (a < std::ldexp(1.0, -14)) {
    // subnormal grid in units of 2^-24 (0x400 here is the smallest normal: still correct)
    const double q = std::nearbyint(a / std::ldexp(1.0, -24));
    return static_cast<uint16_t>(sign | static_cast<uint16_t>(q));
  }
  int e2;
  std::frexp(a, &e2);                                      // a = f · 2^e2, f in [0.5, 1)
  int e = e2 - 1;                                          // a in [2^e, 2^(e+1))
  double n = std::nearbyint(a / std::ldexp(1.0, e - 10));  // in [1024, 2048]
  if (n == 2048.0) {
    n = 1024.0;
    ++e;
  }
  if (e + 15 >= 31) return sign | 0x7c00;
  return static_cast<uint16_t>(sign | ((e + 15) << 10) | (static_cast<int>(n) - 1024));
}

// Independent BF16 encode: pick the nearer of the two truncation neighbours, ties to even.
uint16_t ref_bf16_encode(float f) {
  if (std::isnan(f)) return 0;  // callers handle NaN separately
  const uint32_t u = tuna::f32_bits(f);
  const uint32_t lo = u & 0xffff0000u;
  const uint32_t hi = lo + 0x10000u;  // next magnitude up (may become Inf: 0x7f800000)
  const double d_lo = std::fabs(static_cast<double>(f) - tuna::f32_from_bits(lo));
  const double d_hi = std::isinf(tuna::f32_from_bits(hi))
                          ? std::fabs(std::fabs(static_cast<double>(f)) - std::ldexp(1.0, 128))
                          : std::fabs(static_cast<double>(f) - tuna::f32_from_bits(hi));
  if (std::isinf(f)) return static_cast<uint16_t>(u >> 16);
  if (d_lo < d_hi) return static_cast<uint16_t>(lo >> 16);
  if (d_hi < d_lo) return static_cast<uint16_t>(hi >> 16);
  return static_cast<uint16_t>(((lo >> 16) & 1) ? hi >> 16 : lo >> 16);
}

TEST(DType, F16ToF32AllBitPatterns) {
  ASSERT_EQ(std::fegetround(), FE_TONEAREST);
  for (uint32_t h = 0; h < 65536; ++h) {
    const float got = tuna::f16_to_f32(static_cast<uint16_t>(h));
    const double want = ref_f16_decode(static_cast<uint16_t>(h));
    if (std::isnan(want)) {
      ASSERT_TRUE(std::isnan(got)) << std::hex << h;
      ASSERT_EQ(std::signbit(got), (h & 0x8000) != 0) << std::hex << h;
    } else {
      ASSERT_EQ(static_cast<double>(got), want) << std::hex << h;
      ASSERT_EQ(std::signbit(got), std::signbit(want)) << std::hex << h;  // -0 stays -0
    }
  }
}

TEST(DType, F16ToF32BulkMatchesScalar) {
  std::vector<uint16_t> src(65536);
  for (uint32_t h = 0; h < 65536; ++h) src[h] = static_cast<uint16_t>(h);
  std::vector<float> dst(65536);
  tuna::f16_to_f32_n(src.data(), dst.data(), src.size());
  for (uint32_t h = 0; h < 65536; ++h) {
    ASSERT_EQ(tuna::f32_bits(dst[h]), tuna::f32_bits(tuna::f16_to_f32(src[h]))) << h;
  }
}

TEST(DType, F16RoundTripIsIdentityForAllNonNaN) {
  for (uint32_t h = 0; h < 65536; ++h) {
    const bool is_nan = ((h >> 10) & 0x1f) == 0x1f && (h & 0x3ff) != 0;
    const uint16_t back = tuna::f32_to_f16(tuna::f16_to_f32(static_cast<uint16_t>(h)));
    if (is_nan) {
      ASSERT_TRUE(std::isnan(tuna::f16_to_f32(back))) << std::hex << h;
    } else {
      ASSERT_EQ(back, static_cast<uint16_t>(h)) << std::hex << h;
    }
  }
}

TEST(DType, F32ToF16Literals) {
  EXPECT_EQ(tuna::f32_to_f16(0.0f), 0x0000);
  EXPECT_EQ(tuna::f32_to_f16(-0.0f), 0x8000);
  EXPECT_EQ(tuna::f32_to_f16(1.0f), 0x3c00);
  EXPECT_EQ(tuna::f32_to_f16(-2.0f), 0xc000);
  EXPECT_EQ(tuna::f32_to_f16(65504.0f), 0x7bff);
  EXPECT_EQ(tuna::f32_to_f16(65519.996f), 0x7bff);  // just below the tie: stays finite
  EXPECT_EQ(tuna::f32_to_f16(65520.0f), 0x7c00);    // tie with odd 0x7bff: up, to Inf
  EXPECT_EQ(tuna::f32_to_f16(-65520.0f), 0xfc00);
  EXPECT_EQ(tuna::f32_to_f16(1e10f), 0x7c00);
  EXPECT_EQ(tuna::f32_to_f16(std::numeric_limits<float>::infinity()), 0x7c00);
  EXPECT_EQ(tuna::f32_to_f16(-std::numeric_limits<float>::infinity()), 0xfc00);
  // ties: 1 + 2^-11 is halfway between 0x3c00 (even) and 0x3c01 -> 0x3c00;
  // 1 + 3·2^-11 is halfway between 0x3c01 (odd) and 0x3c02 -> 0x3c02.
  EXPECT_EQ(tuna::f32_to_f16(1.0f + std::ldexp(1.0f, -11)), 0x3c00);
  EXPECT_EQ(tuna::f32_to_f16(1.0f + 3 * std::ldexp(1.0f, -11)), 0x3c02);
  EXPECT_EQ(tuna::f32_to_f16(std::nextafter(1.0f + std::ldexp(1.0f, -11), 2.0f)), 0x3c01);
  // subnormals: 2^-24 is 0x0001, 2^-25 ties to 0, just above 2^-25 rounds to 0x0001,
  // 1.5·2^-24 ties to 2 (even), 2.5·2^-24 ties to 2 (even), smallest normal 2^-14 is 0x0400.
  EXPECT_EQ(tuna::f32_to_f16(std::ldexp(1.0f, -24)), 0x0001);
  EXPECT_EQ(tuna::f32_to_f16(std::ldexp(1.0f, -25)), 0x0000);
  EXPECT_EQ(tuna::f32_to_f16(-std::ldexp(1.0f, -25)), 0x8000);
  EXPECT_EQ(tuna::f32_to_f16(std::nextafter(std::ldexp(1.0f, -25), 1.0f)), 0x0001);
  EXPECT_EQ(tuna::f32_to_f16(1.5f * std::ldexp(1.0f, -24)), 0x0002);
  EXPECT_EQ(tuna::f32_to_f16(2.5f * std::ldexp(1.0f, -24)), 0x0002);
  EXPECT_EQ(tuna::f32_to_f16(std::ldexp(1.0f, -14)), 0x0400);
  EXPECT_EQ(tuna::f32_to_f16(std::ldexp(1023.5f, -24)), 0x0400);  // tie at top of subnormals
  EXPECT_EQ(tuna::f32_to_f16(1e-30f), 0x0000);
}

TEST(DType, F32ToF16NaNStaysNaN) {
  const uint32_t nans[] = {0x7fc00000u, 0x7f800001u, 0xffc00000u, 0x7fffffffu, 0x7f802000u};
  for (uint32_t u : nans) {
    const uint16_t h = tuna::f32_to_f16(tuna::f32_from_bits(u));
    EXPECT_EQ(h & 0x7c00, 0x7c00) << std::hex << u;
    EXPECT_NE(h & 0x3ff, 0) << std::hex << u;  // not Inf
    EXPECT_EQ((h & 0x8000) != 0, (u & 0x80000000u) != 0) << std::hex << u;
  }
}

TEST(DType, F32ToF16MatchesReferenceOnTiesAndNeighbours) {
  // Every F16 value, every midpoint between consecutive F16 values, and one F32 ulp either side.
  for (uint32_t h = 0; h < 0x7c00; ++h) {
    const double a = ref_f16_decode(static_cast<uint16_t>(h));
    const double b = ref_f16_decode(static_cast<uint16_t>(h + 1));  // h+1 = 0x7c00 is +Inf
    const double mid = std::isinf(b) ? 65520.0 : (a + b) / 2;
    const float pts[] = {static_cast<float>(a), static_cast<float>(mid),
                         std::nextafter(static_cast<float>(mid), 0.0f),
                         std::nextafter(static_cast<float>(mid), 1e30f)};
    for (float p : pts) {
      ASSERT_EQ(tuna::f32_to_f16(p), ref_f16_encode(p)) << "h=" << h << " p=" << p;
      ASSERT_EQ(tuna::f32_to_f16(-p), ref_f16_encode(-static_cast<double>(p))) << "-p=" << p;
    }
  }
}

TEST(DType, F32ToF16MatchesReferenceOnStridedBitPatterns) {
  std::vector<float> src;
  for (uint64_t u = 0; u < (1ull << 32); u += 997)
    src.push_back(tuna::f32_from_bits(static_cast<uint32_t>(u)));
  std::vector<uint16_t> dst(src.size());
  tuna::f32_to_f16_n(src.data(), dst.data(), src.size());
  for (size_t i = 0; i < src.size(); ++i) {
    if (std::isnan(src[i])) {
      ASSERT_TRUE(std::isnan(tuna::f16_to_f32(dst[i])));
      continue;
    }
    ASSERT_EQ(dst[i], ref_f16_encode(src[i])) << std::hex << tuna::f32_bits(src[i]);
  }
}

TEST(DType, BF16Literals) {
  EXPECT_EQ(tuna::f32_to_bf16(tuna::f32_from_bits(0x3F808000u)), 0x3F80);  // tie, even stays
  EXPECT_EQ(tuna::f32_to_bf16(tuna::f32_from_bits(0x3F818000u)), 0x3F82);  // tie, odd rounds up
  EXPECT_EQ(tuna::f32_to_bf16(tuna::f32_from_bits(0x3F808001u)), 0x3F81);
  EXPECT_EQ(tuna::f32_to_bf16(tuna::f32_from_bits(0x3F807FFFu)), 0x3F80);
  EXPECT_EQ(tuna::f32_to_bf16(tuna::f32_from_bits(0xBF818000u)), 0xBF82);
  EXPECT_EQ(tuna::f32_to_bf16(1.0f), 0x3F80);
  EXPECT_EQ(tuna::f32_to_bf16(-0.0f), 0x8000);
  EXPECT_EQ(tuna::f32_to_bf16(std::numeric_limits<float>::infinity()), 0x7F80);
  EXPECT_EQ(tuna::f32_to_bf16(-std::numeric_limits<float>::infinity()), 0xFF80);
  EXPECT_EQ(tuna::f32_to_bf16(std::numeric_limits<float>::max()), 0x7F80);  // rounds to Inf
  EXPECT_EQ(tuna::f32_to_bf16(tuna::f32_from_bits(0x7F7F7FFFu)), 0x7F7F);   // largest finite
  EXPECT_EQ(tuna::f32_to_bf16(tuna::f32_from_bits(0x00000001u)), 0x0000);   // denormal -> 0
  EXPECT_EQ(tuna::f32_to_bf16(tuna::f32_from_bits(0x00018000u)), 0x0002);   // denormal tie
  EXPECT_EQ(tuna::bf16_to_f32(0x3F80), 1.0f);
  EXPECT_EQ(tuna::bf16_to_f32(0xC040), -3.0f);
  EXPECT_TRUE(std::isinf(tuna::bf16_to_f32(0xFF80)));
}

TEST(DType, BF16NaNStaysNaN) {
  const uint32_t nans[] = {0x7fc00000u, 0x7f800001u, 0x7fffffffu, 0xff800001u, 0x7f80ffffu};
  for (uint32_t u : nans) {
    const uint16_t b = tuna::f32_to_bf16(tuna::f32_from_bits(u));
    EXPECT_TRUE(std::isnan(tuna::bf16_to_f32(b))) << std::hex << u;
    EXPECT_EQ((b & 0x8000) != 0, (u & 0x80000000u) != 0) << std::hex << u;
  }
}

TEST(DType, BF16MatchesReferenceOnStridedAndRandomPatterns) {
  std::vector<uint32_t> bits;
  for (uint64_t u = 0; u < (1ull << 32); u += 1009) bits.push_back(static_cast<uint32_t>(u));
  std::mt19937 rng(7);
  for (int i = 0; i < 200000; ++i) bits.push_back((rng() & 0xffff0000u) | 0x8000u);  // ties
  for (uint32_t u : bits) {
    const float f = tuna::f32_from_bits(u);
    if (std::isnan(f)) continue;
    ASSERT_EQ(tuna::f32_to_bf16(f), ref_bf16_encode(f)) << std::hex << u;
  }
}

TEST(DType, BF16RoundTripIsIdentityForAllNonNaN) {
  for (uint32_t b = 0; b < 65536; ++b) {
    const float f = tuna::bf16_to_f32(static_cast<uint16_t>(b));
    if (std::isnan(f)) continue;
    ASSERT_EQ(tuna::f32_to_bf16(f), static_cast<uint16_t>(b)) << std::hex << b;
  }
}

TEST(DType, BulkBF16AndF16Encode) {
  const std::vector<float> src = {1.0f, -2.5f, tuna::f32_from_bits(0x3F818000u), 65520.0f};
  std::vector<uint16_t> h(src.size()), b(src.size());
  tuna::f32_to_f16_n(src.data(), h.data(), src.size());
  tuna::f32_to_bf16_n(src.data(), b.data(), src.size());
  EXPECT_EQ(h, (std::vector<uint16_t>{0x3c00, 0xc100, 0x3c0c, 0x7c00}));
  EXPECT_EQ(b, (std::vector<uint16_t>{0x3F80, 0xC020, 0x3F82, 0x4780}));
  std::vector<float> back(src.size());
  tuna::bf16_to_f32_n(b.data(), back.data(), b.size());
  EXPECT_EQ(back, (std::vector<float>{1.0f, -2.5f, 1.015625f, 65536.0f}));
}

TEST(DType, ConvertIntegersToF32ByValue) {
  float out[4];
  const int8_t i8[] = {-128, -1, 0, 127};
  tuna::convert_to_f32(DType::I8, i8, out, 4);
  EXPECT_EQ(std::vector<float>(out, out + 4), (std::vector<float>{-128, -1, 0, 127}));
  const int16_t i16[] = {-32768, -300, 1, 32767};
  tuna::convert_to_f32(DType::I16, i16, out, 4);
  EXPECT_EQ(std::vector<float>(out, out + 4), (std::vector<float>{-32768, -300, 1, 32767}));
  const int32_t i32[] = {-2147483647 - 1, 16777217, -5, 7};
  tuna::convert_to_f32(DType::I32, i32, out, 4);
  EXPECT_EQ(std::vector<float>(out, out + 4),
            (std::vector<float>{-2147483648.0f, 16777216.0f, -5, 7}));
  const int64_t i64[] = {-9007199254740993LL, 1LL << 40, -1, 0};
  tuna::convert_to_f32(DType::I64, i64, out, 4);
  EXPECT_EQ(std::vector<float>(out, out + 4),
            (std::vector<float>{-9007199254740992.0f, 1099511627776.0f, -1, 0}));
  const uint8_t u8[] = {0, 1, 200, 255};
  tuna::convert_to_f32(DType::U8, u8, out, 4);
  EXPECT_EQ(std::vector<float>(out, out + 4), (std::vector<float>{0, 1, 200, 255}));
  const uint16_t u16[] = {0, 65535, 40000, 3};
  tuna::convert_to_f32(DType::U16, u16, out, 4);
  EXPECT_EQ(std::vector<float>(out, out + 4), (std::vector<float>{0, 65535, 40000, 3}));
  const uint32_t u32[] = {4294967295u, 0, 3000000000u, 9};
  tuna::convert_to_f32(DType::U32, u32, out, 4);
  EXPECT_EQ(std::vector<float>(out, out + 4), (std::vector<float>{4294967296.0f, 0, 3e9f, 9}));
  const uint64_t u64[] = {18446744073709551615ull, 0, 1ull << 63, 12};
  tuna::convert_to_f32(DType::U64, u64, out, 4);
  EXPECT_EQ(std::vector<float>(out, out + 4),
            (std::vector<float>{18446744073709551616.0f, 0, 9223372036854775808.0f, 12}));
  const uint8_t bools[] = {0, 1, 1, 0};
  tuna::convert_to_f32(DType::BOOL, bools, out, 4);
  EXPECT_EQ(std::vector<float>(out, out + 4), (std::vector<float>{0, 1, 1, 0}));
  const double f64[] = {1.0 / 3.0, -1e300, 1e-50, 2.5};
  tuna::convert_to_f32(DType::F64, f64, out, 4);
  EXPECT_EQ(out[0], 1.0f / 3.0f);
  EXPECT_TRUE(std::isinf(out[1]) && out[1] < 0);
  EXPECT_EQ(out[2], 0.0f);
  EXPECT_EQ(out[3], 2.5f);
  const uint16_t f16[] = {0x3c00, 0xc000, 0x7c00, 0x0001};
  tuna::convert_to_f32(DType::F16, f16, out, 4);
  EXPECT_EQ(
      std::vector<float>(out, out + 4),
      (std::vector<float>{1, -2, std::numeric_limits<float>::infinity(), std::ldexp(1.0f, -24)}));
}

TEST(DType, NamesAndSizes) {
  struct Row {
    const char* name;
    DType type;
    size_t size;
    bool is_float;
  };
  const Row rows[] = {
      {"F32", DType::F32, 4, true},    {"F16", DType::F16, 2, true},
      {"BF16", DType::BF16, 2, true},  {"F64", DType::F64, 8, true},
      {"I8", DType::I8, 1, false},     {"I16", DType::I16, 2, false},
      {"I32", DType::I32, 4, false},   {"I64", DType::I64, 8, false},
      {"U8", DType::U8, 1, false},     {"U16", DType::U16, 2, false},
      {"U32", DType::U32, 4, false},   {"U64", DType::U64, 8, false},
      {"BOOL", DType::BOOL, 1, false},
  };
  for (const Row& r : rows) {
    DType t = DType::U64;
    ASSERT_TRUE(tuna::dtype_from_name(r.name, &t)) << r.name;
    EXPECT_EQ(t, r.type) << r.name;
    EXPECT_EQ(tuna::dtype_size(r.type), r.size) << r.name;
    EXPECT_STREQ(tuna::dtype_name(r.type), r.name);
    EXPECT_EQ(tuna::dtype_is_float(r.type), r.is_float) << r.name;
  }
  DType t = DType::I8;
  EXPECT_FALSE(tuna::dtype_from_name("f32", &t));  // safetensors spelling is upper case
  EXPECT_FALSE(tuna::dtype_from_name("", &t));
  EXPECT_FALSE(tuna::dtype_from_name("F8_E4M3", &t));
  EXPECT_EQ(t, DType::I8);  // untouched on failure
}

TEST(DType, BlockTypesSizes) {
  // ggml block layouts: (elements per block, bytes per block)
  struct Row {
    DType type;
    size_t block, bytes;
  };
  const Row rows[] = {
      {DType::Q4_0, 32, 18},   {DType::Q4_1, 32, 20},   {DType::Q5_0, 32, 22},
      {DType::Q5_1, 32, 24},   {DType::Q8_0, 32, 34},   {DType::Q2_K, 256, 84},
      {DType::Q3_K, 256, 110}, {DType::Q4_K, 256, 144}, {DType::Q5_K, 256, 176},
      {DType::Q6_K, 256, 210},
  };
  for (const Row& r : rows) {
    const char* name = tuna::dtype_name(r.type);
    DType t = DType::F32;
    ASSERT_TRUE(tuna::dtype_from_name(name, &t)) << name;
    EXPECT_EQ(t, r.type) << name;
    EXPECT_TRUE(tuna::dtype_is_block(r.type)) << name;
    EXPECT_EQ(tuna::dtype_block_size(r.type), r.block) << name;
    EXPECT_EQ(tuna::dtype_block_bytes(r.type), r.bytes) << name;
    EXPECT_EQ(tuna::dtype_nbytes(r.type, 3 * static_cast<int64_t>(r.block)), 3 * r.bytes) << name;
    EXPECT_EQ(tuna::dtype_nbytes(r.type, 0), 0u) << name;
    EXPECT_THROW(tuna::dtype_nbytes(r.type, static_cast<int64_t>(r.block) + 1), tuna::Error);
    EXPECT_THROW(tuna::dtype_size(r.type), tuna::Error) << name;  // no per-element size
  }
  EXPECT_FALSE(tuna::dtype_is_block(DType::BF16));
  EXPECT_EQ(tuna::dtype_block_size(DType::F16), 1u);
  EXPECT_EQ(tuna::dtype_block_bytes(DType::F64), 8u);
  EXPECT_EQ(tuna::dtype_nbytes(DType::F16, 5), 10u);
  EXPECT_EQ(tuna::dtype_nbytes(DType::I64, 3), 24u);
  float out[32];
  const uint8_t block[34] = {};
  EXPECT_THROW(tuna::convert_to_f32(DType::Q8_0, block, out, 32), tuna::Error);
}

}  // namespace
