// Crash and full-disk safety of `tuna train`, through the real binary on the tiny golden Llama
// (character tokenizer, app_test_util.h): SIGKILL at seeded random moments — timed, at a random
// durability point (TUNA_FAULT_KILL_AT_POINT), or while a checkpoint is being written — each
// time resumed with `resume_from_checkpoint: latest` until the run finishes, then compared with
// an uninterrupted run; a full disk (injected with TUNA_FAULT_WRITE_FAIL_AFTER_BYTES, and a small
// tmpfs in a user namespace) mid-checkpoint and at the final save; a read-only output_dir.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "app/app_test_util.h"
#include "test_util.h"

namespace tuna {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const std::string kTuna = std::string(TUNA_BIN_DIR) + "/tuna";

struct Outcome {
  int status = -1;              // exit status, or 128 + signal
  std::string err;              // stderr
  bool mid_checkpoint = false;  // killed while a .checkpoint-N.tmp existed
};

// How an attempt ends early: not at all, after a delay, or as soon as a checkpoint is being
// written (its temporary directory appears).
struct Kill {
  enum { NONE, AFTER_MS, AT_TMP_DIR } when = NONE;
  int64_t ms = 0;
};

bool has_tmp_checkpoint(const std::string& out) {
  std::error_code ec;
  for (fs::directory_iterator it(out, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string n = it->path().filename().string();
    if (n.rfind(".checkpoint-", 0) == 0) return true;
  }
  return false;
}

class CrashSafety : public tuna_test::TempDirTest {
 protected:
  CrashSafety() : TempDirTest("tuna_crash") {}
  void SetUp() override {
    TempDirTest::SetUp();
    write_tiny_model_dir(path("model"));
    std::string rows;
    for (int i = 0; i < 24; ++i)
      rows += json{{"instruction", "Name fish " + std::to_string(i)},
                   {"input", ""},
                   {"output", std::string(static_cast<size_t>(5 * (i % 5 + 1)), 'a' + i % 7)}}
                  .dump() +
              "\n";
    tuna_test::write_file(path("data.jsonl"), rows);
    // 30 steps, a checkpoint every 3, dropout + accumulation + a cosine schedule.
    tuna_test::write_file(
        path("train.yaml"),
        "model: " + path("model") + "\ndataset: " + path("data.jsonl") +
            "\nmax_length: 96\n"
            "lora: {r: 4, lora_alpha: 8, lora_dropout: 0.1, target_modules: [q_proj, v_proj, "
            "down_proj]}\n"
            "training: {max_steps: 30, per_device_train_batch_size: 2, "
            "gradient_accumulation_steps: 2, learning_rate: 5e-3, lr_scheduler_type: cosine, "
            "warmup_steps: 1, logging_steps: 1, save_steps: 3}\n");
  }

  // Runs `tuna train train.yaml output_dir=OUT ARGS...` with `env`, ending it as `kill` says.
  Outcome train(const std::string& out, const std::vector<std::string>& args,
                const std::vector<std::string>& env = {}, Kill kill = {}) {
    const std::string err_file = path("stderr.txt");
    std::vector<std::string> argv = {kTuna, "train", path("train.yaml"), "output_dir=" + out};
    argv.insert(argv.end(), args.begin(), args.end());
    const pid_t pid = ::fork();
    if (pid == 0) {
      for (const std::string& e : env) ::putenv(const_cast<char*>(e.c_str()));
      ::setenv("OMP_WAIT_POLICY", "passive", 1);
      if (!std::freopen(err_file.c_str(), "w", stderr) || !std::freopen("/dev/null", "w", stdout))
        ::_exit(99);
      std::vector<char*> cargv;
      for (std::string& a : argv) cargv.push_back(a.data());
      cargv.push_back(nullptr);
      ::execv(kTuna.c_str(), cargv.data());
      ::_exit(98);
    }
    Outcome o;
    const bool stale_tmp = has_tmp_checkpoint(out);
    bool armed = !stale_tmp;  // AT_TMP_DIR: only a temporary directory made by this attempt counts
    const auto t0 = std::chrono::steady_clock::now();
    int raw = 0;
    for (;;) {
      if (::waitpid(pid, &raw, WNOHANG) == pid) break;
      const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::steady_clock::now() - t0)
                          .count();
      const bool tmp = kill.when == Kill::AT_TMP_DIR && has_tmp_checkpoint(out);
      if ((kill.when == Kill::AFTER_MS && ms >= kill.ms) || (armed && tmp)) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, &raw, 0);
        break;
      }
      if (kill.when == Kill::AT_TMP_DIR && !tmp) armed = true;
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    o.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : 128 + WTERMSIG(raw);
    o.err = tuna_test::read_file(err_file);
    o.mid_checkpoint = o.status == 128 + SIGKILL && !stale_tmp && has_tmp_checkpoint(out);
    return o;
  }

  // The uninterrupted run everything is compared with (every checkpoint kept).
  const std::string& reference() {
    if (ref_.empty()) {
      ref_ = path("ref");
      const auto t0 = std::chrono::steady_clock::now();
      const Outcome o = train(ref_, {});
      ref_ms_ = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::steady_clock::now() - t0)
                    .count();
      EXPECT_EQ(o.status, 0) << o.err;
    }
    return ref_;
  }
  std::string ref_;
  int64_t ref_ms_ = 0;
};

std::string bytes(const std::string& p) {
  return fs::exists(p) ? tuna_test::read_file(p) : "<missing " + p + ">";
}

// Files `a` and `b` hold the same bytes (a short message, not the bytes, when they do not).
::testing::AssertionResult same_file(const std::string& a, const std::string& b) {
  if (!fs::exists(a)) return ::testing::AssertionFailure() << a << " is missing";
  if (!fs::exists(b)) return ::testing::AssertionFailure() << b << " is missing";
  const std::string x = tuna_test::read_file(a), y = tuna_test::read_file(b);
  if (x == y) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << a << " (" << x.size() << " bytes) differs from " << b << " (" << y.size() << " bytes)";
}

// metrics.jsonl / a JSON object without the fields that measure time.
std::vector<json> without_timing(const std::string& text, bool one_object = false) {
  std::vector<json> out;
  auto strip = [](json j) {
    for (const char* k : {"tokens_per_second", "eta_seconds", "train_runtime",
                          "train_samples_per_second", "train_steps_per_second"})
      j.erase(k);
    return j;
  };
  if (one_object) return {strip(json::parse(text))};
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(strip(json::parse(line)));
  return out;
}

// The newest checkpoint-N with a COMPLETE marker, or -1.
int64_t latest_complete(const std::string& out) {
  int64_t best = -1;
  std::error_code ec;
  for (fs::directory_iterator it(out, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string n = it->path().filename().string();
    if (n.rfind("checkpoint-", 0) == 0 && fs::exists(it->path() / "COMPLETE"))
      best = std::max<int64_t>(best, std::stoll(n.substr(11)));
  }
  return best;
}

// Every file of checkpoint `step` in `out` equals the reference's (the JSON states and COMPLETE
// hold no timing but the log history's).
void expect_checkpoint_like_reference(const std::string& out, const std::string& ref, int64_t step,
                                      const std::string& when) {
  const std::string name = "/checkpoint-" + std::to_string(step) + "/";
  for (const char* f : {"adapter_model.safetensors", "adapter_config.json", "optimizer.safetensors",
                        "tuna_state.json", "COMPLETE"})
    EXPECT_TRUE(same_file(out + name + f, ref + name + f)) << when;
}

// The finished output equals the reference's: adapter bytes, every step once in metrics.jsonl
// with the same values, train_results.json, no temporary left anywhere.
void expect_output_like_reference(const std::string& out, const std::string& ref,
                                  const std::string& when) {
  EXPECT_TRUE(same_file(out + "/adapter_model.safetensors", ref + "/adapter_model.safetensors"))
      << when;
  EXPECT_TRUE(same_file(out + "/adapter_config.json", ref + "/adapter_config.json")) << when;
  const auto metrics = without_timing(bytes(out + "/metrics.jsonl"));
  EXPECT_EQ(metrics, without_timing(bytes(ref + "/metrics.jsonl"))) << when;
  std::set<int64_t> steps;
  for (const json& m : metrics) EXPECT_TRUE(steps.insert(m["step"].get<int64_t>()).second) << when;
  EXPECT_EQ(steps.size(), 30u) << when;
  EXPECT_EQ(without_timing(bytes(out + "/train_results.json"), true),
            without_timing(bytes(ref + "/train_results.json"), true))
      << when;
  for (const auto& e : fs::recursive_directory_iterator(out)) {
    const std::string n = e.path().filename().string();
    EXPECT_EQ(n.find(".tmp"), std::string::npos) << when << ": left " << e.path();
    EXPECT_EQ(n.find(".deleting"), std::string::npos) << when << ": left " << e.path();
    EXPECT_EQ(n.find(".old"), std::string::npos) << when << ": left " << e.path();
  }
}

// The harness: rounds of one run each, killed with SIGKILL at seeded random moments and resumed
// (resume_from_checkpoint: latest; afresh with overwrite_output_dir when no checkpoint is complete
// yet) until it finishes, then compared with the uninterrupted run. Before each resume, the
// checkpoint it will continue from must equal the reference's (never a corrupt one picked up).
// save_total_limit 3, so pruning is killed too. Stops after at least 24 kills, 3 of them with a
// checkpoint half written.
TEST_F(CrashSafety, KillNineAtRandomMomentsThenResumeGivesTheUninterruptedRun) {
  const std::string ref = reference();
  ASSERT_FALSE(HasFailure());
  std::mt19937_64 rng(20261207);
  int kills = 0, mid_checkpoint = 0, resumes = 0, restarts = 0, rounds = 0;
  std::map<std::string, int> by_kind;
  while ((kills < 24 || mid_checkpoint < 3) && kills < 60) {
    ++rounds;
    const std::string out = path("run" + std::to_string(rounds));
    int round_kills = 0;
    for (int attempt = 0;; ++attempt) {
      std::vector<std::string> args = {"save_total_limit=3"};
      const int64_t latest = latest_complete(out);
      if (latest >= 0) {
        expect_checkpoint_like_reference(out, ref, latest,
                                         "round " + std::to_string(rounds) + " before resume");
        args.push_back("resume_from_checkpoint=latest");
        ++resumes;
      } else if (fs::exists(out)) {
        args.push_back("overwrite_output_dir=true");
        ++restarts;
      }
      Kill kill;
      std::vector<std::string> env;
      std::string kind = "none";
      if (round_kills < 12) {  // then let it finish
        switch (rng() % 3) {
          case 0:
            kill.when = Kill::AFTER_MS;
            kill.ms = static_cast<int64_t>(rng() % static_cast<uint64_t>(ref_ms_ + 1));
            kind = "timed";
            break;
          case 1:
            env.push_back("TUNA_FAULT_KILL_AT_POINT=" + std::to_string(1 + rng() % 200));
            kind = "durability point";
            break;
          default:
            kill.when = Kill::AT_TMP_DIR;
            kind = "checkpoint being written";
        }
      }
      const Outcome o = train(out, args, env, kill);
      // The checkpoint it continued from (if it got that far) is the one checked above.
      if (const size_t at = o.err.find("resuming from "); at != std::string::npos) {
        EXPECT_EQ(o.err.substr(at, o.err.find('\n', at) - at),
                  "resuming from " + out + "/checkpoint-" + std::to_string(latest) + " at step " +
                      std::to_string(latest));
      }
      if (o.status == 0) break;
      ASSERT_EQ(o.status, 128 + SIGKILL) << "round " << rounds << ", " << kind << ": " << o.err;
      ++kills, ++round_kills, ++by_kind[kind];
      if (o.mid_checkpoint) ++mid_checkpoint;
    }
    expect_output_like_reference(out, ref, "round " + std::to_string(rounds));
    std::set<std::string> kept;
    for (const auto& e : fs::directory_iterator(out))
      if (e.path().filename().string().rfind("checkpoint-", 0) == 0)
        kept.insert(e.path().filename().string());
    // save_steps 3 and the last step (as the HF Trainer), save_total_limit 3.
    EXPECT_EQ(kept, (std::set<std::string>{"checkpoint-24", "checkpoint-27", "checkpoint-30"}));
    for (int64_t s : {24, 27, 30}) expect_checkpoint_like_reference(out, ref, s, "end");
    if (HasFailure()) break;
  }
  std::ostringstream summary;
  summary << "kill -9 harness: " << kills << " kills (";
  for (const auto& [k, n] : by_kind) summary << n << " " << k << ", ";
  summary << mid_checkpoint << " with a checkpoint half written), " << resumes << " resumes, "
          << restarts << " fresh restarts, " << rounds
          << " runs, each finished equal to the uninterrupted run";
  std::printf("%s\n", summary.str().c_str());
  RecordProperty("summary", summary.str());
  EXPECT_GE(kills, 20);
  EXPECT_GE(mid_checkpoint, 3) << summary.str();
}

// The size of every file under `dir`, added up.
uintmax_t tree_bytes(const std::string& dir) {
  uintmax_t n = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file()) n += e.file_size();
  return n;
}

// Checks the one-line full-disk error and returns the checkpoint it names.
std::string expect_disk_full_error(const Outcome& o, const std::string& writing) {
  EXPECT_EQ(o.status, 2) << o.err;
  EXPECT_EQ(o.err.rfind("error: [io] no space left on device writing " + writing, 0) == 0 ||
                o.err.find("\nerror: [io] no space left on device writing " + writing) !=
                    std::string::npos,
            true)
      << o.err;
  std::smatch m;
  const std::regex last(
      R"(\(hint: free space or choose another output_dir; the last complete checkpoint is )"
      R"((checkpoint-\d+) \(resume_from_checkpoint: latest continues from it\)\)\n$)");
  EXPECT_TRUE(std::regex_search(o.err, m, last)) << o.err;
  return m.empty() ? "" : m[1].str();
}

// Injected ENOSPC halfway through the second checkpoint: the first stays intact, the partial one
// is removed, the error names the path and the checkpoint to continue from; resuming finishes.
TEST_F(CrashSafety, FullDiskMidCheckpointKeepsThePreviousOne) {
  const std::string ref = reference();
  // Bytes written up to checkpoint-3 complete, + the metrics lines of steps 4-6, + half of
  // checkpoint-6.
  const auto metrics = bytes(ref + "/metrics.jsonl");
  size_t six_lines = 0;
  for (int i = 0; i < 6; ++i) six_lines = metrics.find('\n', six_lines) + 1;
  const uintmax_t budget =
      tree_bytes(ref + "/checkpoint-3") + six_lines + tree_bytes(ref + "/checkpoint-6") / 2;
  const std::string out = path("out");
  const Outcome o = train(out, {}, {"TUNA_FAULT_WRITE_FAIL_AFTER_BYTES=" + std::to_string(budget)});
  EXPECT_EQ(expect_disk_full_error(o, out + "/checkpoint-6/"), "checkpoint-3");
  expect_checkpoint_like_reference(out, ref, 3, "after the full disk");
  EXPECT_FALSE(fs::exists(out + "/checkpoint-6"));
  EXPECT_FALSE(fs::exists(out + "/.checkpoint-6.tmp"));
  const Outcome resumed = train(out, {"resume_from_checkpoint=latest"});
  ASSERT_EQ(resumed.status, 0) << resumed.err;
  expect_output_like_reference(out, ref, "resumed after the full disk");
}

// Injected ENOSPC while the final adapter is written: no partial adapter, the last checkpoint
// intact and named; resuming finishes.
TEST_F(CrashSafety, FullDiskAtTheFinalSave) {
  const std::string ref = reference();
  uintmax_t before_final = bytes(ref + "/metrics.jsonl").size();
  for (const auto& e : fs::directory_iterator(ref))
    if (e.path().filename().string().rfind("checkpoint-", 0) == 0)
      before_final += tree_bytes(e.path().string());
  const std::string out = path("out");
  const Outcome o =
      train(out, {}, {"TUNA_FAULT_WRITE_FAIL_AFTER_BYTES=" + std::to_string(before_final + 100)});
  // The checkpoint of the last step (saved before the final output, as the HF Trainer saves it)
  // is complete; resuming from it only writes the final output.
  EXPECT_EQ(expect_disk_full_error(o, out + "/adapter_model.safetensors"), "checkpoint-30");
  EXPECT_FALSE(fs::exists(out + "/adapter_model.safetensors"));
  EXPECT_FALSE(fs::exists(out + "/train_results.json"));
  for (const auto& e : fs::directory_iterator(out))
    EXPECT_EQ(e.path().filename().string().find(".tmp"), std::string::npos) << e.path();
  expect_checkpoint_like_reference(out, ref, 30, "after the full disk");
  const Outcome resumed = train(out, {"resume_from_checkpoint=latest"});
  ASSERT_EQ(resumed.status, 0) << resumed.err;
  expect_output_like_reference(out, ref, "resumed after the full disk");
}

// Whether this machine lets an unprivileged user namespace mount a tmpfs.
bool can_mount_in_namespace() {
  return std::system("unshare -rm sh -c 'mount -t tmpfs tmpfs /mnt' >/dev/null 2>&1") == 0;
}

std::string quote(const std::string& s) {
  return "'" + s + "'";
}

// A real full filesystem: output_dir on a 200 KiB tmpfs (a user namespace's mount), which holds
// about three checkpoints. The run ends with the error naming the last complete one, which is
// intact; after the filesystem grows, resuming finishes like the uninterrupted run.
TEST_F(CrashSafety, SmallFilesystemFillsUpMidRun) {
  if (!can_mount_in_namespace()) GTEST_SKIP() << "no user namespace can mount a tmpfs here";
  const std::string ref = reference();
  const std::string mnt = path("mnt"), out = mnt + "/out", copy = path("copy");
  fs::create_directories(mnt);
  const std::string tuna = "OMP_WAIT_POLICY=passive " + kTuna + " train " +
                           quote(path("train.yaml")) + " output_dir=" + quote(out);
  const std::string script = "mount -t tmpfs -o size=200k tmpfs " + quote(mnt) + " && " + tuna +
                             " 2>" + quote(path("full.err")) + "; echo $? >" +
                             quote(path("full.rc")) + "; cp -a " + quote(out) + " " + quote(copy) +
                             " && mount -o remount,size=16m " + quote(mnt) + " && " + tuna +
                             " resume_from_checkpoint=latest 2>" + quote(path("resumed.err")) +
                             " && cp -a " + quote(out) + " " + quote(path("resumed"));
  ASSERT_EQ(std::system(("unshare -rm sh -c " + quote(script)).c_str()), 0)
      << bytes(path("full.err")) << bytes(path("resumed.err"));
  Outcome o;
  o.status = std::stoi(bytes(path("full.rc")));
  o.err = bytes(path("full.err"));
  const std::string last = expect_disk_full_error(o, out + "/");
  ASSERT_FALSE(last.empty());
  EXPECT_GE(std::stoll(last.substr(11)), 3);
  expect_checkpoint_like_reference(copy, ref, std::stoll(last.substr(11)), "full tmpfs");
  for (const auto& e : fs::directory_iterator(copy))
    EXPECT_EQ(e.path().filename().string().find(".tmp"), std::string::npos) << e.path();
  expect_output_like_reference(path("resumed"), ref, "resumed after growing the tmpfs");
}

// A read-only output_dir (or a read-only filesystem under a new one) is refused before the model
// loads or anything trains: one line, exit 2.
TEST_F(CrashSafety, ReadOnlyOutputDirIsRefusedBeforeTraining) {
  if (!can_mount_in_namespace()) GTEST_SKIP() << "no user namespace can mount a tmpfs here";
  const std::string mnt = path("ro");
  fs::create_directories(mnt);
  for (const std::string& out : {mnt, mnt + "/new"}) {
    const std::string script = "mount -t tmpfs -o ro tmpfs " + quote(mnt) + " && " + kTuna +
                               " train " + quote(path("train.yaml")) + " output_dir=" + quote(out) +
                               " 2>" + quote(path("ro.err")) + "; echo $? >" + quote(path("ro.rc"));
    ASSERT_EQ(std::system(("unshare -rm sh -c " + quote(script)).c_str()), 0);
    const std::string err = bytes(path("ro.err"));
    EXPECT_EQ(bytes(path("ro.rc")), "2\n") << err;
    EXPECT_EQ(err.rfind("error: [train] output_dir " + out + " is not writable", 0), 0u) << err;
    EXPECT_NE(err.find("Read-only file system (hint: the filesystem is read-only"),
              std::string::npos)
        << err;
    EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << "nothing before the error: " << err;
  }
}

}  // namespace
}  // namespace tuna
