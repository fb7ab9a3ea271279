// Fuzz target for the GGUF reader: parse arbitrary bytes, touch every value and tensor,
// dequantize every tensor tuna can, and check that what parsed re-encodes (GgufWriter) and
// re-parses to the same metadata and tensors. A tuna user error with a hint is an accepted
// outcome; any other exception, internal error or sanitizer report is a bug.
// With TUNA_FUZZ_REPLAY_MAIN it is a plain program: it replays a corpus plus deterministic
// mutations (the CTest test fuzz_gguf_replay), and `--make-seeds DIR` writes the generated seeds
// of fuzz/corpus/gguf/ (the two gguf-py-written seeds there are copies of
// tests/golden/gguf/*.gguf).
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "io/gguf.h"
#include "ops/quant_gguf.h"
#include "replay_driver.h"

namespace {

namespace fs = std::filesystem;
using tuna::DType;
using tuna::GgufFile;
using tuna::GgufTensorInfo;
using tuna::GgufValue;
using tuna::GgufWriter;
using tuna::Tensor;
using tuna::fuzz::Bytes;
using tuna::fuzz::Rng;
using tuna::fuzz::write_raw;

constexpr const char* kTarget = "fuzz_gguf";

[[noreturn]] void bug(const std::string& what) {
  tuna::fuzz::report_bug(kTarget, what);
}

void check_tensors(const GgufFile& f, size_t size) {
  volatile float sink = 0;
  std::vector<float> out;
  for (const GgufTensorInfo& t : f.tensors()) {
    if (t.dims.empty() || t.dims.size() > 4) bug("tensor with bad dim count accepted");
    if (t.shape.ndim != static_cast<int>(t.dims.size())) bug("shape and dims disagree");
    for (size_t j = 0; j < t.dims.size(); ++j)
      if (t.shape.dims[t.dims.size() - 1 - j] != t.dims[j] || t.dims[j] <= 0)
        bug("shape is not the reversed dims");
    if (t.nbytes != tuna::dtype_nbytes(t.dtype, t.shape.numel())) bug("nbytes mismatch");
    if (f.data_offset() + t.offset + t.nbytes > size) bug("tensor data reaches past the image");
    if (t.offset % f.alignment() != 0) bug("unaligned offset accepted");
    Tensor x = f.tensor(t);
    if (x.nbytes() != t.nbytes) bug("view size differs from the tensor info");
    if (tuna::gguf_dequantizable(t.dtype)) {
      out.resize(static_cast<size_t>(t.shape.numel()));
      tuna::dequantize_gguf(t.dtype, x.raw(), t.shape.numel(), out.data());
      for (float v : out) sink = sink + v;
    } else {
      const auto* p = static_cast<const uint8_t*>(x.raw());
      for (size_t i = 0; i < x.nbytes(); ++i) sink = sink + p[i];
    }
  }
}

// Everything the reader accepted must survive a write/read round trip unchanged.
void check_round_trip(const GgufFile& f) {
  GgufWriter w;
  for (const auto& [k, v] : f.metadata()) w.set(k, v);
  for (const GgufTensorInfo& t : f.tensors()) w.add_tensor(t.name, f.tensor(t));
  auto image = std::make_shared<std::string>(w.to_bytes());
  GgufFile g = GgufFile::parse(image, reinterpret_cast<const uint8_t*>(image->data()),
                               image->size(), "round-trip");
  if (g.alignment() != f.alignment()) bug("round trip changed the alignment");
  if (g.metadata().size() != f.metadata().size()) bug("round trip changed the metadata count");
  for (size_t i = 0; i < f.metadata().size(); ++i) {
    if (g.metadata()[i].first != f.metadata()[i].first) bug("round trip reordered the metadata");
    if (g.metadata()[i].second != f.metadata()[i].second)
      bug("round trip changed metadata key '" + f.metadata()[i].first + "'");
  }
  if (g.tensors().size() != f.tensors().size()) bug("round trip changed the tensor count");
  for (size_t i = 0; i < f.tensors().size(); ++i) {
    const GgufTensorInfo &a = f.tensors()[i], &b = g.tensors()[i];
    if (a.name != b.name || a.dims != b.dims || a.ggml_type != b.ggml_type ||
        a.offset != b.offset || a.nbytes != b.nbytes)
      bug("round trip changed tensor info '" + a.name + "'");
    Tensor x = f.tensor(a), y = g.tensor(b);
    if (std::memcmp(x.raw(), y.raw(), x.nbytes()) != 0)
      bug("round trip changed tensor data '" + a.name + "'");
  }
  if (GgufWriter(w).to_bytes() != *image) bug("writer is not deterministic");
}

// What parsed: every value renders, every tensor checks out; then the round trip.
void check_parsed(const GgufFile& f, size_t size) {
  volatile size_t chars = 0;  // renders every value (exercises every accessor)
  for (const auto& [k, v] : f.metadata()) chars = chars + v.to_string().size() + k.size();
  check_tensors(f, size);
  check_round_trip(f);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  tuna::fuzz::parse_and_check<GgufFile>(kTarget, data, size, check_parsed);
  return 0;
}

#ifdef TUNA_FUZZ_REPLAY_MAIN

namespace {

void put_le(Bytes& b, size_t at, uint64_t v, size_t width) {
  for (size_t i = 0; i < width && at + i < b.size(); ++i)
    b[at + i] = static_cast<uint8_t>(v >> (8 * i));
}

// Mutations 2, 6 and 7 (see tuna::fuzz::mutate): values that matter to GGUF fields.
void mutate_format(size_t op, Bytes& b, Rng& rng) {
  // Counts, lengths, type ids, dims, offsets, alignments.
  static const uint64_t kInteresting[] = {
      0,          1,          2,    3,  4,  7,   8,   9,   12,   13,     14,      16,
      30,         31,         32,   63, 64, 255, 256, 640, 1024, 0xffff, 0x10000, 0xffffffffull,
      1ull << 32, 1ull << 62, ~0ull};
  switch (op) {
    case 2:  // an interesting u32 or u64 anywhere (fields are not aligned in GGUF)
      if (!b.empty())
        put_le(b, rng.below(b.size()), kInteresting[rng.below(std::size(kInteresting))],
               rng.below(2) ? 4 : 8);
      break;
    case 6: {  // nudge the header counts or version
      static const size_t kFields[] = {4, 8, 16};
      size_t at = kFields[rng.below(3)];
      if (b.size() < at + 8) break;
      uint64_t n = 0;
      for (int i = 7; i >= 0; --i) n = (n << 8) | b[at + i];
      static const int64_t kDeltas[] = {-1, 1, 2, 1 << 20};
      n += kDeltas[rng.below(4)];
      put_le(b, at, n, at == 4 ? 4 : 8);
      break;
    }
    case 7: {  // a small value type / ggml type id at a random place
      if (!b.empty()) put_le(b, rng.below(b.size()), rng.below(45), 4);
      break;
    }
  }
}

Tensor filled(const tuna::Shape& shape, DType dtype, uint8_t seed) {
  Tensor t = Tensor::empty(shape, dtype);
  auto* p = static_cast<uint8_t*>(t.raw_mut());
  for (size_t i = 0; i < t.nbytes(); ++i) p[i] = static_cast<uint8_t>(seed + 17 * i);
  // Sane F16 scales at the start of each legacy block (keeps dequantized values finite).
  if (tuna::dtype_is_block(dtype) && tuna::dtype_block_size(dtype) == 32) {
    for (size_t i = 0; i < t.nbytes(); i += tuna::dtype_block_bytes(dtype)) p[i + 1] = 0x20;
  }
  return t;
}

int make_seeds(const fs::path& dir) {
  using tuna::GgufType;
  fs::create_directories(dir);
  {
    GgufWriter w;
    w.set("general.architecture", GgufValue::string("llama"));
    w.add_tensor("a", Tensor::from_f32({2}, {1.0f, 2.0f}));
    w.write((dir / "tiny.gguf").string());
  }
  {
    GgufWriter w;
    w.set("general.architecture", GgufValue::string("gemma3"));
    w.set("k.u8", GgufValue::u8(1));
    w.set("k.i16", GgufValue::i16(-3));
    w.set("k.u64", GgufValue::u64(1ull << 40));
    w.set("k.f32", GgufValue::f32(0.5f));
    w.set("k.f64", GgufValue::f64(2.0));
    w.set("k.b", GgufValue::boolean(true));
    w.set("k.s", GgufValue::string("caf\xc3\xa9"));
    w.set("k.tokens", GgufValue::string_array({"<pad>", "a", ""}));
    w.set("k.scores", GgufValue::f32_array({0.0f, -1.5f, 2.0f}));
    w.set("k.types", GgufValue::int_array(GgufType::INT32, {1, 3, 6}));
    w.set("k.nested", GgufValue::array_of_arrays({GgufValue::int_array(GgufType::UINT8, {7}),
                                                  GgufValue::bool_array({false})}));
    const DType kTypes[] = {DType::F16,  DType::BF16, DType::I32,  DType::Q4_0, DType::Q4_1,
                            DType::Q5_0, DType::Q5_1, DType::Q8_0, DType::Q2_K, DType::Q3_K,
                            DType::Q4_K, DType::Q5_K, DType::Q6_K};
    uint8_t seed = 1;
    for (DType t : kTypes) {
      int64_t cols = static_cast<int64_t>(tuna::dtype_block_size(t)) * (t == DType::F16 ? 3 : 1);
      w.add_tensor(std::string("blk.0.") + tuna::dtype_name(t), filled({1, cols}, t, seed++));
    }
    w.write((dir / "every_type.gguf").string());
    std::string v2 = w.to_bytes();
    v2[4] = 2;
    write_raw(dir / "v2.gguf", v2);
  }
  {
    GgufWriter w;
    w.set("general.alignment", GgufValue::u32(64));
    w.add_tensor("odd", filled({3}, DType::F16, 9));
    w.add_tensor("next", filled({2, 2}, DType::F32, 10));
    w.write((dir / "aligned64.gguf").string());
  }
  {
    GgufWriter w;
    w.set("general.name", GgufValue::string("metadata only"));
    w.write((dir / "no_tensors.gguf").string());
  }
  GgufWriter().write((dir / "empty.gguf").string());
  {  // Invalid seeds, to start near error paths: an offset gap and an unknown ggml type.
    GgufWriter w;
    w.add_tensor("a", filled({8}, DType::F32, 1));
    w.add_tensor("b", filled({8}, DType::F32, 2));
    std::string s = w.to_bytes();
    size_t at = s.find(std::string("\x01\0\0\0\0\0\0\0b", 9));
    if (at != std::string::npos) s[at + 9 + 4 + 8 + 4] = 48;  // b's offset 32 -> 48
    write_raw(dir / "bad_offset.gguf", s);
    std::string t = w.to_bytes();
    at = t.find(std::string("\x01\0\0\0\0\0\0\0a", 9));
    if (at != std::string::npos) t[at + 9 + 4 + 8] = 16;  // F32 -> IQ2_XXS
    write_raw(dir / "bad_type.gguf", t);
  }
  std::printf("wrote seeds to %s\n", dir.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return tuna::fuzz::replay_main(argc, argv, {kTarget, mutate_format, make_seeds, 8192});
}

#endif  // TUNA_FUZZ_REPLAY_MAIN
