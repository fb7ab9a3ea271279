// DType tables and bulk conversions. See dtype.h.
#include "core/dtype.h"

#include <iterator>

#include "core/error.h"

namespace tuna {

namespace {
struct DTypeInfo {
  DType type;
  const char* name;
  size_t size;  // bytes per block (per element for plain types)
  bool is_float;
  size_t block = 1;  // elements per block
};
constexpr DTypeInfo kInfo[] = {
    {DType::F32, "F32", 4, true},          {DType::F16, "F16", 2, true},
    {DType::BF16, "BF16", 2, true},        {DType::F64, "F64", 8, true},
    {DType::I8, "I8", 1, false},           {DType::I16, "I16", 2, false},
    {DType::I32, "I32", 4, false},         {DType::I64, "I64", 8, false},
    {DType::U8, "U8", 1, false},           {DType::U16, "U16", 2, false},
    {DType::U32, "U32", 4, false},         {DType::U64, "U64", 8, false},
    {DType::BOOL, "BOOL", 1, false},       {DType::Q4_0, "Q4_0", 18, true, 32},
    {DType::Q4_1, "Q4_1", 20, true, 32},   {DType::Q5_0, "Q5_0", 22, true, 32},
    {DType::Q5_1, "Q5_1", 24, true, 32},   {DType::Q8_0, "Q8_0", 34, true, 32},
    {DType::Q2_K, "Q2_K", 84, true, 256},  {DType::Q3_K, "Q3_K", 110, true, 256},
    {DType::Q4_K, "Q4_K", 144, true, 256}, {DType::Q5_K, "Q5_K", 176, true, 256},
    {DType::Q6_K, "Q6_K", 210, true, 256}, {DType::NF4, "NF4", 1, true, 2},
    {DType::FP4, "FP4", 1, true, 2},
};
// kInfo is in enum order: a dtype's entry is at its value (hot: per-row weight access).
constexpr bool in_enum_order() {
  for (size_t i = 0; i < std::size(kInfo); ++i)
    if (static_cast<size_t>(kInfo[i].type) != i) return false;
  return true;
}
static_assert(in_enum_order(), "kInfo must list the dtypes in enum order");

const DTypeInfo& info(DType t) {
  const auto i = static_cast<size_t>(t);
  if (i < std::size(kInfo)) return kInfo[i];
  throw_internal_error("dtype", "unknown dtype id " + std::to_string(static_cast<int>(t)));
}
}  // namespace

size_t dtype_size(DType t) {
  const DTypeInfo& i = info(t);
  if (i.block != 1)
    throw_internal_error("dtype", std::string("dtype_size of block type ") + i.name +
                                      " (use dtype_nbytes / dtype_block_bytes)");
  return i.size;
}
size_t dtype_block_size(DType t) {
  return info(t).block;
}
size_t dtype_block_bytes(DType t) {
  return info(t).size;
}
bool dtype_is_block(DType t) {
  return info(t).block != 1;
}
bool dtype_is_bnb4(DType t) {
  return t == DType::NF4 || t == DType::FP4;
}
size_t dtype_nbytes(DType t, int64_t numel) {
  const DTypeInfo& i = info(t);
  if (dtype_is_bnb4(t)) {  // bitsandbytes packs ceil(n / 2) bytes, the last nibble 0 when n is odd
    TUNA_ASSERT(numel >= 0, "dtype_nbytes: negative count");
    return static_cast<size_t>((numel + 1) / 2);
  }
  TUNA_ASSERT(numel >= 0 && numel % static_cast<int64_t>(i.block) == 0,
              std::string("dtype_nbytes: ") + std::to_string(numel) + " elements of " + i.name +
                  " are not whole blocks of " + std::to_string(i.block));
  return static_cast<size_t>(numel) / i.block * i.size;
}
const char* dtype_name(DType t) {
  return info(t).name;
}
bool dtype_is_float(DType t) {
  return info(t).is_float;
}

bool dtype_from_name(const std::string& name, DType* out) {
  for (const auto& i : kInfo) {
    if (name == i.name) {
      *out = i.type;
      return true;
    }
  }
  return false;
}

DType dtype_from_torch_name(const std::string& name) {
  if (name == "bfloat16") return DType::BF16;
  if (name == "float16") return DType::F16;
  return DType::F32;
}

const char* torch_dtype_name(DType t) {
  TUNA_ASSERT(t == DType::F32 || t == DType::BF16 || t == DType::F16,
              "torch_dtype_name: F32, BF16 or F16");
  return t == DType::BF16 ? "bfloat16" : t == DType::F16 ? "float16" : "float32";
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
  if (n == 0) return;  // an empty tensor's pointers may be null (memcpy's are never)
  switch (t) {
    case DType::F32:
      std::memcpy(dst, src, n * 4);
      return;
    case DType::F16:
      f16_to_f32_n(static_cast<const uint16_t*>(src), dst, n);
      return;
    case DType::BF16:
      bf16_to_f32_n(static_cast<const uint16_t*>(src), dst, n);
      return;
    case DType::F64:
      cast_n<double>(src, dst, n);
      return;
    case DType::I8:
      cast_n<int8_t>(src, dst, n);
      return;
    case DType::I16:
      cast_n<int16_t>(src, dst, n);
      return;
    case DType::I32:
      cast_n<int32_t>(src, dst, n);
      return;
    case DType::I64:
      cast_n<int64_t>(src, dst, n);
      return;
    case DType::U8:
      cast_n<uint8_t>(src, dst, n);
      return;
    case DType::U16:
      cast_n<uint16_t>(src, dst, n);
      return;
    case DType::U32:
      cast_n<uint32_t>(src, dst, n);
      return;
    case DType::U64:
      cast_n<uint64_t>(src, dst, n);
      return;
    case DType::BOOL:
      cast_n<uint8_t>(src, dst, n);
      return;
    default:
      break;  // block types: ops/dequantize.h (core does not know their layouts)
  }
  throw_internal_error("dtype", std::string("convert_to_f32: ") + dtype_name(t) +
                                    " needs dequantize_rows (ops/dequantize.h)");
}

}  // namespace tuna
