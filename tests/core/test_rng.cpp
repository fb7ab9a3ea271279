// Philox4x32-10 against the Random123 known-answer vectors, and the dropout mask built on it:
// independent of the thread count, of where a range starts, and keeping about 1 − p.
#include <gtest/gtest.h>

#include <vector>

#include "core/rng.h"
#include "core/threads.h"

namespace {

TEST(Rng, Philox4x32KnownAnswers) {
  // Random123 kat_vectors, philox4x32 with 10 rounds.
  EXPECT_EQ(tuna::philox4x32_10({0, 0, 0, 0}, {0, 0}),
            (tuna::PhiloxCounter{0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u}));
  EXPECT_EQ(tuna::philox4x32_10({0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu},
                                {0xffffffffu, 0xffffffffu}),
            (tuna::PhiloxCounter{0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu}));
  EXPECT_EQ(tuna::philox4x32_10({0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u},
                                {0xa4093822u, 0x299f31d0u}),
            (tuna::PhiloxCounter{0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u}));
}

TEST(Rng, CounterLayout) {
  // element e = word e % 4 of block e / 4; stream and seed enter counter and key.
  const tuna::PhiloxCounter blk = tuna::philox4x32_10({2, 0, 7, 0}, {5, 0});
  for (uint32_t lane = 0; lane < 4; ++lane) EXPECT_EQ(tuna::philox_u32(5, 7, 8 + lane), blk[lane]);
  EXPECT_NE(tuna::philox_u32(5, 7, 8), tuna::philox_u32(5, 8, 8));
  EXPECT_NE(tuna::philox_u32(5, 7, 8), tuna::philox_u32(6, 7, 8));
  const float u = tuna::philox_uniform(5, 7, 8);
  EXPECT_EQ(u, static_cast<float>(blk[0] >> 8) / 16777216.0f);
}

TEST(Rng, DropoutMaskIsThreadAndRangeIndependent) {
  const int64_t n = 10001;
  std::vector<uint8_t> one(n), two(n), tail(n - 3);
  const int saved = tuna::num_threads();
  tuna::set_num_threads(1);
  tuna::dropout_keep_mask(42, 3, 0, n, 0.25f, one.data());
  tuna::set_num_threads(2);
  tuna::dropout_keep_mask(42, 3, 0, n, 0.25f, two.data());
  tuna::dropout_keep_mask(42, 3, 3, n - 3, 0.25f, tail.data());  // starts mid-block
  tuna::set_num_threads(saved);
  EXPECT_EQ(one, two);
  EXPECT_TRUE(std::equal(tail.begin(), tail.end(), one.begin() + 3));
  int64_t kept = 0;
  for (uint8_t k : one) kept += k;
  EXPECT_NEAR(static_cast<double>(kept) / n, 0.75, 0.02);
  for (int64_t i = 0; i < n; i += 997)
    EXPECT_EQ(one[static_cast<size_t>(i)], tuna::philox_uniform(42, 3, i) >= 0.25f ? 1 : 0);
}

}  // namespace
