// A `tuna train` run (see run.h).
#include "train/run.h"

#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "core/file_io.h"
#include "core/memory.h"
#include "io/gguf.h"
#include "model/model.h"
#include "model/quantize_base.h"
#include "model/train_step.h"
#include "tokenizer/builtin_templates.h"
#include "tokenizer/chat_template.h"
#include "tokenizer/tokenizer.h"
#include "train/dataset_prep.h"
#include "train/memory_estimate.h"
#include "train/trainable_set.h"
#include "train/trainer.h"

namespace tuna {
namespace {

namespace fs = std::filesystem;
using ojson = nlohmann::ordered_json;

std::atomic<bool> g_interrupted{false};
extern "C" void on_sigint(int) {
  g_interrupted = true;
}

void write_text(const std::string& path, const std::string& text) {
  write_file_atomic("train", path, [&](const WriteBytes& sink) { sink(text.data(), text.size()); });
}

std::string fmt_seconds(double s) {
  char buf[32];
  const auto t = static_cast<int64_t>(s);
  if (t >= 3600)
    std::snprintf(buf, sizeof buf, "%lldh%02lldm", static_cast<long long>(t / 3600),
                  static_cast<long long>(t / 60 % 60));
  else
    std::snprintf(buf, sizeof buf, "%lldm%02llds", static_cast<long long>(t / 60),
                  static_cast<long long>(t % 60));
  return buf;
}

}  // namespace

TrainBatch to_train_batch(const MicroBatch& mb) {
  TrainBatch b;
  b.B = mb.input_ids.dim(0);
  b.T = mb.input_ids.dim(1);
  const auto n = static_cast<size_t>(b.B * b.T);
  b.ids.assign(mb.input_ids.data<int32_t>(), mb.input_ids.data<int32_t>() + n);
  b.attention_mask.assign(mb.attention_mask.data<int32_t>(), mb.attention_mask.data<int32_t>() + n);
  b.labels.assign(mb.labels.data<int32_t>(), mb.labels.data<int32_t>() + n);
  if (mb.position_ids.defined())
    b.position_ids.assign(mb.position_ids.data<int32_t>(), mb.position_ids.data<int32_t>() + n);
  return b;
}

RunSummary run_training(const TrainConfig& cfg, Model& model, const Tokenizer& tok,
                        const std::string& model_arg,
                        const std::function<void(const std::string&)>& print_fn) {
  auto print = [&](const std::string& s) {
    if (print_fn)
      print_fn(s);
    else
      std::fprintf(stderr, "%s\n", s.c_str());
  };
  check_trainable_config(cfg);
  keep_freed_memory_for_reuse();
  const std::string out_dir = cfg.at("output_dir").get<std::string>();
  const bool resuming = cfg.at("resume_from_checkpoint").is_string();
  if (!resuming && fs::exists(out_dir) && !fs::is_empty(out_dir) &&
      !cfg.at("overwrite_output_dir").get<bool>() &&
      (fs::exists(fs::path(out_dir) / "adapter_model.safetensors") ||
       fs::exists(fs::path(out_dir) / "model.safetensors")))
    throw_user_error("train", out_dir + " already holds a finished adapter or model",
                     "choose another output_dir or set overwrite_output_dir: true");
  fs::create_directories(out_dir);

  // Resuming: the newest complete checkpoint (or the one named), checked before any work.
  std::string resume_dir;
  if (resuming) {
    resume_dir = cfg.at("resume_from_checkpoint").get<std::string>();
    if (resume_dir == "latest" || resume_dir == "true") {
      resume_dir.clear();
      int64_t best = -1;
      if (fs::exists(out_dir))
        for (const auto& e : fs::directory_iterator(out_dir)) {
          const std::string n = e.path().filename().string();
          if (n.rfind("checkpoint-", 0) != 0 || !fs::exists(e.path() / "COMPLETE")) continue;
          const int64_t step = std::atoll(n.c_str() + 11);
          if (step > best) best = step, resume_dir = e.path().string();
        }
      if (resume_dir.empty())
        throw_user_error(
            "train",
            "resume_from_checkpoint: latest, but " + out_dir + " holds no complete checkpoint",
            "train with save_strategy steps/epoch first, or name a checkpoint directory");
    }
    if (!fs::exists(fs::path(resume_dir) / "COMPLETE") ||
        !fs::exists(fs::path(resume_dir) / "tuna_state.json"))
      throw_user_error(
          "train", resume_dir + " is not a complete tuna checkpoint",
          "point resume_from_checkpoint at an output_dir/checkpoint-N directory (or use latest)");
  }

  // Base model: QLoRA quantizes the linear weights at load, as transformers' load_in_4bit.
  if (cfg.at("load_in_4bit").get<bool>()) {
    if (model.gguf())
      throw_user_error("config", "load_in_4bit with a GGUF base",
                       "a GGUF base is already quantized: LoRA trains against its stored blocks; "
                       "drop load_in_4bit, or use a Hugging Face (safetensors) base for NF4");
    Bnb4bitConfig q;
    q.params.type =
        cfg.at("bnb_4bit_quant_type").get<std::string>() == "nf4" ? Bnb4Type::NF4 : Bnb4Type::FP4;
    q.params.double_quant = cfg.at("bnb_4bit_use_double_quant").get<bool>();
    q.params.compute_dtype =
        dtype_from_torch_name(cfg.at("bnb_4bit_compute_dtype").get<std::string>());
    if (cfg.at("llm_int8_skip_modules").is_array())
      q.skip_modules = cfg.at("llm_int8_skip_modules").get<std::vector<std::string>>();
    QuantizedBase qb = model.quantize_base_4bit(q);
    print("load_in_4bit: " + std::to_string(qb.tensors) + " linear weights quantized (" +
          std::to_string(qb.parameters) + " parameters)");
  }
  if ((cfg.at("bf16").is_boolean() && cfg.at("bf16").get<bool>()) || cfg.at("fp16").get<bool>())
    print("note: bf16/fp16 apply on GPUs; this CPU run computes in float32");
  if (!model.spec().base_dropout.empty())
    print("note: the model's config sets dropout inside the base model (" +
          model.spec().base_dropout +
          "), which transformers applies while training; tuna does not (only lora_dropout), so "
          "runs differ from the HF Trainer's in that randomness");

  // What trains (its conflicts with the config are found before the data is read; it is reported
  // after): LoRA adapters (+ modules_to_save, biases), or every weight (use_peft: false).
  TrainableSet ts = make_trainable_set(cfg, model, model_arg);
  std::vector<TrainableParam>& params = ts.params;
  ModelWeights* base_grads = ts.base_trainable ? &ts.grads : nullptr;

  // Chat template for messages data: the model's own, else the family's built-in one.
  std::unique_ptr<ChatTemplate> chat;
  const GgufFile* gguf = model.gguf();
  const std::string arch =
      gguf && gguf->has("general.architecture") ? gguf->get_string("general.architecture") : "";
  if (auto t = model_chat_template(tok, arch, model_arg)) {
    chat = std::make_unique<ChatTemplate>(ChatTemplate::parse(t->source, t->origin));
  }
  PreparedData data = prepare_training_data(cfg, tok, chat.get());
  print("data: " + data.summary());
  for (const std::string& n : ts.notes) print("note: " + n);
  print(ts.trainable_line);

  TrainerArgs ta;
  ta.per_device_train_batch_size = cfg.at("per_device_train_batch_size").get<int64_t>();
  ta.gradient_accumulation_steps = cfg.at("gradient_accumulation_steps").get<int64_t>();
  ta.num_train_epochs = cfg.at("num_train_epochs").get<double>();
  ta.max_steps = cfg.at("max_steps").get<int64_t>();
  ta.learning_rate = cfg.at("learning_rate").get<double>();
  ta.lr_scheduler_type = cfg.at("lr_scheduler_type").get<std::string>();
  const ojson& kw = cfg.at("lr_scheduler_kwargs");
  if (kw.contains("num_cycles")) ta.lr_scheduler_kwargs.num_cycles = kw["num_cycles"].get<double>();
  if (kw.contains("power")) ta.lr_scheduler_kwargs.power = kw["power"].get<double>();
  if (kw.contains("lr_end")) ta.lr_scheduler_kwargs.lr_end = kw["lr_end"].get<double>();
  if (kw.contains("min_lr")) ta.lr_scheduler_kwargs.min_lr = kw["min_lr"].get<double>();
  ta.warmup_steps = cfg.at("warmup_steps").get<double>();
  ta.warmup_ratio = cfg.at("warmup_ratio").get<double>();
  ta.max_grad_norm = cfg.at("max_grad_norm").get<double>();
  ta.optim = cfg.at("optim").get<std::string>();
  ta.optimizer.learning_rate = ta.learning_rate;
  ta.optimizer.weight_decay = cfg.at("weight_decay").get<double>();
  ta.optimizer.adam_beta1 = cfg.at("adam_beta1").get<double>();
  ta.optimizer.adam_beta2 = cfg.at("adam_beta2").get<double>();
  ta.optimizer.adam_epsilon = cfg.at("adam_epsilon").get<double>();
  ta.pad_token_id = tok.pad_id().value_or(tok.eos_id().value_or(0));
  ta.shuffle_seed = cfg.at("data_seed").is_number() ? cfg.at("data_seed").get<int64_t>()
                                                    : cfg.at("seed").get<int64_t>();

  // Resuming: the newest complete checkpoint (or the one named); its adapter, optimizer state,
  // step and logs continue the run exactly (data order, schedule and dropout follow the step).
  ojson resumed_history = ojson::array();
  if (resuming) {
    std::ifstream st(fs::path(resume_dir) / "tuna_state.json");
    ojson state = ojson::parse(st, nullptr, false);
    if (state.is_discarded() || !state.contains("global_step"))
      throw_user_error("train", resume_dir + "/tuna_state.json is unreadable",
                       "the checkpoint is damaged; use an older one");
    ta.start_step = state["global_step"].get<int64_t>();
    ta.start_tokens = state.value("num_tokens", int64_t{0});
    std::ifstream tsf(fs::path(resume_dir) / "trainer_state.json");
    ojson tstate = ojson::parse(tsf, nullptr, false);
    if (!tstate.is_discarded() && tstate.contains("log_history"))
      resumed_history = tstate["log_history"];
    ts.load(resume_dir, model);
    print("resuming from " + resume_dir + " at step " + std::to_string(ta.start_step));
  }

  const bool checkpointing = cfg.at("gradient_checkpointing").get<bool>();
  const auto seed = static_cast<uint64_t>(cfg.at("seed").get<int64_t>());
  Trainer trainer(ta, params, [&](const MicroBatch& mb, float scale, int64_t step, int micro) {
    StepOptions o;
    o.grad_scale = scale;
    o.gradient_checkpointing = checkpointing;
    o.seed = seed;
    o.step = static_cast<uint64_t>(step);
    o.micro = static_cast<uint64_t>(micro);
    StepResult r =
        forward_backward(model, ts.weights, &ts.adapters, base_grads, to_train_batch(mb), o);
    return MicroStats{r.loss_sum, r.n_counted, r.n_correct};
  });
  const int64_t total = trainer.total_steps(data.train.size());
  if (!resume_dir.empty())
    trainer.optimizer().load((fs::path(resume_dir) / "optimizer.safetensors").string());

  // Will it fit? The longest micro-batch the data can form, estimated before any step runs.
  size_t longest = 1;
  for (const TrainRow& r : data.train) longest = std::max(longest, r.input_ids.size());
  const OptimizerChoice oc = resolve_optimizer(ta.optim);
  int64_t base_trainable_numel = 0;  // full FT / modules_to_save / biases: master + grad + state
  for_each_weight_slot(
      ts.grads, [&](const std::string&, const Tensor& g) { base_trainable_numel += g.numel(); });
  const MemoryEstimate need = estimate_training_memory(
      model, ts.adapters,
      static_cast<int64_t>(longest) * std::min<int64_t>(ta.per_device_train_batch_size,
                                                        static_cast<int64_t>(data.train.size())),
      checkpointing,
      oc.kind == OptimizerKind::ADAMW_8BIT ? 2.03
      : oc.kind == OptimizerKind::SGD      ? 4.0
                                           : 8.0,
      base_trainable_numel,
      (model.spec().tied_embeddings ? ts.grads.embed : ts.grads.lm_head).defined());
  print("memory: needs about " + need.describe());
  if (const int64_t avail = available_memory_bytes(); avail > 0 && need.total() > avail)
    throw_user_error("train",
                     "this run needs about " + need.describe() + " but " +
                         std::to_string(avail >> 20) + " MiB are available",
                     "lower per_device_train_batch_size (raise gradient_accumulation_steps to "
                     "keep the batch), lower max_length, or set gradient_checkpointing: true");

  // Evaluation: loss and token accuracy over the validation rows (no dropout, no gradients).
  auto evaluate = [&]() {
    double loss = 0;
    int64_t counted = 0, correct = 0;
    const auto bs = static_cast<size_t>(cfg.at("per_device_eval_batch_size").get<int64_t>());
    for (size_t i = 0; i < data.eval.size(); i += bs) {
      MicroBatch mb = collate(data.eval, i, std::min(bs, data.eval.size() - i), ta.pad_token_id);
      StepOptions o;
      o.backward = false;
      StepResult r =
          forward_backward(model, ts.weights, &ts.adapters, nullptr, to_train_batch(mb), o);
      loss += r.loss_sum;
      counted += r.n_counted;
      correct += r.n_correct;
    }
    return std::make_pair(counted ? loss / counted : 0.0,
                          counted ? static_cast<double>(correct) / counted : 0.0);
  };

  ojson log_history = resumed_history;
  const std::string eval_strategy = cfg.at("eval_strategy").get<std::string>();
  const std::string save_strategy = cfg.at("save_strategy").get<std::string>();
  const int64_t logging_steps = cfg.at("logging_steps").get<int64_t>();
  const int64_t eval_steps =
      cfg.at("eval_steps").is_number() ? cfg.at("eval_steps").get<int64_t>() : logging_steps;
  const int64_t save_steps = cfg.at("save_steps").get<int64_t>();
  const int64_t steps_per_epoch = trainer.updates_per_epoch(data.train.size());
  if (eval_strategy != "no" && data.eval.empty())
    throw_user_error("config",
                     "eval_strategy is " + eval_strategy + " but there is no validation data",
                     "set eval_dataset or validation_split");

  auto trainer_state = [&](int64_t step, double epoch) {
    return ojson{{"best_metric", nullptr},
                 {"best_model_checkpoint", nullptr},
                 {"epoch", epoch},
                 {"eval_steps", eval_steps},
                 {"global_step", step},
                 {"is_hyper_param_search", false},
                 {"is_local_process_zero", true},
                 {"is_world_process_zero", true},
                 {"log_history", log_history},
                 {"logging_steps", logging_steps},
                 {"max_steps", total},
                 {"num_input_tokens_seen", 0},
                 {"num_train_epochs",
                  static_cast<int64_t>(std::ceil(static_cast<double>(total) / steps_per_epoch))},
                 {"save_steps", save_steps},
                 {"total_flos", 0},
                 {"train_batch_size", ta.per_device_train_batch_size},
                 {"trial_name", nullptr},
                 {"trial_params", nullptr}};
  };
  std::vector<std::string> checkpoints;
  int64_t tokens_at_step = ta.start_tokens;
  auto save_checkpoint = [&](int64_t step, double epoch) {
    const fs::path final_dir = fs::path(out_dir) / ("checkpoint-" + std::to_string(step));
    const fs::path tmp = fs::path(out_dir) / (".checkpoint-" + std::to_string(step) + ".tmp");
    fs::remove_all(tmp);
    fs::create_directories(tmp);
    ts.save(tmp.string(), model);
    trainer.optimizer().save((tmp / "optimizer.safetensors").string());
    write_text((tmp / "trainer_state.json").string(), trainer_state(step, epoch).dump(2));
    write_text(
        (tmp / "tuna_state.json").string(),
        ojson{{"global_step", step},
              {"seed", seed},
              {"rows_seen", step * ta.gradient_accumulation_steps * ta.per_device_train_batch_size}}
            .dump(2));
    write_text((tmp / "COMPLETE").string(), "");
    fs::remove_all(final_dir);
    fs::rename(tmp, final_dir);
    checkpoints.push_back(final_dir.string());
    if (cfg.at("save_total_limit").is_number()) {
      const auto limit = cfg.at("save_total_limit").get<size_t>();
      while (checkpoints.size() > limit) {
        fs::remove_all(checkpoints.front());
        checkpoints.erase(checkpoints.begin());
      }
    }
  };

  g_interrupted = false;
  auto old_handler = std::signal(SIGINT, on_sigint);
  std::FILE* metrics = std::fopen((fs::path(out_dir) / "metrics.jsonl").c_str(), "w");
  const auto t0 = std::chrono::steady_clock::now();
  double window_loss = 0, loss_sum = 0;
  int64_t window = 0, last_tokens = 0;
  auto last_t = t0;
  RunSummary sum;
  print("training: " + std::to_string(total) + " steps, " + std::to_string(data.train.size()) +
        (data.train_packed ? " packed sequences" : " rows") + ", batch " +
        std::to_string(ta.per_device_train_batch_size) + " x " +
        std::to_string(ta.gradient_accumulation_steps) + " accumulation");
  std::vector<StepLog> logs;
  try {
    logs = trainer.train(data.train, [&](const StepLog& l) {
      tokens_at_step = l.num_tokens;
      window_loss += l.loss;
      loss_sum += l.loss;
      ++window;
      if (l.step == 1) sum.first_loss = l.loss;
      const bool epoch_end = l.epoch_end;
      if (l.step % logging_steps == 0 || l.step == total) {
        const auto now = std::chrono::steady_clock::now();
        const double elapsed = std::chrono::duration<double>(now - t0).count();
        const double dt = std::chrono::duration<double>(now - last_t).count();
        const double tps = dt > 0 ? static_cast<double>(l.num_tokens - last_tokens) / dt : 0;
        const double eta = elapsed / static_cast<double>(l.step - ta.start_step) *
                           static_cast<double>(total - l.step);
        ojson entry{{"loss", window_loss / window},
                    {"grad_norm", l.grad_norm},
                    {"learning_rate", l.learning_rate},
                    {"mean_token_accuracy", l.mean_token_accuracy},
                    {"num_tokens", l.num_tokens},
                    {"epoch", l.epoch},
                    {"step", l.step}};
        log_history.push_back(entry);
        if (metrics) std::fprintf(metrics, "%s\n", entry.dump().c_str()), std::fflush(metrics);
        char line[256];
        std::snprintf(line, sizeof line,
                      "step %lld/%lld | loss %.4f | lr %.3g | grad_norm %.3f | acc %.3f | %.0f "
                      "tok/s | ETA %s",
                      static_cast<long long>(l.step), static_cast<long long>(total),
                      window_loss / window, l.learning_rate, l.grad_norm, l.mean_token_accuracy,
                      tps, fmt_seconds(eta).c_str());
        print(line);
        window_loss = 0;
        window = 0;
        last_t = now;
        last_tokens = l.num_tokens;
      }
      if ((eval_strategy == "steps" && l.step % eval_steps == 0) ||
          (eval_strategy == "epoch" && epoch_end)) {
        auto [el, ea] = evaluate();
        ojson entry{{"eval_loss", el},
                    {"eval_mean_token_accuracy", ea},
                    {"epoch", l.epoch},
                    {"step", l.step}};
        log_history.push_back(entry);
        if (metrics) std::fprintf(metrics, "%s\n", entry.dump().c_str()), std::fflush(metrics);
        char line[128];
        std::snprintf(line, sizeof line, "eval at step %lld: loss %.4f | token accuracy %.3f",
                      static_cast<long long>(l.step), el, ea);
        print(line);
      }
      if ((save_strategy == "steps" && l.step % save_steps == 0 && l.step != total) ||
          (save_strategy == "epoch" && epoch_end && l.step != total) || g_interrupted)
        save_checkpoint(l.step, l.epoch);
      if (g_interrupted)
        throw TrainingInterrupted("interrupted at step " + std::to_string(l.step) +
                                  "; checkpoint saved in " + checkpoints.back());
      sum.last_loss = l.loss;
    });
  } catch (...) {
    std::signal(SIGINT, old_handler);
    if (metrics) std::fclose(metrics);
    throw;
  }
  std::signal(SIGINT, old_handler);
  if (metrics) std::fclose(metrics);

  const double runtime =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const StepLog& last = logs.back();
  sum.global_step = last.step;
  sum.train_runtime = runtime;
  sum.train_loss = loss_sum / static_cast<double>(logs.size());
  sum.epoch = last.epoch;
  sum.num_tokens = last.num_tokens;
  sum.mean_token_accuracy = last.mean_token_accuracy;
  const double samples = static_cast<double>(last.step * ta.gradient_accumulation_steps *
                                             ta.per_device_train_batch_size);
  sum.train_samples_per_second = samples / runtime;
  sum.train_steps_per_second = static_cast<double>(last.step) / runtime;
  const std::vector<std::string> saved_notes = ts.save(out_dir, model, true);
  sum.adapter_dir = out_dir;
  auto r3 = [](double x) { return std::round(x * 1000.0) / 1000.0; };
  ojson results{{"epoch", sum.epoch},
                {"mean_token_accuracy", sum.mean_token_accuracy},
                {"num_tokens", sum.num_tokens},
                {"train_loss", sum.train_loss},
                {"train_runtime", r3(runtime)},
                {"train_samples_per_second", r3(sum.train_samples_per_second)},
                {"train_steps_per_second", r3(sum.train_steps_per_second)}};
  log_history.push_back(results);
  write_text((fs::path(out_dir) / "trainer_state.json").string(),
             trainer_state(last.step, last.epoch).dump(2));
  write_text((fs::path(out_dir) / "train_results.json").string(), results.dump(2));
  print("done: " + results.dump());
  if (ts.full) {
    print("model: " + out_dir +
          "/model.safetensors + config.json (a Hugging Face model directory, " +
          dtype_name(ts.save_dtype) + " weights)");
    for (const std::string& n : saved_notes) print("note: " + n);
  } else {
    print("adapter: " + out_dir + "/adapter_model.safetensors (PEFT format)");
  }
  return sum;
}

}  // namespace tuna
