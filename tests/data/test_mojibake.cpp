// Mojibake detection: U+FFFD runs (seed 004's chat data) and UTF-8 read as CP1252 / Latin-1 are
// found; real Korean, European (French with no-break spaces, German ß before quotes, Portuguese
// capitals) and other text is not. The garbled strings are Python's own:
// "안녕".encode("utf-8").decode("cp1252") and the like (Latin-1 for bytes CP1252 leaves undefined).
#include <gtest/gtest.h>

#include "data/mojibake.h"

namespace tuna {
namespace {

using ojson = nlohmann::ordered_json;

size_t cp1252(const std::string& s) {
  return scan_mojibake(s).cp1252_sequences;
}

TEST(Mojibake, ReplacementCharactersAreCounted) {
  EXPECT_EQ(scan_mojibake("모� �접 학습시켜").replacement_chars, 2u);
  EXPECT_EQ(scan_mojibake("\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD").replacement_chars, 3u);
  EXPECT_FALSE(scan_mojibake("모델을 직접 학습시켜").any());
}

TEST(Mojibake, Utf8ReadAsCp1252IsFound) {
  EXPECT_EQ(cp1252("ì•ˆë…•"), 2u);  // 안녕
  EXPECT_EQ(cp1252("ì•ˆë…•í•˜ì„¸ìš”"), 5u);
  EXPECT_EQ(cp1252("cafÃ©"), 1u);         // café
  EXPECT_EQ(cp1252("donâ€™t"), 1u);       // don’t
  EXPECT_EQ(cp1252("StraÃŸe"), 1u);       // Straße
  EXPECT_EQ(cp1252("GrÃ¼ÃŸe"), 2u);       // Grüße
  EXPECT_EQ(cp1252("ÐŸÑ€Ð¸Ð²ÐµÑ‚"), 6u);  // Привет: two-byte sequences back to back
  EXPECT_EQ(cp1252("voilÃ\u00a0"), 1u);   // voilà (its second byte, 0xA0, is a no-break space)
  EXPECT_EQ(cp1252("ï»¿text"), 1u);       // a byte-order mark
  // こんにちは: CP1252 leaves 0x81 undefined; Latin-1 reads it as the C1 control U+0081.
  EXPECT_EQ(cp1252("ã\u0081“ã‚“ã\u0081«ã\u0081¡ã\u0081¯"), 5u);
  // Korean read as Latin-1 (C1 controls where CP1252 has • ˆ …).
  EXPECT_EQ(cp1252("ì\u0095\u0088ë\u0085\u0095"), 2u);
}

TEST(Mojibake, RealTextIsNotMojibake) {
  for (const char* s : {
           "안녕하세요, 반갑습니다. 한국의 수도는 서울입니다.",
           "Le café est prêt à « emporter » — voilà !",
           "Le café est prêt à\u00a0«\u00a0emporter\u00a0»\u00a0: CAFÉ\u00a0! À\u00a0bientôt",
           "Viele Grüße, „Gruß“ und „Fuß…“ — Straße – Öl ÄÖÜäöüß",
           "¿Qué tal? ¡Señor Muñoz! Año 2024 © Société Générale ®",
           "A IRMÃ” disse: SÃO PAULO, CORAÇÃO, não, Ação",
           "Tiếng Việt có dấu: Ã, Â, Ê, Ô, Ơ, Ư, Đ",
           "Zażółć gęślą jaźń; Dvořák; Þór og Ðóra; İstanbul",
           "Привет, мир! Καλημέρα κόσμε. こんにちは 世界 🎉👍",
           "2×3 = 6, 5 °C, ½ cup, 10 µm, x² + y³, 45° 30′",
           "Ñ¿ is odd but alone; ß… and É» each stand alone",
       })
    EXPECT_EQ(cp1252(s), 0u) << s;
}

TEST(Mojibake, ReportNamesRowsFieldsAndRoles) {
  MojibakeReport report;
  EXPECT_TRUE(report.empty());
  EXPECT_EQ(report.summary(), "");
  const std::vector<std::string> chat = {"messages", "conversations"};
  for (size_t line = 1; line <= 5; ++line) {
    ojson row = {{"messages",
                  {{{"role", "user"}, {"content", "Fine-tuning��?"}},
                   {{"role", "assistant"}, {"content", "모� 전체를 학습시킵니다."}}}}};
    report.add(Record{row, "chat.jsonl", line, line - 1}, chat);
  }
  report.add(
      Record{ojson{{"messages", {{{"role", "user"}, {"content", "clean"}}}}}, "chat.jsonl", 6, 5},
      chat);
  report.add(Record{ojson{{"context", {"ok", "ì•ˆë…•"}}, {"id", "�"}}, "raft.jsonl", 9, 0},
             {"context", "question"});  // "id" is not trained on: not scanned
  EXPECT_EQ(report.replacement_rows(), 5u);
  EXPECT_EQ(report.cp1252_rows(), 1u);
  const std::string s = report.summary();
  EXPECT_NE(s.find("U+FFFD replacement characters (15) in 5 rows: chat.jsonl line 1 "
                   "messages[0].content (user), chat.jsonl line 2 messages[0].content (user), "
                   "chat.jsonl line 3 messages[0].content (user), ..."),
            std::string::npos)
      << s;
  EXPECT_NE(s.find("(2) in 1 row: raft.jsonl line 9 context[1]"), std::string::npos) << s;
  EXPECT_NE(s.find("hint: U+FFFD marks text lost"), std::string::npos) << s;
  EXPECT_NE(s.find("iconv -f utf-8 -t windows-1252"), std::string::npos) << s;
  // The hint speaks of the kinds found only.
  MojibakeReport lost;
  lost.add(Record{ojson{{"text", "모� �접"}}, "t.jsonl", 2, 1}, {"text"});
  EXPECT_EQ(lost.summary(),
            "garbled text (mojibake) trains as it is: U+FFFD replacement characters (2) in 1 row: "
            "t.jsonl line 2 text (hint: U+FFFD marks text lost when the source was decoded with "
            "the wrong encoding: export it again from the source as UTF-8; see docs/data.md)");
}

}  // namespace
}  // namespace tuna
