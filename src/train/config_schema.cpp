// The `tuna train` key table (see config.h). Defaults: TRL 0.25 SFTConfig (which overrides
// learning_rate 2e-5, logging_steps 10, gradient_checkpointing true and max_length 1024 of
// TrainingArguments), transformers 4.57 TrainingArguments, PEFT 0.18 LoraConfig, transformers
// BitsAndBytesConfig. NOT_YET keys are known names whose non-default values tuna cannot honour
// yet: setting one is the error "not supported yet: KEY", never silently ignored.
#include "train/config.h"

namespace tuna {

namespace {
constexpr ConfigSupport NOT_YET = ConfigSupport::NOT_YET;
using T = ConfigType;
}  // namespace

const std::vector<ConfigKey>& config_schema() {
  static const std::vector<ConfigKey> keys = {
      // ---- model ----
      {"model", "model", T::STRING, "null", "", "model_name_or_path,model_id,base_model",
       "the base model: a Hugging Face directory, a repo id in the local HF cache, or a GGUF file"},
      {"use_peft", "model", T::BOOL, "null", "", "",
       "true: train a LoRA adapter; false: full fine-tuning of every weight (TRL ModelConfig's "
       "name). Unset: true when a lora key or adapter is set, else tuna train asks (the HF "
       "Trainer without a LoraConfig trains every weight; TRL's CLI defaults to false)"},
      {"adapter", "model", T::STRING, "null", "", "",
       "start from an existing PEFT adapter directory (trained on with its own "
       "adapter_config.json, as PeftModel.from_pretrained(..., is_trainable=True))"},
      {"torch_dtype", "model", T::ENUM, "\"auto\"", "auto|float32|bfloat16|float16", "dtype",
       "weight dtype to load; bfloat16 also turns on bfloat16 matrix products (as bf16: true; "
       "trained weights stay float32 masters). Full fine-tuning saves the final model in it "
       "(auto: the base's dtype; unset: float32)"},
      {"trust_remote_code", "model", T::BOOL, "false", "", "",
       "accepted and changes nothing (true prints a note): tuna runs no Python model code; it "
       "loads the architectures it implements itself, EXAONE included"},
      {"device_map", "model", T::STRING, "null", "auto", "",
       "where the weights go: tuna places the model itself (the CPU, or the GPU it finds), which "
       "is what \"auto\" means; other placements ({\"\": 0}, \"cuda:0\", \"cpu\") can be deleted",
       NOT_YET},
      // ---- quantization (BitsAndBytesConfig) ----
      {"load_in_4bit", "quantization", T::BOOL, "false", "", "",
       "quantize the base's linear weights to 4 bits at load (QLoRA)"},
      {"load_in_8bit", "quantization", T::BOOL, "false", "", "", "LLM.int8 base weights", NOT_YET},
      {"bnb_4bit_quant_type", "quantization", T::ENUM, "\"fp4\"", "fp4|nf4", "",
       "4-bit data type (transformers' default is fp4; QLoRA uses nf4)"},
      {"bnb_4bit_compute_dtype", "quantization", T::ENUM, "\"float32\"", "float32|bfloat16|float16",
       "",
       "dtype of the 4-bit weights' matmuls (bfloat16: bfloat16 products with float32 "
       "accumulation, as bf16: true)"},
      {"bnb_4bit_use_double_quant", "quantization", T::BOOL, "false", "", "",
       "quantize the per-block scales too (≈0.4 bit/parameter saved)"},
      {"bnb_4bit_quant_storage", "quantization", T::ENUM, "\"uint8\"", "uint8", "",
       "storage dtype of the packed 4-bit weights"},
      {"llm_int8_skip_modules", "quantization", T::STRING_LIST, "null", "", "",
       "modules kept unquantized (default: the output head)"},
      // ---- lora (PEFT LoraConfig) ----
      {"r", "lora", T::INT, "8", ">0", "lora_r,rank", "LoRA rank"},
      {"lora_alpha", "lora", T::INT, "8", ">0", "alpha",
       "scaling numerator: scale = lora_alpha / r"},
      {"lora_dropout", "lora", T::FLOAT, "0.0", "0..<1", "", "dropout on the LoRA input"},
      {"target_modules", "lora", T::STRING_OR_LIST, "null", "", "",
       "module names (suffix match), one regex string (full match) or \"all-linear\"; default: "
       "PEFT's per-architecture default"},
      {"exclude_modules", "lora", T::STRING_OR_LIST, "null", "", "", "modules never adapted"},
      {"bias", "lora", T::ENUM, "\"none\"", "none|all|lora_only", "", "which biases train"},
      {"use_rslora", "lora", T::BOOL, "false", "", "", "scale = lora_alpha / sqrt(r)"},
      {"modules_to_save", "lora", T::STRING_LIST, "null", "", "",
       "modules trained in full and saved with the adapter (e.g. lm_head, embed_tokens)"},
      {"layers_to_transform", "lora", T::INT_OR_LIST, "null", ">=0", "",
       "only these layer indices"},
      {"layers_pattern", "lora", T::STRING_OR_LIST, "null", "", "",
       "the layer-list name layers_to_transform refers to"},
      {"fan_in_fan_out", "lora", T::BOOL, "false", "", "",
       "the base stores weights as [in, out] (GPT-2 Conv1D; set automatically)"},
      {"init_lora_weights", "lora", T::BOOL, "true", "", "",
       "A Kaiming-uniform, B zero (false: both random, for tests)"},
      {"task_type", "lora", T::ENUM, "\"CAUSAL_LM\"", "CAUSAL_LM", "", "PEFT task type"},
      {"use_dora", "lora", T::BOOL, "false", "", "", "weight-decomposed LoRA", NOT_YET},
      // ---- data ----
      {"dataset", "data", T::STRING, "null", "", "train_file,data_files,dataset_name",
       "training data: a JSONL, JSON or CSV file (or a Hub dataset id whose file is in the local "
       "HF cache)"},
      {"eval_dataset", "data", T::STRING, "null", "", "validation_file",
       "validation data file (else validation_split of the training data)"},
      {"dataset_format", "data", T::ENUM, "\"auto\"",
       "auto|alpaca|prompt_completion|messages|text|template", "",
       "row format; auto detects it from the columns"},
      {"template", "data", T::STRING, "null", "", "",
       "custom text template with {column} fields, e.g. \"### context: {input}\\n### question: "
       "{target}\""},
      {"template_list_separator", "data", T::STRING, "\"\\n\\n\"", "", "",
       "joins the items of a template field that is a list of strings (seed 003's RAFT context "
       "documents)"},
      {"dataset_text_field", "data", T::STRING, "\"text\"", "", "", "column of plain-text rows"},
      {"validation_split", "data", T::FLOAT, "0.0", "0..<1", "test_size",
       "fraction of the training data held out for evaluation"},
      {"max_samples", "data", T::OPTIONAL_INT, "null", ">0", "", "use only the first N rows"},
      {"skip_invalid", "data", T::BOOL, "false", "", "",
       "skip bad rows (counted, written to a rejects file) instead of stopping"},
      {"max_length", "data", T::OPTIONAL_INT, "1024", ">0", "max_seq_length",
       "truncate tokenized rows to this many tokens"},
      {"truncation_mode", "data", T::ENUM, "\"keep_start\"", "keep_start|keep_end", "",
       "which end of a long row is kept"},
      {"packing", "data", T::BOOL, "false", "", "",
       "pack rows into sequences of up to max_length tokens (no attention across rows)"},
      {"packing_strategy", "data", T::ENUM, "\"bfd\"", "bfd|wrapped", "",
       "bfd: whole rows, best-fit decreasing; wrapped: one token stream cut every max_length"},
      {"eval_packing", "data", T::BOOL, "null", "", "",
       "pack the validation rows too (default: as packing)"},
      {"completion_only_loss", "data", T::BOOL, "null", "", "",
       "loss on the completion only (default: true for prompt/completion, alpaca and template "
       "rows; TRL trains alpaca/template text whole: false); the run's loss line says which "
       "tokens train"},
      {"assistant_only_loss", "data", T::BOOL, "false", "", "",
       "loss on assistant turns only (messages data)"},
      {"eos_token", "data", T::STRING, "null", "", "",
       "the token appended to text rows and completions (and the chat template's eos_token), "
       "instead of the tokenizer's EOS; must be one token of the vocabulary"},
      {"pad_token", "data", T::STRING, "null", "", "",
       "the padding id of the batches (default: the tokenizer's pad, else the EOS); must be one "
       "token of the vocabulary. Padding is never scored, so the loss does not change"},
      // ---- training (SFTConfig / TrainingArguments) ----
      {"output_dir", "training", T::STRING, "\"trainer_output\"", "", "",
       "where checkpoints, metrics and the final adapter or model go"},
      {"num_train_epochs", "training", T::FLOAT, "3.0", ">0", "epochs", "passes over the data"},
      {"max_steps", "training", T::INT, "-1", "-1 or >0", "",
       "optimizer steps; > 0 overrides num_train_epochs"},
      {"per_device_train_batch_size", "training", T::INT, "8", ">0", "batch_size",
       "rows per micro-batch"},
      {"per_device_eval_batch_size", "training", T::INT, "8", ">0", "", "rows per eval batch"},
      {"gradient_accumulation_steps", "training", T::INT, "1", ">0", "grad_accum",
       "micro-batches per optimizer step"},
      {"learning_rate", "training", T::FLOAT, "2e-05", ">0", "lr", "peak learning rate"},
      {"lr_scheduler_type", "training", T::ENUM, "\"linear\"",
       "linear|cosine|cosine_with_restarts|polynomial|constant|constant_with_warmup|inverse_sqrt|"
       "cosine_with_min_lr|cosine_warmup_with_min_lr|warmup_stable_decay",
       "", "learning-rate schedule"},
      {"lr_scheduler_kwargs", "training", T::MAP, "{}", "", "",
       "schedule options: the keys below named lr_scheduler_kwargs.*, each for the schedules "
       "whose transformers function takes it"},
      {"warmup_steps", "training", T::FLOAT, "0", ">=0", "",
       "warm-up steps (a value below 1 is a ratio of the total)"},
      {"warmup_ratio", "training", T::FLOAT, "0.0", "0..1", "", "warm-up as a ratio of the total"},
      {"weight_decay", "training", T::FLOAT, "0.0", ">=0", "",
       "decoupled weight decay (not on biases and norm weights)"},
      {"adam_beta1", "training", T::FLOAT, "0.9", "0..<1", "", "AdamW beta1"},
      {"adam_beta2", "training", T::FLOAT, "0.999", "0..<1", "", "AdamW beta2"},
      {"adam_epsilon", "training", T::FLOAT, "1e-08", ">0", "", "AdamW epsilon"},
      {"max_grad_norm", "training", T::FLOAT, "1.0", ">=0", "", "gradient clipping (0: off)"},
      {"optim", "training", T::STRING, "\"adamw_torch_fused\"", "", "",
       "optimizer: adamw_torch, adamw_torch_fused, paged_adamw_32bit, adamw_8bit, "
       "adamw_bnb_8bit, paged_adamw_8bit, sgd"},
      {"optim_args", "training", T::STRING, "null", "", "",
       "transformers' \"key=value,...\" options for the optimizer", NOT_YET},
      {"seed", "training", T::INT, "42", "0..4294967295", "",
       "seed of initialisation, dropout and shuffling"},
      {"data_seed", "training", T::OPTIONAL_INT, "null", "0..4294967295", "",
       "seed of shuffling only"},
      {"gradient_checkpointing", "training", T::BOOL, "true", "", "",
       "recompute each block in the backward instead of keeping its activations"},
      {"gradient_checkpointing_kwargs", "training", T::MAP, "{}", "", "",
       "torch.utils.checkpoint options: the keys below named gradient_checkpointing_kwargs.*"},
      {"bf16", "training", T::BOOL, "null", "", "",
       "bfloat16 matrix products with float32 accumulation (on a CPU with AVX512-BF16; "
       "elsewhere float32, with a notice); everything else stays float32"},
      {"fp16", "training", T::BOOL, "false", "", "",
       "float16 compute (GPU); on the CPU accepted with a notice, computing in float32 "
       "(use bf16 there)"},
      {"use_cpu", "training", T::BOOL, "false", "", "",
       "train on the CPU even with a GPU (tuna trains on the CPU only for now; the run's device "
       "line says so)"},
      {"logging_strategy", "training", T::ENUM, "\"steps\"", "no|steps|epoch", "",
       "when to log the training loss (console and metrics.jsonl): every logging_steps, at each "
       "epoch's end (loss averaged over the epoch), or never (the final summary is still "
       "written)"},
      {"logging_steps", "training", T::INT, "10", ">0", "", "log every N steps"},
      {"eval_strategy", "training", T::ENUM, "\"no\"", "no|steps|epoch", "evaluation_strategy",
       "when to evaluate"},
      {"eval_steps", "training", T::OPTIONAL_INT, "null", ">0", "",
       "evaluate every N steps (default: logging_steps)"},
      {"save_strategy", "training", T::ENUM, "\"steps\"", "no|steps|epoch", "",
       "when to save: steps every save_steps and at the last step, epoch at each epoch's end (the "
       "last included), as the HF Trainer"},
      {"save_steps", "training", T::INT, "500", ">0", "", "save every N steps"},
      {"save_total_limit", "training", T::OPTIONAL_INT, "null", ">0", "",
       "keep at most N checkpoints"},
      {"resume_from_checkpoint", "training", T::STRING, "null", "", "",
       "a checkpoint-N directory to continue from, or \"latest\" (the newest complete one in "
       "output_dir); the loss curve continues as if never stopped"},
      {"report_to", "training", T::STRING_OR_LIST, "\"none\"", "", "",
       "only \"none\": tuna writes output_dir/metrics.jsonl", NOT_YET},
      {"logging_dir", "training", T::STRING, "null", "", "", "TensorBoard log directory", NOT_YET},
      {"load_best_model_at_end", "training", T::BOOL, "false", "", "",
       "keep the best checkpoint by eval loss", NOT_YET},
      {"push_to_hub", "training", T::BOOL, "false", "", "",
       "tuna never uploads: private data stays on the machine", NOT_YET},
      {"overwrite_output_dir", "training", T::BOOL, "false", "", "",
       "write into a non-empty output_dir"},
      {"disable_tqdm", "training", T::BOOL, "false", "", "",
       "no progress bar on the terminal (the log lines still print)"},
  };
  return keys;
}

// The keys inside the MAP keys. lr_scheduler_kwargs: the keyword arguments of transformers 4.57's
// schedule functions (optimization.py) that get_scheduler passes on; gradient_checkpointing_kwargs:
// torch.utils.checkpoint's. `section` names the MAP key; "null" defaults mean "the function's own".
const std::vector<ConfigKey>* nested_config_schema(const std::string& map_key) {
  static const std::vector<ConfigKey> scheduler = {
      {"num_cycles", "lr_scheduler_kwargs", T::FLOAT, "null", ">0", "",
       "cosine waves (cosine*, cosine_with_restarts, warmup_stable_decay; default 0.5, "
       "cosine_with_restarts 1)"},
      {"power", "lr_scheduler_kwargs", T::FLOAT, "null", ">0", "",
       "polynomial: decay power (default 1.0)"},
      {"lr_end", "lr_scheduler_kwargs", T::FLOAT, "null", ">=0", "",
       "polynomial: final learning rate, below learning_rate (default 1e-7)"},
      {"min_lr", "lr_scheduler_kwargs", T::FLOAT, "null", ">=0", "",
       "cosine_with_min_lr, cosine_warmup_with_min_lr: the floor, at most learning_rate (this or "
       "min_lr_rate)"},
      {"min_lr_rate", "lr_scheduler_kwargs", T::FLOAT, "null", "0..1", "",
       "cosine_with_min_lr, cosine_warmup_with_min_lr: the floor as a fraction of learning_rate"},
      {"warmup_lr_rate", "lr_scheduler_kwargs", T::FLOAT, "null", "0..1", "",
       "cosine_warmup_with_min_lr: the warm-up's starting fraction"},
      {"num_decay_steps", "lr_scheduler_kwargs", T::INT, "null", ">=0", "",
       "warmup_stable_decay (required): steps of the final decay"},
      {"num_stable_steps", "lr_scheduler_kwargs", T::INT, "null", ">=0", "",
       "warmup_stable_decay: steps at the peak (default: the rest)"},
      {"warmup_type", "lr_scheduler_kwargs", T::ENUM, "null", "linear|cosine|1-sqrt", "",
       "warmup_stable_decay: warm-up shape (default linear)"},
      {"decay_type", "lr_scheduler_kwargs", T::ENUM, "null", "linear|cosine|1-sqrt", "",
       "warmup_stable_decay: decay shape (default cosine)"},
      {"min_lr_ratio", "lr_scheduler_kwargs", T::FLOAT, "null", "0..1", "",
       "warmup_stable_decay: the floor as a fraction of learning_rate (default 0)"},
      {"timescale", "lr_scheduler_kwargs", T::INT, "null", ">0", "",
       "inverse_sqrt's own argument, which transformers' get_scheduler never passes: refused"},
  };
  static const std::vector<ConfigKey> checkpointing = {
      {"use_reentrant", "gradient_checkpointing_kwargs", T::BOOL, "null", "", "",
       "PyTorch's implementation switch; tuna's recomputation gives the same gradients either "
       "way, so both values are accepted"},
      {"preserve_rng_state", "gradient_checkpointing_kwargs", T::BOOL, "true", "", "",
       "tuna always replays the same dropout masks", NOT_YET},
      {"determinism_check", "gradient_checkpointing_kwargs", T::ENUM, "\"default\"", "default|none",
       "", "PyTorch's recomputation check", NOT_YET},
      {"debug", "gradient_checkpointing_kwargs", T::BOOL, "false", "", "",
       "PyTorch's recomputation trace", NOT_YET},
  };
  if (map_key == "lr_scheduler_kwargs") return &scheduler;
  if (map_key == "gradient_checkpointing_kwargs") return &checkpointing;
  return nullptr;
}

}  // namespace tuna
