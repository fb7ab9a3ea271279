// GGUF metadata values (construction, typed access, equality, rendering) and the ggml type-id
// tables. Parsing is in gguf_reader.cpp, writing in gguf_writer.cpp. See gguf.h.
#include "io/gguf.h"

#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>

#include "core/error.h"
#include "io/gguf_internal.h"

namespace tuna {

using namespace gguf_detail;

namespace gguf_detail {

size_t gguf_scalar_size(GgufType t) {
  switch (t) {
    case GgufType::UINT8:
    case GgufType::INT8:
    case GgufType::BOOL:
      return 1;
    case GgufType::UINT16:
    case GgufType::INT16:
      return 2;
    case GgufType::UINT32:
    case GgufType::INT32:
    case GgufType::FLOAT32:
      return 4;
    case GgufType::UINT64:
    case GgufType::INT64:
    case GgufType::FLOAT64:
      return 8;
    default:
      return 0;
  }
}

bool gguf_type_valid(uint32_t id) {
  return id <= static_cast<uint32_t>(GgufType::FLOAT64);
}

}  // namespace gguf_detail

const char* gguf_type_name(GgufType t) {
  static const char* const kNames[] = {"UINT8",  "INT8",    "UINT16", "INT16",  "UINT32",
                                       "INT32",  "FLOAT32", "BOOL",   "STRING", "ARRAY",
                                       "UINT64", "INT64",   "FLOAT64"};
  uint32_t i = static_cast<uint32_t>(t);
  return i < sizeof kNames / sizeof kNames[0] ? kNames[i] : "unknown";
}

// --- ggml type ids ------------------------------------------------------------------------

namespace {

struct GgmlTypeEntry {
  GgmlType id;
  DType dtype;
};
constexpr GgmlTypeEntry kGgmlTypes[] = {
    {GgmlType::F32, DType::F32},   {GgmlType::F16, DType::F16},   {GgmlType::BF16, DType::BF16},
    {GgmlType::Q4_0, DType::Q4_0}, {GgmlType::Q4_1, DType::Q4_1}, {GgmlType::Q5_0, DType::Q5_0},
    {GgmlType::Q5_1, DType::Q5_1}, {GgmlType::Q8_0, DType::Q8_0}, {GgmlType::Q2_K, DType::Q2_K},
    {GgmlType::Q3_K, DType::Q3_K}, {GgmlType::Q4_K, DType::Q4_K}, {GgmlType::Q5_K, DType::Q5_K},
    {GgmlType::Q6_K, DType::Q6_K}, {GgmlType::I8, DType::I8},     {GgmlType::I16, DType::I16},
    {GgmlType::I32, DType::I32},   {GgmlType::I64, DType::I64},   {GgmlType::F64, DType::F64},
};

}  // namespace

bool ggml_type_to_dtype(uint32_t ggml_type, DType* out) {
  for (const auto& e : kGgmlTypes) {
    if (static_cast<uint32_t>(e.id) == ggml_type) {
      *out = e.dtype;
      return true;
    }
  }
  return false;
}

bool dtype_to_ggml_type(DType t, uint32_t* out) {
  for (const auto& e : kGgmlTypes) {
    if (e.dtype == t) {
      *out = static_cast<uint32_t>(e.id);
      return true;
    }
  }
  return false;
}

const char* ggml_type_name(uint32_t id) {
  // ggml.h enum ggml_type; ids 4, 5, 31-33, 36-38 belonged to formats ggml has removed.
  static const char* const kNames[] = {"F32",
                                       "F16",
                                       "Q4_0",
                                       "Q4_1",
                                       "Q4_2 (removed)",
                                       "Q4_3 (removed)",
                                       "Q5_0",
                                       "Q5_1",
                                       "Q8_0",
                                       "Q8_1",
                                       "Q2_K",
                                       "Q3_K",
                                       "Q4_K",
                                       "Q5_K",
                                       "Q6_K",
                                       "Q8_K",
                                       "IQ2_XXS",
                                       "IQ2_XS",
                                       "IQ3_XXS",
                                       "IQ1_S",
                                       "IQ4_NL",
                                       "IQ3_S",
                                       "IQ2_S",
                                       "IQ4_XS",
                                       "I8",
                                       "I16",
                                       "I32",
                                       "I64",
                                       "F64",
                                       "IQ1_M",
                                       "BF16",
                                       "Q4_0_4_4 (removed)",
                                       "Q4_0_4_8 (removed)",
                                       "Q4_0_8_8 (removed)",
                                       "TQ1_0",
                                       "TQ2_0",
                                       "IQ4_NL_4_4 (removed)",
                                       "IQ4_NL_4_8 (removed)",
                                       "IQ4_NL_8_8 (removed)",
                                       "MXFP4",
                                       "NVFP4",
                                       "Q1_0",
                                       "Q2_0"};
  return id < sizeof kNames / sizeof kNames[0] ? kNames[id] : "unknown";
}

// --- GgufValue: construction ----------------------------------------------------------------

#define TUNA_GGUF_SCALAR(fn, T, TYPE)    \
  GgufValue GgufValue::fn(T v) {         \
    GgufValue r;                         \
    r.type_ = GgufType::TYPE;            \
    std::memcpy(&r.bits_, &v, sizeof v); \
    return r;                            \
  }
TUNA_GGUF_SCALAR(u8, uint8_t, UINT8)
TUNA_GGUF_SCALAR(i8, int8_t, INT8)
TUNA_GGUF_SCALAR(u16, uint16_t, UINT16)
TUNA_GGUF_SCALAR(i16, int16_t, INT16)
TUNA_GGUF_SCALAR(u32, uint32_t, UINT32)
TUNA_GGUF_SCALAR(i32, int32_t, INT32)
TUNA_GGUF_SCALAR(u64, uint64_t, UINT64)
TUNA_GGUF_SCALAR(i64, int64_t, INT64)
TUNA_GGUF_SCALAR(f32, float, FLOAT32)
TUNA_GGUF_SCALAR(f64, double, FLOAT64)
#undef TUNA_GGUF_SCALAR

GgufValue GgufValue::boolean(bool v) {
  GgufValue r;
  r.type_ = GgufType::BOOL;
  r.bits_ = v ? 1 : 0;
  return r;
}

GgufValue GgufValue::string(std::string v) {
  GgufValue r;
  r.type_ = GgufType::STRING;
  r.str_ = std::move(v);
  return r;
}

namespace {

bool is_int_type(GgufType t) {
  switch (t) {
    case GgufType::UINT8:
    case GgufType::INT8:
    case GgufType::UINT16:
    case GgufType::INT16:
    case GgufType::UINT32:
    case GgufType::INT32:
    case GgufType::UINT64:
    case GgufType::INT64:
      return true;
    default:
      return false;
  }
}
bool is_signed_type(GgufType t) {
  return t == GgufType::INT8 || t == GgufType::INT16 || t == GgufType::INT32 ||
         t == GgufType::INT64;
}

// Value of `size` little-endian bytes of an integer/BOOL type, as signed or unsigned.
int64_t load_signed(const uint8_t* p, size_t size) {
  uint64_t u = 0;
  for (size_t i = size; i-- > 0;) u = (u << 8) | p[i];
  if (size < 8 && (u >> (8 * size - 1)) & 1) u |= ~uint64_t{0} << (8 * size);
  return static_cast<int64_t>(u);
}
uint64_t load_unsigned(const uint8_t* p, size_t size) {
  uint64_t u = 0;
  for (size_t i = size; i-- > 0;) u = (u << 8) | p[i];
  return u;
}
void store_le(std::vector<uint8_t>& out, uint64_t v, size_t size) {
  for (size_t i = 0; i < size; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

bool fits(GgufType t, int64_t v) {
  switch (t) {
    case GgufType::UINT8:
      return v >= 0 && v <= 0xff;
    case GgufType::INT8:
      return v >= -128 && v <= 127;
    case GgufType::UINT16:
      return v >= 0 && v <= 0xffff;
    case GgufType::INT16:
      return v >= -32768 && v <= 32767;
    case GgufType::UINT32:
      return v >= 0 && v <= 0xffffffffLL;
    case GgufType::INT32:
      return v >= INT32_MIN && v <= INT32_MAX;
    case GgufType::UINT64:
      return v >= 0;
    case GgufType::INT64:
      return true;
    case GgufType::BOOL:
      return v == 0 || v == 1;
    default:
      return false;
  }
}

[[noreturn]] void bad_build(const std::string& what) {
  throw_user_error(kComponent, "cannot build a GGUF array: " + what,
                   "pick an element type that holds every value");
}

}  // namespace

GgufValue GgufValue::int_array(GgufType elem, const std::vector<int64_t>& v) {
  if (!is_int_type(elem) && elem != GgufType::BOOL)
    bad_build(std::string("int_array of ") + gguf_type_name(elem));
  GgufValue r;
  r.type_ = GgufType::ARRAY;
  r.elem_ = elem;
  r.count_ = v.size();
  size_t size = gguf_scalar_size(elem);
  r.raw_.reserve(v.size() * size);
  for (int64_t x : v) {
    if (!fits(elem, x)) bad_build(std::to_string(x) + " does not fit in " + gguf_type_name(elem));
    store_le(r.raw_, static_cast<uint64_t>(x), size);
  }
  return r;
}

GgufValue GgufValue::uint_array(GgufType elem, const std::vector<uint64_t>& v) {
  if (!is_int_type(elem) && elem != GgufType::BOOL)
    bad_build(std::string("uint_array of ") + gguf_type_name(elem));
  GgufValue r;
  r.type_ = GgufType::ARRAY;
  r.elem_ = elem;
  r.count_ = v.size();
  size_t size = gguf_scalar_size(elem);
  r.raw_.reserve(v.size() * size);
  for (uint64_t x : v) {
    bool ok = elem == GgufType::UINT64 ||
              (x <= static_cast<uint64_t>(INT64_MAX) && fits(elem, static_cast<int64_t>(x)));
    if (!ok) bad_build(std::to_string(x) + " does not fit in " + gguf_type_name(elem));
    store_le(r.raw_, x, size);
  }
  return r;
}

GgufValue GgufValue::float_array(GgufType elem, const std::vector<double>& v) {
  if (elem != GgufType::FLOAT32 && elem != GgufType::FLOAT64)
    bad_build(std::string("float_array of ") + gguf_type_name(elem));
  GgufValue r;
  r.type_ = GgufType::ARRAY;
  r.elem_ = elem;
  r.count_ = v.size();
  r.raw_.resize(v.size() * gguf_scalar_size(elem));
  for (size_t i = 0; i < v.size(); ++i) {
    if (elem == GgufType::FLOAT32) {
      float f = static_cast<float>(v[i]);
      std::memcpy(r.raw_.data() + 4 * i, &f, 4);
    } else {
      std::memcpy(r.raw_.data() + 8 * i, &v[i], 8);
    }
  }
  return r;
}

GgufValue GgufValue::f32_array(const std::vector<float>& v) {
  GgufValue r;
  r.type_ = GgufType::ARRAY;
  r.elem_ = GgufType::FLOAT32;
  r.count_ = v.size();
  r.raw_.resize(v.size() * 4);
  if (!v.empty()) std::memcpy(r.raw_.data(), v.data(), v.size() * 4);
  return r;
}

GgufValue GgufValue::bool_array(const std::vector<bool>& v) {
  GgufValue r;
  r.type_ = GgufType::ARRAY;
  r.elem_ = GgufType::BOOL;
  r.count_ = v.size();
  for (bool b : v) r.raw_.push_back(b ? 1 : 0);
  return r;
}

GgufValue GgufValue::string_array(std::vector<std::string> v) {
  GgufValue r;
  r.type_ = GgufType::ARRAY;
  r.elem_ = GgufType::STRING;
  r.count_ = v.size();
  r.strings_ = std::move(v);
  return r;
}

GgufValue GgufValue::array_of_arrays(std::vector<GgufValue> v) {
  for (const GgufValue& x : v)
    if (!x.is_array()) bad_build("array_of_arrays holds a " + std::string(gguf_type_name(x.type_)));
  GgufValue r;
  r.type_ = GgufType::ARRAY;
  r.elem_ = GgufType::ARRAY;
  r.count_ = v.size();
  r.items_ = std::move(v);
  return r;
}

GgufValue GgufValue::raw_array(GgufType elem, std::vector<uint8_t> bytes) {
  size_t size = gguf_scalar_size(elem);
  if (size == 0) bad_build(std::string("raw_array of ") + gguf_type_name(elem));
  if (bytes.size() % size != 0)
    bad_build(std::to_string(bytes.size()) + " bytes are not whole " + gguf_type_name(elem) +
              " elements");
  if (elem == GgufType::BOOL)
    for (uint8_t b : bytes)
      if (b > 1) bad_build("a BOOL element is " + std::to_string(b) + ", not 0 or 1");
  GgufValue r;
  r.type_ = GgufType::ARRAY;
  r.elem_ = elem;
  r.count_ = bytes.size() / size;
  r.raw_ = std::move(bytes);
  return r;
}

// --- GgufValue: access ----------------------------------------------------------------------

bool GgufValue::is_integer() const {
  return is_int_type(type_);
}

void GgufValue::require(GgufType t, const char* what) const {
  if (type_ != t) {
    throw_user_error(kComponent,
                     std::string("a GGUF value is ") + gguf_type_name(type_) + ", not " + what,
                     "the file was written with a different type for this key");
  }
}

void GgufValue::require_array_of(bool ok, const char* what) const {
  if (type_ != GgufType::ARRAY) require(GgufType::ARRAY, "an ARRAY");
  if (!ok) {
    throw_user_error(kComponent,
                     std::string("a GGUF array holds ") + gguf_type_name(elem_) + ", not " + what,
                     "the file was written with a different type for this key");
  }
}

int64_t GgufValue::as_int() const {
  if (!is_integer()) require(GgufType::INT64, "an integer");
  size_t size = gguf_scalar_size(type_);
  const uint8_t* p = reinterpret_cast<const uint8_t*>(&bits_);  // little-endian host
  if (is_signed_type(type_)) return load_signed(p, size);
  uint64_t u = load_unsigned(p, size);
  if (u > static_cast<uint64_t>(INT64_MAX)) {
    throw_user_error(kComponent, "the GGUF value " + std::to_string(u) + " is too large",
                     "values above 2^63 - 1 are not meaningful here; the file is corrupt");
  }
  return static_cast<int64_t>(u);
}

uint64_t GgufValue::as_uint() const {
  if (!is_integer()) require(GgufType::UINT64, "an integer");
  size_t size = gguf_scalar_size(type_);
  const uint8_t* p = reinterpret_cast<const uint8_t*>(&bits_);
  if (is_signed_type(type_)) {
    int64_t v = load_signed(p, size);
    if (v < 0) {
      throw_user_error(kComponent, "the GGUF value " + std::to_string(v) + " is negative",
                       "a non-negative count or id is expected; the file is corrupt");
    }
    return static_cast<uint64_t>(v);
  }
  return load_unsigned(p, size);
}

double GgufValue::as_float() const {
  if (type_ == GgufType::FLOAT32) {
    float f;
    std::memcpy(&f, &bits_, 4);
    return f;
  }
  if (type_ == GgufType::FLOAT64) {
    double d;
    std::memcpy(&d, &bits_, 8);
    return d;
  }
  if (is_integer()) {
    const uint8_t* p = reinterpret_cast<const uint8_t*>(&bits_);
    size_t size = gguf_scalar_size(type_);
    return is_signed_type(type_) ? static_cast<double>(load_signed(p, size))
                                 : static_cast<double>(load_unsigned(p, size));
  }
  require(GgufType::FLOAT32, "a number");
  return 0;
}

bool GgufValue::as_bool() const {
  require(GgufType::BOOL, "a BOOL");
  return bits_ != 0;
}

const std::string& GgufValue::as_string() const {
  require(GgufType::STRING, "a STRING");
  return str_;
}

uint64_t GgufValue::scalar_bits() const {
  if (gguf_scalar_size(type_) == 0) require(GgufType::UINT64, "a number or BOOL");
  return bits_;
}

GgufType GgufValue::array_type() const {
  require(GgufType::ARRAY, "an ARRAY");
  return elem_;
}

size_t GgufValue::size() const {
  require(GgufType::ARRAY, "an ARRAY");
  return static_cast<size_t>(count_);
}

namespace {
void check_index(size_t i, uint64_t count) {
  if (i >= count) {
    throw_user_error(kComponent,
                     "index " + std::to_string(i) + " is past the end of a GGUF array of " +
                         std::to_string(count),
                     "the array is shorter than the model needs; the file is inconsistent");
  }
}
}  // namespace

int64_t GgufValue::int_at(size_t i) const {
  require_array_of(is_int_type(elem_) || elem_ == GgufType::BOOL, "integers");
  check_index(i, count_);
  size_t size = gguf_scalar_size(elem_);
  const uint8_t* p = raw_.data() + i * size;
  if (is_signed_type(elem_)) return load_signed(p, size);
  uint64_t u = load_unsigned(p, size);
  if (u > static_cast<uint64_t>(INT64_MAX)) {
    throw_user_error(kComponent, "the GGUF array value " + std::to_string(u) + " is too large",
                     "the file is corrupt");
  }
  return static_cast<int64_t>(u);
}

double GgufValue::float_at(size_t i) const {
  require_array_of(gguf_scalar_size(elem_) != 0 && elem_ != GgufType::BOOL, "numbers");
  check_index(i, count_);
  size_t size = gguf_scalar_size(elem_);
  const uint8_t* p = raw_.data() + i * size;
  if (elem_ == GgufType::FLOAT32) {
    float f;
    std::memcpy(&f, p, 4);
    return f;
  }
  if (elem_ == GgufType::FLOAT64) {
    double d;
    std::memcpy(&d, p, 8);
    return d;
  }
  return is_signed_type(elem_) ? static_cast<double>(load_signed(p, size))
                               : static_cast<double>(load_unsigned(p, size));
}

bool GgufValue::bool_at(size_t i) const {
  require_array_of(elem_ == GgufType::BOOL, "BOOLs");
  check_index(i, count_);
  return raw_[i] != 0;
}

const std::string& GgufValue::string_at(size_t i) const {
  require_array_of(elem_ == GgufType::STRING, "STRINGs");
  check_index(i, count_);
  return strings_[i];
}

const GgufValue& GgufValue::array_at(size_t i) const {
  require_array_of(elem_ == GgufType::ARRAY, "ARRAYs");
  check_index(i, count_);
  return items_[i];
}

std::vector<int64_t> GgufValue::to_ints() const {
  require_array_of(is_int_type(elem_) || elem_ == GgufType::BOOL, "integers");
  std::vector<int64_t> out(static_cast<size_t>(count_));
  for (size_t i = 0; i < out.size(); ++i) out[i] = int_at(i);
  return out;
}

std::vector<float> GgufValue::to_floats() const {
  require_array_of(gguf_scalar_size(elem_) != 0 && elem_ != GgufType::BOOL, "numbers");
  std::vector<float> out(static_cast<size_t>(count_));
  if (elem_ == GgufType::FLOAT32) {
    if (!out.empty()) std::memcpy(out.data(), raw_.data(), out.size() * 4);
    return out;
  }
  for (size_t i = 0; i < out.size(); ++i) out[i] = static_cast<float>(float_at(i));
  return out;
}

const std::vector<std::string>& GgufValue::strings() const {
  require_array_of(elem_ == GgufType::STRING, "STRINGs");
  return strings_;
}

const std::vector<GgufValue>& GgufValue::arrays() const {
  require_array_of(elem_ == GgufType::ARRAY, "ARRAYs");
  return items_;
}

const std::vector<uint8_t>& GgufValue::raw_bytes() const {
  require_array_of(gguf_scalar_size(elem_) != 0, "numbers or BOOLs");
  return raw_;
}

bool GgufValue::operator==(const GgufValue& o) const {
  if (type_ != o.type_) return false;
  if (type_ == GgufType::STRING) return str_ == o.str_;
  if (type_ != GgufType::ARRAY) return bits_ == o.bits_;
  return elem_ == o.elem_ && count_ == o.count_ && raw_ == o.raw_ && strings_ == o.strings_ &&
         items_ == o.items_;
}

namespace {

std::string format_double(double d, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*g", digits, d);
  return buf;
}

}  // namespace

std::string GgufValue::to_string(size_t max_items) const {
  switch (type_) {
    case GgufType::STRING: {
      std::string out(1, '"');
      out += printable(str_, 120);
      out += '"';
      return out;
    }
    case GgufType::BOOL:
      return bits_ ? "true" : "false";
    case GgufType::FLOAT32:
      return format_double(as_float(), 9);
    case GgufType::FLOAT64:
      return format_double(as_float(), 17);
    case GgufType::ARRAY: {
      std::string s = "[";
      size_t n = static_cast<size_t>(count_);
      for (size_t i = 0; i < n && i < max_items; ++i) {
        if (i) s += ", ";
        if (elem_ == GgufType::STRING) {
          s += '"';
          s += printable(strings_[i], 40);
          s += '"';
        } else if (elem_ == GgufType::ARRAY) {
          s += items_[i].to_string(max_items);
        } else if (elem_ == GgufType::BOOL) {
          s += raw_[i] ? "true" : "false";
        } else if (elem_ == GgufType::FLOAT32 || elem_ == GgufType::FLOAT64) {
          s += format_double(float_at(i), elem_ == GgufType::FLOAT32 ? 9 : 17);
        } else if (is_signed_type(elem_)) {
          s += std::to_string(int_at(i));
        } else {
          s += std::to_string(
              load_unsigned(raw_.data() + i * gguf_scalar_size(elem_), gguf_scalar_size(elem_)));
        }
      }
      if (n > max_items) s += ", ... (" + std::to_string(n) + " items)";
      return s + "]";
    }
    default:
      if (is_signed_type(type_)) return std::to_string(as_int());
      return std::to_string(as_uint());
  }
}

}  // namespace tuna
