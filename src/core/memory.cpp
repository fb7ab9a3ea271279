// Aligned allocation, freed-memory reuse, RSS readings. See memory.h.
#include "core/memory.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "core/error.h"

namespace tuna {

static void throw_out_of_memory(size_t bytes) {
  throw_user_error("memory", "out of memory allocating " + std::to_string(bytes) + " bytes",
                   "use a smaller batch or sequence length, or a machine with more memory");
}

void* aligned_alloc_bytes(size_t bytes) {
  if (bytes == 0) bytes = kAlignment;
  if (bytes > SIZE_MAX - (kAlignment - 1)) throw_out_of_memory(bytes);  // rounding would wrap
  size_t rounded = (bytes + kAlignment - 1) / kAlignment * kAlignment;
  void* p = std::aligned_alloc(kAlignment, rounded);
  if (p == nullptr) throw_out_of_memory(bytes);
  return p;
}

void aligned_free(void* p) {
  std::free(p);
}

void keep_freed_memory_for_reuse() {
  // glibc's largest allowed mmap threshold (HEAP_MAX_SIZE / 2 on 64-bit); larger blocks (the
  // full-FT head's logit chunks) stay mmapped. Setting either value fixes both (no dynamic raise).
#if defined(__GLIBC__)
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
#endif
}

AlignedBuffer make_aligned_buffer(size_t bytes) {
  return AlignedBuffer(aligned_alloc_bytes(bytes));
}

static size_t read_status_kb(const char* key) {
  FILE* f = std::fopen("/proc/self/status", "r");
  if (f == nullptr) return 0;
  char line[256];
  size_t kb = 0;
  size_t key_len = std::strlen(key);
  while (std::fgets(line, sizeof line, f) != nullptr) {
    if (std::strncmp(line, key, key_len) == 0) {
      kb = std::strtoull(line + key_len, nullptr, 10);
      break;
    }
  }
  std::fclose(f);
  return kb * 1024;
}

size_t peak_rss_bytes() {
  return read_status_kb("VmHWM:");
}
size_t current_rss_bytes() {
  return read_status_kb("VmRSS:");
}

}  // namespace tuna
