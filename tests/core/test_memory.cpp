// Aligned allocation, the bump Arena (alignment, reset, exhaustion, high-water mark, size
// overflow) and the RSS readings from /proc.
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

TEST(Arena, AllocationsAre64AlignedAndBumped) {
  tuna::Arena a(1024);
  EXPECT_EQ(a.capacity(), 1024u);
  EXPECT_EQ(a.used(), 0u);
  char* p1 = static_cast<char*>(a.alloc(1));
  char* p2 = static_cast<char*>(a.alloc(65));
  char* p3 = static_cast<char*>(a.alloc(64));
  EXPECT_TRUE(aligned64(p1));
  EXPECT_TRUE(aligned64(p2));
  EXPECT_TRUE(aligned64(p3));
  EXPECT_EQ(p2 - p1, 64);
  EXPECT_EQ(p3 - p2, 128);
  EXPECT_EQ(a.used(), 256u);
  float* f = a.alloc_n<float>(3);
  EXPECT_TRUE(aligned64(f));
  EXPECT_EQ(reinterpret_cast<char*>(f) - p1, 256);
  EXPECT_EQ(a.used(), 320u);
  std::memset(p1, 1, 320);  // all of it is usable memory
}

TEST(Arena, ResetReusesMemoryAndKeepsHighWater) {
  tuna::Arena a(512);
  void* first = a.alloc(100);
  a.alloc(200);
  EXPECT_EQ(a.used(), 128u + 256u);
  EXPECT_EQ(a.high_water(), 384u);
  a.reset();
  EXPECT_EQ(a.used(), 0u);
  EXPECT_EQ(a.high_water(), 384u);
  EXPECT_EQ(a.alloc(10), first);
  EXPECT_EQ(a.high_water(), 384u);
  a.alloc(400);
  EXPECT_EQ(a.high_water(), 64u + 448u);
}

TEST(Arena, ExhaustionIsAnInternalError) {
  tuna::Arena a(256);
  a.alloc(192);
  EXPECT_NO_THROW(a.alloc(64));  // exactly full
  EXPECT_EQ(a.used(), 256u);
  try {
    a.alloc(1);
    FAIL() << "expected exhaustion";
  } catch (const tuna::Error& e) {
    EXPECT_EQ(e.kind(), tuna::ErrorKind::INTERNAL);
    EXPECT_EQ(e.exit_status(), 70);
    EXPECT_NE(std::string(e.what()).find("arena exhausted"), std::string::npos) << e.what();
  }
  EXPECT_EQ(a.used(), 256u);  // a failed alloc changes nothing
  tuna::Arena empty;
  EXPECT_THROW(empty.alloc(1), tuna::Error);
}

TEST(Arena, HugeRequestIsExhaustionNotWraparound) {
  tuna::Arena a(1024);
  a.alloc(64);
  EXPECT_THROW(a.alloc(std::numeric_limits<size_t>::max()), tuna::Error);
  EXPECT_THROW(a.alloc(std::numeric_limits<size_t>::max() - 100), tuna::Error);
  EXPECT_EQ(a.used(), 64u);
}

TEST(Arena, ReserveDropsAllocations) {
  tuna::Arena a(128);
  a.alloc(128);
  a.reserve(4096);
  EXPECT_EQ(a.capacity(), 4096u);
  EXPECT_EQ(a.used(), 0u);
  void* p = a.alloc(4096);
  EXPECT_TRUE(aligned64(p));
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
