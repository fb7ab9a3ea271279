// Helpers shared by the GGUF reader and writer (gguf.cpp, gguf_reader.cpp, gguf_writer.cpp):
// element sizes, padding; message-safe quoting comes from core/message.h. Not part of the public
// API (io/gguf.h).
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/message.h"
#include "io/gguf.h"

namespace tuna::gguf_detail {

constexpr const char* kComponent = "gguf";
constexpr uint32_t kDefaultAlignment = 32;
constexpr size_t kMaxTensorName = 63;    // ggml: GGML_MAX_NAME (64) including the NUL
constexpr size_t kMaxKeyLength = 65535;  // gguf.md: keys are at most 2^16 - 1 bytes
constexpr int kMaxArrayDepth = 16;       // nesting of arrays of arrays

// Bytes of one element of a fixed-size type; 0 for STRING, ARRAY and unknown ids.
size_t gguf_scalar_size(GgufType t);
bool gguf_type_valid(uint32_t id);  // 0..12

inline uint64_t pad_to(uint64_t x, uint64_t align) {
  return (x + align - 1) / align * align;
}

}  // namespace tuna::gguf_detail
