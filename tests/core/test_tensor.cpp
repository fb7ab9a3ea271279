// Tensor handles and Shape: creation, reshape, leading-dim slices sharing storage, deep copies,
// conversion to F32, and the errors for read-only views and too many dims.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "core/error.h"
#include "core/memory.h"
#include "core/tensor.h"
#include "test_util.h"

namespace {

using tuna::DType;
using tuna::Shape;
using tuna::Tensor;

TEST(Shape, BasicsAndToString) {
  Shape s{2, 3, 4};
  EXPECT_EQ(s.ndim, 3);
  EXPECT_EQ(s.numel(), 24);
  EXPECT_EQ(s[0], 2);
  EXPECT_EQ(s[-1], 4);
  EXPECT_EQ(s[-3], 2);
  EXPECT_EQ(s.to_string(), "[2, 3, 4]");
  EXPECT_EQ(Shape{}.numel(), 1);  // a scalar
  EXPECT_EQ(Shape{}.to_string(), "[]");
  EXPECT_EQ((Shape{5, 0}).numel(), 0);
  EXPECT_TRUE((Shape{2, 3}) == (Shape{2, 3}));
  EXPECT_TRUE((Shape{2, 3}) != (Shape{3, 2}));
  EXPECT_TRUE((Shape{6}) != (Shape{6, 1}));
}

TEST(Shape, FromVector) {
  Shape s = Shape::from_vector({7, 1, 2, 3});
  EXPECT_EQ(s, (Shape{7, 1, 2, 3}));
  EXPECT_EQ(Shape::from_vector({}).ndim, 0);
}

TEST(Shape, FromVectorRejectsFiveDimsAsUserError) {
  tuna_test::expect_user_error([] { Shape::from_vector({1, 2, 3, 4, 5}); }, {"5 dims"});
}

TEST(Shape, InitializerListRejectsFiveDims) {
  EXPECT_THROW((Shape{1, 2, 3, 4, 5}), tuna::Error);
}

TEST(Tensor, DefaultIsUndefined) {
  Tensor t;
  EXPECT_FALSE(t.defined());
}

TEST(Tensor, EmptyIsOwnedAlignedAndWritable) {
  Tensor t = Tensor::empty({3, 5}, DType::BF16);
  EXPECT_TRUE(t.defined());
  EXPECT_FALSE(t.is_view());
  EXPECT_EQ(t.dtype(), DType::BF16);
  EXPECT_EQ(t.device(), tuna::Device::CPU);
  EXPECT_EQ(t.ndim(), 2);
  EXPECT_EQ(t.dim(0), 3);
  EXPECT_EQ(t.dim(-1), 5);
  EXPECT_EQ(t.numel(), 15);
  EXPECT_EQ(t.nbytes(), 30u);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(t.raw()) % tuna::kAlignment, 0u);
  EXPECT_EQ(t.raw_mut(), t.raw());
  Tensor e = Tensor::empty({0, 4}, DType::F32);  // zero elements still allocate a handle
  EXPECT_TRUE(e.defined());
  EXPECT_EQ(e.nbytes(), 0u);
}

TEST(Tensor, ZerosAreZero) {
  Tensor t = Tensor::zeros({4, 3, 2}, DType::I64);
  const int64_t* p = t.data<int64_t>();
  for (int64_t i = 0; i < t.numel(); ++i) EXPECT_EQ(p[i], 0);
  EXPECT_EQ(t.nbytes(), 4u * 3 * 2 * 8);
}

TEST(Tensor, FromF32StoresValuesAndChecksSize) {
  Tensor t = Tensor::from_f32({2, 2}, {1.5f, -2.0f, 3.25f, 0.0f});
  EXPECT_EQ(t.dtype(), DType::F32);
  EXPECT_EQ(t.to_f32_vector(), (std::vector<float>{1.5f, -2.0f, 3.25f, 0.0f}));
  EXPECT_THROW(Tensor::from_f32({2, 2}, {1.0f, 2.0f, 3.0f}), tuna::Error);
}

TEST(Tensor, ReshapeSharesStorage) {
  Tensor t = Tensor::from_f32({2, 3}, {0, 1, 2, 3, 4, 5});
  Tensor r = t.reshape({3, 2});
  EXPECT_EQ(r.shape(), (Shape{3, 2}));
  EXPECT_EQ(r.raw(), t.raw());
  r.data_mut<float>()[5] = 42.0f;
  EXPECT_EQ(t.data<float>()[5], 42.0f);
  EXPECT_EQ(t.shape(), (Shape{2, 3}));  // the original handle keeps its shape
  EXPECT_THROW(t.reshape({4, 2}), tuna::Error);
}

TEST(Tensor, Slice0IsAViewOfRows) {
  std::vector<float> v(4 * 3 * 2);
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(i);
  Tensor t = Tensor::from_f32({4, 3, 2}, v);
  Tensor s = t.slice0(1, 3);
  EXPECT_EQ(s.shape(), (Shape{2, 3, 2}));
  EXPECT_EQ(s.data<float>(), t.data<float>() + 6);
  EXPECT_EQ(s.to_f32_vector(), std::vector<float>(v.begin() + 6, v.begin() + 18));
  s.data_mut<float>()[0] = -1.0f;  // writes through to the parent
  EXPECT_EQ(t.data<float>()[6], -1.0f);
  EXPECT_EQ(t.slice0(4, 4).numel(), 0);
  EXPECT_EQ(t.slice0(0, 4).raw(), t.raw());
  EXPECT_THROW(t.slice0(3, 5), tuna::Error);
  EXPECT_THROW(t.slice0(3, 2), tuna::Error);
  EXPECT_THROW(t.slice0(-1, 2), tuna::Error);
}

TEST(Tensor, SliceOutlivesParentHandle) {
  Tensor s;
  {
    Tensor t = Tensor::from_f32({3, 2}, {1, 2, 3, 4, 5, 6});
    s = t.slice0(2, 3);
  }
  EXPECT_EQ(s.to_f32_vector(), (std::vector<float>{5, 6}));
}

TEST(Tensor, CopyIsDeep) {
  Tensor t = Tensor::from_f32({2, 2}, {1, 2, 3, 4});
  Tensor c = t.copy();
  EXPECT_NE(c.raw(), t.raw());
  EXPECT_EQ(c.shape(), t.shape());
  EXPECT_EQ(c.dtype(), t.dtype());
  t.data_mut<float>()[0] = 100.0f;
  EXPECT_EQ(c.data<float>()[0], 1.0f);
  Tensor c2 = t.slice0(1, 2).copy();
  EXPECT_EQ(c2.to_f32_vector(), (std::vector<float>{3, 4}));
}

TEST(Tensor, ToF32FromHalfTypesAndInts) {
  Tensor h = Tensor::empty({2, 2}, DType::F16);
  const uint16_t hb[] = {0x3c00, 0xc000, 0x3555, 0x7bff};  // 1, -2, 0.333251953125, 65504
  std::memcpy(h.data_mut<uint16_t>(), hb, sizeof hb);
  Tensor hf = h.to_f32();
  EXPECT_EQ(hf.dtype(), DType::F32);
  EXPECT_EQ(hf.shape(), h.shape());
  EXPECT_EQ(hf.to_f32_vector(), (std::vector<float>{1.0f, -2.0f, 0.333251953125f, 65504.0f}));

  Tensor b = Tensor::empty({3}, DType::BF16);
  const uint16_t bb[] = {0x3F80, 0xC040, 0x3EAB};  // 1, -3, 0.333984375
  std::memcpy(b.data_mut<uint16_t>(), bb, sizeof bb);
  EXPECT_EQ(b.to_f32().to_f32_vector(), (std::vector<float>{1.0f, -3.0f, 0.333984375f}));
  EXPECT_EQ(b.to_f32_vector(), (std::vector<float>{1.0f, -3.0f, 0.333984375f}));

  Tensor i = Tensor::empty({3}, DType::I32);
  const int32_t ib[] = {-7, 0, 123456};
  std::memcpy(i.data_mut<int32_t>(), ib, sizeof ib);
  EXPECT_EQ(i.to_f32_vector(), (std::vector<float>{-7.0f, 0.0f, 123456.0f}));
}

TEST(Tensor, ViewIsReadOnlyAndKeepsOwnerAlive) {
  auto storage = std::make_shared<std::vector<float>>(std::vector<float>{1, 2, 3, 4, 5, 6});
  std::weak_ptr<std::vector<float>> watch = storage;
  Tensor v = Tensor::view(storage, storage->data(), {3, 2}, DType::F32);
  storage.reset();
  EXPECT_FALSE(watch.expired());  // the view holds the owner
  EXPECT_TRUE(v.is_view());
  EXPECT_EQ(v.to_f32_vector(), (std::vector<float>{1, 2, 3, 4, 5, 6}));
  EXPECT_THROW(v.raw_mut(), tuna::Error);
  EXPECT_THROW(v.data_mut<float>(), tuna::Error);
  // slices and reshapes of a view stay read-only
  Tensor s = v.slice0(1, 2);
  EXPECT_TRUE(s.is_view());
  EXPECT_EQ(s.to_f32_vector(), (std::vector<float>{3, 4}));
  EXPECT_THROW(s.data_mut<float>(), tuna::Error);
  EXPECT_THROW(v.reshape({6}).raw_mut(), tuna::Error);
  // a copy of a view is owned and writable
  Tensor c = v.copy();
  EXPECT_FALSE(c.is_view());
  c.data_mut<float>()[0] = 9.0f;
  EXPECT_EQ(v.data<float>()[0], 1.0f);
  v = Tensor();
  s = Tensor();
  EXPECT_TRUE(watch.expired());
}

TEST(Tensor, WriteToViewIsAnInternalError) {
  static const float data[2] = {1.0f, 2.0f};
  Tensor v =
      Tensor::view(std::shared_ptr<const void>(data, [](const void*) {}), data, {2}, DType::F32);
  try {
    v.raw_mut();
    FAIL() << "expected a tuna::Error";
  } catch (const tuna::Error& e) {
    EXPECT_EQ(e.kind(), tuna::ErrorKind::INTERNAL);
    EXPECT_NE(std::string(e.what()).find("read-only"), std::string::npos) << e.what();
  }
}

TEST(Tensor, HandlesShareStorage) {
  Tensor a = Tensor::zeros({2}, DType::F32);
  Tensor b = a;  // cheap handle copy
  b.data_mut<float>()[1] = 5.0f;
  EXPECT_EQ(a.data<float>()[1], 5.0f);
}

TEST(Tensor, CudaDeviceIsAUserErrorWithoutBackend) {
  try {
    Tensor::empty({2}, DType::F32, tuna::Device::CUDA);
    // A CUDA build may allow this; only a CPU-only build must refuse.
  } catch (const tuna::Error& e) {
    EXPECT_EQ(e.exit_status(), 2);
  }
  EXPECT_STREQ(tuna::device_name(tuna::Device::CPU), "cpu");
  EXPECT_STREQ(tuna::device_name(tuna::Device::CUDA), "cuda");
}

TEST(Tensor, BlockTypesCountWholeBlocks) {
  // Q8_0: 32 elements in 34 bytes; a [2, 64] tensor is 4 blocks, and row 1 starts at byte 68.
  Tensor t = Tensor::zeros({2, 64}, DType::Q8_0);
  EXPECT_EQ(t.numel(), 128);
  EXPECT_EQ(t.nbytes(), 136u);
  Tensor row1 = t.slice0(1, 2);
  EXPECT_EQ(static_cast<const uint8_t*>(row1.raw()) - static_cast<const uint8_t*>(t.raw()), 68);
  EXPECT_EQ(row1.nbytes(), 68u);
  EXPECT_EQ(t.copy().nbytes(), 136u);
  EXPECT_THROW(Tensor::empty({3, 5}, DType::Q8_0), tuna::Error);  // not whole blocks
}

TEST(Tensor, ViewAtIsAWritableViewOfTheSameStorage) {
  Tensor flat = Tensor::zeros({10}, DType::F32);
  Tensor v = flat.view_at(4, {2, 3});
  EXPECT_FALSE(v.is_view());
  EXPECT_EQ(v.shape(), (Shape{2, 3}));
  v.data_mut<float>()[5] = 3.0f;
  EXPECT_EQ(flat.data<float>()[9], 3.0f);
  flat = Tensor();  // the view keeps the storage alive
  EXPECT_EQ(v.data<float>()[5], 3.0f);
  EXPECT_THROW(v.view_at(1, {6}), tuna::Error);  // past its end
  const float data[4] = {1, 2, 3, 4};
  Tensor ro = Tensor::view(std::make_shared<int>(0), data, {4}, DType::F32);
  EXPECT_TRUE(ro.view_at(1, {2}).is_view());  // a read-only view stays read-only
  EXPECT_THROW(Tensor::zeros({64}, DType::Q8_0).view_at(0, {32}), tuna::Error);
}

TEST(Tensor, SpanOfBackToBackViews) {
  Tensor flat = Tensor::zeros({10}, DType::F32);
  const std::vector<Tensor> parts = {flat.view_at(0, {2, 2}), flat.view_at(4, {1}),
                                     flat.view_at(5, {5})};
  Tensor span = Tensor::span_of(parts);
  ASSERT_TRUE(span.defined());
  EXPECT_EQ(span.shape(), Shape{10});
  EXPECT_EQ(span.raw(), flat.raw());
  EXPECT_FALSE(span.is_view());
  // A gap, another order, another storage or nothing: no span.
  EXPECT_FALSE(Tensor::span_of({flat.view_at(0, {2}), flat.view_at(3, {2})}).defined());
  EXPECT_FALSE(Tensor::span_of({flat.view_at(4, {1}), flat.view_at(0, {4})}).defined());
  EXPECT_FALSE(
      Tensor::span_of({Tensor::zeros({2}, DType::F32), Tensor::zeros({2}, DType::F32)}).defined());
  EXPECT_FALSE(Tensor::span_of({}).defined());
}

}  // namespace
