// Dataset readers on bad input: invalid UTF-8 in every format (an encoding error with line,
// column and byte offset; with rejects, only that record skipped), 1-based record numbers and
// lines in JSON arrays, JSON syntax hints (trailing comma, single quotes), CSV headers and ragged
// rows, CRLF and byte-order marks accepted, a directory or unknown extension refused.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "data/records.h"

namespace tuna {
namespace {

namespace fs = std::filesystem;

std::string write(const std::string& name, const std::string& bytes) {
  const fs::path dir = fs::path(::testing::TempDir()) / "tuna_records";
  fs::create_directories(dir);
  const fs::path p = dir / name;
  std::ofstream(p, std::ios::binary) << bytes;
  return p.string();
}

// The message of the user error read_records throws (fails the test when there is none).
std::string error_of(const std::string& path, std::vector<RejectedRecord>* rejects = nullptr,
                     const std::string& key = "dataset") {
  try {
    read_records(path, rejects, key);
  } catch (const Error& e) {
    EXPECT_EQ(e.exit_status(), 2) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "no error for " << path;
  return "";
}

#define EXPECT_HAS(text, part) \
  EXPECT_NE(std::string(text).find(part), std::string::npos) << "'" << (part) << "' in: " << (text)

TEST(Utf8Check, FindsTheFirstIllFormedByte) {
  EXPECT_EQ(find_invalid_utf8("plain ascii"), std::string::npos);
  EXPECT_EQ(find_invalid_utf8("한국어 é 😀"), std::string::npos);
  EXPECT_EQ(find_invalid_utf8("ab\xFF"), 2u);
  EXPECT_EQ(find_invalid_utf8("a\xC0\x80"), 1u);          // overlong
  EXPECT_EQ(find_invalid_utf8("a\xED\xA0\x80"), 1u);      // a surrogate
  EXPECT_EQ(find_invalid_utf8("a\xF4\x90\x80\x80"), 1u);  // above U+10FFFF
  EXPECT_EQ(find_invalid_utf8("ab\xE2\x82"), 2u);         // cut short at the end
  EXPECT_EQ(find_invalid_utf8("\xFF ok \xFE", 1), 5u);
}

TEST(Records, InvalidUtf8IsAnEncodingErrorWithLineColumnAndOffsetInEveryFormat) {
  const std::string jsonl = write("bad.jsonl", "{\"text\": \"ok\"}\n{\"text\": \"caf\xE9\"}\n");
  std::string e = error_of(jsonl);
  EXPECT_HAS(e, "bad.jsonl line 2: invalid UTF-8 byte 0xE9 at column 14 (byte offset 28)");
  EXPECT_HAS(e, "re-save it as UTF-8");
  EXPECT_EQ(e.find("not valid JSON"), std::string::npos) << e;

  e = error_of(write("bad.json", "[\n {\"text\": \"ok\"},\n {\"text\": \"\xFF\"}\n]\n"));
  EXPECT_HAS(e, "bad.json line 3: invalid UTF-8 byte 0xFF at column 12 (byte offset 30)");
  e = error_of(write("bad.csv", "text,label\nok,1\n\"x\xC3\",2\n"));
  EXPECT_HAS(e, "bad.csv line 3: invalid UTF-8 byte 0xC3 at column 3 (byte offset 18)");
  e = error_of(write("bad.tsv", "text\tlabel\n\xFF\t1\n"));
  EXPECT_HAS(e, "bad.tsv line 2: invalid UTF-8 byte 0xFF at column 1");
  // Columns count characters, as editors show them; the offset counts bytes.
  e = error_of(write("wide.jsonl", "{\"text\": \"한국\xFF\"}\n"));
  EXPECT_HAS(e, "line 1: invalid UTF-8 byte 0xFF at column 13 (byte offset 16)");
}

TEST(Records, WithRejectsOnlyTheRecordHoldingTheBadByteIsSkipped) {
  std::vector<RejectedRecord> rj;
  auto r = read_records(
      write("s.jsonl", "{\"text\": \"a\"}\n{\"text\": \"\xFF\"}\n{\"text\": \"c\"}\n"), &rj);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[1].line, 3u);
  ASSERT_EQ(rj.size(), 1u);
  EXPECT_EQ(rj[0].line, 2u);
  EXPECT_HAS(rj[0].reason, "invalid UTF-8 byte 0xFF");

  rj.clear();
  r = read_records(
      write("s.json", "[{\"text\": \"a\"},\n {\"text\": \"\xFF\"},\n {\"text\": \"c\"}]"), &rj);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[1].where().substr(r[1].where().find("s.json")), "s.json record 3 (line 3)");
  ASSERT_EQ(rj.size(), 1u);
  EXPECT_EQ(rj[0].line, 2u);
  EXPECT_EQ(rj[0].record, 2u);
  EXPECT_HAS(rj[0].reason,
             "record 2: invalid UTF-8 byte 0xFF at line 2, column 12 (byte offset 27)");

  rj.clear();
  r = read_records(write("s.csv", "text\na\n\"multi\nline \xFF\"\nc\n"), &rj);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[1].value["text"], "c");
  EXPECT_EQ(r[1].line, 5u);
  ASSERT_EQ(rj.size(), 1u);
  EXPECT_EQ(rj[0].line, 3u);
  EXPECT_HAS(rj[0].reason, "at line 4, column 6");
  // A bad byte in the header cannot be skipped: every row depends on the column names.
  EXPECT_HAS(error_of(write("h.csv", "te\xFFxt\na\n"), &rj),
             "h.csv line 1: the header: invalid UTF-8 byte 0xFF at column 3");
}

// Real CP949 bytes ("안녕하세요, 물고기는 물에 삽니다." through Python's 'cp949' codec): every
// format names the encoding and the iconv line that fixes it, not "not valid JSON".
const std::string kCp949 =
    "\xBE\xC8\xB3\xE7\xC7\xCF\xBC\xBC\xBF\xE4, \xB9\xB0\xB0\xED\xB1\xE2\xB4\xC2 "
    "\xB9\xB0\xBF\xA1 \xBB\xF0\xB4\xCF\xB4\xD9.";

TEST(Records, Cp949BytesAreNamedAsKoreanWindowsEncoding) {
  const std::string cp949 = "CP949/EUC-KR (Korean Windows encoding)";
  const std::string iconv = "iconv -f cp949 -t utf-8 IN > OUT";
  std::string e = error_of(write("kr.jsonl",
                                 "{\"instruction\": \"hi\", \"output\": \"ok\"}\n"
                                 "{\"instruction\": \"" +
                                     kCp949 + "\", \"output\": \"x\"}\n"));
  EXPECT_HAS(e, "kr.jsonl line 2: invalid UTF-8 byte 0xBE at column 18 (byte offset 55)");
  EXPECT_HAS(e, "the bytes look like " + cp949);
  EXPECT_HAS(e, iconv);
  EXPECT_EQ(e.find("not valid JSON"), std::string::npos) << e;
  EXPECT_EQ(e.find("windows-1252"), std::string::npos) << e;

  e = error_of(write("kr.json", "[\n {\"text\": \"" + kCp949 + "\"}\n]\n"));
  EXPECT_HAS(e, "kr.json line 2: invalid UTF-8 byte 0xBE at column 12");
  EXPECT_HAS(e, cp949);
  EXPECT_HAS(e, iconv);
  e = error_of(write("kr.csv", "text,label\n" + kCp949 + ",1\n"));
  EXPECT_HAS(e, "kr.csv line 2: invalid UTF-8 byte 0xBE at column 1 (byte offset 11)");
  EXPECT_HAS(e, cp949);
  EXPECT_HAS(e, iconv);
  // A Latin-1 file keeps the Latin-1 / Windows-1252 hint and no Korean guess.
  e = error_of(write("fr.jsonl", "{\"text\": \"caf\xE9 cr\xE8me\"}\n"));
  EXPECT_EQ(e.find("CP949"), std::string::npos) << e;
  EXPECT_HAS(e, "iconv -f windows-1252 -t utf-8");
  // With skip_invalid the reject's reason says it too.
  std::vector<RejectedRecord> rj;
  read_records(write("kr2.jsonl", "{\"text\": \"a\"}\n{\"text\": \"" + kCp949 + "\"}\n"), &rj);
  ASSERT_EQ(rj.size(), 1u);
  EXPECT_HAS(rj[0].reason, cp949);
}

// A rejected record's text is cut to 500 bytes, never inside a character: Hangul (3 bytes) and
// emoji (4 bytes) at every offset of the cut.
TEST(Records, RejectPreviewNeverSplitsACharacter) {
  for (size_t pad = 0; pad < 4; ++pad) {
    for (const std::string ch : {"한", "🐟"}) {
      std::string text(pad, 'a');
      while (text.size() < 700) text += ch;
      const std::string cut = reject_preview(text);
      EXPECT_LE(cut.size(), kRejectPreviewBytes);
      EXPECT_GT(cut.size(), kRejectPreviewBytes - ch.size());
      EXPECT_EQ(find_invalid_utf8(cut), std::string::npos) << "pad " << pad << " " << ch;
    }
  }
  // A JSONL line that is not JSON, 600 bytes of Hangul: its reject holds whole characters only.
  std::string line = "{\"text\": \"";
  while (line.size() < 600) line += "한국어";
  std::vector<RejectedRecord> rj;
  read_records(write("long.jsonl", "{\"text\": \"a\"}\n" + line + "\n"), &rj);
  ASSERT_EQ(rj.size(), 1u);
  EXPECT_HAS(rj[0].reason, "not valid JSON");
  EXPECT_EQ(find_invalid_utf8(rj[0].raw), std::string::npos);
  EXPECT_EQ(rj[0].raw.size(), 499u);  // 10 ASCII bytes + 163 whole characters
}

TEST(Records, JsonArrayRecordsAreNumberedFromOneWithTheirLines) {
  auto r = read_records(write("a.json", "[\n  {\"text\": \"a\"},\n\n  {\"text\": \"b\"}\n]\n"));
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].line, 2u);
  EXPECT_EQ(r[1].line, 4u);
  EXPECT_HAS(r[1].where(), "a.json record 2 (line 4)");
  r = read_records(
      write("w.json",
            "{\"version\": [1, \"]\"],\n \"data\": [\n {\"text\": \"a\"}, {\"text\": \"b\"}]}"));
  ASSERT_EQ(r.size(), 2u);
  EXPECT_HAS(r[1].where(), "w.json record 2 (line 3)");
  std::string e = error_of(write("n.json", "[{\"text\": \"a\"},\n 5]"));
  EXPECT_HAS(e, "n.json record 2 (line 2): a JSON number, not an object");
}

TEST(Records, JsonSyntaxErrorsSayLineColumnAndAHint) {
  std::string e = error_of(write("tc.json", "[\n {\"text\": \"a\"},\n]\n"));
  EXPECT_HAS(e, "tc.json line 3: not valid JSON at column 1");
  EXPECT_HAS(e, "remove the trailing comma");
  e = error_of(write("tc.jsonl", "{\"text\": \"a\",}\n"));
  EXPECT_HAS(e, "tc.jsonl line 1: not valid JSON at column 14");
  EXPECT_HAS(e, "remove the trailing comma");
  e = error_of(write("sq.jsonl", "{'text': 'a'}\n"));
  EXPECT_HAS(e, "double quotes");
  e = error_of(write("arr.jsonl", "[{\"text\": \"a\"}, {\"text\": \"b\"}]\n"));
  EXPECT_HAS(e, "arr.jsonl line 1: a JSON array, not an object");
  EXPECT_HAS(e, "read as .json");
  e = error_of(write("obj.json", "{\"text\": \"a\"}"));
  EXPECT_HAS(e, "obj.json: the file is one JSON object, not an array of records");
}

TEST(Records, CrlfAndByteOrderMarksAreAccepted) {
  auto r = read_records(write("crlf.jsonl",
                              "\xEF\xBB\xBF{\"text\": \"a\"}\r\n\r\n{\"text\": \"b\"}\r\n"
                              "\xEF\xBB\xBF{\"text\": \"c\"}\r\n"));
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[1].line, 3u);
  EXPECT_EQ(r[2].value["text"], "c");
  r = read_records(write("crlf.csv", "\xEF\xBB\xBFtext,label\r\na,1\r\nb,2\r\n"));
  ASSERT_EQ(r.size(), 2u);
  EXPECT_TRUE(r[0].value.contains("text"));  // the BOM is not part of the first column's name
  EXPECT_EQ(r[1].value["label"], "2");
  r = read_records(write("bom.json", "\xEF\xBB\xBF[{\"text\": \"a\"}]"));
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].line, 1u);
}

TEST(Records, CsvHeaderAndRaggedRows) {
  std::string e = error_of(write("dup.csv", "text,text\na,b\n"));
  EXPECT_HAS(e, "dup.csv line 1: column 'text' appears twice in the header");
  e = error_of(write("rag.csv", "instruction,output\na,b\nc\n"));
  EXPECT_HAS(e, "rag.csv line 3: 1 fields where the header (line 1) has 2");
  EXPECT_HAS(e, "quote fields that contain a comma");
  std::vector<RejectedRecord> rj;
  auto r = read_records(write("rag2.csv", "instruction,output\na,b\nc\nd,e,f\ng,h\n"), &rj);
  ASSERT_EQ(r.size(), 2u);
  ASSERT_EQ(rj.size(), 2u);
  EXPECT_EQ(rj[0].line, 3u);
  EXPECT_EQ(rj[1].line, 4u);
  e = error_of(write("open.csv", "text\n\"never closed\n"));
  EXPECT_HAS(e, "open.csv line 2: a quoted field never closes");
}

TEST(Records, AMissingFileADirectoryUtf16OrAnUnknownExtensionIsRefusedNamingTheKey) {
  EXPECT_HAS(error_of("/nonexistent/train.jsonl"),
             "dataset: /nonexistent/train.jsonl does not exist");
  const fs::path dir = fs::path(::testing::TempDir()) / "tuna_records" / "shards.jsonl";
  fs::create_directories(dir);
  std::string e = error_of(dir.string(), nullptr, "eval_dataset");
  EXPECT_HAS(e, "eval_dataset: " + dir.string() + " is a directory");
  EXPECT_HAS(e, "cat ");
  e = error_of(write("utf16.jsonl", std::string("\xFF\xFE{\0\"\0", 6)));
  EXPECT_HAS(e, "dataset: " + fs::path(::testing::TempDir()).string());
  EXPECT_HAS(e, "utf16.jsonl is UTF-16 text (byte-order mark 0xFF 0xFE), not UTF-8");
  e = error_of(write("notes.txt", "hello\n"));
  EXPECT_HAS(e, "dataset: cannot tell the format of");
  EXPECT_HAS(e, "{\"text\": \"...\"}");
}

}  // namespace
}  // namespace tuna
