// What tuna's file-format fuzz targets share: the bug report that saves the input, the
// parse-then-check of one input, and the replay driver that makes a target a plain program (built
// with TUNA_FUZZ_REPLAY_MAIN, run by CTest on any compiler): every corpus file, every prefix of
// it, and deterministic mutations. Each target keeps its own checks of what parsed, its
// format-aware mutations and its seeds. Header-only; for fuzz/ only.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/log.h"

// The target's entry point (the libFuzzer signature); the replay driver calls it too.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace tuna::fuzz {

// What is being checked, for the report (the replay driver names the corpus file/mutation).
inline std::string g_context = "libFuzzer input";
inline const uint8_t* g_input = nullptr;
inline size_t g_input_size = 0;

// Starts one input of a target: kept for report_bug; logging quiet from the first input on (the
// warnings bad input causes are expected, and printing them would slow fuzzing down).
inline void begin_input(const uint8_t* data, size_t size) {
  static const bool quiet = (set_log_level(LogLevel::ERROR), true);
  (void)quiet;
  g_input = data;
  g_input_size = size;
}

// Reports a bug that `target` ("fuzz_gguf") found in the current input, writes the input to
// <target>_bug.bin to reproduce it, and aborts.
[[noreturn]] inline void report_bug(const std::string& target, const std::string& what) {
  std::fprintf(stderr, "%s: BUG on %s: %s\n", target.c_str(), g_context.c_str(), what.c_str());
  const std::string file = target + "_bug.bin";
  if (FILE* out = std::fopen(file.c_str(), "wb")) {  // the input, to reproduce
    if (g_input_size > 0) std::fwrite(g_input, 1, g_input_size, out);
    std::fclose(out);
    std::fprintf(stderr, "input written to %s\n", file.c_str());
  }
  std::fflush(stderr);
  std::abort();
}

// Checks one input: `File::parse` (SafetensorsFile, GgufFile) on an exact-size heap copy of it
// (ASan then flags any read past the end of the image), then `check(file, size)` on what parsed.
// A user error with a hint from the parse is the accepted outcome for bad input; any other
// exception from the parse, and any exception from `check`, is a bug of `target`.
template <typename File, typename Check>
void parse_and_check(const std::string& target, const uint8_t* data, size_t size, Check check) {
  g_input = data;
  g_input_size = size;
  std::shared_ptr<uint8_t[]> buf(new uint8_t[size == 0 ? 1 : size]);
  if (size > 0) std::memcpy(buf.get(), data, size);
  File f;
  try {
    f = File::parse(buf, buf.get(), size, "fuzz-input");
  } catch (const Error& e) {
    if (e.kind() != ErrorKind::USER)
      report_bug(target, std::string("internal error on bad input: ") + e.what());
    if (e.hint().empty()) report_bug(target, std::string("user error without a hint: ") + e.what());
    return;
  } catch (const std::exception& e) {
    report_bug(target, std::string("unexpected exception: ") + e.what());
  }
  try {
    check(f, size);
  } catch (const std::exception& e) {
    report_bug(target, std::string("exception after a successful parse: ") + e.what());
  }
}

// Runs `f` (one parse/validate step of `target`) and returns true when it finished; a user error
// with a hint is the accepted outcome for bad input (returns false); any other exception is a bug.
template <typename F>
bool user_error_or_ok(const std::string& target, F f) {
  try {
    f();
    return true;
  } catch (const Error& e) {
    if (e.kind() != ErrorKind::USER)
      report_bug(target, std::string("internal error on bad input: ") + e.what());
    if (e.hint().empty()) report_bug(target, std::string("user error without a hint: ") + e.what());
  } catch (const std::exception& e) {
    report_bug(target, std::string("unexpected exception: ") + e.what());
  }
  return false;
}

// --- replay driver ------------------------------------------------------------------------

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

inline Bytes read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), {});
}

inline void write_raw(const std::filesystem::path& p, const std::string& bytes) {
  std::ofstream out(p, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// Mutations 2, 6 and 7 of the ten `mutate` picks from: the target's own, aware of its format.
using FormatMutation = void (*)(size_t op, Bytes& b, Rng& rng);

// One random mutation of `b`: format-blind byte edits, truncation, chunk erase/duplication,
// splicing with another seed, or (ops 2, 6, 7) the target's `format_mutation`.
inline void mutate(Bytes& b, Rng& rng, const std::vector<Bytes>& seeds,
                   FormatMutation format_mutation) {
  const size_t op = rng.below(10);
  switch (op) {
    case 0:  // flip a bit
      if (!b.empty()) b[rng.below(b.size())] ^= static_cast<uint8_t>(1u << rng.below(8));
      break;
    case 1:  // random byte
      if (!b.empty()) b[rng.below(b.size())] = static_cast<uint8_t>(rng.next());
      break;
    case 2:
    case 6:
    case 7:
      format_mutation(op, b, rng);
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

struct ReplayTarget {
  const char* name;  // "fuzz_gguf"; the program reports as "<name>_replay"
  FormatMutation format_mutation;
  int (*make_seeds)(const std::filesystem::path& dir);  // --make-seeds DIR
  size_t max_prefix;                                    // prefixes replayed per corpus file
  const size_t* parsed = nullptr;  // when set, the count of inputs that parsed, for the summary
};

// main() of a replay program: `[--mutations N] CORPUS_DIR... | --make-seeds DIR`. Replays every
// corpus file, its prefixes (truncation is the most common real-world corruption), then N
// mutations of the corpus (5000 by default). Returns 0, or 2 on a usage or corpus error; a bug
// aborts.
inline int replay_main(int argc, char** argv, const ReplayTarget& target) {
  namespace fs = std::filesystem;
  size_t mutations = 5000;
  std::vector<fs::path> dirs;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--make-seeds" && i + 1 < argc) return target.make_seeds(argv[++i]);
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
    LLVMFuzzerTestOneInput(s.data(), s.size());
    ++runs;
    for (size_t n = 0; n < s.size() && n < target.max_prefix; ++n, ++runs) {
      g_context = p.string() + " cut to " + std::to_string(n) + " bytes";
      LLVMFuzzerTestOneInput(s.data(), n);
    }
  }
  Rng rng{0x9e3779b97f4a7c15ull};
  for (size_t i = 0; i < mutations; ++i, ++runs) {
    Bytes b = seeds[rng.below(seeds.size())];
    size_t ops = 1 + rng.below(4);
    for (size_t k = 0; k < ops; ++k) mutate(b, rng, seeds, target.format_mutation);
    g_context = "mutation " + std::to_string(i);
    LLVMFuzzerTestOneInput(b.data(), b.size());
  }
  std::printf("%s_replay: %zu inputs (%zu corpus files, %zu mutations)", target.name, runs,
              files.size(), mutations);
  if (target.parsed != nullptr) std::printf(", %zu parsed,", *target.parsed);
  std::printf(" OK\n");
  return 0;
}

}  // namespace tuna::fuzz
