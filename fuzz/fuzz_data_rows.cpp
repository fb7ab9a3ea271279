// Fuzz target for dataset rows (data/records.h, data/example.h): the first input byte picks the
// file type (.jsonl, .json, .csv, .tsv), skip_invalid, the dataset_format and the loss options;
// the rest is the dataset file, read as `tuna train` reads it (read_records), each record turned
// into an example (detect_format, make_example) and tokenised with a byte-level BPE and a ChatML
// template (tokenize_example). A user error with a hint is the accepted outcome; any other
// exception, internal error or sanitizer report is a bug, and so is a token row whose labels do
// not match its ids. With TUNA_FUZZ_REPLAY_MAIN it replays fuzz/corpus/data_rows/ plus
// deterministic mutations (CTest fuzz_data_rows_replay); `--make-seeds DIR` writes the seeds.
// Not here: the rejects file and the dataset split (train/dataset_prep.h).
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "byte_level_bpe.h"
#include "data/example.h"
#include "data/records.h"
#include "replay_driver.h"
#include "tokenizer/chat_template.h"
#include "tokenizer/tokenizer.h"

namespace {

namespace fs = std::filesystem;
using tuna::DataFormat;
constexpr const char* kTarget = "fuzz_data_rows";
constexpr size_t kMaxRecords = 64;  // records turned into examples per input
size_t g_rows = 0;                  // token rows produced (the replay driver reports it)

const char* const kExtensions[] = {"jsonl", "json", "csv", "tsv"};
const DataFormat kFormats[] = {
    DataFormat::AUTO,     DataFormat::ALPACA, DataFormat::PROMPT_COMPLETION,
    DataFormat::MESSAGES, DataFormat::TEXT,   DataFormat::TEMPLATE,
    DataFormat::AUTO,     DataFormat::AUTO};

[[noreturn]] void bug(const std::string& what) {
  tuna::fuzz::report_bug(kTarget, what);
}

const tuna::Tokenizer& tokenizer() {
  static const tuna::Tokenizer t = [] {
    const nlohmann::json config = {{"eos_token", "<|end|>"}};
    return tuna::Tokenizer::from_json(tuna::fuzz::byte_level_json(), &config, "byte_level");
  }();
  return t;
}

const tuna::ChatTemplate& chat_template() {
  static const tuna::ChatTemplate t = tuna::ChatTemplate::parse(
      "{% for m in messages %}<|im_start|>{{ m['role'] }}\n"
      "{% if m['role'] == 'assistant' %}{% generation %}{{ m['content'] }}<|im_end|>"
      "{% endgeneration %}{% else %}{{ m['content'] }}<|im_end|>{% endif %}\n{% endfor %}"
      "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}",
      "chatml");
  return t;
}

// A directory of this process for the dataset file (read_records reads paths).
const fs::path& work_dir() {
  static const fs::path d = [] {
    fs::path p = fs::temp_directory_path() / ("tuna_fuzz_data_rows." + std::to_string(getpid()));
    fs::create_directories(p);
    std::atexit([] {
      std::error_code ec;
      fs::remove_all(work_dir(), ec);
    });
    return p;
  }();
  return d;
}

void check_row(const tuna::TrainRow& row, const tuna::TokenizeOptions& o) {
  if (row.labels.size() != row.input_ids.size()) bug("labels and input_ids differ in length");
  if (o.max_length > 0 && row.input_ids.size() > static_cast<size_t>(o.max_length))
    bug("a row longer than max_length");
  for (size_t i = 0; i < row.labels.size(); ++i)
    if (row.labels[i] != -100 && row.labels[i] != row.input_ids[i])
      bug("a label that is neither -100 nor its input id");
  ++g_rows;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  tuna::fuzz::begin_input(data, size);
  const uint8_t sel = data[0];
  const fs::path path = work_dir() / (std::string("data.") + kExtensions[sel & 3]);
  tuna::fuzz::write_raw(path, std::string(reinterpret_cast<const char*>(data) + 1, size - 1));
  const bool skip_invalid = (sel >> 2) & 1;
  tuna::ExampleOptions eo;
  eo.format = kFormats[(sel >> 3) & 7];
  if (eo.format == DataFormat::TEMPLATE) eo.template_text = "### context: {input}\n### q: {output}";
  tuna::TokenizeOptions to;
  to.max_length = 48;
  to.keep_end = (sel >> 6) & 1;
  to.assistant_only_loss = (sel >> 7) & 1;

  std::vector<tuna::Record> records;
  std::vector<tuna::RejectedRecord> rejects;
  if (!tuna::fuzz::user_error_or_ok(kTarget, [&] {
        records = tuna::read_records(path.string(), skip_invalid ? &rejects : nullptr);
      }))
    return 0;
  for (const tuna::RejectedRecord& r : rejects) {
    if (r.reason.empty()) bug("a rejected record without a reason");
    if (r.raw.size() > 500) bug("a rejected record's text longer than 500 bytes");
  }
  if (records.empty()) return 0;
  DataFormat format = DataFormat::AUTO;
  if (!tuna::fuzz::user_error_or_ok(kTarget,
                                    [&] { format = tuna::detect_format(records[0].value, eo); }))
    return 0;
  if (format == DataFormat::AUTO) bug("detect_format returned auto");
  tuna::TokenizeStats stats;
  for (size_t i = 0; i < records.size() && i < kMaxRecords; ++i) {
    const tuna::Record& rec = records[i];
    if (!rec.value.is_object()) bug("a record that is not an object");
    if (rec.where().empty()) bug("a record without a location");
    tuna::Example ex;
    if (!tuna::fuzz::user_error_or_ok(kTarget, [&] { ex = tuna::make_example(rec, format, eo); }))
      continue;
    tuna::TrainRow row;
    bool kept = false;
    if (tuna::fuzz::user_error_or_ok(kTarget,
                                     [&] {
                                       kept = tuna::tokenize_example(tokenizer(), &chat_template(),
                                                                     ex, to, stats, row);
                                     }) &&
        kept)
      check_row(row, to);
  }
  return 0;
}

#ifdef TUNA_FUZZ_REPLAY_MAIN

namespace {

// Mutations 2, 6 and 7 (see tuna::fuzz::mutate): another selector byte, or a JSON / CSV piece.
void mutate_format(size_t op, tuna::fuzz::Bytes& b, tuna::fuzz::Rng& rng) {
  if (op == 2) {
    if (!b.empty()) b[0] = static_cast<uint8_t>(rng.next());
    return;
  }
  static const char* const kPieces[] = {"\n",
                                        "\r\n",
                                        ",",
                                        "\t",
                                        "\"",
                                        "\"\"",
                                        "{",
                                        "}",
                                        "[",
                                        "]",
                                        ":",
                                        "null",
                                        "\xff",
                                        "\xc3",
                                        "\xed\xa0\x80",
                                        "\\u0000",
                                        "\\ud800",
                                        "\"messages\":[]",
                                        "\"role\":",
                                        "\"content\":",
                                        "{\"from\":\"gpt\",\"value\":1}",
                                        "\"instruction\":",
                                        "\"output\":",
                                        "\"text\":",
                                        "\"prompt\":",
                                        "\"completion\":",
                                        "{\"data\":["};
  const std::string p = kPieces[rng.below(sizeof kPieces / sizeof kPieces[0])];
  const size_t at = 1 + rng.below(b.empty() ? 1 : b.size());
  if (b.empty()) b.push_back(0);
  b.insert(b.begin() + static_cast<std::ptrdiff_t>(std::min(at, b.size())), p.begin(), p.end());
}

// The seeds: one dataset per file type and row format, each behind its selector byte.
int make_seeds(const fs::path& dir) {
  fs::create_directories(dir);
  struct Seed {
    const char* name;
    uint8_t sel;  // bits 0-1 file type, 2 skip_invalid, 3-5 format, 6 keep_end, 7 assistant-only
    const char* text;
  };
  const Seed seeds[] = {
      {"alpaca.jsonl", 0,
       "{\"instruction\": \"Add\", \"input\": \"1 2\", \"output\": \"3\"}\n"
       "{\"instruction\": \"Say hi\", \"output\": \"hi\"}\n"},
      {"prompt_completion.jsonl", 0 | (2 << 3),
       "{\"prompt\": \"The capital of France is\", \"completion\": \" Paris.\"}\n\n"
       "{\"prompt\": \"2+2=\", \"completion\": 4}\r\n"},
      {"messages.jsonl", 0 | (1 << 7),
       "{\"messages\": [{\"role\": \"system\", \"content\": \"be brief\"}, {\"role\": \"user\", "
       "\"content\": \"hi\"}, {\"role\": \"assistant\", \"content\": \"hello\"}]}\n"},
      {"sharegpt.jsonl", 0 | (3 << 3),
       "{\"conversations\": [{\"from\": \"human\", \"value\": \"안녕\"}, {\"from\": \"gpt\", "
       "\"value\": \"😀\"}]}\n"},
      {"text_skip_invalid.jsonl", 0 | 4 | (4 << 3),
       "{\"text\": \"the theme\"}\nnot json\n[1, 2]\n{\"text\": \"caf\\u00e9\"}\n"},
      {"array.json", 1,
       "[{\"instruction\": \"a\", \"output\": \"b\"}, {\"instruction\": \"c\", \"input\": null, "
       "\"output\": \"d\"}]"},
      {"data_key.json", 1 | 4, "{\"data\": [{\"text\": \"x\"}, 3, {\"text\": \"y\"}]}"},
      {"lines.json", 1 | (4 << 3), "{\"text\": \"one\"}\n{\"text\": \"two\"}\n"},
      {"template.csv", 2 | (5 << 3) | (1 << 6),
       "input,output\n\"a, quoted\",\"b \"\"q\"\"\"\n\"multi\nline\",c\r\nx,y\n"},
      {"ragged.csv", 2 | 4, "prompt,completion\na,b\nonly one\n\"p\",\"c\",extra\n"},
      {"alpaca.tsv", 3, "\xEF\xBB\xBFinstruction\tinput\toutput\nAdd\t1 2\t3\n"},
  };
  for (const Seed& s : seeds)
    tuna::fuzz::write_raw(dir / s.name, std::string(1, static_cast<char>(s.sel)) + s.text);
  std::printf("wrote seeds to %s\n", dir.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return tuna::fuzz::replay_main(argc, argv, {kTarget, mutate_format, make_seeds, 256, &g_rows});
}

#endif  // TUNA_FUZZ_REPLAY_MAIN
