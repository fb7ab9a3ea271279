// Aligned allocation (alignment, size overflow) and the RSS readings from /proc.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <limits>
#include <string>

#include "core/error.h"
#include "core/memory.h"

namespace {

bool aligned64(const void* p) {
  return reinterpret_cast<uintptr_t>(p) % 64 == 0;
}

TEST(Memory, AlignmentConstant) {
  EXPECT_EQ(tuna::kAlignment, 64u);
}

TEST(Memory, AlignedAllocIsAlignedAndUsable) {
  for (size_t bytes : {size_t{0}, size_t{1}, size_t{63}, size_t{64}, size_t{65}, size_t{4097}}) {
    void* p = tuna::aligned_alloc_bytes(bytes);
    ASSERT_NE(p, nullptr) << bytes;
    EXPECT_TRUE(aligned64(p)) << bytes;
    std::memset(p, 0xab, bytes);
    tuna::aligned_free(p);
  }
  tuna::aligned_free(nullptr);  // like free(): a no-op
}

TEST(Memory, AlignedBufferIsAligned) {
  tuna::AlignedBuffer b = tuna::make_aligned_buffer(1000);
  ASSERT_NE(b.get(), nullptr);
  EXPECT_TRUE(aligned64(b.get()));
  std::memset(b.get(), 0, 1000);
}

TEST(Memory, ImpossibleAllocationIsAUserError) {
  // SIZE_MAX bytes can never be satisfied: this must be "out of memory", not a tiny block
  // (a size rounded up to 64 must not wrap around to 0).
  for (size_t bytes : {std::numeric_limits<size_t>::max(), std::numeric_limits<size_t>::max() - 10,
                       std::numeric_limits<size_t>::max() / 2}) {
    try {
      void* p = tuna::aligned_alloc_bytes(bytes);
      tuna::aligned_free(p);
      ADD_FAILURE() << "allocating " << bytes << " bytes succeeded";
    } catch (const tuna::Error& e) {
      EXPECT_EQ(e.exit_status(), 2) << bytes;
      EXPECT_NE(std::string(e.what()).find("out of memory"), std::string::npos) << e.what();
    }
  }
}

TEST(Memory, RssReadings) {
  EXPECT_GT(tuna::peak_rss_bytes(), 0u);
  EXPECT_GT(tuna::current_rss_bytes(), 0u);
  EXPECT_GE(tuna::peak_rss_bytes(), tuna::current_rss_bytes());
  // touching 32 MiB shows up in the current RSS, and the peak is never below the current
  const size_t n = 32u << 20;
  tuna::AlignedBuffer b = tuna::make_aligned_buffer(n);
  std::memset(b.get(), 1, n);
  EXPECT_GE(tuna::current_rss_bytes(), n);
  EXPECT_GE(tuna::peak_rss_bytes(), tuna::current_rss_bytes());
  EXPECT_EQ(static_cast<volatile char*>(b.get())[n - 1], 1);
}

}  // namespace
