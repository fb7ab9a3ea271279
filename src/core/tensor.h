// Tensor: row-major, up to 4 dims, a dtype and a device; it either owns aligned memory, is a
// read-only view into memory kept alive by another owner (typically a MappedFile), or is a
// writable view into owned storage (a part of a flat buffer, view_at). Tensors are cheap handles
// (shared ownership); copy() makes a deep copy. No strides: every tensor is contiguous, and views
// are whole tensors, leading-dimension slices or element ranges. A block-quantized tensor
// whose per-block statistics are not stored inline (bitsandbytes NF4/FP4) carries them in an
// immutable QuantState shared by every handle to it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "core/dtype.h"

namespace tuna {

enum class Device : uint8_t { CPU, CUDA };
const char* device_name(Device d);

constexpr int kMaxDims = 4;

// Side data of a quantized tensor (e.g. ops/quant_bnb4.h's Bnb4bitState). Immutable once attached.
struct QuantState {
  virtual ~QuantState() = default;
  virtual size_t nbytes() const = 0;  // resident bytes of the statistics
};

struct Shape {
  int ndim = 0;
  int64_t dims[kMaxDims] = {0, 0, 0, 0};

  Shape() = default;
  Shape(std::initializer_list<int64_t> d);
  static Shape from_vector(const std::vector<int64_t>& d);  // throws when more than 4 dims
  int64_t operator[](int i) const { return dims[i < 0 ? ndim + i : i]; }
  int64_t numel() const;
  bool operator==(const Shape& o) const;
  bool operator!=(const Shape& o) const { return !(*this == o); }
  std::string to_string() const;  // "[2, 3]"
};

class Tensor {
 public:
  Tensor() = default;

  // Owned, uninitialised / zero-filled memory on `device` (CUDA needs a TUNA_CUDA build with a
  // GPU present: core/device.h).
  static Tensor empty(const Shape& shape, DType dtype, Device device = Device::CPU);
  static Tensor zeros(const Shape& shape, DType dtype, Device device = Device::CPU);
  static Tensor from_f32(const Shape& shape, const std::vector<float>& values);
  // Read-only view of `data`, kept alive by `owner` (e.g. a MappedFile).
  static Tensor view(std::shared_ptr<const void> owner, const void* data, const Shape& shape,
                     DType dtype, Device device = Device::CPU);

  bool defined() const { return holder_ != nullptr; }
  const Shape& shape() const { return shape_; }
  int ndim() const { return shape_.ndim; }
  int64_t dim(int i) const { return shape_[i]; }
  DType dtype() const { return dtype_; }
  Device device() const { return device_; }
  int64_t numel() const { return shape_.numel(); }
  size_t nbytes() const { return dtype_nbytes(dtype_, numel()); }  // block types: whole blocks
  bool is_view() const { return !writable_; }
  const QuantState* quant_state() const { return quant_state_.get(); }
  // The same storage with `state` attached (quantized formats whose statistics live beside the
  // packed bytes).
  Tensor with_quant_state(std::shared_ptr<const QuantState> state) const;

  const void* raw() const { return data_; }
  void* raw_mut();  // throws on a read-only view
  template <typename T>
  const T* data() const {
    return static_cast<const T*>(static_cast<const void*>(data_));
  }
  template <typename T>
  T* data_mut() {
    return static_cast<T*>(raw_mut());
  }

  Tensor reshape(const Shape& shape) const;  // same storage; numel must match
  // Elements [offset, offset + shape.numel()) of this tensor as a tensor of `shape`: the same
  // storage and owner, writable when this tensor is (per-tensor views into a flat buffer). Not
  // for block-quantized dtypes.
  Tensor view_at(int64_t offset, const Shape& shape) const;
  // The 1-D tensor [Σ numel] that `parts` form when they lie back to back, in order, in one
  // owner's storage with one dtype (e.g. the views view_at made of a flat buffer); undefined
  // otherwise or when `parts` is empty. Writable when every part is.
  static Tensor span_of(const std::vector<Tensor>& parts);
  // Rows [begin, end) of dim 0, same storage; not for tensors with a QuantState (their blocks
  // may span rows).
  Tensor slice0(int64_t begin, int64_t end) const;
  Tensor copy() const;  // deep, owned, same dtype and device; a QuantState is shared (immutable)
  // The tensor on `device`: itself when already there, else an owned copy (QuantState shared).
  Tensor to(Device device) const;
  // Host conversions below: CPU tensors only.
  Tensor to_f32() const;  // owned F32 copy (converts F16/BF16/ints)
  // An F32 tensor as F32 (itself, shared), BF16 or F16, rounded to nearest even as torch's
  // .to(dtype) does (owned).
  Tensor f32_to(DType dtype) const;
  std::vector<float> to_f32_vector() const;

 private:
  std::shared_ptr<const void> holder_;
  std::shared_ptr<const QuantState> quant_state_;
  uint8_t* data_ = nullptr;
  Shape shape_;
  DType dtype_ = DType::F32;
  Device device_ = Device::CPU;
  bool writable_ = false;
};

}  // namespace tuna
