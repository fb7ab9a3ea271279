// Fuzz target for the safetensors reader: parse arbitrary bytes, touch every tensor's bytes,
// and check that what parsed re-encodes and re-parses to the same tensors. A tuna user error is
// an accepted outcome; any other exception, internal error or sanitizer report is a bug.
// With TUNA_FUZZ_REPLAY_MAIN it is a plain program instead of a libFuzzer target: it replays a
// corpus plus deterministic mutations of it (a CTest test on any compiler), and
// `--make-seeds DIR` regenerates the seed corpus in fuzz/corpus/safetensors/.
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "io/safetensors.h"
#include "replay_driver.h"

namespace {

namespace fs = std::filesystem;
using tuna::SafetensorsFile;
using tuna::Tensor;
using tuna::fuzz::Bytes;
using tuna::fuzz::Rng;
using tuna::fuzz::write_raw;

constexpr const char* kTarget = "fuzz_safetensors";
size_t g_accepted = 0;  // inputs that parsed (the replay driver reports it)

[[noreturn]] void bug(const std::string& what) {
  tuna::fuzz::report_bug(kTarget, what);
}

uint8_t touch(const Tensor& t) {
  const auto* p = static_cast<const uint8_t*>(t.raw());
  uint8_t acc = 0;
  for (size_t i = 0; i < t.nbytes(); ++i) acc ^= p[i];
  return acc;
}

// Everything the reader accepted must survive a write/read round trip unchanged.
void check_round_trip(const SafetensorsFile& f) {
  std::vector<std::pair<std::string, Tensor>> tensors;
  for (const std::string& name : f.names()) tensors.emplace_back(name, f.tensor(name));
  auto image = std::make_shared<std::string>(tuna::safetensors_header(tensors, f.metadata()));
  for (const auto& [name, t] : tensors)
    image->append(static_cast<const char*>(t.raw()), t.nbytes());
  SafetensorsFile g = SafetensorsFile::parse(image, reinterpret_cast<const uint8_t*>(image->data()),
                                             image->size(), "round-trip");
  if (g.names().size() != f.names().size()) bug("round trip changed the number of tensors");
  if (g.metadata() != f.metadata()) bug("round trip changed the metadata");
  if (g.data_offset() % 8 != 0) bug("written header is not padded to 8 bytes");
  for (const auto& [name, t] : tensors) {
    if (!g.contains(name)) bug("round trip lost a tensor");
    Tensor u = g.tensor(name);
    if (u.dtype() != t.dtype() || u.shape() != t.shape() || u.nbytes() != t.nbytes() ||
        (t.nbytes() > 0 && std::memcmp(u.raw(), t.raw(), t.nbytes()) != 0)) {
      bug("round trip changed tensor '" + name + "'");
    }
  }
}

// What parsed: every view matches its entry and lies inside the image; then the round trip.
void check_parsed(const SafetensorsFile& f, size_t size) {
  volatile uint8_t sink = 0;
  for (const std::string& name : f.names()) {
    const tuna::SafetensorsEntry& e = f.entry(name);
    Tensor t = f.tensor(name);
    if (t.nbytes() != e.end - e.begin) bug("view size differs from data_offsets");
    if (f.data_offset() + e.end > size) bug("entry reaches past the image");
    sink = sink ^ touch(t);
  }
  check_round_trip(f);
  ++g_accepted;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  tuna::fuzz::parse_and_check<SafetensorsFile>(kTarget, data, size, check_parsed);
  return 0;
}

#ifdef TUNA_FUZZ_REPLAY_MAIN

namespace {

// Mutations 2, 6 and 7 (see tuna::fuzz::mutate): bytes and lengths that matter to safetensors.
void mutate_format(size_t op, Bytes& b, Rng& rng) {
  static const uint8_t kInteresting[] = {0,   1,   0x7f, 0x80, 0xff, '{', '}', '[', ']', '"',
                                         ',', ':', '-',  '0',  '9',  ' ', 'e', '.', '\\'};
  switch (op) {
    case 2:  // a byte that matters to JSON or lengths
      if (!b.empty()) b[rng.below(b.size())] = kInteresting[rng.below(sizeof kInteresting)];
      break;
    case 6: {  // nudge the header length
      if (b.size() < 8) break;
      uint64_t n = 0;
      for (int i = 7; i >= 0; --i) n = (n << 8) | b[i];
      static const int64_t kDeltas[] = {-9, -8, -1, 1, 8, 1 << 20};
      n += kDeltas[rng.below(6)];
      if (rng.below(8) == 0) n = rng.next() >> rng.below(64);
      for (int i = 0; i < 8; ++i) b[i] = static_cast<uint8_t>(n >> (8 * i));
      break;
    }
    case 7: {  // change a digit in the header (shapes, offsets)
      std::vector<size_t> digits;
      for (size_t i = 8; i < b.size(); ++i)
        if (b[i] >= '0' && b[i] <= '9') digits.push_back(i);
      if (!digits.empty()) b[digits[rng.below(digits.size())]] = '0' + rng.below(10);
      break;
    }
  }
}

Tensor filled(const tuna::Shape& shape, tuna::DType dtype, uint8_t seed) {
  Tensor t = Tensor::empty(shape, dtype);
  auto* p = static_cast<uint8_t*>(t.raw_mut());
  for (size_t i = 0; i < t.nbytes(); ++i) p[i] = static_cast<uint8_t>(seed + 17 * i);
  return t;
}

std::string le64(uint64_t n) {
  std::string s(8, '\0');
  for (int i = 0; i < 8; ++i) s[i] = static_cast<char>(n >> (8 * i));
  return s;
}

int make_seeds(const fs::path& dir) {
  using tuna::DType;
  fs::create_directories(dir);
  tuna::write_safetensors((dir / "tiny.safetensors").string(),
                          {{"a", Tensor::from_f32({2}, {1.0f, 2.0f})}}, {{"format", "pt"}});
  tuna::write_safetensors((dir / "mixed.safetensors").string(),
                          {{"h", filled({2, 3}, DType::F16, 1)},
                           {"b", filled({3}, DType::BF16, 2)},
                           {"ids", filled({2}, DType::I64, 3)},
                           {"none", filled({0}, DType::U8, 4)},
                           {"mask", filled({1, 1, 1, 3}, DType::BOOL, 5)},
                           {"s", filled({}, DType::F64, 6)}});
  tuna::write_safetensors((dir / "empty.safetensors").string(), {});
  tuna::write_safetensors((dir / "meta_only.safetensors").string(), {},
                          {{"format", "pt"}, {"note", "caf\xc3\xa9 \"q\"\n"}});
  // Unpadded header: the F32 tensor is misaligned in memory (the reader realigns it).
  std::string h =
      R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"U8","shape":[2],"data_offsets":[4,6]}})";
  write_raw(dir / "unpadded.safetensors",
            le64(h.size()) + h + std::string("\0\0\x80\x3f\x07\x09", 6));
  // Two invalid files to start the fuzzer near error paths: overlap and a bad dtype.
  h = R"({"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"y":{"dtype":"I32","shape":[1],"data_offsets":[4,8]}})";
  write_raw(dir / "overlap.safetensors", le64(h.size()) + h + std::string(8, '\x01'));
  h = R"({"x":{"dtype":"F8_E4M3","shape":[2,2],"data_offsets":[0,4]}})";
  write_raw(dir / "bad_dtype.safetensors", le64(h.size()) + h + "abcd");
  std::printf("wrote seeds to %s\n", dir.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return tuna::fuzz::replay_main(argc, argv,
                                 {kTarget, mutate_format, make_seeds, 4096, &g_accepted});
}

#endif  // TUNA_FUZZ_REPLAY_MAIN
