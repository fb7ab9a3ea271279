// Model handles, chat sessions and the scorer: one handle serves two threads generating at once
// with the results each gets alone; QLoRA quantisation makes a new handle and leaves the old one
// as it was; the alpaca prompt generation sees is the one training formats; a cancelled turn
// stops; conversations are validated; scoring's totals agree with its per-token log-probs.
#include <gtest/gtest.h>

#include <thread>

#include "app/app_test_util.h"
#include "app/chat_session.h"
#include "app/model_handle.h"
#include "app/scorer.h"
#include "data/example.h"
#include "test_util.h"

namespace tuna {
namespace {

std::shared_ptr<const ModelHandle> tiny_handle() {
  return std::make_shared<const ModelHandle>(kLlama, Model::load(kLlama), char_tokenizer());
}

GenerationOptions greedy(int64_t n) {
  GenerationOptions g;
  g.max_new_tokens = n;
  return g;
}

TEST(ModelHandle, TwoThreadsShareOneHandle) {
  const auto handle = tiny_handle();
  const Tokenizer& tok = handle->tokenizer();
  const std::vector<int32_t> pa = text_prompt_ids(tok, PromptFormat::PLAIN, "Name a fish");
  const std::vector<int32_t> pb = text_prompt_ids(tok, PromptFormat::ALPACA, "Say hi");
  GenerationOptions sampled = greedy(24);
  sampled.sampling.do_sample = true;
  sampled.sampling.temperature = 0.8f;
  sampled.sampling.seed = 3;
  auto run = [&](const std::vector<int32_t>& p, const GenerationOptions& g) {
    return generate(handle->model(), nullptr, nullptr, tok, p, g).ids;
  };
  const std::vector<int32_t> a_alone = run(pa, greedy(24)), b_alone = run(pb, sampled);
  ASSERT_EQ(a_alone.size(), 24u);
  for (int round = 0; round < 3; ++round) {
    std::vector<int32_t> a, b;
    std::thread ta([&] { a = run(pa, greedy(24)); });
    std::thread tb([&] { b = run(pb, sampled); });
    ta.join();
    tb.join();
    EXPECT_EQ(a, a_alone);
    EXPECT_EQ(b, b_alone);
  }
}

TEST(ModelHandle, QuantizedIsANewHandle) {
  const auto handle = tiny_handle();
  const Tensor before = handle->model().weights().layers[0].q;
  Bnb4bitConfig q;
  QuantizedBase counts;
  const auto q4 = handle->quantized_4bit(q, &counts);
  EXPECT_GT(counts.tensors, 0);
  EXPECT_EQ(handle->model().weights().layers[0].q.dtype(), before.dtype());
  EXPECT_EQ(handle->model().weights().layers[0].q.raw(), before.raw());
  EXPECT_NE(q4->model().weights().layers[0].q.dtype(), before.dtype());
  EXPECT_EQ(q4->name(), handle->name());
}

TEST(ChatSession, AlpacaPromptIsTheTrainingPrompt) {
  const Tokenizer tok = char_tokenizer();
  Record rec;
  rec.value = {{"instruction", "Name a fish"}, {"input", ""}, {"output", "tuna"}};
  const Example ex = make_example(rec, DataFormat::ALPACA, {});
  EXPECT_EQ(ex.prompt, alpaca_prompt("Name a fish", ""));
  EXPECT_EQ(text_prompt_ids(tok, PromptFormat::ALPACA, "Name a fish"), tok.encode(ex.prompt, true));
  EXPECT_EQ(parse_prompt_format("alpaca"), PromptFormat::ALPACA);
  EXPECT_EQ(parse_prompt_format(""), PromptFormat::PLAIN);
  // The error names the parameter, not a flag.
  tuna_test::expect_user_error([] { parse_prompt_format("chatml"); }, {"`template` chatml"});
}

TEST(ChatSession, TurnsKeepTheConversationAndACancelledTurnStops) {
  const auto handle = tiny_handle();
  const ChatTemplate chat = ChatTemplate::parse(
      "{% for m in messages %}<{{ m.role }}>{{ m.content }}\n{% endfor %}"
      "{% if add_generation_prompt %}<assistant>{% endif %}",
      "test template");
  ChatSession session(handle, PromptFormat::CHAT, chat, nullptr, nullptr, greedy(6));
  std::string streamed;
  const Generation first = session.send("hi", [&](const std::string& s) { streamed += s; });
  EXPECT_EQ(first.ids.size(), 6u);
  EXPECT_EQ(streamed, first.text);
  ChatTemplateInputs conv;
  conv.messages = {{{"role", "user"}, {"content", "hi"}},
                   {{"role", "assistant"}, {"content", first.text}},
                   {{"role", "user"}, {"content", "more"}}};
  const Generation second = session.send("more", {});
  EXPECT_EQ(session.last_prompt(), chat_prompt_ids(chat, handle->tokenizer(), conv));
  EXPECT_GT(second.reused_prompt_tokens, 0) << "the cache stays between turns";
  CancelToken cancel;
  cancel.cancel();
  const Generation stopped = session.send("again", {}, &cancel);
  EXPECT_EQ(stopped.finish_reason, "cancelled");
  EXPECT_TRUE(stopped.ids.empty());
}

TEST(ChatSession, ConversationsAreValidated) {
  EXPECT_EQ(parse_conversation(R"({"messages": [{"role": "user", "content": "x"}], "k": 1})", "c")
                .variables["k"],
            1);
  tuna_test::expect_user_error([] { parse_conversation("[\n{\"role\": }]", "conv.json"); },
                               {"conv.json line 2, column"});
  tuna_test::expect_user_error([] { parse_conversation(R"([{"content": "x"}])", "c.json"); },
                               {"message 0 has no \"role\""});
}

TEST(Scorer, TotalsAgreeWithTokens) {
  const Model model = Model::load(kLlama);
  const nlohmann::json one = score_sequences(model, nullptr, {{1, 40, 50, 60, 70}}, 3);
  ASSERT_EQ(one["tokens"].size(), 5u);
  EXPECT_TRUE(one["tokens"][0]["logprob"].is_null());
  double nll = 0;
  for (size_t i = 1; i < 5; ++i) {
    nll -= one["tokens"][i]["logprob"].get<double>();
    EXPECT_EQ(one["tokens"][i]["top"].size(), 3u);
  }
  EXPECT_DOUBLE_EQ(one["nll_sum"].get<double>(), nll);
  EXPECT_DOUBLE_EQ(one["perplexity"].get<double>(), std::exp(nll / 4));
  // In a batch with a longer sequence (right padding), the first scores the same.
  const nlohmann::json two =
      score_sequences(model, nullptr, {{1, 40, 50, 60, 70}, {1, 9, 8, 7, 6, 5, 4}}, 3);
  ASSERT_EQ(two["sequences"].size(), 2u);
  for (size_t i = 1; i < 5; ++i)
    EXPECT_NEAR(two["sequences"][0]["tokens"][i]["logprob"].get<double>(),
                one["tokens"][i]["logprob"].get<double>(), 1e-5);
}

}  // namespace
}  // namespace tuna
