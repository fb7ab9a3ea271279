// `tuna generate`: greedy decoding on the real Gemma 3 270M is deterministic, --compare-base,
// adapters against their base, the statistics line, --chat-template, and bad input.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <sstream>
#include <nlohmann/json.hpp>

#include "cli/cli_util.h"
#include "io/safetensors.h"

using namespace tuna_cli_test;  // NOLINT(google-build-using-namespace): the shared CLI helpers

namespace {

// --- generate: greedy decoding on the real Gemma 3 270M ------------------------------------------

TEST(CliGenerate, GreedyOnTheRealModelIsDeterministic) {
  require_real_model();
  const std::string cmd =
      "generate --model " + kGguf + " --prompt 'The capital of France is' --max-new-tokens 8";
  CliRun a = run(cmd), b = run(cmd);
  ASSERT_EQ(a.status, 0) << a.err;
  EXPECT_EQ(a.out, b.out);
  EXPECT_GT(a.out.size(), 1u);
  EXPECT_NE(a.err.find("8 generated tokens"), std::string::npos) << a.err;
  // A chat conversation through the built-in Gemma template, and the alpaca format.
  fs::path dir = temp_dir("tuna_cli_generate");
  fs::path conv = write_text(dir, "conv.json", R"([{"role": "user", "content": "Hi!"}])");
  CliRun c =
      run("generate --model " + kGguf + " --messages " + conv.string() + " --max-new-tokens 4");
  ASSERT_EQ(c.status, 0) << c.err;
  CliRun d = run("generate --model " + kGguf +
                 " --prompt 'Name a colour.' --template alpaca --max-new-tokens 4 "
                 "--temperature 0.8 --top-p 0.9 --seed 5");
  ASSERT_EQ(d.status, 0) << d.err;
  // Interactive (no --prompt / --messages): one turn per stdin line, the conversation kept
  // (the second prompt holds the first exchange, most of it from the KV cache the first turn
  // left), /reset starting over with an empty cache (the third reply is the first again, and
  // the first is the --messages run's).
  fs::path turns = write_text(dir, "turns.txt", "Hi!\nWhat is 2+2?\n/reset\nHi!\n");
  CliRun e = run("generate --model " + kGguf + " --max-new-tokens 4 < " + turns.string());
  ASSERT_EQ(e.status, 0) << e.err;
  std::vector<int> prompts;
  for (size_t at = e.err.find('['); at != std::string::npos; at = e.err.find('[', at + 1))
    prompts.push_back(std::atoi(e.err.c_str() + at + 1));
  ASSERT_EQ(prompts.size(), 3u) << e.err;
  EXPECT_GT(prompts[1], prompts[0] + 4) << e.err;
  EXPECT_EQ(prompts[2], prompts[0]) << e.err;
  const size_t cached = e.err.find(" cached from the last turn)");
  ASSERT_NE(cached, std::string::npos) << e.err;
  EXPECT_EQ(e.err.find(" cached from the last turn)", cached + 1), std::string::npos)
      << "only the second turn reuses the cache (/reset empties it)\n"
      << e.err;
  EXPECT_GE(std::atoi(e.err.c_str() + e.err.rfind('(', cached) + 1), prompts[0]) << e.err;
  EXPECT_EQ(e.out.substr(0, c.out.size()), c.out);
  EXPECT_EQ(e.out.substr(e.out.size() - c.out.size()), c.out);
}

TEST(CliGenerate, CompareBaseWithAnAdapter) {
  require_real_model();
  fs::path dir = temp_dir("tuna_cli_generate_adapter");
  {
    const tuna::Model model = tuna::Model::load(kGguf);
    tuna::LoraConfig cfg = tuna::lora_config_from_json(
        {{"r", 4}, {"lora_alpha", 8}, {"target_modules", {"q_proj", "v_proj"}}}, "test");
    tuna::LoraSet lora = tuna::create_lora(model, cfg);
    for (tuna::LoraAdapter& a : lora.adapters)
      for (int64_t e = 0; e < a.b.numel(); ++e)
        a.b.data_mut<float>()[e] = std::sin(static_cast<float>(e));
    tuna::save_peft_adapter((dir / "adapter").string(), lora, model);
  }
  // --exact: merged, the adapter's modules become F32 weights, which the fast path's 8-bit
  // activations never touch; applied on the fly they stay quantized. On the exact path the two
  // give the same answer.
  const std::string base = "generate --model " + kGguf +
                           " --prompt 'The capital of France is' --max-new-tokens 6 --exact";
  CliRun plain = run(base);
  ASSERT_EQ(plain.status, 0) << plain.err;
  CliRun r = run(base + " --adapter " + (dir / "adapter").string() + " --compare-base");
  ASSERT_EQ(r.status, 0) << r.err;
  const size_t a = r.out.find("=== adapter (");
  ASSERT_EQ(r.out.rfind("=== base ===\n", 0), 0u) << r.out;
  ASSERT_NE(a, std::string::npos) << r.out;
  EXPECT_EQ(r.out.substr(13, a - 13), plain.out);
  EXPECT_NE(r.out.substr(a), "=== adapter (" + (dir / "adapter").string() + ") ===\n" + plain.out)
      << "the adapter changed nothing";
  // Applied on the fly instead of merged: the same greedy answer.
  CliRun on_the_fly = run(base + " --adapter " + (dir / "adapter").string() + " --no-merge");
  ASSERT_EQ(on_the_fly.status, 0) << on_the_fly.err;
  EXPECT_EQ("=== adapter (" + (dir / "adapter").string() + ") ===\n" + on_the_fly.out,
            r.out.substr(a));
}

TEST(CliGenerate, BadInputIsAUserError) {
  fs::path dir = model_with_gemma_tokenizer("tuna_cli_generate_errors");
  const std::string m = "generate --model " + dir.string() + " ";
  expect_user_error(run(m + "--prompt x --temperature -1"), "--temperature");
  expect_user_error(run(m + "--prompt x --top-p 0"), "--top-p");
  expect_user_error(run(m + "--prompt x --max-new-tokens 0"), "--max-new-tokens");
  expect_user_error(run(m + "--prompt x --compare-base"), "--adapter");
  expect_user_error(run(m + "--prompt x --no-merge"), "--adapter");
  expect_user_error(run(m + "--prompt x --template chatml"), "alpaca");
  expect_user_error(run(m + "--messages " + (dir / "missing.json").string()), "missing.json");
  // Without --prompt / --messages generate chats over stdin, where --compare-base has nothing
  // to compare on.
  expect_user_error(run(m + "--compare-base --adapter " + (dir / "nope").string() + " < /dev/null"),
                    "--compare-base needs --prompt or --messages");
  expect_user_error(run(m + "--prompt x --adapter " + (dir / "nope").string()), "nope");
  EXPECT_EQ(run(m + "--prompt x --top-k abc").status, 2);
}

TEST(CliGenerate, AdapterForAnotherBaseNameWarnsWhenEveryShapeFits) {
  const fs::path dir = tiny_model_with_tokenizer("tuna_cli_adapter_base");
  const std::string gen = "generate --model " + dir.string() + " --prompt x --max-new-tokens 2 ";
  save_tiny_adapter(dir, dir / "same", dir.string());
  CliRun same = run(gen + "--adapter " + (dir / "same").string());
  ASSERT_EQ(same.status, 0) << same.err;
  EXPECT_EQ(same.err.find("base_model_name_or_path"), std::string::npos) << same.err;
  save_tiny_adapter(dir, dir / "other", "someone/other-model");
  CliRun other = run(gen + "--adapter " + (dir / "other").string());
  ASSERT_EQ(other.status, 0) << other.err;
  const size_t at = other.err.find("base_model_name_or_path 'someone/other-model' is not the base");
  ASSERT_NE(at, std::string::npos) << other.err;
  EXPECT_NE(other.err.find((dir / "other" / "adapter_config.json").string()), std::string::npos);
  EXPECT_EQ(other.err.find("base_model_name_or_path", at + 1), std::string::npos)
      << "one warning line\n"
      << other.err;
  // A damaged adapter is refused, whatever its name says.
  save_tiny_adapter(dir, dir / "q_only", dir.string());
  fs::path st = dir / "q_only" / "adapter_model.safetensors";
  fs::resize_file(st, fs::file_size(st) - 16);
  expect_user_error(run(gen + "--adapter " + (dir / "q_only").string()),
                    "adapter_model.safetensors");
}

TEST(CliGenerate, StatisticsShowPrefillAndGenerationRatesApart) {
  require_real_model();
  std::string words;  // > kPrefillChunk (256) tokens: prefilled in chunks
  for (int i = 0; i < 48; ++i) words += "the cat sat on a mat ";
  fs::path dir = temp_dir("tuna_cli_generate_rates");
  write_text(dir, "prompt.txt", words);
  CliRun r = run("generate --model " + kGguf + " --prompt \"$(cat " +
                 (dir / "prompt.txt").string() + ")\" --max-new-tokens 2");
  ASSERT_EQ(r.status, 0) << r.err;
  const size_t stats = r.err.find(" generated tokens, stop: length; prefill ");
  ASSERT_NE(stats, std::string::npos) << r.err;
  EXPECT_NE(r.err.find(" tokens/s, generation ", stats), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find(" 0.0 tokens/s"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("prefill - tokens/s"), std::string::npos) << r.err;
  // Progress, when the prefill took long enough to show any, ends at 100%.
  const size_t progress = r.err.rfind("prefill: ");
  if (progress != std::string::npos) {
    EXPECT_NE(r.err.find("(100%)", progress), std::string::npos) << r.err;
  }
}

// --chat-template: a model without a template needs it (and the error says so); a .jinja file
// or a built-in name renders --messages instead; with --prompt it is refused.
TEST(CliGenerate, ChatTemplateFileOrNameRendersTheMessages) {
  const fs::path dir = tiny_model_with_tokenizer("tuna_cli_chat_template");
  const std::string gen = "generate --model " + dir.string() + " --max-new-tokens 1 ";
  write_text(dir, "conv.json", R"([{"role": "user", "content": "x"}])");
  write_text(dir, "plain.jinja", "{% for m in messages %}{{ m.content }}{% endfor %}");
  const std::string messages = "--messages " + (dir / "conv.json").string() + " ";
  expect_user_error(run(gen + messages), "has no chat template");
  expect_user_error(run(gen + messages), "pass --chat-template FILE");
  // The file renders "x": the same prompt ids as --prompt x.
  auto prompt_count = [](const CliRun& r) {
    const size_t open = r.err.rfind('[');
    return open == std::string::npos ? std::string("none")
                                     : r.err.substr(open, r.err.find(" prompt", open) - open);
  };
  CliRun file = run(gen + messages + "--chat-template " + (dir / "plain.jinja").string());
  ASSERT_EQ(file.status, 0) << file.err;
  CliRun plain = run(gen + "--prompt x");
  ASSERT_EQ(plain.status, 0) << plain.err;
  EXPECT_EQ(prompt_count(file), prompt_count(plain)) << file.err << plain.err;
  // A built-in name, on the real model: chatml's <|im_start|>/<|im_end|> lines are not Gemma's
  // <start_of_turn> ones, so the prompt differs from the model's own template.
  require_real_model();
  const std::string real = "generate --model " + kGguf + " --max-new-tokens 1 " + messages;
  CliRun own = run(real);
  ASSERT_EQ(own.status, 0) << own.err;
  CliRun chatml = run(real + "--chat-template chatml");
  ASSERT_EQ(chatml.status, 0) << chatml.err;
  EXPECT_NE(prompt_count(chatml), prompt_count(own)) << chatml.err << own.err;
  expect_user_error(run(gen + messages + "--chat-template nosuch"),
                    "--chat-template 'nosuch' is neither a file nor a built-in template");
  expect_user_error(run(gen + "--prompt x --chat-template chatml"),
                    "--chat-template applies to --messages");
}


// --prompts: one JSON line per record in input order (ids kept), each output the one --prompt
// gives alone, for any --batch-size; -o writes the same lines to a file; bad files are errors
// naming the line.
TEST(CliGenerate, PromptsFileInBatchesEqualsPromptsAlone) {
  const fs::path dir = tiny_model_with_tokenizer("tuna_cli_prompts");
  const std::string gen = "generate --model " + dir.string() + " --max-new-tokens 6 ";
  const std::vector<std::string> texts = {"x", "b", "k", "q", "z"};  // single bytes: ids < 256
  std::string file;
  for (size_t i = 0; i < texts.size(); ++i)
    file += "{\"prompt\": \"" + texts[i] + "\", \"id\": " + std::to_string(10 + i) + "}\n\n";
  write_text(dir, "p.jsonl", file);
  std::vector<std::string> alone;
  for (const std::string& t : texts) {
    CliRun r = run(gen + "--prompt " + t);
    ASSERT_EQ(r.status, 0) << r.err;
    alone.push_back(r.out.substr(0, r.out.size() - 1));  // generate adds a closing newline
  }
  for (const char* batch : {"1", "2", "8"}) {
    CliRun r = run(gen + "--prompts " + (dir / "p.jsonl").string() + " --batch-size " + batch);
    ASSERT_EQ(r.status, 0) << r.err;
    std::istringstream lines(r.out);
    std::string line;
    size_t i = 0;
    for (; std::getline(lines, line); ++i) {
      const auto j = nlohmann::json::parse(line);
      ASSERT_LT(i, texts.size());
      EXPECT_EQ(j["index"], i);
      EXPECT_EQ(j["id"], 10 + i);
      EXPECT_EQ(j["output"], alone[i]) << "batch " << batch << " record " << i;
      EXPECT_EQ(j["generated_tokens"], 6);
    }
    EXPECT_EQ(i, texts.size());
    EXPECT_NE(r.err.find("[5 prompts, 30 generated tokens"), std::string::npos) << r.err;
  }
  CliRun to_file = run(gen + "--prompts " + (dir / "p.jsonl").string() + " -o " +
                       (dir / "out.jsonl").string());
  ASSERT_EQ(to_file.status, 0) << to_file.err;
  EXPECT_EQ(to_file.out, "");
  CliRun to_stdout = run(gen + "--prompts " + (dir / "p.jsonl").string());
  EXPECT_EQ(tuna_test_read(dir / "out.jsonl"), to_stdout.out);

  write_text(dir, "bad.jsonl", "{\"prompt\": \"x\"}\n{\"prompt\": \"x\", \"messages\": []}\n");
  expect_user_error(run(gen + "--prompts " + (dir / "bad.jsonl").string()),
                    "bad.jsonl line 2: both \"prompt\" and \"messages\"");
  expect_user_error(run(gen + "--prompts " + (dir / "p.jsonl").string() + " --prompt x"),
                    "--prompt excludes --prompts");
  expect_user_error(run(gen + "--prompt x -o " + (dir / "o.jsonl").string()),
                    "--output needs --prompts");
  EXPECT_FALSE(fs::exists(dir / "o.jsonl"));
}


// TUNA_INT8_ACTIVATIONS=1 (the opt-in 8-bit-activation path) decodes and prefills the real
// model through the integer kernels; its greedy text starts as the exact path's does on this
// prompt (a measured property of these 8 tokens, not a guarantee: the numerics differ).
TEST(CliGenerate, EightBitActivationsOptInRuns) {
  require_real_model();
  const std::string cmd =
      "generate --model " + kGguf + " --prompt 'The capital of France is' --max-new-tokens 8";
  const CliRun exact = run(cmd);
  ASSERT_EQ(exact.status, 0) << exact.err;
  const CliRun fast = run_with_env("TUNA_INT8_ACTIVATIONS", "1", cmd);
  ASSERT_EQ(fast.status, 0) << fast.err;
  EXPECT_NE(fast.err.find("8 generated tokens"), std::string::npos) << fast.err;
  EXPECT_EQ(fast.out.substr(0, 12), exact.out.substr(0, 12)) << fast.out << "\n" << exact.out;
}

}  // namespace
