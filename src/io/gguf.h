// GGUF (v2, v3; little-endian) reading and writing: ordered metadata of every value type
// (nested arrays included), tensor infos, zero-copy tensor views in their stored (block) dtype.
// Reading validates everything before a view is handed out. Does not dequantize (ops/quant_gguf.h)
// nor interpret architecture or tokenizer keys (model/, tokenizer/ do that).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/dtype.h"
#include "core/tensor.h"

namespace tuna {

enum class GgufType : uint32_t {
  UINT8 = 0,
  INT8 = 1,
  UINT16 = 2,
  INT16 = 3,
  UINT32 = 4,
  INT32 = 5,
  FLOAT32 = 6,
  BOOL = 7,
  STRING = 8,
  ARRAY = 9,
  UINT64 = 10,
  INT64 = 11,
  FLOAT64 = 12,
};
const char* gguf_type_name(GgufType t);  // "UINT32", "ARRAY", ...

// One metadata value: a scalar, a string, or an array. Arrays of numbers and bools are stored
// compactly as their little-endian bytes (token scores and types of 262k-entry vocabularies stay
// small); arrays of strings as strings; arrays of arrays as values. Accessors of the wrong kind
// are user errors (the value came from a file); GgufFile's get_* name the file and key too.
class GgufValue {
 public:
  GgufValue() = default;

  // Scalars and strings.
  static GgufValue u8(uint8_t v);
  static GgufValue i8(int8_t v);
  static GgufValue u16(uint16_t v);
  static GgufValue i16(int16_t v);
  static GgufValue u32(uint32_t v);
  static GgufValue i32(int32_t v);
  static GgufValue u64(uint64_t v);
  static GgufValue i64(int64_t v);
  static GgufValue f32(float v);
  static GgufValue f64(double v);
  static GgufValue boolean(bool v);
  static GgufValue string(std::string v);
  // Arrays. Integer/float elements are range-checked against `elem` (a user error when they do
  // not fit); `elem` must be a numeric or BOOL type for the first two.
  static GgufValue int_array(GgufType elem, const std::vector<int64_t>& v);
  static GgufValue uint_array(GgufType elem, const std::vector<uint64_t>& v);
  static GgufValue float_array(GgufType elem, const std::vector<double>& v);
  static GgufValue f32_array(const std::vector<float>& v);
  static GgufValue bool_array(const std::vector<bool>& v);
  static GgufValue string_array(std::vector<std::string> v);
  static GgufValue array_of_arrays(std::vector<GgufValue> v);  // each element an ARRAY
  // An array of `elem` from its raw little-endian element bytes (count * element size).
  static GgufValue raw_array(GgufType elem, std::vector<uint8_t> bytes);

  GgufType type() const { return type_; }
  bool is_integer() const;  // UINT8..INT64 (not BOOL)
  bool is_float() const { return type_ == GgufType::FLOAT32 || type_ == GgufType::FLOAT64; }
  bool is_string() const { return type_ == GgufType::STRING; }
  bool is_array() const { return type_ == GgufType::ARRAY; }

  int64_t as_int() const;                // integer types; UINT64 above INT64_MAX is an error
  uint64_t as_uint() const;              // integer types; negative values are an error
  double as_float() const;               // FLOAT32/FLOAT64 (exact), or an integer type (converted)
  bool as_bool() const;                  // BOOL
  const std::string& as_string() const;  // STRING
  // Numeric and BOOL scalars: the value's little-endian bytes, zero-extended (floats by bits).
  uint64_t scalar_bits() const;

  // Arrays.
  GgufType array_type() const;  // element type
  size_t size() const;          // element count
  int64_t int_at(size_t i) const;
  double float_at(size_t i) const;
  bool bool_at(size_t i) const;
  const std::string& string_at(size_t i) const;
  const GgufValue& array_at(size_t i) const;
  std::vector<int64_t> to_ints() const;             // integer or BOOL elements
  std::vector<float> to_floats() const;             // FLOAT32 elements bit-exact; others converted
  const std::vector<std::string>& strings() const;  // STRING elements
  const std::vector<GgufValue>& arrays() const;     // ARRAY elements
  const std::vector<uint8_t>& raw_bytes() const;    // numeric/BOOL elements, little-endian

  // Exact equality: same types and the same bytes (floats compare by bits, NaN included).
  bool operator==(const GgufValue& o) const;
  bool operator!=(const GgufValue& o) const { return !(*this == o); }
  // Short human-readable rendering (arrays abbreviated), for `tuna info` and messages.
  std::string to_string(size_t max_items = 8) const;

 private:
  friend class GgufParser;
  void require(GgufType t, const char* what) const;
  void require_array_of(bool ok, const char* what) const;

  GgufType type_ = GgufType::UINT8;
  uint64_t bits_ = 0;  // scalar value bytes, little-endian, zero-extended
  std::string str_;
  GgufType elem_ = GgufType::UINT8;  // arrays
  uint64_t count_ = 0;
  std::vector<uint8_t> raw_;          // numeric/BOOL array elements
  std::vector<std::string> strings_;  // STRING array elements
  std::vector<GgufValue> items_;      // ARRAY array elements
};

// ggml tensor type ids (ggml.h). tuna reads these; others are rejected naming the id.
enum class GgmlType : uint32_t {
  F32 = 0,
  F16 = 1,
  Q4_0 = 2,
  Q4_1 = 3,
  Q5_0 = 6,
  Q5_1 = 7,
  Q8_0 = 8,
  Q2_K = 10,
  Q3_K = 11,
  Q4_K = 12,
  Q5_K = 13,
  Q6_K = 14,
  I8 = 24,
  I16 = 25,
  I32 = 26,
  I64 = 27,
  F64 = 28,
  BF16 = 30,
};
// The DType of a ggml type id; false for ids tuna does not read.
bool ggml_type_to_dtype(uint32_t ggml_type, DType* out);
// The ggml type id of a DType; false when GGUF cannot store it (U8.., BOOL).
bool dtype_to_ggml_type(DType t, uint32_t* out);
// "Q4_K", "IQ2_XXS", ... for every id ggml defines; "unknown" otherwise.
const char* ggml_type_name(uint32_t ggml_type);

struct GgufTensorInfo {
  std::string name;
  std::vector<int64_t> dims;  // GGUF order: dims[0] (ggml ne[0]) is the contiguous dim
  uint32_t ggml_type = 0;
  uint64_t offset = 0;  // relative to the data section
  DType dtype = DType::F32;
  Shape shape;  // row-major [ne[n-1], ..., ne[0]]; a PyTorch (out, in) weight is [out, in]
  size_t nbytes = 0;
};

class GgufFile {
 public:
  // Maps the file and validates all of it (every failure is a user error naming the file).
  static GgufFile open(const std::string& path);
  // Parses an in-memory image (fuzzing, tests); `owner` keeps `data` alive for the views.
  static GgufFile parse(std::shared_ptr<const void> owner, const uint8_t* data, size_t size,
                        const std::string& label);

  const std::string& path() const { return path_; }
  uint32_t version() const { return version_; }
  size_t alignment() const { return alignment_; }
  size_t data_offset() const { return data_offset_; }  // start of the data section in the file

  // Metadata in file order.
  const std::vector<std::pair<std::string, GgufValue>>& metadata() const { return metadata_; }
  const GgufValue* find(const std::string& key) const;  // nullptr when absent
  bool has(const std::string& key) const { return find(key) != nullptr; }
  // Typed access; a missing key or a value of the wrong type is a user error naming the file
  // and the key. The *_or forms return `fallback` when the key is absent (a wrong type is still
  // an error).
  const GgufValue& get(const std::string& key) const;
  int64_t get_int(const std::string& key) const;
  double get_float(const std::string& key) const;
  bool get_bool(const std::string& key) const;
  const std::string& get_string(const std::string& key) const;
  int64_t get_int_or(const std::string& key, int64_t fallback) const;
  double get_float_or(const std::string& key, double fallback) const;
  bool get_bool_or(const std::string& key, bool fallback) const;
  std::string get_string_or(const std::string& key, const std::string& fallback) const;

  const std::vector<GgufTensorInfo>& tensors() const { return tensors_; }  // file order
  const GgufTensorInfo* find_tensor(const std::string& name) const;        // nullptr if absent
  // User error naming the file and the tensor (with a did-you-mean) when it is missing.
  const GgufTensorInfo& tensor_info(const std::string& name) const;
  // Read-only view in the stored dtype (block types included), kept alive with the mapping.
  // A plain-typed tensor whose bytes are misaligned for its element size (only possible with
  // general.alignment below the element size) is copied instead.
  Tensor tensor(const std::string& name) const;
  Tensor tensor(const GgufTensorInfo& info) const;

 private:
  friend class GgufParser;
  std::shared_ptr<const void> owner_;
  const uint8_t* data_ = nullptr;  // start of the data section
  std::string path_;
  uint32_t version_ = 3;
  size_t alignment_ = 32;
  size_t data_offset_ = 0;
  std::vector<std::pair<std::string, GgufValue>> metadata_;
  std::unordered_map<std::string, size_t> key_index_;
  std::vector<GgufTensorInfo> tensors_;
  std::unordered_map<std::string, size_t> tensor_index_;
};

// Builds a GGUF v3 file: metadata in insertion order, then tensor infos, then each tensor's bytes
// padded to the alignment (general.alignment when set, else 32) — the layout gguf-py's
// GGUFWriter produces for the same calls, byte for byte.
class GgufWriter {
 public:
  // Adds or replaces (keeping its position, as gguf-py does) a metadata key.
  void set(const std::string& key, GgufValue value);
  // Tensor in row-major shape (dims are written reversed, ne[0] = last dim); CPU, and a dtype GGUF
  // stores (F32, F16, BF16, F64, I8..I64, the block types). The tensor is kept by handle (no copy)
  // until written. Duplicate names and rows that are not whole blocks are user errors.
  void add_tensor(const std::string& name, const Tensor& t);

  size_t alignment() const;  // validates general.alignment (u32, power of two)
  // The whole file as bytes (tests, fuzzing); write() streams the same bytes to disk atomically
  // (temporary file next to `path`, fsync, rename).
  std::string to_bytes() const;
  void write(const std::string& path) const;

 private:
  std::string header_bytes() const;  // everything up to the data section, padded
  std::vector<std::pair<std::string, GgufValue>> metadata_;
  std::vector<std::pair<std::string, Tensor>> tensors_;
};

}  // namespace tuna
