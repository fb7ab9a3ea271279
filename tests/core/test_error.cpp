// tuna::Error formatting and exit statuses, TUNA_ASSERT, log-level parsing, and the thread
// count / BLAS backend helpers.
#include <gtest/gtest.h>

#include <string>

#include "core/error.h"
#include "core/log.h"
#include "core/threads.h"

namespace {

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

TEST(Error, UserErrorFormatAndStatus) {
  tuna::Error e(tuna::ErrorKind::USER, "config", "unknown key 'lr' in run.yaml:3",
                "did you mean 'learning_rate'?");
  EXPECT_STREQ(e.what(),
               "[config] unknown key 'lr' in run.yaml:3 (hint: did you mean 'learning_rate'?)");
  EXPECT_EQ(e.kind(), tuna::ErrorKind::USER);
  EXPECT_EQ(e.component(), "config");
  EXPECT_EQ(e.message(), "unknown key 'lr' in run.yaml:3");
  EXPECT_EQ(e.hint(), "did you mean 'learning_rate'?");
  EXPECT_EQ(e.exit_status(), 2);
}

TEST(Error, NoHintMeansNoHintSuffix) {
  tuna::Error e(tuna::ErrorKind::USER, "data", "row 7 has no 'text' field");
  EXPECT_STREQ(e.what(), "[data] row 7 has no 'text' field");
  EXPECT_TRUE(e.hint().empty());
}

TEST(Error, InternalErrorStatus) {
  tuna::Error e(tuna::ErrorKind::INTERNAL, "arena", "broken");
  EXPECT_EQ(e.exit_status(), 70);
}

TEST(Error, ThrowUserError) {
  try {
    tuna::throw_user_error("safetensors", "header too long", "check the file");
    FAIL();
  } catch (const std::runtime_error& base) {  // catchable as a std::runtime_error
    const auto* e = dynamic_cast<const tuna::Error*>(&base);
    ASSERT_NE(e, nullptr);
    EXPECT_STREQ(e->what(), "[safetensors] header too long (hint: check the file)");
    EXPECT_EQ(e->exit_status(), 2);
  }
}

TEST(Error, ThrowInternalErrorHasBugHint) {
  try {
    tuna::throw_internal_error("linear", "bad shape");
    FAIL();
  } catch (const tuna::Error& e) {
    EXPECT_EQ(e.kind(), tuna::ErrorKind::INTERNAL);
    EXPECT_EQ(e.exit_status(), 70);
    EXPECT_TRUE(contains(e.what(), "[linear] bad shape (hint: ")) << e.what();
    EXPECT_TRUE(contains(e.hint(), "bug")) << e.hint();
  }
}

TEST(Error, AssertThrowsInternalErrorWithFileAndLine) {
  int line = 0;
  try {
    line = __LINE__ + 1;
    TUNA_ASSERT(1 + 1 == 3, "math is " + std::string("broken"));
    FAIL();
  } catch (const tuna::Error& e) {
    const std::string w = e.what();
    EXPECT_EQ(e.kind(), tuna::ErrorKind::INTERNAL);
    EXPECT_EQ(e.exit_status(), 70);
    EXPECT_EQ(e.component(), "assert");
    EXPECT_TRUE(contains(w, "test_error.cpp:" + std::to_string(line))) << w;
    EXPECT_TRUE(contains(w, "1 + 1 == 3")) << w;
    EXPECT_TRUE(contains(w, "math is broken")) << w;
  }
}

TEST(Error, AssertWithoutMessageAndPassingAssert) {
  EXPECT_NO_THROW(TUNA_ASSERT(2 > 1));
  try {
    TUNA_ASSERT(false);
    FAIL();
  } catch (const tuna::Error& e) {
    EXPECT_TRUE(contains(e.what(), "test_error.cpp")) << e.what();
  }
}

TEST(Log, ParseLevels) {
  EXPECT_EQ(tuna::parse_log_level("error"), tuna::LogLevel::ERROR);
  EXPECT_EQ(tuna::parse_log_level("warn"), tuna::LogLevel::WARN);
  EXPECT_EQ(tuna::parse_log_level("warning"), tuna::LogLevel::WARN);
  EXPECT_EQ(tuna::parse_log_level("info"), tuna::LogLevel::INFO);
  EXPECT_EQ(tuna::parse_log_level("debug"), tuna::LogLevel::DEBUG);
}

TEST(Log, UnknownLevelIsAUserErrorNamingIt) {
  try {
    tuna::parse_log_level("verbose");
    FAIL();
  } catch (const tuna::Error& e) {
    EXPECT_EQ(e.exit_status(), 2);
    EXPECT_TRUE(contains(e.what(), "'verbose'")) << e.what();
    EXPECT_FALSE(e.hint().empty());
  }
  EXPECT_THROW(tuna::parse_log_level(""), tuna::Error);
}

TEST(Log, SetAndGetLevel) {
  const tuna::LogLevel saved = tuna::log_level();
  tuna::set_log_level(tuna::LogLevel::DEBUG);
  EXPECT_EQ(tuna::log_level(), tuna::LogLevel::DEBUG);
  tuna::set_log_level(tuna::LogLevel::ERROR);
  EXPECT_EQ(tuna::log_level(), tuna::LogLevel::ERROR);
  testing::internal::CaptureStderr();
  tuna::log_info("hidden {}", 1);
  tuna::log_error("shown {}", 2);
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_EQ(err, "tuna error: shown 2\n");
  tuna::set_log_level(saved);
}

TEST(Threads, SetNumThreads) {
  const int saved = tuna::num_threads();
  tuna::set_num_threads(3);
  EXPECT_EQ(tuna::num_threads(), 3);
  tuna::set_num_threads(1);
  EXPECT_EQ(tuna::num_threads(), 1);
  tuna::set_num_threads(saved);
  EXPECT_GE(tuna::num_threads(), 1);
}

TEST(Threads, BlasIsTheOpenMPBuild) {
  EXPECT_NO_THROW(tuna::check_blas_backend()) << tuna::blas_description();
  EXPECT_TRUE(contains(tuna::blas_description(), "OpenMP")) << tuna::blas_description();
}

}  // namespace
