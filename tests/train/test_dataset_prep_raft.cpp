// The seeds' own data shapes through `tuna train`'s data preparation: seed 003's RAFT rows
// (context a list of documents, cot missing from some rows) with template_list_separator, and
// seed 004's chat rows with U+FFFD runs named in the data summary (rows, field, role), as is
// text read as CP1252 — and a clean file gets no such notice.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "tokenizer/builtin_templates.h"
#include "tokenizer/chat_template.h"
#include "tokenizer/golden_util.h"
#include "train/dataset_prep.h"

namespace tuna {
namespace {

namespace fs = std::filesystem;

fs::path fresh_dir(const std::string& name) {
  fs::path dir = fs::path(::testing::TempDir()) / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

TEST(DatasetPrepRaft, ContextListsJoinAndCotIsOptional) {
  fs::path dir = fresh_dir("tuna_prep_raft");
  {
    std::ofstream f(dir / "raft.jsonl");
    f << R"({"context": ["서울은 수도입니다.", "부산은 항구입니다."], "question": "수도는?", )"
      << R"("cot": "첫 문서.", "answer": "서울"})"
      << "\n"
      << R"({"context": ["A.", "B.", "C."], "question": "Q?", "answer": "A"})"
      << "\n";
  }
  const std::string base = "dataset: " + (dir / "raft.jsonl").string() +
                           "\ntemplate: \"<DOCUMENT>{context}</DOCUMENT>\\n{question}\\n{cot?}\\n"
                           "{answer}\"\noutput_dir: " +
                           (dir / "out").string() + "\n";
  const Tokenizer& tok = test::golden_tokenizer("gemma3");
  auto texts = [&](const std::string& yaml) {
    PreparedData d = prepare_training_data(parse_train_config(yaml, "cfg.yaml"), tok, nullptr);
    EXPECT_EQ(d.format, DataFormat::TEMPLATE);
    EXPECT_TRUE(d.mojibake.empty()) << d.summary();
    EXPECT_EQ(d.summary().find("mojibake"), std::string::npos) << d.summary();
    std::vector<std::string> out;
    for (const TrainRow& r : d.train) out.push_back(tok.decode(r.input_ids));
    std::sort(out.begin(), out.end());
    return out;
  };
  std::vector<std::string> raft =
      texts(base + "template_list_separator: \"</DOCUMENT>\\n<DOCUMENT>\"\n");
  ASSERT_EQ(raft.size(), 2u);
  EXPECT_EQ(raft[0],
            "<bos><DOCUMENT>A.</DOCUMENT>\n<DOCUMENT>B.</DOCUMENT>\n<DOCUMENT>C.</DOCUMENT>"
            "\nQ?\n\nA<end_of_turn>");
  EXPECT_EQ(
      raft[1],
      "<bos><DOCUMENT>서울은 수도입니다.</DOCUMENT>\n<DOCUMENT>부산은 항구입니다.</DOCUMENT>\n"
      "수도는?\n첫 문서.\n서울<end_of_turn>");
  std::vector<std::string> plain = texts(base);  // the default separator: a blank line
  ASSERT_EQ(plain.size(), 2u);
  EXPECT_EQ(plain[0], "<bos><DOCUMENT>A.\n\nB.\n\nC.</DOCUMENT>\nQ?\n\nA<end_of_turn>");
}

TEST(DatasetPrepRaft, MojibakeInChatRowsIsNamedInTheSummary) {
  fs::path dir = fresh_dir("tuna_prep_mojibake");
  {
    std::ofstream f(dir / "chat.jsonl");
    // Rows as seed 004's file shows them: Korean with U+FFFD runs where characters were lost.
    for (int i = 0; i < 6; ++i) {
      const bool garbled = i == 1 || i == 3 || i == 4 || i == 5;
      f << R"({"messages": [{"role": "system", "content": "당신� 친절한 고� �담��니다."},)"
        << R"( {"role": "user", "content": "배송 언제 오나요?"},)"
        << R"( {"role": "assistant", "content": ")"
        << (garbled ? "주문번호를 알려주시면 확�해드릴게요!" : "주문번호를 알려주세요!")
        << "\"}]}\n";
    }
    f << R"({"messages": [{"role": "user", "content": "ì•ˆë…•"}, )"
      << R"({"role": "assistant", "content": "hi"}]})"
      << "\n";
  }
  const std::string yaml = "dataset: " + (dir / "chat.jsonl").string() +
                           "\noutput_dir: " + (dir / "out").string() + "\n";
  const Tokenizer& tok = test::golden_tokenizer("gemma3");
  ChatTemplate chat = ChatTemplate::parse(builtin_chat_template("gemma3"), "gemma3");
  PreparedData d = prepare_training_data(parse_train_config(yaml, "cfg.yaml"), tok, &chat);
  EXPECT_EQ(d.train.size(), 7u);  // a notice, not a reject: the rows still train
  EXPECT_EQ(d.mojibake.replacement_rows(), 6u);
  EXPECT_EQ(d.mojibake.cp1252_rows(), 1u);
  const std::string s = d.summary();
  const std::string file = (dir / "chat.jsonl").string();
  EXPECT_NE(s.find("garbled text (mojibake) trains as it is: U+FFFD replacement characters (34) "
                   "in 6 rows: " +
                   file + " line 1 messages[0].content (system), " + file +
                   " line 2 messages[0].content (system), " + file +
                   " line 3 messages[0].content (system), ..."),
            std::string::npos)
      << s;
  EXPECT_NE(s.find("(2) in 1 row: " + file + " line 7 messages[0].content (user)"),
            std::string::npos)
      << s;
}

}  // namespace
}  // namespace tuna
