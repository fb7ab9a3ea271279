// Tensor storage and views. See tensor.h.
#include "core/tensor.h"

#include <cstring>

#include "core/device.h"
#include "core/error.h"

namespace tuna {

const char* device_name(Device d) {
  return d == Device::CPU ? "cpu" : "cuda";
}

Shape::Shape(std::initializer_list<int64_t> d) {
  TUNA_ASSERT(d.size() <= static_cast<size_t>(kMaxDims), "tensors have at most 4 dims");
  for (int64_t v : d) dims[ndim++] = v;
}

Shape Shape::from_vector(const std::vector<int64_t>& d) {
  if (d.size() > static_cast<size_t>(kMaxDims)) {
    throw_user_error("tensor", "a tensor with " + std::to_string(d.size()) + " dims",
                     "tuna supports tensors of at most 4 dims");
  }
  Shape s;
  for (int64_t v : d) s.dims[s.ndim++] = v;
  return s;
}

int64_t Shape::numel() const {
  int64_t n = 1;
  for (int i = 0; i < ndim; ++i) n *= dims[i];
  return n;
}

bool Shape::operator==(const Shape& o) const {
  if (ndim != o.ndim) return false;
  for (int i = 0; i < ndim; ++i)
    if (dims[i] != o.dims[i]) return false;
  return true;
}

std::string Shape::to_string() const {
  std::string s = "[";
  for (int i = 0; i < ndim; ++i) {
    if (i) s += ", ";
    s += std::to_string(dims[i]);
  }
  return s + "]";
}

// Host-side conversions read the data directly: CPU tensors only (copy with to(CPU) first).
static void require_host(Device device, const char* what) {
  TUNA_ASSERT(device == Device::CPU, std::string(what) + " of a " + device_name(device) +
                                         " tensor (hint: copy it to the CPU with to())");
}

Tensor Tensor::empty(const Shape& shape, DType dtype, Device device) {
  for (int i = 0; i < shape.ndim; ++i) TUNA_ASSERT(shape.dims[i] >= 0, "negative dim");
  Tensor t;
  size_t bytes = dtype_nbytes(dtype, shape.numel());
  void* p = device_alloc(device, bytes);
  t.holder_ = std::shared_ptr<const void>(
      p, [device](const void* q) { device_free(device, const_cast<void*>(q)); });
  t.data_ = static_cast<uint8_t*>(p);
  t.shape_ = shape;
  t.dtype_ = dtype;
  t.device_ = device;
  t.writable_ = true;
  return t;
}

Tensor Tensor::zeros(const Shape& shape, DType dtype, Device device) {
  Tensor t = empty(shape, dtype, device);
  device_memset_zero(device, t.data_, t.nbytes());
  return t;
}

Tensor Tensor::from_f32(const Shape& shape, const std::vector<float>& values) {
  TUNA_ASSERT(static_cast<int64_t>(values.size()) == shape.numel(), "from_f32: size mismatch");
  Tensor t = empty(shape, DType::F32);
  if (!values.empty()) std::memcpy(t.data_, values.data(), values.size() * 4);
  return t;
}

Tensor Tensor::view(std::shared_ptr<const void> owner, const void* data, const Shape& shape,
                    DType dtype, Device device) {
  Tensor t;
  t.holder_ = std::move(owner);
  t.data_ = static_cast<uint8_t*>(const_cast<void*>(data));
  t.shape_ = shape;
  t.dtype_ = dtype;
  t.device_ = device;
  t.writable_ = false;
  return t;
}

void* Tensor::raw_mut() {
  TUNA_ASSERT(writable_, "write access to a read-only tensor view");
  return data_;
}

Tensor Tensor::reshape(const Shape& shape) const {
  TUNA_ASSERT(shape.numel() == numel(),
              "reshape " + shape_.to_string() + " -> " + shape.to_string());
  Tensor t = *this;
  t.shape_ = shape;
  return t;
}

Tensor Tensor::view_at(int64_t offset, const Shape& shape) const {
  TUNA_ASSERT(!dtype_is_block(dtype_) && quant_state_ == nullptr, "view_at of a block tensor");
  TUNA_ASSERT(offset >= 0 && offset + shape.numel() <= numel(),
              "view_at [" + std::to_string(offset) + ", +" + std::to_string(shape.numel()) +
                  ") of " + shape_.to_string());
  Tensor t = *this;
  t.data_ = data_ + dtype_nbytes(dtype_, offset);
  t.shape_ = shape;
  return t;
}

Tensor Tensor::span_of(const std::vector<Tensor>& parts) {
  if (parts.empty()) return Tensor();
  const Tensor& first = parts.front();
  if (!first.defined() || dtype_is_block(first.dtype_) || first.quant_state_ != nullptr)
    return Tensor();
  int64_t n = 0;
  bool writable = true;
  for (const Tensor& p : parts) {
    if (p.holder_ != first.holder_ || p.dtype_ != first.dtype_ || p.device_ != first.device_ ||
        p.data_ != first.data_ + dtype_nbytes(first.dtype_, n))
      return Tensor();
    n += p.numel();
    writable = writable && p.writable_;
  }
  Tensor t = first;
  t.shape_ = Shape{n};
  t.writable_ = writable;
  return t;
}

Tensor Tensor::with_quant_state(std::shared_ptr<const QuantState> state) const {
  Tensor t = *this;
  t.quant_state_ = std::move(state);
  return t;
}

Tensor Tensor::slice0(int64_t begin, int64_t end) const {
  TUNA_ASSERT(quant_state_ == nullptr, "slice0 of a tensor with a QuantState");
  TUNA_ASSERT(ndim() >= 1 && begin >= 0 && begin <= end && end <= shape_.dims[0], "slice0 range");
  Tensor t = *this;
  int64_t row = numel() / (shape_.dims[0] == 0 ? 1 : shape_.dims[0]);
  t.data_ = data_ + dtype_nbytes(dtype_, begin * row);
  t.shape_.dims[0] = end - begin;
  return t;
}

Tensor Tensor::copy() const {
  Tensor t = empty(shape_, dtype_, device_);
  device_copy(t.data_, device_, data_, device_, nbytes());
  t.quant_state_ = quant_state_;
  return t;
}

Tensor Tensor::to(Device device) const {
  if (device == device_) return *this;
  Tensor t = empty(shape_, dtype_, device);
  device_copy(t.data_, device, data_, device_, nbytes());
  t.quant_state_ = quant_state_;
  return t;
}

Tensor Tensor::to_f32() const {
  require_host(device_, "to_f32");
  Tensor t = empty(shape_, DType::F32, device_);
  convert_to_f32(dtype_, data_, t.data_mut<float>(), static_cast<size_t>(numel()));
  return t;
}

Tensor Tensor::f32_to(DType dtype) const {
  TUNA_ASSERT(dtype_ == DType::F32, "f32_to: the tensor is not F32");
  require_host(device_, "f32_to");
  TUNA_ASSERT(dtype == DType::F32 || dtype == DType::BF16 || dtype == DType::F16,
              "f32_to: F32, BF16 or F16");
  if (dtype == DType::F32) return *this;
  Tensor t = empty(shape_, dtype, device_);
  const auto n = static_cast<size_t>(numel());
  if (dtype == DType::BF16)
    f32_to_bf16_n(data<float>(), t.data_mut<uint16_t>(), n);
  else
    f32_to_f16_n(data<float>(), t.data_mut<uint16_t>(), n);
  return t;
}

std::vector<float> Tensor::to_f32_vector() const {
  require_host(device_, "to_f32_vector");
  std::vector<float> v(static_cast<size_t>(numel()));
  convert_to_f32(dtype_, data_, v.data(), v.size());
  return v;
}

}  // namespace tuna
