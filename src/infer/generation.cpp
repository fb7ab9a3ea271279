// The generation loop, EOS ids and adapter merging of infer/generation.h.
#include "infer/generation.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "infer/kv_decoder.h"
#include "io/gguf.h"
#include "lora/merge.h"
#include "model/block.h"    // linear_slots
#include "ops/quant_dot.h"  // kQuantDotMaxN

namespace tuna {

namespace {

// Emits generated text, holding back any tail that could still become a stop string.
class StopFilter {
 public:
  StopFilter(const std::vector<std::string>& stops, const TextSink& sink)
      : stops_(stops), sink_(sink) {}

  // Appends `piece`; returns true when a stop string has appeared (the text is cut before it).
  bool push(const std::string& piece) {
    text_ += piece;
    size_t cut = std::string::npos;
    for (const std::string& s : stops_) {
      if (s.empty()) continue;
      const size_t at = text_.find(s);
      if (at != std::string::npos) cut = std::min(cut, at);
    }
    if (cut != std::string::npos) {
      text_.resize(cut);
      emit(text_.size());
      return true;
    }
    size_t hold = 0;  // longest suffix of text_ that is a proper prefix of a stop string
    for (const std::string& s : stops_)
      for (size_t n = std::min(s.size() - (s.empty() ? 0 : 1), text_.size()); n > hold; --n)
        if (text_.compare(text_.size() - n, n, s, 0, n) == 0) {
          hold = n;
          break;
        }
    emit(text_.size() - hold);
    return false;
  }
  void finish() { emit(text_.size()); }
  const std::string& text() const { return text_; }

 private:
  void emit(size_t upto) {
    if (upto <= emitted_) return;
    if (sink_) sink_(text_.substr(emitted_, upto - emitted_));
    emitted_ = upto;
  }
  const std::vector<std::string>& stops_;
  const TextSink& sink_;
  std::string text_;
  size_t emitted_ = 0;
};

// The checks generate() and generate_batch() make of each prompt and the sampling settings.
void check_prompt_and_sampling(const std::vector<int32_t>& prompt, const GenerationOptions& o) {
  if (prompt.empty())
    throw_user_error("generate", "the prompt encodes to no tokens",
                     "pass a non-empty `prompt` or `messages`");
  if (o.sampling.do_sample && !(o.sampling.temperature > 0.0f))
    throw_user_error("generate", "sampling needs a temperature > 0",
                     "use `temperature` 0 for greedy decoding");
}

// Feeds `ids` (at least one) and returns the last one's next-token logits; a long prompt goes in
// chunks of kPrefillChunk, each reported to `on_prefill`.
std::vector<float> prefill(KvDecoder& decoder, const std::vector<int32_t>& ids,
                           const std::function<void(int64_t, int64_t)>& on_prefill) {
  const int64_t total = static_cast<int64_t>(ids.size());
  if (total <= kPrefillChunk) return decoder.next_logits(ids);
  std::vector<float> logits;
  for (int64_t at = 0; at < total; at += kPrefillChunk) {
    const int64_t end = std::min(total, at + kPrefillChunk);
    const std::vector<int32_t> chunk(ids.begin() + at, ids.begin() + end);
    if (end < total)
      decoder.feed_hidden(chunk);  // keys/values only: no [chunk, vocab] logits to throw away
    else
      logits = decoder.next_logits(chunk);
    if (on_prefill) on_prefill(end, total);
  }
  return logits;
}

}  // namespace

Generation generate(const Model& model, const ModelWeights* weights,
                    const std::vector<LoraAdapter>* adapters, const Tokenizer& tok,
                    const std::vector<int32_t>& prompt, const GenerationOptions& options,
                    const TextSink& sink, KvSession* session) {
  check_prompt_and_sampling(prompt, options);
  std::optional<KvDecoder> fresh;
  if (session == nullptr) fresh.emplace(model, weights, adapters);
  KvDecoder& decoder = session != nullptr ? session->decoder : *fresh;
  StreamingDecoder stream(tok, /*skip_special_tokens=*/true);
  StopFilter stop(options.stop_strings, sink);
  Generation g;
  g.finish_reason = "length";
  std::vector<int32_t> context = prompt;
  size_t reuse = 0;  // cached positions the prompt shares (at least one prompt id is fed)
  if (session != nullptr) {
    TUNA_ASSERT(static_cast<int64_t>(session->ids.size()) == decoder.length(),
                "KvSession: ids and cache out of step");
    while (reuse + 1 < prompt.size() && reuse < session->ids.size() &&
           session->ids[reuse] == prompt[reuse])
      ++reuse;
    // 0 when the sliding-window layers no longer hold what the reused prefix needs.
    reuse = static_cast<size_t>(decoder.truncate(static_cast<int64_t>(reuse)));
    session->ids.resize(reuse);
    g.reused_prompt_tokens = static_cast<int64_t>(reuse);
  }
  const std::vector<int32_t> fed(prompt.begin() + static_cast<std::ptrdiff_t>(reuse), prompt.end());
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<float> logits = prefill(decoder, fed, options.on_prefill);
  if (session != nullptr) session->ids.insert(session->ids.end(), fed.begin(), fed.end());
  const auto t1 = std::chrono::steady_clock::now();
  g.prefilled_tokens = static_cast<int64_t>(fed.size());
  g.prefill_seconds = std::chrono::duration<double>(t1 - t0).count();
  for (int64_t step = 0; step < options.max_new_tokens; ++step) {
    if (options.should_stop && options.should_stop()) {
      g.finish_reason = "cancelled";
      break;
    }
    const int32_t id = choose_next_token(logits, context, options.sampling, step);
    g.ids.push_back(id);
    context.push_back(id);
    if (std::find(options.eos_ids.begin(), options.eos_ids.end(), id) != options.eos_ids.end()) {
      g.finish_reason = "eos";
      break;
    }
    if (stop.push(stream.push(id))) {
      g.finish_reason = "stop";
      break;
    }
    if (step + 1 < options.max_new_tokens) {
      const Int8ActivationScope fast(!options.exact);
      logits = decoder.next_logits({id});
      if (session != nullptr) session->ids.push_back(id);
    }
  }
  if (g.finish_reason != "stop" && stop.push(stream.flush())) g.finish_reason = "stop";
  stop.finish();
  g.text = stop.text();
  g.decode_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
  g.kv_cache_bytes = decoder.cache_bytes();
  return g;
}

namespace {

// One sequence of generate_batch: its cache, text state and result so far.
struct BatchSequence {
  BatchSequence(size_t index, const Model& model, const ModelWeights* weights,
                const std::vector<LoraAdapter>* adapters, const Tokenizer& tok,
                const GenerationOptions& options)
      : index(index),
        decoder(model, weights, adapters),
        stream(tok, true),
        stop(options.stop_strings, no_sink) {}
  size_t index;
  KvDecoder decoder;
  StreamingDecoder stream;
  TextSink no_sink;
  StopFilter stop;
  std::vector<int32_t> context;
  std::vector<float> logits;
  Generation g;
  int64_t step = 0;
  std::chrono::steady_clock::time_point decode_start;
  bool finished = false;
};

}  // namespace

void generate_batch(const Model& model, const ModelWeights* weights,
                    const std::vector<LoraAdapter>* adapters, const Tokenizer& tok,
                    const std::vector<std::vector<int32_t>>& prompts,
                    const GenerationOptions& options, int64_t batch_size,
                    const std::function<void(size_t, Generation&&)>& done,
                    const std::vector<const std::vector<LoraAdapter>*>* prompt_adapters) {
  TUNA_ASSERT(batch_size >= 1, "generate_batch: batch_size < 1");
  TUNA_ASSERT(prompt_adapters == nullptr || prompt_adapters->size() == prompts.size(),
              "generate_batch: one adapter entry per prompt");
  for (const auto& p : prompts) check_prompt_and_sampling(p, options);
  std::vector<std::unique_ptr<BatchSequence>> active;
  size_t next = 0;
  auto finish = [&](BatchSequence& s, const char* reason) {
    s.g.finish_reason = reason;
    if (s.g.finish_reason != "stop" && s.stop.push(s.stream.flush())) s.g.finish_reason = "stop";
    s.stop.finish();
    s.g.text = s.stop.text();
    s.g.decode_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - s.decode_start).count();
    s.g.kv_cache_bytes = s.decoder.cache_bytes();
    s.finished = true;
    done(s.index, std::move(s.g));
  };
  // Prompts join while there is room: each prefilled alone, exactly as generate() does.
  auto admit = [&] {
    while (static_cast<int64_t>(active.size()) < batch_size && next < prompts.size()) {
      const std::vector<LoraAdapter>* own = prompt_adapters ? (*prompt_adapters)[next] : adapters;
      auto s = std::make_unique<BatchSequence>(next, model, weights, own, tok, options);
      const std::vector<int32_t>& prompt = prompts[next++];
      s->context = prompt;
      const auto t0 = std::chrono::steady_clock::now();
      s->logits = prefill(s->decoder, prompt, options.on_prefill);
      s->decode_start = std::chrono::steady_clock::now();
      s->g.prefilled_tokens = static_cast<int64_t>(prompt.size());
      s->g.prefill_seconds = std::chrono::duration<double>(s->decode_start - t0).count();
      if (options.max_new_tokens <= 0)
        finish(*s, "length");
      else
        active.push_back(std::move(s));
    }
  };
  admit();
  while (!active.empty()) {
    // Choose each sequence's next token; those that go on are fed it below.
    std::vector<BatchSequence*> go_on;
    for (auto& sp : active) {
      BatchSequence& s = *sp;
      if ((options.should_stop && options.should_stop()) ||
          (options.should_cancel && options.should_cancel(s.index))) {
        finish(s, "cancelled");
        continue;
      }
      const int32_t id = choose_next_token(s.logits, s.context, options.sampling, s.step);
      s.g.ids.push_back(id);
      s.context.push_back(id);
      ++s.step;
      if (std::find(options.eos_ids.begin(), options.eos_ids.end(), id) != options.eos_ids.end())
        finish(s, "eos");
      else if (s.stop.push(s.stream.push(id)))
        finish(s, "stop");
      else if (s.step >= options.max_new_tokens)
        finish(s, "length");
      else
        go_on.push_back(&s);
    }
    // Finished (and cancelled) sequences leave now: their caches are freed before the pass.
    active.erase(
        std::remove_if(active.begin(), active.end(),
                       [](const std::unique_ptr<BatchSequence>& s) { return s->finished; }),
        active.end());
    // One pass per group of at most 8 sequences (the per-row linear path).
    for (size_t at = 0; at < go_on.size(); at += static_cast<size_t>(kQuantDotMaxN)) {
      const size_t end = std::min(go_on.size(), at + static_cast<size_t>(kQuantDotMaxN));
      std::vector<KvDecoder*> decoders;
      std::vector<std::vector<int32_t>> ids;
      for (size_t i = at; i < end; ++i) {
        decoders.push_back(&go_on[i]->decoder);
        ids.push_back({go_on[i]->context.back()});
      }
      const Int8ActivationScope fast(!options.exact);
      const Tensor logits = KvDecoder::next_logits_batch(decoders, ids);
      const int64_t V = logits.dim(1);
      for (size_t i = at; i < end; ++i) {
        const float* row = logits.data<float>() + static_cast<int64_t>(i - at) * V;
        go_on[i]->logits.assign(row, row + V);
      }
    }
    admit();
  }
}

namespace {

// A model directory's generation_config.json (null when there is none; *path gets its path).
nlohmann::json generation_config_json(const Model& model, std::string* path) {
  const std::filesystem::path cfg = std::filesystem::path(model.dir()) / "generation_config.json";
  std::ifstream in(cfg);
  if (!in) return nullptr;
  if (path) *path = cfg.string();
  nlohmann::json j = nlohmann::json::parse(in, nullptr, false);
  if (j.is_discarded())
    throw_user_error("generate", cfg.string() + " is not valid JSON",
                     "fix or remove generation_config.json");
  return j;
}

}  // namespace

std::vector<int32_t> generation_eos_ids(const Model& model, const Tokenizer& tok) {
  std::vector<int32_t> ids;
  auto add = [&](int64_t id) {
    if (id >= 0 && std::find(ids.begin(), ids.end(), id) == ids.end())
      ids.push_back(static_cast<int32_t>(id));
  };
  if (auto e = tok.eos_id()) add(*e);
  if (const GgufFile* g = model.gguf()) {
    for (const char* key : {"tokenizer.ggml.eot_token_id", "tokenizer.ggml.eom_token_id"})
      if (g->has(key)) add(g->get_int(key));
    for (const char* piece :
         {"<end_of_turn>", "<|eot_id|>", "<|eom_id|>", "<|im_end|>", "<|end|>", "<|endoftext|>"})
      if (auto id = tok.piece_to_id(piece); id && tok.is_special(*id)) add(*id);
    return ids;
  }
  const nlohmann::json j = generation_config_json(model, nullptr);
  if (j.is_object() && j.contains("eos_token_id")) {
    const nlohmann::json& e = j["eos_token_id"];
    if (e.is_number_integer()) add(e.get<int64_t>());
    if (e.is_array())
      for (const auto& x : e)
        if (x.is_number_integer()) add(x.get<int64_t>());
  }
  return ids;
}

GenerationDefaults read_generation_defaults(const Model& model) {
  GenerationDefaults d;
  if (model.gguf()) return d;
  const nlohmann::json j = generation_config_json(model, &d.source);
  if (!j.is_object()) return d;
  auto wrong = [&](const char* key, const char* want) {
    throw_user_error("generate", d.source + ": " + key + " must be " + want,
                     "fix generation_config.json (or remove the key)");
  };
  auto number = [&](const char* key, std::optional<double>& out) {
    if (!j.contains(key) || j[key].is_null()) return;
    if (!j[key].is_number()) wrong(key, "a number");
    out = j[key].get<double>();
  };
  if (j.contains("do_sample") && !j["do_sample"].is_null()) {
    if (!j["do_sample"].is_boolean()) wrong("do_sample", "true or false");
    d.do_sample = j["do_sample"].get<bool>();
  }
  number("temperature", d.temperature);
  number("top_p", d.top_p);
  number("min_p", d.min_p);
  number("repetition_penalty", d.repetition_penalty);
  for (auto [key, out] : {std::pair{"top_k", &d.top_k}, {"max_new_tokens", &d.max_new_tokens}}) {
    if (!j.contains(key) || j[key].is_null()) continue;
    if (!j[key].is_number_integer()) wrong(key, "an integer");
    *out = j[key].get<int64_t>();
  }
  // The ranges the flags have, named by key (no backticks: the CLI would show them as flags).
  GenerationRequest as_request;
  as_request.temperature = d.temperature;
  as_request.top_p = d.top_p;
  as_request.min_p = d.min_p;
  as_request.repetition_penalty = d.repetition_penalty;
  as_request.top_k = d.top_k;
  as_request.max_new_tokens = d.max_new_tokens;
  try {
    check_generation_request(as_request);
  } catch (const Error& e) {
    std::string what = e.message();
    what.erase(std::remove(what.begin(), what.end(), '`'), what.end());
    throw_user_error("generate", d.source + ": " + what,
                     "fix generation_config.json (or remove the key)");
  }
  return d;
}

void check_generation_request(const GenerationRequest& r) {
  auto bad = [](const std::string& what, const std::string& hint) {
    throw_user_error("generate", what, hint);
  };
  if (r.max_new_tokens && *r.max_new_tokens < 1)
    bad("`max_new_tokens` must be at least 1", "e.g. `max_new_tokens` 64");
  if (r.temperature && !(*r.temperature >= 0.0 && std::isfinite(*r.temperature)))
    bad("`temperature` must be a finite number >= 0",
        "0 decodes greedily; e.g. `temperature` 0.7 samples");
  if (r.top_k && *r.top_k < 0) bad("`top_k` must be >= 0", "0 turns top-k off");
  if (r.top_p && !(*r.top_p > 0.0 && *r.top_p <= 1.0))
    bad("`top_p` must be in (0, 1]", "1 turns top-p off");
  if (r.min_p && !(*r.min_p >= 0.0 && *r.min_p <= 1.0))
    bad("`min_p` must be in [0, 1]", "0 turns min-p off");
  if (r.repetition_penalty &&
      !(*r.repetition_penalty > 0.0 && std::isfinite(*r.repetition_penalty)))
    bad("`repetition_penalty` must be a finite number > 0", "1 turns it off; 1.1–1.3 is typical");
}

void resolve_generation_options(const GenerationRequest& r, const GenerationDefaults& d,
                                GenerationOptions& out) {
  SamplingConfig& s = out.sampling;
  s.temperature = static_cast<float>(r.temperature.value_or(d.temperature.value_or(1.0)));
  s.top_k = r.top_k.value_or(d.top_k.value_or(50));
  s.top_p = static_cast<float>(r.top_p.value_or(d.top_p.value_or(1.0)));
  s.min_p = static_cast<float>(r.min_p.value_or(d.min_p.value_or(0.0)));
  s.repetition_penalty =
      static_cast<float>(r.repetition_penalty.value_or(d.repetition_penalty.value_or(1.0)));
  s.seed = r.seed;
  if (r.do_sample)
    s.do_sample = *r.do_sample;
  else if (r.temperature)
    s.do_sample = *r.temperature > 0.0;
  else
    s.do_sample = d.do_sample.value_or(false);
  if (s.do_sample && !(s.temperature > 0.0f))
    throw_user_error("generate", "sampling needs a temperature above 0",
                     "pass `temperature` 0.7 (or `do_sample: false` to decode greedily)");
  out.max_new_tokens = r.max_new_tokens.value_or(d.max_new_tokens.value_or(256));
}

void check_generation_adapter(const LoraSet& lora) {
  if (!lora.saved.empty() || !lora.biases.empty())
    throw_user_error("generate",
                     "the adapter carries modules_to_save or trained biases, which generate does "
                     "not apply yet",
                     "merge it with PEFT (merge_and_unload) and generate from the merged model");
}

ModelWeights merged_adapter_weights(const Model& model, const LoraSet& lora) {
  check_generation_adapter(lora);
  ModelWeights w = model.weights();
  for (const LoraAdapter& a : lora.adapters) {
    if (a.layer < 0) continue;  // outside the text blocks (e.g. a vision tower)
    LayerWeights& lw = w.layers[static_cast<size_t>(a.layer)];
    Tensor* slot = linear_slots(lw, a.target).first;
    *slot = merge_lora_weight(*slot, a);
  }
  return w;
}

}  // namespace tuna
