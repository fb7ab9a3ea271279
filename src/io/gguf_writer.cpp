// GGUF v3 writing: the byte layout gguf-py's GGUFWriter produces (header, metadata in insertion
// order, tensor infos, padding, each tensor's bytes padded to the alignment), written atomically.
// Does not quantize: tensors are written in the dtype they hold. See gguf.h.
#include <algorithm>
#include <unordered_set>

#include "core/error.h"
#include "core/file_io.h"
#include "io/gguf.h"
#include "io/gguf_internal.h"

namespace tuna {

using namespace gguf_detail;

namespace {

void put_u32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>(v >> (8 * i)));
}
void put_u64(std::string& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>(v >> (8 * i)));
}
void put_str(std::string& out, const std::string& s) {
  put_u64(out, s.size());
  out += s;
}

// The value's payload without its type id (arrays: element type, count, elements).
void put_payload(std::string& out, const GgufValue& v) {
  switch (v.type()) {
    case GgufType::STRING:
      put_str(out, v.as_string());
      return;
    case GgufType::ARRAY: {
      put_u32(out, static_cast<uint32_t>(v.array_type()));
      put_u64(out, v.size());
      if (v.array_type() == GgufType::STRING) {
        for (const std::string& s : v.strings()) put_str(out, s);
      } else if (v.array_type() == GgufType::ARRAY) {
        for (const GgufValue& a : v.arrays()) put_payload(out, a);
      } else {
        const std::vector<uint8_t>& raw = v.raw_bytes();
        out.append(reinterpret_cast<const char*>(raw.data()), raw.size());
      }
      return;
    }
    default: {
      size_t size = gguf_scalar_size(v.type());
      uint64_t bits = v.scalar_bits();
      for (size_t i = 0; i < size; ++i) out.push_back(static_cast<char>(bits >> (8 * i)));
      return;
    }
  }
}

}  // namespace

void GgufWriter::set(const std::string& key, GgufValue value) {
  if (key.size() > kMaxKeyLength) {
    throw_user_error(kComponent, "metadata key " + quote(key) + " is longer than 65535 bytes",
                     "GGUF keys are short dotted names such as 'general.name'");
  }
  for (auto& [k, v] : metadata_) {
    if (k == key) {
      v = std::move(value);
      return;
    }
  }
  metadata_.emplace_back(key, std::move(value));
}

void GgufWriter::add_tensor(const std::string& name, const Tensor& t) {
  const std::string who = "tensor " + quote(name);
  if (name.size() > kMaxTensorName) {
    throw_user_error(kComponent, who + " has a name of " + std::to_string(name.size()) + " bytes",
                     "llama.cpp limits tensor names to 63 bytes; use a shorter name");
  }
  for (const auto& [n, x] : tensors_) {
    if (n == name) throw_user_error(kComponent, who + " is added twice", "add each tensor once");
  }
  if (!t.defined()) throw_internal_error(kComponent, "writing undefined " + who);
  if (t.device() != Device::CPU) {
    throw_user_error(kComponent, who + " is on " + std::string(device_name(t.device())),
                     "copy it to the CPU before writing");
  }
  uint32_t id;
  if (!dtype_to_ggml_type(t.dtype(), &id)) {
    throw_user_error(kComponent,
                     who + " has dtype " + dtype_name(t.dtype()) + ", which GGUF cannot store",
                     "convert it to F32, F16, BF16 or a GGUF block type first");
  }
  if (t.ndim() < 1) {
    throw_user_error(kComponent, who + " is a scalar", "store it as a 1-element tensor [1]");
  }
  for (int i = 0; i < t.ndim(); ++i) {
    if (t.dim(i) <= 0) {
      throw_user_error(kComponent, who + " has shape " + t.shape().to_string(),
                       "GGUF tensors have no empty dimensions; leave the tensor out");
    }
  }
  if (t.dim(-1) % static_cast<int64_t>(dtype_block_size(t.dtype())) != 0) {
    throw_user_error(kComponent,
                     who + " has rows of " + std::to_string(t.dim(-1)) + " elements, not whole " +
                         dtype_name(t.dtype()) + " blocks",
                     "rows must be a multiple of the block size");
  }
  tensors_.emplace_back(name, t);
}

size_t GgufWriter::alignment() const {
  for (const auto& [k, v] : metadata_) {
    if (k != "general.alignment") continue;
    if (v.type() != GgufType::UINT32 || v.as_uint() == 0 || (v.as_uint() & (v.as_uint() - 1))) {
      throw_user_error(
          kComponent,
          "general.alignment is " + v.to_string() + " (" + gguf_type_name(v.type()) + ")",
          "it must be a UINT32 power of two, e.g. GgufValue::u32(32)");
    }
    return static_cast<size_t>(v.as_uint());
  }
  return kDefaultAlignment;
}

std::string GgufWriter::header_bytes() const {
  const uint64_t al = alignment();
  std::string out = "GGUF";
  put_u32(out, 3);
  put_u64(out, tensors_.size());
  put_u64(out, metadata_.size());
  for (const auto& [k, v] : metadata_) {
    put_str(out, k);
    put_u32(out, static_cast<uint32_t>(v.type()));
    put_payload(out, v);
  }
  uint64_t offset = 0;
  for (const auto& [name, t] : tensors_) {
    put_str(out, name);
    put_u32(out, static_cast<uint32_t>(t.ndim()));
    for (int j = t.ndim() - 1; j >= 0; --j) put_u64(out, static_cast<uint64_t>(t.dim(j)));
    uint32_t id = 0;
    dtype_to_ggml_type(t.dtype(), &id);
    put_u32(out, id);
    put_u64(out, offset);
    offset += pad_to(t.nbytes(), al);
  }
  out.append(pad_to(out.size(), al) - out.size(), '\0');
  return out;
}

std::string GgufWriter::to_bytes() const {
  const size_t al = alignment();
  std::string out = header_bytes();
  for (const auto& [name, t] : tensors_) {
    out.append(static_cast<const char*>(t.raw()), t.nbytes());
    out.append(pad_to(t.nbytes(), al) - t.nbytes(), '\0');
  }
  return out;
}

void GgufWriter::write(const std::string& path) const {
  const size_t al = alignment();
  std::string header = header_bytes();
  write_file_atomic(kComponent, path, [&](const WriteBytes& sink) {
    sink(header.data(), header.size());
    static const char kZeros[256] = {};
    for (const auto& [n, t] : tensors_) {
      sink(t.raw(), t.nbytes());
      size_t pad = pad_to(t.nbytes(), al) - t.nbytes();
      while (pad > 0) {
        size_t k = std::min(pad, sizeof kZeros);
        sink(kZeros, k);
        pad -= k;
      }
    }
  });
}

}  // namespace tuna
