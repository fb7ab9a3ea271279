// GGUF reader rejections: one test per malformation (magic, version, counts, strings, value
// types, alignment, tensor infos, offsets, truncation anywhere). Each must be a user error (exit
// status 2) naming the file and the key or tensor, with a hint. Images are built byte by byte
// here, independently of tuna's writer.
#include <gtest/gtest.h>

#include <initializer_list>
#include <string>
#include <vector>

#include "core/error.h"
#include "io/gguf.h"
#include "io/gguf_test_util.h"

namespace tuna {
namespace {

// A GGUF image, little-endian, built field by field.
struct Img {
  std::string b;
  Img& raw(const std::string& s) {
    b += s;
    return *this;
  }
  Img& u8(uint8_t v) {
    b.push_back(static_cast<char>(v));
    return *this;
  }
  Img& u32(uint32_t v) {
    for (int i = 0; i < 4; ++i) b.push_back(static_cast<char>(v >> (8 * i)));
    return *this;
  }
  Img& u64(uint64_t v) {
    for (int i = 0; i < 8; ++i) b.push_back(static_cast<char>(v >> (8 * i)));
    return *this;
  }
  Img& str(const std::string& s) { return u64(s.size()).raw(s); }
  Img& header(uint64_t n_tensors, uint64_t n_kv, uint32_t version = 3) {
    return raw("GGUF").u32(version).u64(n_tensors).u64(n_kv);
  }
  Img& kv_u32(const std::string& key, uint32_t v) { return str(key).u32(4).u32(v); }
  Img& tensor(const std::string& name, std::initializer_list<uint64_t> dims, uint32_t type,
              uint64_t offset) {
    str(name).u32(static_cast<uint32_t>(dims.size()));
    for (uint64_t d : dims) u64(d);
    return u32(type).u64(offset);
  }
  Img& pad(size_t align = 32) {
    b.append((align - b.size() % align) % align, '\0');
    return *this;
  }
  Img& zeros(size_t n) {
    b.append(n, '\0');
    return *this;
  }
};

// Parses `bytes` as "bad.gguf"; the error must be a user error whose message names the file and
// contains every needle, with a hint.
void expect_rejected(const std::string& bytes, std::initializer_list<std::string> needles,
                     const std::string& hint_needle = "") {
  auto owner = std::make_shared<std::string>(bytes);
  try {
    GgufFile::parse(owner, reinterpret_cast<const uint8_t*>(owner->data()), owner->size(),
                    "bad.gguf");
    ADD_FAILURE() << "accepted; expected an error mentioning " << *needles.begin();
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_EQ(e.kind(), ErrorKind::USER) << what;
    EXPECT_EQ(e.exit_status(), 2);
    EXPECT_EQ(e.component(), "gguf");
    EXPECT_NE(what.find("bad.gguf"), std::string::npos) << what;
    for (const std::string& n : needles) EXPECT_NE(what.find(n), std::string::npos) << what;
    EXPECT_FALSE(e.hint().empty()) << what;
    if (!hint_needle.empty()) {
      EXPECT_NE(e.hint().find(hint_needle), std::string::npos) << e.hint();
    }
  }
}

// A valid one-tensor file: a Q8_0 [2, 32] tensor "w" (2 blocks of 34 bytes).
Img valid_image() {
  Img i;
  i.header(1, 1).kv_u32("general.alignment", 32).tensor("w", {32, 2}, 8, 0).pad().zeros(68);
  return i;
}

TEST(GgufErrors, ValidImageParses) {
  Img i = valid_image();
  auto owner = std::make_shared<std::string>(i.b);
  GgufFile f = GgufFile::parse(owner, reinterpret_cast<const uint8_t*>(owner->data()),
                               owner->size(), "ok.gguf");
  EXPECT_EQ(f.tensor("w").dtype(), DType::Q8_0);
  EXPECT_EQ(f.tensor("w").shape(), (Shape{2, 32}));
}

TEST(GgufErrors, ShortFileAndWrongMagic) {
  expect_rejected("", {"0 bytes"});
  expect_rejected("GGU", {"3 bytes"});
  expect_rejected("PK\x03\x04 not gguf", {"not a GGUF file", "'PK\\x03\\x04'"}, "check the path");
  expect_rejected(std::string("lmgg") + std::string(20, '\0'), {"not a GGUF file"}, "pre-GGUF");
}

TEST(GgufErrors, Versions) {
  expect_rejected(Img().header(0, 0, 1).b, {"version 1 is not supported"}, "re-convert");
  expect_rejected(Img().header(0, 0, 4).b, {"version 4 is not supported"}, "newer");
  expect_rejected(Img().header(0, 0, 0).b, {"version 0 is not supported"});
  expect_rejected(Img().header(0, 0, 0x03000000).b, {"big-endian"}, "little-endian");
  // Both supported versions parse.
  for (uint32_t v : {2u, 3u}) {
    Img i = Img().header(0, 0, v);
    auto owner = std::make_shared<std::string>(i.b);
    EXPECT_EQ(GgufFile::parse(owner, reinterpret_cast<const uint8_t*>(owner->data()), owner->size(),
                              "v.gguf")
                  .version(),
              v);
  }
}

TEST(GgufErrors, CountsBeyondTheFile) {
  expect_rejected(Img().header(0, 1000000).b, {"1000000 metadata entries"}, "truncated");
  expect_rejected(Img().header(~0ull, 0).b, {"18446744073709551615 tensors"});
  expect_rejected(Img().header(0, 1).str("k").u32(9).u32(5).u64(1ull << 60).b,
                  {"'k'", "1152921504606846976 INT32 elements"}, "truncated");
}

TEST(GgufErrors, StringsAndKeys) {
  expect_rejected(Img().header(0, 1).u64(70000).zeros(70000).b, {"metadata key 0", "70000 bytes"});
  expect_rejected(Img().header(0, 1).u64(1ull << 40).zeros(16).b,
                  {"metadata key 0", "1099511627776 bytes long"});
  expect_rejected(Img().header(0, 1).str("k").u32(8).u64(1ull << 40).zeros(16).b,
                  {"the value of metadata key 'k'", "truncated"});
  expect_rejected(Img().header(0, 1).str("general.name").u32(8).u64(500).raw("abc").b,
                  {"'general.name'", "truncated", "500 bytes"});
  expect_rejected(Img().header(0, 2).kv_u32("a.b", 1).kv_u32("a.b", 2).b, {"'a.b' appears twice"});
  // Control bytes in names are escaped in messages.
  expect_rejected(Img().header(0, 2).kv_u32("a\x1b[31m", 1).kv_u32("a\x1b[31m", 2).b,
                  {"'a\\x1b[31m' appears twice"});
}

TEST(GgufErrors, ValueTypes) {
  expect_rejected(Img().header(0, 1).str("x.y").u32(13).u32(0).b,
                  {"'x.y'", "unknown value type id 13"});
  expect_rejected(Img().header(0, 1).str("x.y").u32(9).u32(77).u64(0).b,
                  {"'x.y'", "unknown element type id 77"});
  expect_rejected(Img().header(0, 1).str("x.b").u32(7).u8(2).b, {"'x.b'", "BOOL of value 2"});
  expect_rejected(Img().header(0, 1).str("x.b").u32(9).u32(7).u64(2).u8(1).u8(9).b,
                  {"'x.b'", "element 1", "BOOL of value 9"});
  expect_rejected(Img().header(0, 1).str("x.u").u32(10).u32(1).b, {"'x.u'", "truncated"});
  // Arrays of arrays nested deeper than 16 levels.
  Img deep = Img().header(0, 1).str("x.deep").u32(9);
  for (int i = 0; i < 20; ++i) deep.u32(9).u64(1);
  deep.u32(4).u64(0);
  expect_rejected(deep.b, {"'x.deep'", "more than 16 deep"});
}

TEST(GgufErrors, Alignment) {
  expect_rejected(Img().header(0, 1).kv_u32("general.alignment", 48).b,
                  {"'general.alignment' is 48", "power of two"});
  expect_rejected(Img().header(0, 1).kv_u32("general.alignment", 0).b,
                  {"'general.alignment' is 0"});
  expect_rejected(Img().header(0, 1).str("general.alignment").u32(10).u64(32).b,
                  {"'general.alignment' is UINT64", "UINT32"});
}

TEST(GgufErrors, TensorInfos) {
  expect_rejected(Img().header(1, 0).tensor(std::string(64, 't'), {32}, 0, 0).b,
                  {"tensor info 0", "64 bytes long", "at most 63"}, "63 bytes");
  expect_rejected(Img().header(1, 0).tensor("w", {}, 0, 0).zeros(32).b,
                  {"tensor 'w'", "0 dimensions"});
  expect_rejected(Img().header(1, 0).tensor("w", {1, 1, 1, 1, 1}, 0, 0).b,
                  {"tensor 'w'", "5 dimensions"});
  expect_rejected(Img().header(1, 0).tensor("w", {4, 0}, 0, 0).b,
                  {"tensor 'w'", "dimension 1 = 0"});
  expect_rejected(Img().header(1, 0).tensor("w", {1ull << 32, 1ull << 32}, 0, 0).b,
                  {"tensor 'w'", "overflows"});
  expect_rejected(Img().header(1, 0).tensor("w", {1ull << 40}, 0, 0).b,
                  {"tensor 'w'", "more than the whole file"});
  // Unknown type ids name the id, its ggml name, and what tuna reads.
  expect_rejected(Img().header(1, 0).tensor("blk.0.attn_q.weight", {256, 4}, 16, 0).b,
                  {"tensor 'blk.0.attn_q.weight'", "ggml type 16 (IQ2_XXS)"}, "Q4_K");
  expect_rejected(Img().header(1, 0).tensor("w", {32}, 99, 0).b, {"ggml type 99 (unknown)"});
  // Rows must be whole blocks: a 640-wide row cannot be Q4_K (256 per block).
  expect_rejected(Img().header(1, 0).tensor("token_embd.weight", {640, 2}, 12, 0).b,
                  {"tensor 'token_embd.weight'", "rows of 640", "block size 256"});
  expect_rejected(
      Img().header(2, 0).tensor("w", {32}, 0, 0).tensor("w", {32}, 0, 128).pad().zeros(256).b,
      {"tensor 'w' appears twice"});
}

TEST(GgufErrors, OffsetsMustBeTheRunningAlignedSum) {
  // Second tensor should start at 128 (= 100 bytes padded to 32), not 100.
  Img i = Img().header(2, 0).tensor("a", {25}, 0, 0).tensor("b", {8}, 0, 100).pad().zeros(256);
  expect_rejected(i.b, {"tensor 'b'", "data offset 100, expected 128"});
  Img j = Img().header(1, 0).tensor("a", {8}, 0, 32).pad().zeros(256);
  expect_rejected(j.b, {"tensor 'a'", "data offset 32, expected 0"});
}

TEST(GgufErrors, DataPastTheEnd) {
  Img i = Img().header(1, 0).tensor("w", {32, 2}, 8, 0).pad().zeros(67);
  expect_rejected(i.b, {"truncated", "tensor 'w'", "ends at byte"}, "truncated");
}

// Cutting a valid file anywhere before the end of its last tensor's data is an error, never a
// crash or a silent success (the trailing padding of the last tensor is optional).
TEST(GgufErrors, TruncatedAnywhere) {
  const std::string full = gguf_test::read_file(gguf_test::golden_dir() + "/metadata_types.gguf");
  auto owner = std::make_shared<std::string>(full);
  GgufFile f = GgufFile::parse(owner, reinterpret_cast<const uint8_t*>(owner->data()),
                               owner->size(), "full");
  const GgufTensorInfo& last = f.tensors().back();
  const size_t data_end = f.data_offset() + last.offset + last.nbytes;
  for (size_t n = 0; n < data_end; ++n) {
    SCOPED_TRACE(n);
    auto cut = std::make_shared<std::string>(full.substr(0, n));
    try {
      GgufFile::parse(cut, reinterpret_cast<const uint8_t*>(cut->data()), cut->size(), "cut.gguf");
      ADD_FAILURE() << "a file cut to " << n << " bytes was accepted";
    } catch (const Error& e) {
      ASSERT_EQ(e.kind(), ErrorKind::USER) << e.what();
      ASSERT_NE(std::string(e.what()).find("cut.gguf"), std::string::npos);
    }
  }
  for (size_t n = data_end; n <= full.size(); ++n) {
    auto cut = std::make_shared<std::string>(full.substr(0, n));
    EXPECT_NO_THROW(GgufFile::parse(cut, reinterpret_cast<const uint8_t*>(cut->data()), cut->size(),
                                    "cut.gguf"));
  }
}

TEST(GgufErrors, MissingKeysAndTensorsAndWrongTypes) {
  GgufFile f = GgufFile::open(gguf_test::golden_dir() + "/metadata_types.gguf");
  auto expect_msg = [](const std::function<void()>& fn, std::initializer_list<std::string> n) {
    try {
      fn();
      ADD_FAILURE() << "no error";
    } catch (const Error& e) {
      EXPECT_EQ(e.exit_status(), 2);
      EXPECT_NE(std::string(e.what()).find("metadata_types.gguf"), std::string::npos);
      for (const std::string& s : n)
        EXPECT_NE(std::string(e.what()).find(s), std::string::npos) << e.what();
      EXPECT_FALSE(e.hint().empty());
    }
  };
  expect_msg([&] { f.get_int("gemma3.block_count"); }, {"'gemma3.block_count' is missing"});
  expect_msg([&] { f.get_int("test.string"); }, {"'test.string'", "STRING", "not an integer"});
  expect_msg([&] { f.get_string("test.u8"); }, {"'test.u8' is 200 (UINT8), not a STRING"});
  expect_msg([&] { f.get_bool("test.arr_u8"); }, {"'test.arr_u8'", "ARRAY"});
  expect_msg([&] { f.get_int("test.u64"); }, {"'test.u64'"});  // 2^64 - 1 does not fit
  try {
    f.tensor("t.f3");
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no tensor 't.f3'"), std::string::npos) << e.what();
    EXPECT_NE(e.hint().find("did you mean 't.f32'?"), std::string::npos) << e.hint();
  }
}

}  // namespace
}  // namespace tuna
