// DType tables and bulk conversions. See dtype.h.
#include "core/dtype.h"

#include "core/error.h"

namespace tuna {

namespace {
struct DTypeInfo {
  DType type;
  const char* name;
  size_t size;
  bool is_float;
};
constexpr DTypeInfo kInfo[] = {
    {DType::F32, "F32", 4, true},   {DType::F16, "F16", 2, true},   {DType::BF16, "BF16", 2, true},
    {DType::F64, "F64", 8, true},   {DType::I8, "I8", 1, false},    {DType::I16, "I16", 2, false},
    {DType::I32, "I32", 4, false},  {DType::I64, "I64", 8, false},  {DType::U8, "U8", 1, false},
    {DType::U16, "U16", 2, false},  {DType::U32, "U32", 4, false},  {DType::U64, "U64", 8, false},
    {DType::BOOL, "BOOL", 1, false},
};
const DTypeInfo& info(DType t) {
  for (const auto& i : kInfo)
    if (i.type == t) return i;
  throw_internal_error("dtype", "unknown dtype id " + std::to_string(static_cast<int>(t)));
}
}  // namespace

size_t dtype_size(DType t) { return info(t).size; }
const char* dtype_name(DType t) { return info(t).name; }
bool dtype_is_float(DType t) { return info(t).is_float; }

bool dtype_from_name(const std::string& name, DType* out) {
  for (const auto& i : kInfo) {
    if (name == i.name) {
      *out = i.type;
      return true;
    }
  }
  return false;
}

void f16_to_f32_n(const uint16_t* src, float* dst, size_t n) {
  for (size_t i = 0; i < n; ++i) dst[i] = f16_to_f32(src[i]);
}
void bf16_to_f32_n(const uint16_t* src, float* dst, size_t n) {
  for (size_t i = 0; i < n; ++i) dst[i] = bf16_to_f32(src[i]);
}
void f32_to_f16_n(const float* src, uint16_t* dst, size_t n) {
  for (size_t i = 0; i < n; ++i) dst[i] = f32_to_f16(src[i]);
}
void f32_to_bf16_n(const float* src, uint16_t* dst, size_t n) {
  for (size_t i = 0; i < n; ++i) dst[i] = f32_to_bf16(src[i]);
}

template <typename T>
static void cast_n(const void* src, float* dst, size_t n) {
  const T* s = static_cast<const T*>(src);
  for (size_t i = 0; i < n; ++i) dst[i] = static_cast<float>(s[i]);
}

void convert_to_f32(DType t, const void* src, float* dst, size_t n) {
  switch (t) {
    case DType::F32: std::memcpy(dst, src, n * 4); return;
    case DType::F16: f16_to_f32_n(static_cast<const uint16_t*>(src), dst, n); return;
    case DType::BF16: bf16_to_f32_n(static_cast<const uint16_t*>(src), dst, n); return;
    case DType::F64: cast_n<double>(src, dst, n); return;
    case DType::I8: cast_n<int8_t>(src, dst, n); return;
    case DType::I16: cast_n<int16_t>(src, dst, n); return;
    case DType::I32: cast_n<int32_t>(src, dst, n); return;
    case DType::I64: cast_n<int64_t>(src, dst, n); return;
    case DType::U8: cast_n<uint8_t>(src, dst, n); return;
    case DType::U16: cast_n<uint16_t>(src, dst, n); return;
    case DType::U32: cast_n<uint32_t>(src, dst, n); return;
    case DType::U64: cast_n<uint64_t>(src, dst, n); return;
    case DType::BOOL: cast_n<uint8_t>(src, dst, n); return;
  }
  throw_internal_error("dtype", "convert_to_f32: unknown dtype");
}

}  // namespace tuna
