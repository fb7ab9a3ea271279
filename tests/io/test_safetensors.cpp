// safetensors reader/writer tests: round trips, the exact header bytes the Python library
// writes, sharded directories, and one test per rejected malformation (message names the file
// and tensor; exit status 2). Files are built in a temp dir; no Python or fixtures needed.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <string>

#include "core/error.h"
#include "io/safetensors.h"
#include "test_util.h"

namespace tuna {
namespace {

namespace fs = std::filesystem;
using tuna_test::expect_user_error;
using tuna_test::read_file;
using tuna_test::write_file;

class SafetensorsTest : public tuna_test::TempDirTest {
 protected:
  SafetensorsTest() : TempDirTest("tuna_safetensors") {}
};

std::string le64(uint64_t n) {
  std::string s(8, '\0');
  for (int i = 0; i < 8; ++i) s[i] = static_cast<char>((n >> (8 * i)) & 0xff);
  return s;
}

// A file image: length, the header text padded to 8 bytes, then `data`.
std::string image(const std::string& header_json, const std::string& data) {
  std::string h = header_json;
  h.append((8 - h.size() % 8) % 8, ' ');
  return le64(h.size()) + h + data;
}

Tensor make(const Shape& shape, DType dtype, uint8_t seed) {
  Tensor t = Tensor::empty(shape, dtype);
  auto* p = static_cast<uint8_t*>(t.raw_mut());
  for (size_t i = 0; i < t.nbytes(); ++i) p[i] = static_cast<uint8_t>(seed + 31 * i);
  return t;
}

bool same_bytes(const Tensor& a, const Tensor& b) {
  return a.dtype() == b.dtype() && a.shape() == b.shape() && a.nbytes() == b.nbytes() &&
         (a.nbytes() == 0 || std::memcmp(a.raw(), b.raw(), a.nbytes()) == 0);
}

TEST_F(SafetensorsTest, RoundTripSeveralDtypes) {
  std::vector<std::pair<std::string, Tensor>> tensors = {
      {"w.f32", make({2, 3}, DType::F32, 1)},
      {"w.f16", make({5}, DType::F16, 2)},
      {"w.bf16", make({1, 2, 3, 1}, DType::BF16, 3)},
      {"ids", make({3}, DType::I64, 4)},
      {"empty", make({0, 4}, DType::F32, 5)},
      {"flags", make({7}, DType::BOOL, 6)},
      {"scalar", make({}, DType::F64, 7)},
      {"bytes", make({3}, DType::U8, 8)},
  };
  std::string p = path("model.safetensors");
  write_safetensors(p, tensors);
  SafetensorsFile f = SafetensorsFile::open(p);
  EXPECT_EQ(f.path(), p);
  EXPECT_TRUE(f.metadata().empty());
  ASSERT_EQ(f.names().size(), tensors.size());
  for (size_t i = 0; i < tensors.size(); ++i) {
    const auto& [name, t] = tensors[i];
    EXPECT_EQ(f.names()[i], name);  // written in the given order, names in data-offset order
    ASSERT_TRUE(f.contains(name));
    Tensor r = f.tensor(name);
    EXPECT_TRUE(same_bytes(r, t)) << name;
    // Zero-copy where the bytes are aligned for the dtype (the header is padded to 8, so that
    // depends on the offset); misaligned tensors (given order, odd sizes) come back as copies.
    EXPECT_EQ(r.is_view(), r.numel() == 0 || f.entry(name).begin % dtype_size(t.dtype()) == 0)
        << name;
  }
  EXPECT_EQ(f.entry("empty").begin, f.entry("empty").end);
  EXPECT_EQ(f.tensor("empty").numel(), 0);
  EXPECT_EQ(f.tensor("scalar").ndim(), 0);
  EXPECT_FALSE(f.contains("missing"));
  // No temp file left behind.
  int count = 0;
  for (const auto& e : fs::directory_iterator(dir_)) count += e.is_regular_file();
  EXPECT_EQ(count, 1);
}

TEST_F(SafetensorsTest, MetadataRoundTrip) {
  std::map<std::string, std::string> meta = {
      {"format", "pt"}, {"quote\"and\nnewline", "caf\xc3\xa9"}, {"empty", ""}};
  std::string p = path("m.safetensors");
  write_safetensors(p, {{"a", make({2}, DType::F32, 9)}}, meta);
  SafetensorsFile f = SafetensorsFile::open(p);
  EXPECT_EQ(f.metadata(), meta);
}

TEST_F(SafetensorsTest, OverwriteIsAtomicReplace) {
  std::string p = path("x.safetensors");
  write_safetensors(p, {{"a", make({2}, DType::F32, 1)}});
  write_safetensors(p, {{"b", make({4}, DType::I32, 2)}});
  SafetensorsFile f = SafetensorsFile::open(p);
  EXPECT_EQ(f.names(), std::vector<std::string>{"b"});
}

// Bytes produced by the reference library (safetensors 0.8.0, serialize() of one F32 tensor
// [1.0, 2.0] named "a" with metadata {"format": "pt"}): length 0x58 = 88, compact JSON with
// "__metadata__" first and keys dtype, shape, data_offsets, three spaces of padding.
TEST_F(SafetensorsTest, HeaderBytesMatchPythonLibrary) {
  std::string json =
      R"({"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  ASSERT_EQ(json.size(), 85u);
  std::string expected = std::string("\x58\0\0\0\0\0\0\0", 8) + json + "   " +
                         std::string("\x00\x00\x80\x3f\x00\x00\x00\x40", 8);
  std::string p = path("a.safetensors");
  write_safetensors(p, {{"a", Tensor::from_f32({2}, {1.0f, 2.0f})}}, {{"format", "pt"}});
  EXPECT_EQ(read_file(p), expected);

  // Without metadata there is no "__metadata__" key; scalars have shape [].
  std::string p2 = path("b.safetensors");
  Tensor scalar = Tensor::empty({}, DType::BF16);
  uint16_t one = 0x3f80;
  std::memcpy(scalar.raw_mut(), &one, 2);
  write_safetensors(p2, {{"x", scalar}});
  std::string json2 = R"({"x":{"dtype":"BF16","shape":[],"data_offsets":[0,2]}})";
  EXPECT_EQ(read_file(p2), image(json2, std::string("\x80\x3f", 2)));
  EXPECT_EQ(read_file(p2).size() % 8, 2u);  // 8 + header is a multiple of 8
}

TEST_F(SafetensorsTest, ReadsHandWrittenFileAndRealignsMisalignedTensor) {
  // Header of 10 bytes (not padded) puts the data at offset 18: the F32 view would be misaligned.
  std::string h =
      R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"U8","shape":[2],"data_offsets":[4,6]}})";
  std::string bytes = le64(h.size()) + h + std::string("\x00\x00\x80\x3f\x07\x09", 6);
  auto owner = std::make_shared<std::string>(bytes);
  SafetensorsFile f = SafetensorsFile::parse(owner, reinterpret_cast<const uint8_t*>(owner->data()),
                                             owner->size(), "memory");
  Tensor a = f.tensor("a");
  EXPECT_EQ(reinterpret_cast<uintptr_t>(a.raw()) % 4, 0u);
  EXPECT_EQ(a.data<float>()[0], 1.0f);
  EXPECT_EQ(f.tensor("b").data<uint8_t>()[1], 9);
}

TEST_F(SafetensorsTest, ShardedDirectoryWithIndex) {
  fs::path d = fs::path(dir_) / "sharded";
  fs::create_directory(d);
  Tensor a = make({4, 2}, DType::F16, 1), b = make({3}, DType::F32, 2),
         c = make({2, 2}, DType::I64, 3);
  write_safetensors((d / "model-00001-of-00002.safetensors").string(), {{"a", a}, {"b", b}});
  write_safetensors((d / "model-00002-of-00002.safetensors").string(),
                    {{"c", c}, {"unlisted", make({1}, DType::U8, 4)}});
  write_file(
      (d / "model.safetensors.index.json").string(),
      R"({"metadata": {"total_size": 76}, "weight_map": {"a": "model-00001-of-00002.safetensors",
                 "b": "model-00001-of-00002.safetensors", "c": "model-00002-of-00002.safetensors"}})");
  SafetensorsModel m = SafetensorsModel::open_dir(d.string());
  EXPECT_EQ(m.names(), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(m.files().size(), 2u);
  EXPECT_TRUE(same_bytes(m.tensor("a"), a));
  EXPECT_TRUE(same_bytes(m.tensor("b"), b));
  EXPECT_TRUE(same_bytes(m.tensor("c"), c));
  EXPECT_TRUE(m.tensor("c").is_view());
  EXPECT_EQ(fs::path(m.file_of("c")).filename(), "model-00002-of-00002.safetensors");
  EXPECT_EQ(m.entry("b").dtype, DType::F32);
  EXPECT_FALSE(m.contains("unlisted"));
  expect_user_error([&] { m.tensor("d"); }, {"'d'", "model-00001-of-00002.safetensors",
                                             "model-00002-of-00002.safetensors"});
}

TEST_F(SafetensorsTest, OpenDirSingleFileAndErrors) {
  fs::path d = fs::path(dir_) / "single";
  fs::create_directory(d);
  write_file((d / "config.json").string(), "{}");
  expect_user_error([&] { SafetensorsModel::open_dir(d.string()); },
                    {"no safetensors", "config.json"});
  write_safetensors((d / "weights.safetensors").string(), {{"w", make({2}, DType::F32, 1)}});
  SafetensorsModel m = SafetensorsModel::open_dir(d.string());  // the only *.safetensors file
  EXPECT_EQ(m.names(), std::vector<std::string>{"w"});
  expect_user_error([&] { m.tensor("w2"); }, {"'w2'", "weights.safetensors", "did you mean 'w'"});
  write_safetensors((d / "other.safetensors").string(), {{"v", make({2}, DType::F32, 1)}});
  expect_user_error([&] { SafetensorsModel::open_dir(d.string()); },
                    {"other.safetensors", "weights.safetensors"});
  write_safetensors((d / "model.safetensors").string(), {{"m", make({2}, DType::F32, 1)}});
  EXPECT_EQ(SafetensorsModel::open_dir(d.string()).names(), std::vector<std::string>{"m"});
  expect_user_error([&] { SafetensorsModel::open_dir(path("nope")); }, {"nope", "does not exist"});
}

TEST_F(SafetensorsTest, IndexWithMissingShard) {
  fs::path d = fs::path(dir_) / "missing_shard";
  fs::create_directory(d);
  write_safetensors((d / "s1.safetensors").string(), {{"a", make({2}, DType::F32, 1)}});
  write_file((d / "model.safetensors.index.json").string(),
             R"({"weight_map": {"a": "s1.safetensors", "b": "s2.safetensors"}})");
  expect_user_error([&] { SafetensorsModel::open_dir(d.string()); },
                    {"model.safetensors.index.json", "'b'", "s2.safetensors", "does not exist"});
}

TEST_F(SafetensorsTest, IndexListsTensorAbsentFromShard) {
  fs::path d = fs::path(dir_) / "absent";
  fs::create_directory(d);
  write_safetensors((d / "s1.safetensors").string(), {{"a", make({2}, DType::F32, 1)}});
  write_file((d / "model.safetensors.index.json").string(),
             R"({"weight_map": {"a": "s1.safetensors", "ghost": "s1.safetensors"}})");
  expect_user_error([&] { SafetensorsModel::open_dir(d.string()); },
                    {"model.safetensors.index.json", "'ghost'", "s1.safetensors"});
}

TEST_F(SafetensorsTest, IndexWithDuplicateTensorName) {
  fs::path d = fs::path(dir_) / "dup";
  fs::create_directory(d);
  write_safetensors((d / "s1.safetensors").string(), {{"a", make({2}, DType::F32, 1)}});
  write_file((d / "model.safetensors.index.json").string(),
             R"({"weight_map": {"a": "s1.safetensors", "a": "s1.safetensors"}})");
  expect_user_error([&] { SafetensorsModel::open_dir(d.string()); },
                    {"model.safetensors.index.json", "'a'", "twice"});
}

TEST_F(SafetensorsTest, IndexShardOutsideDirectory) {
  fs::path d = fs::path(dir_) / "escape";
  fs::create_directory(d);
  write_file((d / "model.safetensors.index.json").string(),
             R"({"weight_map": {"a": "../s1.safetensors"}})");
  expect_user_error([&] { SafetensorsModel::open_dir(d.string()); }, {"'a'", "../s1.safetensors"});
}

TEST_F(SafetensorsTest, WriterRejectsDuplicateAndReservedNames) {
  Tensor t = make({2}, DType::F32, 1);
  expect_user_error(
      [&] {
        write_safetensors(path("d.safetensors"), {{"a", t}, {"a", t}});
      },
      {"'a'"});
  expect_user_error(
      [&] {
        write_safetensors(path("d.safetensors"), {{"__metadata__", t}});
      },
      {"__metadata__"});
  expect_user_error(
      [&] {
        write_safetensors(path("no/such/dir/d.safetensors"), {{"a", t}});
      },
      {"no/such/dir/d.safetensors"});
  EXPECT_FALSE(fs::exists(path("d.safetensors")));
}

// --- one test per rejection ------------------------------------------------------------------

const std::string kGood = R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";

TEST_F(SafetensorsTest, RejectsTruncatedFile) {
  std::string p = path("trunc.safetensors");
  write_safetensors(p, {{"w", make({16}, DType::F32, 1)}});
  std::string bytes = read_file(p);
  write_file(p, bytes.substr(0, bytes.size() - 5));
  expect_user_error([&] { SafetensorsFile::open(p); }, {"trunc.safetensors", "'w'", "truncated"});
  write_file(p, bytes.substr(0, 5));
  expect_user_error([&] { SafetensorsFile::open(p); }, {"trunc.safetensors", "5 bytes"});
  write_file(p, bytes.substr(0, 20));  // cut inside the header
  expect_user_error([&] { SafetensorsFile::open(p); }, {"trunc.safetensors", "truncated"});
}

TEST_F(SafetensorsTest, RejectsBadHeaderJson) {
  std::string p = path("badjson.safetensors");
  write_file(p, image(R"({"w":{"dtype":"F32",)", std::string(8, '\0')));
  expect_user_error([&] { SafetensorsFile::open(p); }, {"badjson.safetensors", "not valid JSON"});
  write_file(p, image(R"([1, 2])", ""));
  expect_user_error([&] { SafetensorsFile::open(p); },
                    {"badjson.safetensors", "not a JSON object"});
  write_file(p, image(R"({"w": [1]})", ""));
  expect_user_error([&] { SafetensorsFile::open(p); },
                    {"badjson.safetensors", "'w'", "not an object"});
  write_file(p, image(R"({"w":{"shape":[2],"data_offsets":[0,8]}})", std::string(8, '\0')));
  expect_user_error([&] { SafetensorsFile::open(p); }, {"badjson.safetensors", "'w'", "dtype"});
  write_file(p, image(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,"8"]}})",
                      std::string(8, '\0')));
  expect_user_error([&] { SafetensorsFile::open(p); },
                    {"badjson.safetensors", "'w'", "data_offsets"});
  write_file(
      p, image(R"({"w":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", std::string(8, '\0')));
  expect_user_error([&] { SafetensorsFile::open(p); }, {"badjson.safetensors", "'w'", "negative"});
  write_file(
      p, image(R"({"__metadata__":{"a":1},"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})",
               std::string(8, '\0')));
  expect_user_error([&] { SafetensorsFile::open(p); },
                    {"badjson.safetensors", "__metadata__", "'a'"});
  write_file(
      p,
      image(
          R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})",
          std::string(8, '\0')));
  expect_user_error([&] { SafetensorsFile::open(p); }, {"badjson.safetensors", "'w'", "twice"});
  write_file(p, le64(0) + "xxxx");
  expect_user_error([&] { SafetensorsFile::open(p); }, {"badjson.safetensors", "length is 0"});
}

TEST_F(SafetensorsTest, RejectsOffsetPastEnd) {
  std::string p = path("past.safetensors");
  write_file(
      p, image(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})", std::string(8, '\0')));
  expect_user_error([&] { SafetensorsFile::open(p); }, {"past.safetensors", "'w'", "[4, 12)"});
  write_file(
      p, image(R"({"w":{"dtype":"F32","shape":[0],"data_offsets":[8,4]}})", std::string(8, '\0')));
  expect_user_error([&] { SafetensorsFile::open(p); }, {"past.safetensors", "'w'", "end before"});
}

TEST_F(SafetensorsTest, RejectsOverlappingRanges) {
  std::string p = path("overlap.safetensors");
  write_file(p, image(R"({"first":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                      R"("second":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
                      std::string(8, '\0')));
  expect_user_error([&] { SafetensorsFile::open(p); },
                    {"overlap.safetensors", "'first'", "'second'", "overlap"});
  // Zero-length tensors inside another's range are fine.
  write_file(p, image(R"({"first":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                      R"("second":{"dtype":"F32","shape":[0],"data_offsets":[4,4]}})",
                      std::string(8, '\0')));
  EXPECT_EQ(SafetensorsFile::open(p).names().size(), 2u);
}

TEST_F(SafetensorsTest, RejectsDtypeShapeSizeMismatch) {
  std::string p = path("mismatch.safetensors");
  write_file(
      p, image(R"({"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", std::string(8, '\0')));
  expect_user_error([&] { SafetensorsFile::open(p); },
                    {"mismatch.safetensors", "'w'", "dtype/shape/size mismatch", "12", "8"});
  write_file(p,
             image(R"({"w":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}})",
                   std::string(8, '\0')));
  expect_user_error([&] { SafetensorsFile::open(p); },
                    {"mismatch.safetensors", "'w'", "too many elements"});
}

TEST_F(SafetensorsTest, RejectsUnknownDtype) {
  std::string p = path("dtype.safetensors");
  write_file(p, image(R"({"w":{"dtype":"F8_E4M3","shape":[8],"data_offsets":[0,8]}})",
                      std::string(8, '\0')));
  try {
    SafetensorsFile::open(p);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.exit_status(), 2);
    std::string m = e.what();
    for (const char* n : {"dtype.safetensors", "'w'", "F8_E4M3", "BF16", "I64", "BOOL"})
      EXPECT_NE(m.find(n), std::string::npos) << n << " in " << m;
  }
}

TEST_F(SafetensorsTest, RejectsTooManyDims) {
  std::string p = path("dims.safetensors");
  write_file(p, image(R"({"w":{"dtype":"U8","shape":[1,1,1,2,1],"data_offsets":[0,2]}})", "ab"));
  expect_user_error([&] { SafetensorsFile::open(p); },
                    {"dims.safetensors", "'w'", "5 dims", "at most 4"});
}

TEST_F(SafetensorsTest, RejectsHeaderLengthTooBig) {
  std::string p = path("big.safetensors");
  write_file(p, le64(uint64_t{1} << 40) + kGood);
  expect_user_error([&] { SafetensorsFile::open(p); }, {"big.safetensors", "100 MB"});
  write_file(p, le64(kGood.size() + 100) + kGood);
  expect_user_error([&] { SafetensorsFile::open(p); }, {"big.safetensors", "truncated"});
}

TEST_F(SafetensorsTest, MissingTensorNamesFileAndTensor) {
  std::string p = path("has_w.safetensors");
  write_file(p, image(kGood, std::string(8, '\0')));
  SafetensorsFile f = SafetensorsFile::open(p);
  expect_user_error([&] { f.entry("nope"); }, {"has_w.safetensors", "'nope'"});
  expect_user_error([&] { SafetensorsFile::open(path("absent.safetensors")); },
                    {"absent.safetensors"});
}

}  // namespace
}  // namespace tuna
