// The dispatch seam: an op given tensors on a device it has no kernel for (or that this build
// lacks) throws a user error naming the op and the device; tensors on two devices are refused;
// CUDA memory round-trips where a GPU is present.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "core/device.h"
#include "core/error.h"
#include "ops/norm.h"
#include "ops/rope.h"

namespace {

using tuna::Device;
using tuna::DType;
using tuna::Tensor;

// A CUDA-tagged handle on host memory: never dereferenced, since dispatch refuses it first.
Tensor fake_cuda(const Tensor& host) {
  return Tensor::view(std::shared_ptr<const void>(host.raw(), [](const void*) {}), host.raw(),
                      host.shape(), host.dtype(), Device::CUDA);
}

TEST(Dispatch, DeviceWithoutKernelNamesOpAndDevice) {
  Tensor x = Tensor::zeros({2, 4}, DType::F32), w = Tensor::zeros({4}, DType::F32);
  Tensor y = Tensor::zeros({2, 4}, DType::F32);
  Tensor xc = fake_cuda(x), wc = fake_cuda(w);
  Tensor yc = fake_cuda(y);
  try {
    tuna::rms_norm_forward(xc, wc, 1e-6f, tuna::RmsNormKind::LLAMA, yc);
    FAIL() << "no throw";
  } catch (const tuna::Error& e) {
    EXPECT_EQ(e.kind(), tuna::ErrorKind::USER);
    EXPECT_NE(std::string(e.what()).find("rms_norm_forward"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("cuda"), std::string::npos) << e.what();
#ifndef TUNA_HAVE_CUDA
    EXPECT_NE(e.hint().find("TUNA_CUDA=ON"), std::string::npos) << e.hint();
#endif
  }
}

TEST(Dispatch, TensorsOnTwoDevicesAreRefused) {
  Tensor x = Tensor::zeros({2, 4}, DType::F32), w = Tensor::zeros({4}, DType::F32);
  Tensor y = Tensor::zeros({2, 4}, DType::F32);
  EXPECT_THROW(tuna::rms_norm_forward(x, fake_cuda(w), 1e-6f, tuna::RmsNormKind::LLAMA, y),
               tuna::Error);
}

TEST(Dispatch, CudaMemoryWithoutBackendOrGpuIsAUserErrorWithAHint) {
  if (tuna::cuda_available()) GTEST_SKIP() << "this build has the CUDA backend and a GPU";
  try {
    Tensor::empty({4}, DType::F32, Device::CUDA);
    FAIL() << "no throw";
  } catch (const tuna::Error& e) {
    EXPECT_EQ(e.kind(), tuna::ErrorKind::USER);
#ifdef TUNA_HAVE_CUDA
    EXPECT_NE(e.message().find("no CUDA device"), std::string::npos) << e.what();
#else
    EXPECT_NE(e.hint().find("-DTUNA_CUDA=ON"), std::string::npos) << e.hint();
#endif
  }
}

TEST(Dispatch, CudaRoundTripAndZeros) {
  if (!tuna::cuda_available()) GTEST_SKIP() << "no CUDA backend or no GPU here";
  Tensor x = Tensor::from_f32({2, 3}, {1, 2, 3, 4, 5, 6});
  Tensor d = x.to(Device::CUDA);
  EXPECT_EQ(d.device(), Device::CUDA);
  EXPECT_EQ(d.copy().to(Device::CPU).to_f32_vector(), x.to_f32_vector());
  EXPECT_EQ(Tensor::zeros({5}, DType::F32, Device::CUDA).to(Device::CPU).to_f32_vector(),
            std::vector<float>(5, 0.0f));
}

TEST(Dispatch, ToTheSameDeviceSharesStorage) {
  Tensor x = Tensor::from_f32({3}, {1, 2, 3});
  EXPECT_EQ(x.to(Device::CPU).raw(), x.raw());
}

}  // namespace
