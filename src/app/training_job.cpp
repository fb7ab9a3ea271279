// A training job (see training_job.h): the order of its work is the order of what it prints,
// and every check that can fail runs before the first step.
#include "app/training_job.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <memory>

#include "app/checkpointer.h"
#include "app/evaluator.h"
#include "app/metrics_sinks.h"
#include "app/training_plan.h"
#include "core/device.h"
#include "core/error.h"
#include "core/memory.h"
#include "model/block.h"
#include "model/model.h"
#include "model/quantize_base.h"
#include "model/train_step.h"
#include "ops/gemm_bf16.h"
#include "tokenizer/chat_template.h"
#include "tokenizer/tokenizer.h"
#include "train/dataset_prep.h"
#include "train/loss_mask_note.h"
#include "train/trainable_set.h"
#include "train/trainer.h"

namespace tuna {
namespace {

namespace fs = std::filesystem;
using ojson = nlohmann::ordered_json;

// What this run trains, "name [shape]" per parameter: a checkpoint records it, and a resumed run
// must train the same (another model or another LoRA shape cannot continue it).
std::vector<std::string> trainable_fingerprint(const TrainableSet& ts) {
  std::vector<std::string> names;
  for (const TrainableParam& p : ts.params)
    names.push_back(p.name + " " + p.param.shape().to_string());
  return names;
}

void check_same_trainables(const std::string& resume_dir, const ojson& state,
                           const std::vector<std::string>& now) {
  if (!state.contains("trainable") || !state["trainable"].is_array()) return;  // older checkpoint
  const std::vector<std::string> then = state["trainable"].get<std::vector<std::string>>();
  if (then == now) return;
  // The first parameter only one side trains (names with their shapes).
  auto first_missing = [](const std::vector<std::string>& from,
                          const std::vector<std::string>& in) {
    for (const std::string& p : from)
      if (std::find(in.begin(), in.end(), p) == in.end()) return p;
    return std::string();
  };
  std::string diff;
  if (std::string p = first_missing(then, now); !p.empty())
    diff = "it trains " + p + ", this run does not";
  else if (std::string q = first_missing(now, then); !q.empty())
    diff = "this run trains " + q + ", it does not";
  throw_user_error("train",
                   "resume_from_checkpoint: " + resume_dir +
                       " was written by a run with another model or LoRA shape (" + diff + ")",
                   "resume with the model and lora settings it was written with, or start "
                   "afresh without resume_from_checkpoint");
}

[[noreturn]] void throw_past_the_end(const std::string& resume_dir, int64_t step, int64_t total) {
  throw_user_error("train",
                   "resume_from_checkpoint: " + resume_dir + " is at step " + std::to_string(step) +
                       " but this run has " + std::to_string(total) + " steps",
                   "raise max_steps / num_train_epochs to continue training, or resume from an "
                   "earlier checkpoint");
}

// QLoRA: a handle whose linear weights are quantized, as transformers' load_in_4bit; `notice`
// receives what was quantized.
std::shared_ptr<const ModelHandle> quantize_base(const TrainConfig& cfg, const ModelHandle& base,
                                                 std::string* notice) {
  if (base.model().gguf())
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
  QuantizedBase qb;
  std::shared_ptr<const ModelHandle> quantized = base.quantized_4bit(q, &qb);
  *notice = "load_in_4bit: " + std::to_string(qb.tensors) + " linear weights quantized (" +
            std::to_string(qb.parameters) + " parameters)";
  return quantized;
}

// Whether the run's matrix products compute in BF16 (ops/gemm_bf16.h), as torch's CPU autocast
// does for `bf16: true`; `bnb_4bit_compute_dtype: bfloat16` (QLoRA) and an explicit
// `torch_dtype: bfloat16` ask for BF16 compute too. Where the CPU has no AVX512-BF16, F32 with a
// notice. fp16 stays F32 (docs/training.md: CPUs without FP16 dot products; F16's range needs
// loss scaling). *note: what the run's first lines say about it (empty: nothing to say).
bool bf16_compute_requested(const TrainConfig& cfg, std::string* note) {
  std::vector<std::string> asked;
  if (cfg.at("bf16").is_boolean() && cfg.at("bf16").get<bool>()) asked.push_back("bf16: true");
  if (cfg.at("load_in_4bit").get<bool>() &&
      cfg.at("bnb_4bit_compute_dtype").get<std::string>() == "bfloat16")
    asked.push_back("bnb_4bit_compute_dtype: bfloat16");
  if (cfg.has("torch_dtype") && cfg.at("torch_dtype").get<std::string>() == "bfloat16")
    asked.push_back("torch_dtype: bfloat16");
  std::string what;
  for (const std::string& a : asked) what += (what.empty() ? "" : ", ") + a;
  const bool fp16 = cfg.at("fp16").get<bool>();
  note->clear();
  if (asked.empty()) {
    if (fp16)
      *note = "note: fp16 computes in float32 on the CPU (bf16: true is the CPU's fast format)";
    return false;
  }
  if (!bf16_matmul_available()) {
    *note = "note: " + what +
            ": this CPU has no AVX512-BF16 instructions, so the run computes in float32";
    return false;
  }
  *note = "precision: " + what +
          " → matrix products in bfloat16 with float32 accumulation (AVX512-BF16); weights, "
          "norms, softmax, the loss and the optimizer stay float32";
  return true;
}

// The chat template messages data renders with: the model's own, else its family's built-in one.
std::unique_ptr<ChatTemplate> data_chat_template(const ModelHandle& model) {
  if (const auto& t = model.chat_template())
    return std::make_unique<ChatTemplate>(ChatTemplate::parse(t->source, t->origin));
  return nullptr;
}

}  // namespace

TrainingJob::TrainingJob(TrainConfig cfg, std::shared_ptr<const ModelHandle> model)
    : cfg_(std::move(cfg)), base_(std::move(model)) {}

void TrainingJob::notice(const std::string& text) {
  emit([&](TrainingSink& s) { s.on_notice(text); });
}

RunSummary TrainingJob::run() {
  const TrainConfig& cfg = cfg_;
  check_trainable_config(cfg);
  keep_freed_memory_for_reuse();
  const std::string out_dir = cfg.at("output_dir").get<std::string>();
  // output_dir and the checkpoint to resume from (the CLI checks them before loading the model
  // too); nothing is written into output_dir before the last check has passed.
  const std::string resume_dir = check_output_dir(cfg);

  std::shared_ptr<const ModelHandle> handle = base_;
  if (cfg.at("load_in_4bit").get<bool>()) {
    std::string quantized;
    handle = quantize_base(cfg, *handle, &quantized);
    notice(quantized);
  }
  const Model& model = handle->model();
  const Tokenizer& tok = handle->tokenizer();
  std::string precision_note;
  const bool bf16_compute = bf16_compute_requested(cfg, &precision_note);
  if (!precision_note.empty()) notice(precision_note);
  for (const std::string& n : cfg.notes) notice("note: " + n);
  if (!model.spec().base_dropout.empty())
    notice("note: the model's config sets dropout inside the base model (" +
           model.spec().base_dropout +
           "), which transformers applies while training; tuna does not (only lora_dropout), so "
           "runs differ from the HF Trainer's in that randomness");

  // What trains (its conflicts with the config are found before the data is read; it is reported
  // after): LoRA adapters (+ modules_to_save, biases), or every weight (use_peft: false).
  TrainableSet ts = make_trainable_set(cfg, model, handle->name());
  // The Trainer's arguments (a pad_token outside the vocabulary is refused here, before any line
  // about the run is printed).
  TrainingPlan plan = plan_training(cfg, tok);
  // A checkpoint of another run (model, LoRA shape) or past this run's end is refused here,
  // before the data is read or anything is printed.
  const std::vector<std::string> fingerprint = trainable_fingerprint(ts);
  ResumePoint resumed;
  if (!resume_dir.empty()) {
    resumed = read_resume_point(resume_dir);
    check_same_trainables(resume_dir, resumed.state, fingerprint);
    if (const int64_t max_steps = cfg.at("max_steps").get<int64_t>();
        max_steps > 0 && resumed.step > max_steps)
      throw_past_the_end(resume_dir, resumed.step, max_steps);
  }
  ModelWeights* base_grads = ts.base_trainable ? &ts.grads : nullptr;
  const std::unique_ptr<ChatTemplate> chat = data_chat_template(*handle);
  const PreparedData data = prepare_training_data(cfg, tok, chat.get());
  notice(choose_training_device(cfg, cuda_available()).line);
  notice("data: " + data.summary());
  notice(loss_mask_note(cfg, data.format));
  for (const std::string& n : ts.notes) notice("note: " + n);
  notice(ts.trainable_line);

  TrainerArgs& ta = plan.trainer;
  // Resuming: the checkpoint's adapter, optimizer state, step and logs continue the run exactly
  // (data order, schedule and dropout follow the step).
  if (!resume_dir.empty()) {
    ta.start_step = resumed.step;
    ta.start_tokens = resumed.tokens;
    ts.load(resume_dir, model);
  }

  const bool checkpointing = plan.gradient_checkpointing;
  const uint64_t seed = plan.seed;
  ActivationWorkspace workspace;  // the steps' kept activations, allocated once for the run
  Trainer trainer(ta, ts.params, [&](const MicroBatch& mb, float scale, int64_t step, int micro) {
    const Bf16MatmulScope precision(bf16_compute);
    StepOptions o;
    o.workspace = &workspace;
    o.grad_scale = scale;
    o.gradient_checkpointing = checkpointing;
    o.seed = seed;
    o.step = static_cast<uint64_t>(step);
    o.micro = static_cast<uint64_t>(micro);
    StepResult r =
        forward_backward(model, ts.weights, &ts.adapters, base_grads, to_train_batch(mb), o);
    return MicroStats{r.loss_sum, r.n_counted, r.n_correct};
  });
  plan.total_steps = trainer.total_steps(data.train.size());
  plan.steps_per_epoch = trainer.updates_per_epoch(data.train.size());
  const int64_t total = plan.total_steps;
  if (!resume_dir.empty()) {
    // A checkpoint at the last step (save_strategy saves there, as the HF Trainer does) only
    // finishes the run: its final output is written, as after a failed final save.
    if (resumed.step > total) throw_past_the_end(resume_dir, resumed.step, total);
    trainer.optimizer().load((fs::path(resume_dir) / "optimizer.safetensors").string());
  }

  // Will it fit? The longest micro-batch the data can form, estimated before any step runs.
  const MemoryEstimate need = estimate_job_memory(plan, model, ts, data.train);
  notice("memory: needs about " + need.describe());
  check_memory_fits(need);
  if (plan.eval_strategy != "no" && data.eval.empty())
    throw_user_error("config",
                     "eval_strategy is " + plan.eval_strategy + " but there is no validation data",
                     "set eval_dataset or validation_split");

  // The running totals a resumed run continues from (tuna_state.json), so its logs, train_loss
  // and num_tokens equal an uninterrupted run's.
  ojson log_history = resumed.log_history;
  double window_loss = 0, loss_sum = 0;
  int64_t window = 0, last_tokens = resumed.tokens;
  RunSummary sum;
  if (const ojson& st = resumed.state; st.is_object()) {
    loss_sum = st.value("loss_sum", 0.0);
    window_loss = st.value("log_window_loss", 0.0);
    window = st.value("log_window_steps", int64_t{0});
    sum.first_loss = st.value("first_loss", 0.0);
  }
  TrainerStateInfo state_info;
  state_info.eval_steps = plan.eval_steps;
  state_info.logging_steps = plan.logging_steps;
  state_info.save_steps = plan.save_steps;
  state_info.max_steps = total;
  state_info.num_train_epochs = static_cast<int64_t>(
      std::ceil(static_cast<double>(total) / static_cast<double>(plan.steps_per_epoch)));
  state_info.train_batch_size = ta.per_device_train_batch_size;

  // Every check has passed: output_dir is written from here on. What a killed run left there
  // (temporary checkpoint directories and files) goes first.
  create_directories("train", out_dir);
  if (const std::vector<std::string> stale = remove_stale_temporaries(out_dir); !stale.empty()) {
    std::string names;
    for (const std::string& n : stale) names += (names.empty() ? "" : ", ") + n;
    notice("note: removed what an interrupted run left in " + out_dir + ": " + names);
  }
  if (!resume_dir.empty())
    notice("resuming from " + resume_dir + " at step " + std::to_string(ta.start_step));
  Checkpointer checkpointer(out_dir, plan.save_total_limit, resume_dir.empty() ? -1 : resumed.step);
  auto save_checkpoint = [&](const StepLog& l) {
    const ojson tuna_state{
        {"global_step", l.step},
        {"seed", seed},
        {"rows_seen", l.step * ta.gradient_accumulation_steps * ta.per_device_train_batch_size},
        {"num_tokens", l.num_tokens},
        {"loss_sum", loss_sum},
        {"first_loss", sum.first_loss},
        {"log_window_loss", window_loss},
        {"log_window_steps", window},
        {"epoch", l.epoch},
        {"mean_token_accuracy", l.mean_token_accuracy},
        {"trainable", fingerprint}};
    const std::string dir = checkpointer.save(
        l.step,
        [&](const std::string& tmp) {
          ts.save(tmp, model);
          trainer.optimizer().save((fs::path(tmp) / "optimizer.safetensors").string());
        },
        trainer_state_json(state_info, log_history, l.step, l.epoch), tuna_state);
    emit([&](TrainingSink& s) { s.on_checkpoint(CheckpointSaved{l.step, dir}); });
    return dir;
  };

  // output_dir/metrics.jsonl is part of every run's output, whoever else listens; a resumed run
  // keeps its lines up to the checkpoint (the checkpoint's log history holds exactly those).
  JsonlMetricsSink metrics((fs::path(out_dir) / "metrics.jsonl").string(), log_history);
  sinks_.insert(sinks_.begin(), &metrics);
  struct SinkGuard {  // the sink dies with this scope; so does its place in sinks_
    std::vector<TrainingSink*>& sinks;
    ~SinkGuard() { sinks.erase(sinks.begin()); }
  } guard{sinks_};

  // A full disk (or another failed write) ends the run with the checkpoint to continue from.
  try {
    TrainingStarted started;
    started.total_steps = total;
    started.start_step = ta.start_step;
    started.rows = data.train.size();
    started.packed = data.train_packed;
    started.batch_size = ta.per_device_train_batch_size;
    started.accumulation = ta.gradient_accumulation_steps;
    emit([&](TrainingSink& s) { s.on_started(started); });
    const auto t0 = std::chrono::steady_clock::now();
    auto last_t = t0;
    std::vector<StepLog> logs = trainer.train(data.train, [&](const StepLog& l) {
      window_loss += l.loss;
      loss_sum += l.loss;
      ++window;
      if (l.step == 1) sum.first_loss = l.loss;
      const auto now = std::chrono::steady_clock::now();
      const double elapsed = std::chrono::duration<double>(now - t0).count();
      emit([&](TrainingSink& s) {
        s.on_progress(StepProgress{l.step, total, ta.start_step, elapsed});
      });
      if (plan.logs_at(l.step, l.epoch_end)) {
        const double dt = std::chrono::duration<double>(now - last_t).count();
        StepMetrics m;
        m.step = l.step;
        m.total_steps = total;
        m.loss = window_loss / window;
        m.grad_norm = l.grad_norm;
        m.learning_rate = l.learning_rate;
        m.mean_token_accuracy = l.mean_token_accuracy;
        m.epoch = l.epoch;
        m.num_tokens = l.num_tokens;
        m.tokens_per_second = dt > 0 ? static_cast<double>(l.num_tokens - last_tokens) / dt : 0;
        m.eta_seconds = elapsed / static_cast<double>(l.step - ta.start_step) *
                        static_cast<double>(total - l.step);
        log_history.push_back(to_json(m));
        emit([&](TrainingSink& s) { s.on_step(m); });
        window_loss = 0;
        window = 0;
        last_t = now;
        last_tokens = l.num_tokens;
      }
      if (plan.evaluates_at(l.step, l.epoch_end)) {
        const Bf16MatmulScope precision(bf16_compute);  // as the Trainer evaluates under autocast
        const EvalResult r = evaluate_loss(model, ts.weights, &ts.adapters, data.eval,
                                           plan.eval_batch_size, ta.pad_token_id);
        const EvalMetrics e{l.step, r.loss, r.mean_token_accuracy, l.epoch};
        log_history.push_back(to_json(e));
        emit([&](TrainingSink& s) { s.on_eval(e); });
      }
      // The token is read once: a cancel between two reads must not skip the checkpoint.
      const bool cancelled = cancel_.cancelled();
      if (plan.saves_at(l.step, l.epoch_end) || cancelled) {
        const std::string dir = save_checkpoint(l);
        if (cancelled) {
          emit([&](TrainingSink& s) { s.on_cancelled(TrainingCancelled{l.step, dir}); });
          throw TrainingInterrupted("interrupted at step " + std::to_string(l.step) +
                                    "; checkpoint saved in " + dir);
        }
      }
      sum.last_loss = l.loss;
    });

    const double runtime =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (logs.empty()) {  // resumed from the checkpoint at the last step: nothing left to train
      StepLog at_end;
      at_end.step = resumed.step;
      at_end.num_tokens = resumed.tokens;
      at_end.epoch = resumed.state.value("epoch", 0.0);
      at_end.mean_token_accuracy = resumed.state.value("mean_token_accuracy", 0.0);
      logs.push_back(at_end);
    }
    const StepLog& last = logs.back();
    sum.global_step = last.step;
    sum.train_runtime = runtime;
    sum.train_loss = loss_sum / static_cast<double>(last.step);
    sum.epoch = last.epoch;
    sum.num_tokens = last.num_tokens;
    sum.mean_token_accuracy = last.mean_token_accuracy;
    const double samples = static_cast<double>(last.step * ta.gradient_accumulation_steps *
                                               ta.per_device_train_batch_size);
    sum.train_samples_per_second = samples / runtime;
    sum.train_steps_per_second = static_cast<double>(last.step) / runtime;
    TrainingFinished finished;
    finished.notes = ts.save(out_dir, model, true);
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
    write_text_file((fs::path(out_dir) / "trainer_state.json").string(),
                    trainer_state_json(state_info, log_history, last.step, last.epoch).dump(2));
    write_text_file((fs::path(out_dir) / "train_results.json").string(), results.dump(2));
    finished.summary = sum;
    finished.results = std::move(results);
    finished.full = ts.full;
    finished.output_dir = out_dir;
    finished.model_dtype = dtype_name(ts.save_dtype);
    emit([&](TrainingSink& s) { s.on_finished(finished); });
    return sum;
  } catch (const Error& e) {
    if (e.component() != "io") throw;
    const std::string last = checkpointer.last_complete();
    throw_user_error(
        "io", e.message(),
        "free space or choose another output_dir; " +
            (last == "none" ? std::string("no checkpoint was completed yet")
                            : "the last complete checkpoint is " + last +
                                  " (resume_from_checkpoint: latest continues from it)"));
  }
}

}  // namespace tuna
