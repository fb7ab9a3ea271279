// Fuzz target for the safetensors reader: parse arbitrary bytes, touch every tensor's bytes,
// and check that what parsed re-encodes and re-parses to the same tensors. A tuna user error is
// an accepted outcome; any other exception, internal error or sanitizer report is a bug.
// With TUNA_FUZZ_REPLAY_MAIN it is a plain program instead of a libFuzzer target: it replays a
// corpus plus deterministic mutations of it (a CTest test on any compiler), and
// `--make-seeds DIR` regenerates the seed corpus in fuzz/corpus/safetensors/.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <string>
#include <vector>

#include "core/error.h"
#include "io/safetensors.h"

namespace {

using tuna::Error;
using tuna::ErrorKind;
using tuna::SafetensorsFile;
using tuna::Tensor;

// What is being checked, for the report (the replay driver names the corpus file/mutation).
std::string g_context = "libFuzzer input";
const uint8_t* g_input = nullptr;
size_t g_input_size = 0;
size_t g_accepted = 0;  // inputs that parsed (the replay driver reports it)

[[noreturn]] void bug(const std::string& what) {
  std::fprintf(stderr, "fuzz_safetensors: BUG on %s: %s\n", g_context.c_str(), what.c_str());
  if (FILE* out = std::fopen("fuzz_safetensors_bug.bin", "wb")) {  // the input, to reproduce
    if (g_input_size > 0) std::fwrite(g_input, 1, g_input_size, out);
    std::fclose(out);
    std::fprintf(stderr, "input written to fuzz_safetensors_bug.bin\n");
  }
  std::fflush(stderr);
  std::abort();
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

void check_input(const uint8_t* data, size_t size) {
  // An exact-size heap copy: ASan then flags any read past the end of the image.
  g_input = data;
  g_input_size = size;
  std::shared_ptr<uint8_t[]> buf(new uint8_t[size == 0 ? 1 : size]);
  if (size > 0) std::memcpy(buf.get(), data, size);
  SafetensorsFile f;
  try {
    f = SafetensorsFile::parse(buf, buf.get(), size, "fuzz-input");
  } catch (const Error& e) {
    if (e.kind() != ErrorKind::USER) bug(std::string("internal error on bad input: ") + e.what());
    if (e.hint().empty()) bug(std::string("user error without a hint: ") + e.what());
    return;
  } catch (const std::exception& e) {
    bug(std::string("unexpected exception: ") + e.what());
  }
  try {
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
  } catch (const std::exception& e) {
    bug(std::string("exception after a successful parse: ") + e.what());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  check_input(data, size);
  return 0;
}

#ifdef TUNA_FUZZ_REPLAY_MAIN

#include <algorithm>
#include <filesystem>
#include <fstream>

namespace {

namespace fs = std::filesystem;
using Bytes = std::vector<uint8_t>;

// xorshift64*: deterministic across platforms, so a failing mutation index reproduces.
struct Rng {
  uint64_t s;
  uint64_t next() {
    s ^= s >> 12;
    s ^= s << 25;
    s ^= s >> 27;
    return s * 2685821657736338717ull;
  }
  size_t below(size_t n) { return n == 0 ? 0 : static_cast<size_t>(next() % n); }
};

Bytes read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), {});
}

void mutate(Bytes& b, Rng& rng, const std::vector<Bytes>& seeds) {
  static const uint8_t kInteresting[] = {0,   1,   0x7f, 0x80, 0xff, '{', '}', '[', ']', '"',
                                         ',', ':', '-',  '0',  '9',  ' ', 'e', '.', '\\'};
  switch (rng.below(10)) {
    case 0:  // flip a bit
      if (!b.empty()) b[rng.below(b.size())] ^= static_cast<uint8_t>(1u << rng.below(8));
      break;
    case 1:  // random byte
      if (!b.empty()) b[rng.below(b.size())] = static_cast<uint8_t>(rng.next());
      break;
    case 2:  // a byte that matters to JSON or lengths
      if (!b.empty()) b[rng.below(b.size())] = kInteresting[rng.below(sizeof kInteresting)];
      break;
    case 3:  // truncate
      b.resize(rng.below(b.size() + 1));
      break;
    case 4: {  // erase a chunk
      if (b.empty()) break;
      size_t at = rng.below(b.size()), n = 1 + rng.below(std::min<size_t>(16, b.size() - at));
      b.erase(b.begin() + at, b.begin() + at + n);
      break;
    }
    case 5: {  // duplicate a chunk
      if (b.empty()) break;
      size_t at = rng.below(b.size()), n = 1 + rng.below(std::min<size_t>(32, b.size() - at));
      Bytes chunk(b.begin() + at, b.begin() + at + n);
      b.insert(b.begin() + rng.below(b.size() + 1), chunk.begin(), chunk.end());
      break;
    }
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
    case 8: {  // splice with another seed
      const Bytes& o = seeds[rng.below(seeds.size())];
      size_t cut = rng.below(b.size() + 1), from = rng.below(o.size() + 1);
      b.resize(cut);
      b.insert(b.end(), o.begin() + from, o.end());
      break;
    }
    default: {  // insert random bytes
      size_t n = 1 + rng.below(8), at = rng.below(b.size() + 1);
      Bytes r(n);
      for (auto& x : r) x = static_cast<uint8_t>(rng.next());
      b.insert(b.begin() + at, r.begin(), r.end());
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

void write_raw(const fs::path& p, const std::string& bytes) {
  std::ofstream out(p, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
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
  size_t mutations = 5000;
  std::vector<fs::path> dirs;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--make-seeds" && i + 1 < argc) return make_seeds(argv[++i]);
    if (a == "--mutations" && i + 1 < argc) {
      mutations = std::strtoull(argv[++i], nullptr, 10);
    } else {
      dirs.emplace_back(a);
    }
  }
  if (dirs.empty()) {
    std::fprintf(stderr,
                 "usage: %s [--mutations N] CORPUS_DIR... | --make-seeds DIR\n"
                 "Replays every file in the corpus dirs plus N deterministic mutations.\n",
                 argv[0]);
    return 2;
  }
  std::vector<fs::path> files;
  for (const fs::path& d : dirs) {
    std::error_code ec;
    if (!fs::is_directory(d, ec)) {
      std::fprintf(stderr, "not a directory: %s\n", d.c_str());
      return 2;
    }
    for (const auto& e : fs::directory_iterator(d))
      if (e.is_regular_file()) files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  if (files.empty()) {
    std::fprintf(stderr, "no corpus files found\n");
    return 2;
  }
  std::vector<Bytes> seeds;
  size_t runs = 0;
  for (const fs::path& p : files) {
    seeds.push_back(read_file(p));
    const Bytes& s = seeds.back();
    g_context = p.string();
    check_input(s.data(), s.size());
    ++runs;
    // Every prefix: truncation is the most common real-world corruption.
    for (size_t n = 0; n < s.size() && n < 4096; ++n, ++runs) {
      g_context = p.string() + " cut to " + std::to_string(n) + " bytes";
      check_input(s.data(), n);
    }
  }
  Rng rng{0x9e3779b97f4a7c15ull};
  for (size_t i = 0; i < mutations; ++i, ++runs) {
    Bytes b = seeds[rng.below(seeds.size())];
    size_t ops = 1 + rng.below(4);
    for (size_t k = 0; k < ops; ++k) mutate(b, rng, seeds);
    g_context = "mutation " + std::to_string(i);
    check_input(b.data(), b.size());
  }
  std::printf(
      "fuzz_safetensors_replay: %zu inputs (%zu corpus files, %zu mutations), %zu parsed, OK\n",
      runs, files.size(), mutations, g_accepted);
  return 0;
}

#endif  // TUNA_FUZZ_REPLAY_MAIN
