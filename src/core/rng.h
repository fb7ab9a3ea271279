// Counter-based random numbers: Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy
// as 1, 2, 3", SC'11), keyed by a 64-bit seed, with a 64-bit stream id and a 64-bit element
// counter in the counter block. A value depends only on (seed, stream, element), never on the
// thread that draws it or on what was drawn before, so dropout masks are identical for any
// thread count and can be regenerated in backward instead of stored. Ours because no library
// available here (OpenBLAS, the C++ standard library) provides a counter-based generator.
#pragma once

#include <array>
#include <cstdint>

namespace tuna {

using PhiloxCounter = std::array<uint32_t, 4>;
using PhiloxKey = std::array<uint32_t, 2>;

// The Random123 reference function philox4x32_R with R = 10.
PhiloxCounter philox4x32_10(PhiloxCounter counter, PhiloxKey key);

// Counter layout: {element / 4 (low, high 32 bits), stream (low, high)}; key {seed low, high};
// element e takes word e % 4 of its block. stream packs what a caller needs to tell draws apart
// (e.g. step, layer, module): different streams never share a counter.
uint32_t philox_u32(uint64_t seed, uint64_t stream, uint64_t element);

// Uniform float in [0, 1): the top 24 bits of philox_u32 times 2^-24 (exact in F32).
float philox_uniform(uint64_t seed, uint64_t stream, uint64_t element);

// keep[i] = 1 where element (first + i) survives dropout with probability p (uniform >= p, the
// keep-with-probability-(1 - p) rule of torch's bernoulli_(1 - p)); n elements.
void dropout_keep_mask(uint64_t seed, uint64_t stream, uint64_t first, int64_t n, float p,
                       uint8_t* keep);

}  // namespace tuna
