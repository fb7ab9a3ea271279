// The optimizer-step loop (see trainer.h). The order of operations per step is the HF Trainer's:
// zero grads, forward/backward of every micro-batch with the whole-batch normaliser, clip (the
// norm is measured before clipping), optimizer step at lr(step), scheduler step.
#include "train/trainer.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/error.h"
#include "model/train_step.h"
#include "train/dataset_prep.h"
#include "train/grad_clip.h"

namespace tuna {

MicroBatch collate(const std::vector<TrainRow>& rows, size_t first, size_t n, int32_t pad_id,
                   const std::vector<size_t>* order) {
  auto row = [&](size_t i) -> const TrainRow& { return rows[order ? (*order)[i] : i]; };
  size_t T = 1;
  bool packed = false;
  for (size_t i = first; i < first + n; ++i) {
    T = std::max(T, row(i).input_ids.size());
    packed = packed || !row(i).position_ids.empty();
  }
  const auto B = static_cast<int64_t>(n);
  MicroBatch mb;
  mb.rows = B;
  mb.input_ids = Tensor::empty({B, static_cast<int64_t>(T)}, DType::I32);
  mb.attention_mask = Tensor::empty({B, static_cast<int64_t>(T)}, DType::I32);
  mb.labels = Tensor::empty({B, static_cast<int64_t>(T)}, DType::I32);
  int32_t* ids = mb.input_ids.data_mut<int32_t>();
  int32_t* mask = mb.attention_mask.data_mut<int32_t>();
  int32_t* labels = mb.labels.data_mut<int32_t>();
  int32_t* pos = nullptr;
  if (packed) {
    mb.position_ids = Tensor::empty({B, static_cast<int64_t>(T)}, DType::I32);
    pos = mb.position_ids.data_mut<int32_t>();
  }
  for (size_t b = 0; b < n; ++b) {
    const TrainRow& r = row(first + b);
    TUNA_ASSERT(r.labels.size() == r.input_ids.size(), "row labels and ids differ in length");
    TUNA_ASSERT(r.position_ids.empty() || r.position_ids.size() == r.input_ids.size(),
                "row position_ids and ids differ in length");
    for (size_t t = 0; t < T; ++t) {
      const bool real = t < r.input_ids.size();
      ids[b * T + t] = real ? r.input_ids[t] : pad_id;
      mask[b * T + t] = real ? 1 : 0;
      labels[b * T + t] = real ? r.labels[t] : -100;
      if (pos != nullptr)
        pos[b * T + t] =
            !real ? 0 : (r.position_ids.empty() ? static_cast<int32_t>(t) : r.position_ids[t]);
    }
  }
  return mb;
}

namespace {

// transformers 4.57's num_items_in_batch: labels != -100 over the unshifted labels (the first
// position of each row counts although the shift never scores it; in packed rows TRL's collator
// has set every sample's first label to -100, so there it is exactly the scored tokens).
int64_t hf_num_items(const MicroBatch& mb) {
  int64_t n = 0;
  const int32_t* l = mb.labels.data<int32_t>();
  for (int64_t i = 0, e = mb.labels.numel(); i < e; ++i) n += l[i] != -100;
  return n;
}

// TRL's num_tokens: attention_mask.sum(), or with padding-free packing position_ids.size(1) of
// the flattened batch — the real tokens either way.
int64_t input_tokens(const MicroBatch& mb) {
  int64_t n = 0;
  const int32_t* m = mb.attention_mask.data<int32_t>();
  for (int64_t i = 0, e = mb.attention_mask.numel(); i < e; ++i) n += m[i] != 0;
  return n;
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

Trainer::Trainer(TrainerArgs args, std::vector<TrainableParam> params, GradientFn gradients)
    : args_(std::move(args)), params_(std::move(params)), gradients_(std::move(gradients)) {
  if (args_.per_device_train_batch_size < 1)
    throw_user_error("config", "per_device_train_batch_size must be at least 1",
                     "e.g. per_device_train_batch_size: 4");
  if (args_.gradient_accumulation_steps < 1)
    throw_user_error("config", "gradient_accumulation_steps must be at least 1",
                     "e.g. gradient_accumulation_steps: 4");
  optimizer_ = make_optimizer(args_.optim, params_, args_.optimizer);
}

int64_t Trainer::total_steps(size_t n_rows) const {
  if (args_.max_steps > 0) return args_.max_steps;
  // transformers 4.57: max_steps = ceil(num_train_epochs × updates per epoch).
  return static_cast<int64_t>(
      std::ceil(args_.num_train_epochs * static_cast<double>(updates_per_epoch(n_rows))));
}

int64_t Trainer::updates_per_epoch(size_t n_rows) const {
  // HF's inner loop: an epoch of `batches` micro-batches makes batches // accumulation full
  // updates plus one short update of the remaining micro-batches, if any (the last micro-batches
  // of an epoch never wait for the next epoch); at least one.
  const int64_t batches = (static_cast<int64_t>(n_rows) + args_.per_device_train_batch_size - 1) /
                          args_.per_device_train_batch_size;
  const int64_t acc = args_.gradient_accumulation_steps;
  return std::max<int64_t>(batches / acc + (batches % acc != 0 ? 1 : 0), 1);
}

std::vector<StepLog> Trainer::train(const std::vector<TrainRow>& rows,
                                    const std::function<void(const StepLog&)>& on_step) {
  if (rows.empty())
    throw_user_error("train", "the training set is empty", "add rows to the dataset");
  const int64_t total = total_steps(rows.size());
  const int64_t warmup = hf_warmup_steps(args_.warmup_steps, args_.warmup_ratio, total);
  LrSchedule schedule(args_.lr_scheduler_type, args_.learning_rate, warmup, total,
                      args_.lr_scheduler_kwargs);
  const size_t bs = static_cast<size_t>(args_.per_device_train_batch_size);
  const int64_t batches_per_epoch = static_cast<int64_t>((rows.size() + bs - 1) / bs);
  const int64_t acc = args_.gradient_accumulation_steps;
  const int64_t per_epoch = updates_per_epoch(rows.size());
  std::vector<StepLog> logs;
  int64_t tokens_seen = args_.start_tokens, loaded_epoch = -1;
  std::vector<size_t> order;  // this epoch's row order when shuffling
  for (int64_t step = args_.start_step; step < total; ++step) {
    for (TrainableParam& p : params_) std::memset(p.grad.raw_mut(), 0, p.grad.nbytes());
    // Which micro-batches: update u of epoch e takes batches [u·acc, min(u·acc + acc, batches)).
    const int64_t epoch = step / per_epoch, u = step % per_epoch;
    const int64_t first_batch = u * acc;
    const int64_t n_micro = std::min(acc, batches_per_epoch - first_batch);
    if (args_.shuffle_seed >= 0 && epoch != loaded_epoch) {
      order = seeded_permutation(rows.size(), static_cast<uint64_t>(args_.shuffle_seed),
                                 static_cast<uint64_t>(epoch));
      loaded_epoch = epoch;
    }
    std::vector<MicroBatch> micro;
    for (int64_t k = 0; k < n_micro; ++k) {
      const size_t first = static_cast<size_t>(first_batch + k) * bs;
      micro.push_back(collate(rows, first, std::min(bs, rows.size() - first), args_.pad_token_id,
                              args_.shuffle_seed >= 0 ? &order : nullptr));
    }
    int64_t items = 0;
    for (const MicroBatch& mb : micro) items += hf_num_items(mb);
    const float scale = items > 0 ? static_cast<float>(1.0 / static_cast<double>(items)) : 0.0f;
    double loss_sum = 0;
    int64_t counted = 0, correct = 0;
    for (size_t k = 0; k < micro.size(); ++k) {
      MicroStats s = gradients_(micro[k], scale, step, static_cast<int>(k));
      // HF accumulates each micro-batch's loss_sum / num_items_in_batch in F32 tensors.
      loss_sum += static_cast<double>(static_cast<float>(s.loss_sum / static_cast<double>(items)));
      counted += s.counted;
      correct += s.correct;
      tokens_seen += input_tokens(micro[k]);
    }
    StepLog log;
    log.step = step + 1;
    log.loss = loss_sum;
    log.num_items_in_batch = items;
    log.grad_norm = clip_grad_norm(params_, args_.max_grad_norm);
    log.lr_used = schedule.lr(step);
    optimizer_->step(log.lr_used);
    log.learning_rate = schedule.lr(step + 1);
    log.epoch = static_cast<double>(epoch) +
                static_cast<double>(first_batch + n_micro) / static_cast<double>(batches_per_epoch);
    log.epoch_end = u == per_epoch - 1;
    log.num_tokens = tokens_seen;
    log.mean_token_accuracy = counted > 0 ? static_cast<double>(correct) / counted : 0.0;
    if (!std::isfinite(log.loss))
      throw_user_error(
          "train",
          "the loss became " + std::to_string(log.loss) + " at step " + std::to_string(log.step),
          "lower learning_rate, or train in float32");
    logs.push_back(log);
    if (on_step) on_step(log);
  }
  return logs;
}

}  // namespace tuna
