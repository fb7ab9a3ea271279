// GGUF reader/writer tests: files written by the gguf Python package (every metadata type, nested
// arrays, every tensor type, custom alignment) read identically; tuna's writer reproduces their
// bytes; write -> read round trips; the real Gemma 3 270M file's metadata; one test per rejected
// malformation (user error naming the file and the key or tensor, with a hint, exit status 2).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <initializer_list>
#include <limits>
#include <string>
#include <vector>

#include "core/error.h"
#include "io/gguf.h"
#include "io/gguf_test_util.h"
#include "test_util.h"

namespace tuna {
namespace {

namespace fs = std::filesystem;
using gguf_test::golden_dir;
using gguf_test::read_file;
using gguf_test::Sha256;
using tuna_test::expect_user_error;
using json = nlohmann::json;

GgufFile parse_bytes(const std::string& bytes, const std::string& label) {
  auto owner = std::make_shared<std::string>(bytes);
  return GgufFile::parse(owner, reinterpret_cast<const uint8_t*>(owner->data()), owner->size(),
                         label);
}

// Compares a parsed value with make_gguf_goldens.py's description of what gguf-py wrote.
void expect_value(const GgufValue& v, const json& d, const std::string& where) {
  const std::string type = d.at("type").get<std::string>();
  ASSERT_EQ(std::string(gguf_type_name(v.type())), type) << where;
  if (type == "ARRAY") {
    ASSERT_EQ(std::string(gguf_type_name(v.array_type())), d.at("elem").get<std::string>())
        << where;
    const json& items = d.at("items");
    ASSERT_EQ(v.size(), items.size()) << where;
    for (size_t i = 0; i < items.size(); ++i) {
      const std::string w = where + "[" + std::to_string(i) + "]";
      const json& it = items[i];
      switch (v.array_type()) {
        case GgufType::ARRAY:
          expect_value(v.array_at(i), it, w);
          break;
        case GgufType::STRING:
          EXPECT_EQ(v.string_at(i), it.at("value").get<std::string>()) << w;
          break;
        case GgufType::BOOL:
          EXPECT_EQ(v.bool_at(i), it.at("value").get<bool>()) << w;
          break;
        case GgufType::FLOAT32: {
          float f = static_cast<float>(v.float_at(i));
          EXPECT_EQ(gguf_test::bits_of(f), it.at("bits").get<uint32_t>()) << w;
          EXPECT_EQ(gguf_test::bits_of(v.to_floats()[i]), it.at("bits").get<uint32_t>()) << w;
          break;
        }
        case GgufType::FLOAT64: {
          double x = v.float_at(i);
          uint64_t bits;
          std::memcpy(&bits, &x, 8);
          EXPECT_EQ(std::to_string(bits), it.at("bits").get<std::string>()) << w;
          break;
        }
        case GgufType::UINT64: {
          uint64_t u;
          std::memcpy(&u, v.raw_bytes().data() + 8 * i, 8);
          EXPECT_EQ(std::to_string(u), it.at("value").get<std::string>()) << w;
          break;
        }
        default:
          EXPECT_EQ(std::to_string(v.int_at(i)), it.at("value").get<std::string>()) << w;
      }
    }
    return;
  }
  switch (v.type()) {
    case GgufType::STRING:
      EXPECT_EQ(v.as_string(), d.at("value").get<std::string>()) << where;
      break;
    case GgufType::BOOL:
      EXPECT_EQ(v.as_bool(), d.at("value").get<bool>()) << where;
      break;
    case GgufType::FLOAT32:
      EXPECT_EQ(v.scalar_bits(), d.at("bits").get<uint64_t>()) << where;
      if (!std::isnan(v.as_float())) {
        EXPECT_EQ(gguf_test::bits_of(static_cast<float>(v.as_float())),
                  d.at("bits").get<uint32_t>())
            << where;
      }
      break;
    case GgufType::FLOAT64:
      EXPECT_EQ(std::to_string(v.scalar_bits()), d.at("bits").get<std::string>()) << where;
      break;
    case GgufType::UINT64:
    case GgufType::UINT32:
    case GgufType::UINT16:
    case GgufType::UINT8:
      EXPECT_EQ(std::to_string(v.as_uint()), d.at("value").get<std::string>()) << where;
      break;
    default:
      EXPECT_EQ(std::to_string(v.as_int()), d.at("value").get<std::string>()) << where;
  }
}

// Element i of a numeric array against its description (a "head" item of the real model's arrays).
void expect_value_head(const GgufValue& v, size_t i, const json& d) {
  if (v.array_type() == GgufType::FLOAT32) {
    EXPECT_EQ(gguf_test::bits_of(v.to_floats()[i]), d.at("bits").get<uint32_t>()) << i;
  } else {
    EXPECT_EQ(std::to_string(v.int_at(i)), d.at("value").get<std::string>()) << i;
  }
}

// Everything make_gguf_goldens.py recorded about one of its gguf-py files.
void expect_matches_golden(const GgufFile& f, const json& g) {
  EXPECT_EQ(f.version(), g.at("version").get<uint32_t>());
  EXPECT_EQ(f.alignment(), g.at("alignment").get<size_t>());
  EXPECT_EQ(f.data_offset() % f.alignment(), 0u);
  const json& md = g.at("metadata");
  ASSERT_EQ(f.metadata().size(), md.size());
  for (size_t i = 0; i < md.size(); ++i) {
    const std::string key = md[i].at("key").get<std::string>();
    EXPECT_EQ(f.metadata()[i].first, key) << "metadata order";
    ASSERT_NE(f.find(key), nullptr) << key;
    expect_value(*f.find(key), md[i], key);
  }
  const json& ts = g.at("tensors");
  ASSERT_EQ(f.tensors().size(), ts.size());
  uint64_t expected_offset = 0;
  for (size_t i = 0; i < ts.size(); ++i) {
    const GgufTensorInfo& t = f.tensors()[i];
    const std::string name = ts[i].at("name").get<std::string>();
    SCOPED_TRACE(name);
    EXPECT_EQ(t.name, name);
    EXPECT_EQ(std::string(dtype_name(t.dtype)), ts[i].at("type").get<std::string>());
    EXPECT_EQ(t.ggml_type, ts[i].at("ggml_type").get<uint32_t>());
    EXPECT_EQ(t.dims, ts[i].at("dims").get<std::vector<int64_t>>());
    EXPECT_EQ(t.shape, Shape::from_vector(ts[i].at("shape").get<std::vector<int64_t>>()));
    EXPECT_EQ(t.nbytes, ts[i].at("nbytes").get<size_t>());
    EXPECT_EQ(t.offset, expected_offset);
    expected_offset += (t.nbytes + f.alignment() - 1) / f.alignment() * f.alignment();
    Tensor x = f.tensor(name);
    EXPECT_EQ(x.dtype(), t.dtype);
    EXPECT_EQ(x.shape(), t.shape);
    ASSERT_EQ(x.nbytes(), t.nbytes);
    EXPECT_EQ(Sha256::of(x.raw(), x.nbytes()), ts[i].at("sha256").get<std::string>());
  }
}

// Rebuilds a parsed file with GgufWriter: same metadata in the same order, same tensors.
GgufWriter writer_from(const GgufFile& f) {
  GgufWriter w;
  for (const auto& [k, v] : f.metadata()) w.set(k, v);
  for (const GgufTensorInfo& t : f.tensors()) w.add_tensor(t.name, f.tensor(t));
  return w;
}

class GgufTest : public tuna_test::TempDirTest {
 protected:
  GgufTest() : TempDirTest("tuna_gguf") {}
};

// --- files written by the gguf Python package ---------------------------------------------

TEST(GgufGolden, ReadsEveryMetadataTypeWrittenByGgufPy) {
  const json g = gguf_test::read_json(golden_dir() + "/metadata_types.json");
  const std::string bytes = read_file(golden_dir() + "/metadata_types.gguf");
  ASSERT_EQ(Sha256::of(bytes.data(), bytes.size()), g.at("sha256").get<std::string>());
  GgufFile f = GgufFile::open(golden_dir() + "/metadata_types.gguf");
  expect_matches_golden(f, g);
  // Typed getters on the same keys.
  EXPECT_EQ(f.get_string("general.architecture"), "tunatest");
  EXPECT_EQ(f.get_int("test.i64"), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(f.get("test.u64").as_uint(), std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(f.get_int("test.u32"), 4294967295LL);
  EXPECT_FLOAT_EQ(static_cast<float>(f.get_float("test.f32")), 1e-6f);
  EXPECT_DOUBLE_EQ(f.get_float("test.f64"), 3.141592653589793);
  EXPECT_TRUE(f.get_bool("test.bool_true"));
  EXPECT_FALSE(f.get_bool_or("test.absent", false));
  EXPECT_EQ(f.get_int_or("test.absent", 7), 7);
  EXPECT_EQ(f.get_string("test.empty_string"), "");
  EXPECT_EQ(f.get("test.arr_string").strings(),
            (std::vector<std::string>{"<pad>", "", "\xe2\x96\x81hello", "\xed\x95\x9c"}));
  EXPECT_EQ(f.get("test.arr_i32").to_ints(), (std::vector<int64_t>{-1, 0, 2147483647}));
  const GgufValue& nested = f.get("test.nested_mixed");
  EXPECT_EQ(nested.array_at(3).array_at(1).to_ints(), (std::vector<int64_t>{8, 9}));
  EXPECT_EQ(nested.to_string(), "[[1.5, 2.5], [\"a\", \"bc\"], [true, false], [[7], [8, 9]]]");
}

TEST(GgufGolden, ReadsCustomAlignmentWrittenByGgufPy) {
  const json g = gguf_test::read_json(golden_dir() + "/aligned64.json");
  GgufFile f = GgufFile::open(golden_dir() + "/aligned64.gguf");
  EXPECT_EQ(f.alignment(), 64u);
  expect_matches_golden(f, g);
  // F32/F16 views stay zero-copy at 64-byte alignment.
  EXPECT_TRUE(f.tensor("t.f32").is_view());
}

TEST(GgufGolden, VersionTwoReadsLikeVersionThree) {
  std::string bytes = read_file(golden_dir() + "/metadata_types.gguf");
  bytes[4] = 2;  // v2 and v3 share the little-endian layout
  GgufFile f = parse_bytes(bytes, "v2.gguf");
  EXPECT_EQ(f.version(), 2u);
  json g = gguf_test::read_json(golden_dir() + "/metadata_types.json");
  g["version"] = 2;
  expect_matches_golden(f, g);
}

TEST_F(GgufTest, WriterReproducesGgufPyBytes) {
  for (const char* name : {"metadata_types.gguf", "aligned64.gguf"}) {
    SCOPED_TRACE(name);
    const std::string want = read_file(golden_dir() + "/" + name);
    GgufFile f = GgufFile::open(golden_dir() + "/" + name);
    GgufWriter w = writer_from(f);
    const std::string got = w.to_bytes();
    ASSERT_EQ(got.size(), want.size());
    EXPECT_TRUE(got == want) << "first difference at byte "
                             << (std::mismatch(got.begin(), got.end(), want.begin()).first -
                                 got.begin());
    w.write(path(name));
    EXPECT_TRUE(read_file(path(name)) == want);
  }
  // No temporary files are left behind.
  size_t n = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir_)) ++n;
  EXPECT_EQ(n, 2u);
}

// --- writer round trip ----------------------------------------------------------------------

Tensor filled(const Shape& shape, DType dtype, uint8_t seed) {
  Tensor t = Tensor::empty(shape, dtype);
  auto* p = static_cast<uint8_t*>(t.raw_mut());
  for (size_t i = 0; i < t.nbytes(); ++i) p[i] = static_cast<uint8_t>(seed + 31 * i + (i >> 7));
  return t;
}

TEST_F(GgufTest, WriteReadRoundTripIsIdentical) {
  GgufWriter w;
  w.set("general.architecture", GgufValue::string("llama"));
  w.set("general.alignment", GgufValue::u32(16));
  w.set("a.u8", GgufValue::u8(255));
  w.set("a.i8", GgufValue::i8(-1));
  w.set("a.u16", GgufValue::u16(65535));
  w.set("a.i16", GgufValue::i16(-2));
  w.set("a.u32", GgufValue::u32(123456789));
  w.set("a.i32", GgufValue::i32(-123456789));
  w.set("a.u64", GgufValue::u64(1ull << 63));
  w.set("a.i64", GgufValue::i64(-(1ll << 62)));
  w.set("a.f32", GgufValue::f32(std::numeric_limits<float>::quiet_NaN()));
  w.set("a.f64", GgufValue::f64(-0.0));
  w.set("a.bool", GgufValue::boolean(true));
  w.set("a.str", GgufValue::string(std::string("nul\0inside", 10)));
  w.set("a.empty_array", GgufValue::int_array(GgufType::INT32, {}));
  w.set("a.empty_strings", GgufValue::string_array({}));
  w.set("a.floats", GgufValue::f32_array({1.0f, -0.0f, 3.5e-41f}));
  w.set("a.doubles", GgufValue::float_array(GgufType::FLOAT64, {1e300, -2.5}));
  w.set("a.u64s", GgufValue::uint_array(GgufType::UINT64, {0, ~0ull}));
  w.set("a.bools", GgufValue::bool_array({true, false, false}));
  w.set("a.nested",
        GgufValue::array_of_arrays(
            {GgufValue::string_array({"x", ""}),
             GgufValue::array_of_arrays({GgufValue::int_array(GgufType::INT8, {-128, 127})}),
             GgufValue::int_array(GgufType::UINT16, {})}));
  w.set("a.u8", GgufValue::u8(7));  // replaces, keeps its position
  const DType kTypes[] = {DType::F32,  DType::F16,  DType::BF16, DType::F64,  DType::I8,
                          DType::I16,  DType::I32,  DType::I64,  DType::Q4_0, DType::Q4_1,
                          DType::Q5_0, DType::Q5_1, DType::Q8_0, DType::Q2_K, DType::Q3_K,
                          DType::Q4_K, DType::Q5_K, DType::Q6_K};
  std::vector<Tensor> tensors;
  for (size_t i = 0; i < std::size(kTypes); ++i) {
    const int64_t cols = 2 * static_cast<int64_t>(dtype_block_size(kTypes[i])) + (i < 8 ? 1 : 0);
    Shape shape = i % 3 == 0 ? Shape{cols} : i % 3 == 1 ? Shape{3, cols} : Shape{2, 1, 2, cols};
    tensors.push_back(filled(shape, kTypes[i], static_cast<uint8_t>(i)));
    w.add_tensor(std::string("t.") + dtype_name(kTypes[i]), tensors.back());
  }
  w.write(path("rt.gguf"));

  GgufFile f = GgufFile::open(path("rt.gguf"));
  EXPECT_EQ(f.version(), 3u);
  EXPECT_EQ(f.alignment(), 16u);
  ASSERT_EQ(f.metadata().size(), 21u);
  EXPECT_EQ(f.metadata()[2].first, "a.u8");
  EXPECT_EQ(f.get_int("a.u8"), 7);
  EXPECT_TRUE(std::isnan(f.get_float("a.f32")));
  EXPECT_TRUE(std::signbit(f.get_float("a.f64")));
  EXPECT_EQ(f.get_string("a.str"), std::string("nul\0inside", 10));
  EXPECT_EQ(f.get("a.empty_array").size(), 0u);
  EXPECT_EQ(f.get("a.nested").array_at(1).array_at(0).to_ints(), (std::vector<int64_t>{-128, 127}));
  EXPECT_EQ(f.get("a.u64s").raw_bytes().size(), 16u);
  // Values compare equal by bits to what was written, NaN included.
  GgufFile again = parse_bytes(w.to_bytes(), "in-memory");
  for (size_t i = 0; i < f.metadata().size(); ++i) {
    EXPECT_EQ(f.metadata()[i].first, again.metadata()[i].first);
    EXPECT_TRUE(f.metadata()[i].second == again.metadata()[i].second) << f.metadata()[i].first;
  }
  ASSERT_EQ(f.tensors().size(), tensors.size());
  for (size_t i = 0; i < tensors.size(); ++i) {
    const GgufTensorInfo& t = f.tensors()[i];
    SCOPED_TRACE(t.name);
    EXPECT_EQ(t.dtype, kTypes[i]);
    EXPECT_EQ(t.shape, tensors[i].shape());
    EXPECT_EQ(t.dims[0], tensors[i].dim(-1));
    EXPECT_EQ(t.offset % 16, 0u);
    Tensor x = f.tensor(t);
    ASSERT_EQ(x.nbytes(), tensors[i].nbytes());
    EXPECT_EQ(std::memcmp(x.raw(), tensors[i].raw(), x.nbytes()), 0);
  }
  // Writing the parsed file again gives the same bytes.
  EXPECT_TRUE(writer_from(f).to_bytes() == read_file(path("rt.gguf")));
}

TEST(GgufWriter, RejectsWhatGgufCannotHold) {
  GgufWriter w;
  w.add_tensor("x", Tensor::zeros(Shape{4}, DType::F32));
  expect_user_error([&] { w.add_tensor("x", Tensor::zeros(Shape{4}, DType::F32)); }, {"'x'"});
  expect_user_error(
      [&] { w.add_tensor(std::string(64, 'n'), Tensor::zeros(Shape{4}, DType::F32)); },
      {"64 bytes"});
  expect_user_error([&] { w.add_tensor("u8", Tensor::zeros(Shape{4}, DType::U8)); }, {"U8"});
  expect_user_error(
      [&] {
        w.add_tensor("empty", Tensor::zeros(Shape{0, 4}, DType::F32));
      },
      {"[0, 4]"});
  expect_user_error([&] { w.add_tensor("scalar", Tensor::zeros(Shape{}, DType::F32)); },
                    {"scalar"});
  expect_user_error([] { GgufValue::int_array(GgufType::UINT8, {256}); }, {"256"});
  expect_user_error([] { GgufValue::int_array(GgufType::STRING, {1}); }, {"STRING"});
  GgufWriter a;
  a.set("general.alignment", GgufValue::u32(48));
  expect_user_error([&] { a.to_bytes(); }, {"general.alignment"});
  a.set("general.alignment", GgufValue::u64(64));
  expect_user_error([&] { a.to_bytes(); }, {"UINT64"});
}

// --- the real model -----------------------------------------------------------------------

TEST(GgufRealModel, MetadataAndTensorInfosMatchGgufPy) {
  TUNA_REQUIRE_REAL_MODEL();
  const json g = gguf_test::read_json(golden_dir() + "/gemma3_270m.json");
  GgufFile f = GgufFile::open(gguf_test::real_model_path());
  EXPECT_EQ(f.version(), g.at("version").get<uint32_t>());
  EXPECT_EQ(f.alignment(), g.at("alignment").get<size_t>());
  EXPECT_EQ(f.data_offset(), g.at("data_offset").get<size_t>());
  EXPECT_EQ(f.metadata().size(), g.at("kv_count").get<size_t>());
  ASSERT_EQ(f.tensors().size(), g.at("tensor_count").get<size_t>());
  EXPECT_EQ(f.tensors().size(), 236u);
  for (const auto& [key, d] : g.at("metadata").items()) {
    ASSERT_NE(f.find(key), nullptr) << key;
    expect_value(*f.find(key), d, key);
  }
  EXPECT_EQ(f.get_string("general.architecture"), "gemma3");
  EXPECT_EQ(f.get_int("gemma3.block_count"), 18);
  EXPECT_EQ(f.get_int("gemma3.embedding_length"), 640);
  EXPECT_EQ(f.get_int("tokenizer.ggml.bos_token_id"), 2);
  EXPECT_FLOAT_EQ(static_cast<float>(f.get_float("gemma3.attention.layer_norm_rms_epsilon")),
                  1e-6f);
  for (const auto& [key, d] : g.at("arrays").items()) {
    SCOPED_TRACE(key);
    const GgufValue& v = f.get(key);
    ASSERT_EQ(std::string(gguf_type_name(v.array_type())), d.at("elem").get<std::string>());
    ASSERT_EQ(v.size(), d.at("count").get<size_t>());
    std::string digest;
    if (v.array_type() == GgufType::STRING) {
      Sha256 s;
      for (size_t i = 0; i < v.size(); ++i) {
        if (i) s.update("", 1);
        s.update(v.string_at(i).data(), v.string_at(i).size());
      }
      digest = s.hex();
      for (size_t i = 0; i < d.at("head").size(); ++i)
        EXPECT_EQ(v.string_at(i), d.at("head")[i].get<std::string>());
    } else {
      digest = Sha256::of(v.raw_bytes().data(), v.raw_bytes().size());
      for (size_t i = 0; i < d.at("head").size(); ++i) expect_value_head(v, i, d.at("head")[i]);
    }
    EXPECT_EQ(digest, d.at("sha256").get<std::string>());
  }
  int64_t params = 0;
  for (size_t i = 0; i < f.tensors().size(); ++i) {
    const GgufTensorInfo& t = f.tensors()[i];
    const json& d = g.at("tensors")[i];
    SCOPED_TRACE(t.name);
    EXPECT_EQ(t.name, d.at("name").get<std::string>());
    EXPECT_EQ(std::string(dtype_name(t.dtype)), d.at("type").get<std::string>());
    EXPECT_EQ(t.dims, d.at("dims").get<std::vector<int64_t>>());
    EXPECT_EQ(t.offset, d.at("offset").get<uint64_t>());
    EXPECT_EQ(t.nbytes, d.at("nbytes").get<size_t>());
    params += t.shape.numel();
  }
  EXPECT_EQ(params, g.at("n_parameters").get<int64_t>());
  EXPECT_EQ(params, 268098176);
  // Views point into the mapping (no copy) with the row-major shape [out, in].
  Tensor q = f.tensor("blk.0.attn_q.weight");
  EXPECT_TRUE(q.is_view());
  EXPECT_EQ(q.dtype(), DType::Q5_0);
  EXPECT_EQ(q.shape(), (Shape{1024, 640}));
}

}  // namespace
}  // namespace tuna
