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

// printable cuts at a character boundary: Hangul and emoji are never split (a split one made
// messages invalid UTF-8).
TEST(Message, PrintableCutsWholeCharacters) {
  EXPECT_EQ(printable("한국어", 4), "한...");
  EXPECT_EQ(printable("한국어", 6), "한국...");
  EXPECT_EQ(printable("한국어", 9), "한국어");
  EXPECT_EQ(printable("🙂🙂", 5), "🙂...");
  EXPECT_EQ(printable_ascii("한", 2), "...");
}

// Real CP949 bytes ("안녕하세요, 물고기는 물에 삽니다." through Python's 'cp949' codec).
const std::string kCp949 =
    "\xBE\xC8\xB3\xE7\xC7\xCF\xBC\xBC\xBF\xE4, \xB9\xB0\xB0\xED\xB1\xE2\xB4\xC2 "
    "\xB9\xB0\xBF\xA1 \xBB\xF0\xB4\xCF\xB4\xD9.";
// CP949's extension beyond EUC-KR ("똠방각하 샾": 0x8C 'c' is a pair with an ASCII trail).
const std::string kCp949Extended =
    "\x8C"
    "c\xB9\xE6\xB0\xA2\xC7\xCF \x98\xDE";

TEST(Message, GuessesTheEncodingOfBytesThatAreNotUtf8) {
  const std::string json = "{\"instruction\": \"" + kCp949 + "\"}\n";
  const size_t bad = json.find('\xBE');
  EXPECT_STREQ(guess_encoding(json, bad).iconv, "cp949");
  EXPECT_TRUE(guess_encoding(json, bad).sure);
  EXPECT_STREQ(guess_encoding(kCp949Extended, 0).iconv, "cp949");
  EXPECT_EQ(invalid_utf8_at(json, bad),
            "invalid UTF-8 byte 0xBE at line 1, column 18 (byte offset 17) — the bytes look like "
            "CP949/EUC-KR (Korean Windows encoding)");
  EXPECT_EQ(reencode_hint(json, bad), "re-save it as UTF-8, e.g. iconv -f cp949 -t utf-8 IN > OUT");
  // Latin-1 / Windows-1252: one accented letter between ASCII ("café crème").
  const std::string latin = "caf\xE9 cr\xE8me";
  EXPECT_STREQ(guess_encoding(latin, 3).iconv, "windows-1252");
  EXPECT_FALSE(guess_encoding(latin, 3).sure);
  EXPECT_EQ(encoding_note(latin, 3), "");
  EXPECT_EQ(invalid_utf8_at(latin, 3),
            "invalid UTF-8 byte 0xE9 at line 1, column 4 (byte offset 3)");
  EXPECT_NE(reencode_hint(latin, 3).find("perhaps Latin-1 or Windows-1252"), std::string::npos);
  EXPECT_NE(reencode_hint(latin, 3).find("iconv -f windows-1252"), std::string::npos);
  // One pair alone is no evidence: an overlong UTF-8 form (C0 AF) or two Latin-1 letters.
  EXPECT_FALSE(guess_encoding("a\xC0\xAF\"", 1).sure);
  EXPECT_FALSE(guess_encoding("\xC0\xC9t\xE9", 0).sure);  // "ÀÉté" in Windows-1252
  // UTF-16 with its byte-order mark.
  const std::string utf16("\xFF\xFEh\0i\0", 6);
  EXPECT_STREQ(guess_encoding(utf16, 0).iconv, "utf-16");
  EXPECT_NE(encoding_note(utf16, 0).find("UTF-16"), std::string::npos);
}

}  // namespace
}  // namespace tuna
