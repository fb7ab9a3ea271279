// UTF-8 helpers (core/utf8.h): lossy repair with Python's replacement semantics and the
// character classes as HF tokenizers computes them. The tokenizer and template tests cover their
// use in context.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/utf8.h"

namespace tuna {
namespace {

TEST(Utf8, LossyMatchesPythonReplace) {
  // Expected strings are bytes.decode("utf-8", errors="replace") in Python 3.11.
  const std::string R = "\xEF\xBF\xBD";
  EXPECT_EQ(utf8::lossy("a\xE0\x80z"), "a" + R + R + "z");
  EXPECT_EQ(utf8::lossy("\xED\xA0\x80"), R + R + R);  // surrogates are ill-formed
  EXPECT_EQ(utf8::lossy("\xF0\x9F\x98"), R);          // truncated 4-byte sequence
  EXPECT_EQ(utf8::lossy("\xEA\xB0"), R);
  EXPECT_EQ(utf8::lossy("\xC0\x80"), R + R);
  EXPECT_EQ(utf8::lossy("\xF4\x90\x80\x80"), R + R + R + R);
  EXPECT_EQ(utf8::lossy("\xFE\xFF\x80"), R + R + R);
  EXPECT_EQ(utf8::lossy("ok \xEA\xB0\x80"), "ok \xEA\xB0\x80");
  std::string out;
  EXPECT_EQ(utf8::append_lossy(out, "x\xFFy\xC3"), 2u);
  EXPECT_TRUE(utf8::is_valid("\xF0\x9F\x98\x80"));
  EXPECT_FALSE(utf8::is_valid("\xF0\x9F\x98"));
  EXPECT_EQ(utf8::first_invalid("ok \xEA\xB0\x80"), std::string_view::npos);
  EXPECT_EQ(utf8::first_invalid("ab\xEA\xB0"), 2u);     // truncated at the end
  EXPECT_EQ(utf8::first_invalid("\xC3\xA9x\x80"), 3u);  // a lone continuation byte
}

TEST(Utf8, CharacterClassesFollowHf) {
  EXPECT_TRUE(utf8::is_whitespace(0x3000));
  EXPECT_FALSE(utf8::is_whitespace(0x180E));  // not White_Space any more
  EXPECT_FALSE(utf8::is_whitespace(0x200B));
  EXPECT_TRUE(utf8::is_bert_punctuation(0x3002));
  EXPECT_FALSE(utf8::is_bert_punctuation(0x2E4F));  // newer than HF's unicode_categories
  EXPECT_TRUE(utf8::is_word_char(0xAC00));
  EXPECT_TRUE(utf8::is_word_char(0x0301));  // marks are \w in Rust's regex
  std::string lower;
  utf8::append_lower(lower, 0x130);  // İ → i̇ (two code points)
  EXPECT_EQ(lower, "i\xCC\x87");
}

// cut_bytes / cut_chars: every cut position of text mixing ASCII, Hangul (3 bytes) and emoji
// (4 bytes) gives a prefix that is valid UTF-8 and as long as allowed.
TEST(Utf8, CutBytesNeverSplitsACharacter) {
  const std::string text = "a한국어 🙂b🐟\xC3\xA9";  // 1, 3+3+3, 1, 4, 1, 4, 2 bytes
  std::vector<size_t> starts;  // where each character starts, and the end
  for (size_t i = 0; i < text.size();
       i += static_cast<size_t>(utf8::seq_len(static_cast<unsigned char>(text[i]))))
    starts.push_back(i);
  starts.push_back(text.size());
  for (size_t n = 0; n <= text.size() + 2; ++n) {
    const size_t cut = utf8::cut_bytes(text, n);
    // the largest character boundary <= n
    size_t want = 0;
    for (size_t s : starts)
      if (s <= n) want = s;
    EXPECT_EQ(cut, want) << "n = " << n;
    EXPECT_TRUE(utf8::is_valid(utf8::truncate_bytes(text, n))) << "n = " << n;
  }
  EXPECT_EQ(utf8::truncate_bytes("한국어", 5), "한");
  EXPECT_EQ(utf8::truncate_bytes("🙂🙂", 7), "🙂");
  EXPECT_EQ(utf8::truncate_bytes("🙂🙂", 8), "🙂🙂");
}

TEST(Utf8, CutCharsCountsCharacters) {
  const std::string text = "a한🙂b";
  EXPECT_EQ(utf8::truncate_chars(text, 0), "");
  EXPECT_EQ(utf8::truncate_chars(text, 1), "a");
  EXPECT_EQ(utf8::truncate_chars(text, 2), "a한");
  EXPECT_EQ(utf8::truncate_chars(text, 3), "a한🙂");
  EXPECT_EQ(utf8::truncate_chars(text, 4), text);
  EXPECT_EQ(utf8::truncate_chars(text, 9), text);
}

// Bytes that are not UTF-8 count one each and are cut anywhere; a cut never reads past the end.
TEST(Utf8, CutOfInvalidBytes) {
  EXPECT_EQ(utf8::cut_bytes("\xFF\xFE\xFD", 2), 2u);
  EXPECT_EQ(utf8::cut_bytes("\x80\x80\x80\x80\x80", 4), 4u);  // stray continuation bytes
  EXPECT_EQ(utf8::cut_bytes("a\xEA\xB0", 2), 1u);             // a truncated sequence: before it
  EXPECT_EQ(utf8::cut_chars("\xFF"
                            "a\xEA\xB0",
                            2),
            2u);
  EXPECT_EQ(utf8::cut_chars("\xEA\xB0", 5), 2u);
}

}  // namespace
}  // namespace tuna
