// core/message: "did you mean" suggestions and the rendering of untrusted names.
#include "core/message.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace tuna {
namespace {

const std::vector<std::string> kKeys = {"learning_rate", "lr_scheduler_type", "num_train_epochs",
                                        "warmup_ratio"};

TEST(Message, EditDistance) {
  EXPECT_EQ(edit_distance("", ""), 0u);
  EXPECT_EQ(edit_distance("abc", ""), 3u);
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
  EXPECT_EQ(edit_distance("learnig_rate", "learning_rate"), 1u);
}

TEST(Message, ClosestNameSuggestsWithinAThirdOfTheName) {
  const std::string* near = closest_name("learnig_rate", kKeys);
  ASSERT_NE(near, nullptr);
  EXPECT_EQ(*near, "learning_rate");
  near = closest_name("warmup_ration", kKeys);
  ASSERT_NE(near, nullptr);
  EXPECT_EQ(*near, "warmup_ratio");
  EXPECT_EQ(closest_name("batch", kKeys), nullptr);
  EXPECT_EQ(closest_name("", kKeys), nullptr);
}

TEST(Message, ClosestNameOfAHugeKeyIsNone) {
  // A key far longer than every candidate is ruled out by length alone (no O(n*m) table).
  EXPECT_EQ(closest_name(std::string(100000, 'l'), kKeys), nullptr);
  // Same-length garbage is compared and rejected.
  EXPECT_EQ(closest_name("zzzzzzzzzzzzz", kKeys), nullptr);
}

TEST(Message, PrintableEscapesControlBytesAndCuts) {
  EXPECT_EQ(printable("a\nb"), "a\\x0ab");
  EXPECT_EQ(quote("k"), "'k'");
  std::string cut = printable(std::string(300, 'x'), 10);
  EXPECT_EQ(cut.rfind("xxxxxxxxxx", 0), 0u);
  EXPECT_NE(cut.find("..."), std::string::npos);
}

}  // namespace
}  // namespace tuna
