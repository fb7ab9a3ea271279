// Philox4x32-10 and the dropout mask built on it. See rng.h. Built with -ffp-contract=off like
// all of libtuna; the only float operation is an exact integer-to-float scaling.
#include "core/rng.h"

namespace tuna {

namespace {

constexpr uint32_t kPhiloxM0 = 0xD2511F53u, kPhiloxM1 = 0xCD9E8D57u;
constexpr uint32_t kPhiloxW0 = 0x9E3779B9u, kPhiloxW1 = 0xBB67AE85u;

inline PhiloxCounter philox_round(const PhiloxCounter& c, const PhiloxKey& k) {
  const uint64_t p0 = static_cast<uint64_t>(kPhiloxM0) * c[0];
  const uint64_t p1 = static_cast<uint64_t>(kPhiloxM1) * c[2];
  const uint32_t hi0 = static_cast<uint32_t>(p0 >> 32), lo0 = static_cast<uint32_t>(p0);
  const uint32_t hi1 = static_cast<uint32_t>(p1 >> 32), lo1 = static_cast<uint32_t>(p1);
  return {hi1 ^ c[1] ^ k[0], lo1, hi0 ^ c[3] ^ k[1], lo0};
}

inline PhiloxCounter block_for(uint64_t seed, uint64_t stream, uint64_t block) {
  const PhiloxCounter ctr = {static_cast<uint32_t>(block), static_cast<uint32_t>(block >> 32),
                             static_cast<uint32_t>(stream), static_cast<uint32_t>(stream >> 32)};
  return philox4x32_10(ctr, {static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32)});
}

inline float u32_to_uniform(uint32_t u) {
  return static_cast<float>(u >> 8) * 5.9604644775390625e-8f;  // 2^-24
}

}  // namespace

PhiloxCounter philox4x32_10(PhiloxCounter counter, PhiloxKey key) {
  for (int round = 0; round < 10; ++round) {
    if (round > 0) {
      key[0] += kPhiloxW0;
      key[1] += kPhiloxW1;
    }
    counter = philox_round(counter, key);
  }
  return counter;
}

uint32_t philox_u32(uint64_t seed, uint64_t stream, uint64_t element) {
  return block_for(seed, stream, element / 4)[element % 4];
}

float philox_uniform(uint64_t seed, uint64_t stream, uint64_t element) {
  return u32_to_uniform(philox_u32(seed, stream, element));
}

void dropout_keep_mask(uint64_t seed, uint64_t stream, uint64_t first, int64_t n, float p,
                       uint8_t* keep) {
  // One Philox call serves the four elements of a block.
  if (n <= 0) return;
  const uint64_t b0 = first / 4, b1 = (first + static_cast<uint64_t>(n) - 1) / 4;
#pragma omp parallel for schedule(static)
  for (int64_t b = static_cast<int64_t>(b0); b <= static_cast<int64_t>(b1); ++b) {
    const PhiloxCounter r = block_for(seed, stream, static_cast<uint64_t>(b));
    for (uint64_t lane = 0; lane < 4; ++lane) {
      const uint64_t e = static_cast<uint64_t>(b) * 4 + lane;
      if (e < first || e >= first + static_cast<uint64_t>(n)) continue;
      keep[e - first] = u32_to_uniform(r[lane]) >= p ? 1 : 0;
    }
  }
}

}  // namespace tuna
