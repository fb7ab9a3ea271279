#!/usr/bin/env python3
"""Seed goldens: the token ids and trained-token masks the seeds' own Python gives for a few rows
in each seed's data shape (../shared/seeds/000-004), for tests/app/test_seed_configs.cpp, which
prepares the same rows with tuna from the config docs/guide-seeds.md gives and compares exactly.

Inputs (hand-written, committed): tests/golden/seeds/seedNNN/*.jsonl — rows in the seed's shape,
the seed's own example rows where it gives them. Outputs: tests/golden/seeds/seedNNN/golden.json
{"seed", "processing", "files": {file: [{"text"?, "input_ids", "trained"}]}} (`trained[t]` is 1
where labels[t] != -100 after the collator the seed's trainer uses, row by row, no padding) and
tests/golden/seeds/manifest.json (versions, sha256 of every input and output).

The tokenizer is Gemma 3's (../shared/assets/tokenizers/gemma3), standing in for each seed's
model, with one change: its tokenizer_config.json names <end_of_turn> as EOS, while the model the
tests train (the Gemma 3 270M GGUF of scripts/setup.sh) declares <eos> (tokenizer.ggml.eos_token_id
1). The goldens use the trained model's EOS, so the EOS a trainer appends is the model's own.

How each seed processes its rows (the seed's code, run here; TRL's own preparation where the seed
uses SFTTrainer: the trainer is built and its train_dataset / data_collator are read):
  000  tokenize_function: f"### Instruction:\\n{instruction}\\n\\n### Input:\\n{input or ''}\\n\\n
       ### Response:\\n{output}" through tokenizer(text, max_length=512, truncation=True) (BOS, no
       EOS); the plain Trainer needs labels, and the collator that gives a causal LM its labels is
       transformers' DataCollatorForLanguageModeling(mlm=False): labels = input_ids (pad -100).
  001  formatting_prompts_func (### Instruction/### Input/### Response + "\\n") into "text";
       SFTTrainer(SFTConfig(max_length=512, dataset_text_field="text", ...)): text + EOS.
  002  dataset.map(text = f"### context: {input}\\n### question: {target}"); SFTTrainer(args=
       TrainingArguments(...), formatting_func=lambda x: x["text"]): text + EOS, max_length 1024
       (SFTConfig's default: TRL converts TrainingArguments to SFTConfig).
  003  the seed leaves the RAFT formatting open; the most literal reading, written down here and
       in docs/guide-seeds.md: its record fields in the shape of its own inference prompt
       ("문맥: ...\\n질문: ..."), context documents joined with a blank line, cot optional (empty
       when absent, as sample.get("cot", "")):
         f"{instruction}\\n\\n문맥: {context}\\n질문: {question}\\n추론: {cot}\\n답변: {answer}"
       and its plain Trainer as seed 000's: tokenizer(text) (no max_length given), labels =
       input_ids. raft_validation.jsonl (its eval_dataset) is processed the same way.
  004  OpenAI chat rows {"messages": [...]} through SFTTrainer (TrainingArguments of its LoRA
       part): the chat template renders each conversation, every token trains
       (assistant_only_loss False), no EOS added (TRL adds none to conversations).
Model loading, quantization and LoRA do not change the data and are left out; so is output_dir
(a temporary directory). The trainer needs a model object: a one-layer random Gemma 3 with the
tokenizer's vocabulary.

Usage: python make_seed_goldens.py [--out DIR]   (normally via regenerate.sh seeds)
"""

import argparse
import gzip
import hashlib
import json
import os
import platform
import shutil
import sys
import tempfile

import datasets
import torch
import transformers
import trl
from datasets import load_dataset
from transformers import (AutoTokenizer, DataCollatorForLanguageModeling, Gemma3ForCausalLM,
                          Gemma3TextConfig, TrainingArguments)
from trl import SFTConfig, SFTTrainer

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
DEFAULT_OUT = os.path.join(ROOT, "tests", "golden", "seeds")
TOKENIZER_DIR = os.path.abspath(os.path.join(ROOT, "..", "shared", "assets", "tokenizers", "gemma3"))
MODEL_EOS = "<eos>"  # the GGUF's tokenizer.ggml.eos_token_id (1)
SEED = 42


def sha256_file(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def load_tokenizer(tmp):
    """The Gemma 3 tokenizer with the trained model's EOS (see the docstring)."""
    d = os.path.join(tmp, "tokenizer")
    os.makedirs(d)
    with gzip.open(os.path.join(TOKENIZER_DIR, "tokenizer.json.gz"), "rb") as src, \
            open(os.path.join(d, "tokenizer.json"), "wb") as dst:
        shutil.copyfileobj(src, dst)
    shutil.copy(os.path.join(TOKENIZER_DIR, "tokenizer_config.json"), d)
    tok = AutoTokenizer.from_pretrained(d)
    tok.eos_token = MODEL_EOS
    assert tok.eos_token_id == 1, tok.eos_token_id
    return tok


def tiny_model(tok):
    torch.manual_seed(SEED)
    cfg = Gemma3TextConfig(vocab_size=len(tok), hidden_size=8, intermediate_size=16,
                           num_hidden_layers=1, num_attention_heads=1, num_key_value_heads=1,
                           head_dim=8, pad_token_id=tok.pad_token_id)
    return Gemma3ForCausalLM(cfg)


def row_out(input_ids, labels, text=None):
    out = {} if text is None else {"text": text}
    out["input_ids"] = [int(i) for i in input_ids]
    out["trained"] = [int(l != -100) for l in labels]
    return out


def trainer_rows(ds, collator, text_key=None):
    """Each prepared row through the collator alone (no padding), as the trainer batches it."""
    rows = []
    for ex in ds:
        batch = collator([{k: v for k, v in ex.items() if k in ("input_ids", "completion_mask",
                                                                  "assistant_masks")}])
        rows.append(row_out(batch["input_ids"][0].tolist(), batch["labels"][0].tolist(),
                            ex.get(text_key) if text_key else None))
    return rows


def lm_collator_rows(tokenized, tok, texts):
    """transformers' causal-LM collator (mlm=False) on each tokenized row alone."""
    collator = DataCollatorForLanguageModeling(tokenizer=tok, mlm=False)
    rows = []
    for ex, text in zip(tokenized, texts):
        batch = collator([{"input_ids": ex["input_ids"]}])
        rows.append(row_out(batch["input_ids"][0].tolist(), batch["labels"][0].tolist(), text))
    return rows


# --- seed 000: Trainer + tokenize_function ---------------------------------------------------

def seed000(tok, data_dir, tmp):
    dataset = load_dataset("json", data_files=os.path.join(data_dir, "vue_finetuning_data.jsonl"))

    def tokenize_function(examples):  # the seed's function, verbatim
        text = []
        for i in range(len(examples['instruction'])):
            input_text = examples['input'][i] if examples['input'][i] else ""
            full_text = f"### Instruction:\n{examples['instruction'][i]}\n\n### Input:\n{input_text}\n\n### Response:\n{examples['output'][i]}"
            text.append(full_text)
        return tokenizer(text, max_length=512, truncation=True)

    tokenizer = tok
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    tokenized = dataset.map(tokenize_function, batched=True)["train"]
    texts = [f"### Instruction:\n{r['instruction']}\n\n### Input:\n{r['input'] or ''}\n\n"
             f"### Response:\n{r['output']}" for r in dataset["train"]]
    return {"vue_finetuning_data.jsonl": lm_collator_rows(tokenized, tok, texts)}


# --- seed 001: formatting_prompts_func + SFTTrainer(dataset_text_field="text") ---------------

def seed001(tok, data_dir, tmp):
    def formatting_prompts_func(example):  # the seed's function, verbatim
        # Process a single example
        text = f"""### Instruction:
{example['instruction']}

### Input:
{example['input']}

### Response:
{example['output']}
"""
        return {"text": text}

    dataset = load_dataset("json", data_files=os.path.join(data_dir, "train_dataset.jsonl"),
                           split="train")
    dataset = dataset.map(formatting_prompts_func)
    training_args = SFTConfig(
        output_dir=os.path.join(tmp, "gemma3-270m-finetuned-adapter"),
        per_device_train_batch_size=4,
        gradient_accumulation_steps=4,
        learning_rate=2e-4,
        logging_steps=10,
        num_train_epochs=3,
        save_strategy="epoch",
        max_length=512,
        dataset_text_field="text",
        report_to="none",
        bf16=False,  # SFTConfig turns bf16 on by default, which this CPU-only run refuses
    )
    # The seed passes no processing_class: SFTTrainer loads the model's own tokenizer.
    trainer = SFTTrainer(model=tiny_model(tok), train_dataset=dataset, args=training_args,
                         processing_class=tok)
    return {"train_dataset.jsonl": trainer_rows(trainer.train_dataset, trainer.data_collator, "text")}


# --- seed 002: dataset.map + formatting_func + SFTTrainer(TrainingArguments) -----------------

def seed002(tok, data_dir, tmp):
    tokenizer = tok
    tokenizer.pad_token = tokenizer.eos_token  # the seed's line
    dataset = load_dataset("json", data_files={
        "train": os.path.join(data_dir, "korean_socratic_qa_train.jsonl")})
    formatted_dataset = dataset.map(
        lambda x: {
            "text": f"### context: {x['input']}\n### question: {x['target']}"
        }
    )
    formatted_dataset['train'] = formatted_dataset['train'].select(
        range(min(1000, len(formatted_dataset['train']))))
    training_args = TrainingArguments(
        output_dir=os.path.join(tmp, "Gemma-sft-output"),
        num_train_epochs=1,
        per_device_train_batch_size=4,
        optim="adamw_torch",
        learning_rate=1e-4,
        logging_steps=10,
        report_to="none",
    )
    trainer = SFTTrainer(
        model=tiny_model(tok),
        train_dataset=formatted_dataset['train'],
        args=training_args,
        formatting_func=lambda x: x['text'],
        processing_class=tokenizer,
    )
    return {"korean_socratic_qa_train.jsonl":
            trainer_rows(trainer.train_dataset, trainer.data_collator, "text")}


# --- seed 003: RAFT records, Trainer ---------------------------------------------------------

def raft_text(sample):
    """The RAFT record as text (the reading written down in the docstring)."""
    context = sample["context"]
    if isinstance(context, list):
        context = "\n\n".join(context)
    cot = sample.get("cot") or ""
    return (f"{sample['instruction']}\n\n문맥: {context}\n질문: {sample['question']}\n"
            f"추론: {cot}\n답변: {sample['answer']}")


def seed003(tok, data_dir, tmp):
    tokenizer = tok
    tokenizer.pad_token = tokenizer.eos_token  # the seed's line
    out = {}
    for name in ("raft_train.jsonl", "raft_validation.jsonl"):
        with open(os.path.join(data_dir, name), encoding="utf-8") as f:
            samples = [json.loads(line) for line in f if line.strip()]
        texts = [raft_text(s) for s in samples]
        tokenized = [tokenizer(t) for t in texts]
        out[name] = lm_collator_rows(tokenized, tok, texts)
    return out


# --- seed 004: OpenAI chat rows through SFTTrainer's chat-template path ----------------------

def seed004(tok, data_dir, tmp):
    dataset = load_dataset("json", data_files=os.path.join(data_dir, "training_data.jsonl"),
                           split="train")
    training_args = TrainingArguments(
        output_dir=os.path.join(tmp, "results"),
        num_train_epochs=3,
        per_device_train_batch_size=4,
        learning_rate=2e-4,
        logging_steps=10,
        save_steps=100,
        report_to="none",
    )
    trainer = SFTTrainer(model=tiny_model(tok), args=training_args, train_dataset=dataset,
                         processing_class=tok)
    rows = trainer_rows(trainer.train_dataset, trainer.data_collator)
    for r, ex in zip(rows, dataset):
        r["text"] = tok.apply_chat_template(ex["messages"], tokenize=False)
    return {"training_data.jsonl": [{"text": r.pop("text"), **r} for r in rows]}


def golden_json(seed, processing, files):
    """golden.json with one row a line (readable diffs, no line per token)."""
    def dump(v):
        return json.dumps(v, ensure_ascii=False, separators=(",", ":"))
    parts = []
    for name, rows in files.items():
        parts.append(f"  {dump(name)}: [\n" + ",\n".join("   " + dump(r) for r in rows) + "\n  ]")
    return (f"{{\"seed\": {dump(seed)},\n \"processing\": {dump(processing)},\n \"files\": {{\n"
            + ",\n".join(parts) + "\n }\n}\n")


SEEDS = {
    "000": (seed000, "tokenize_function (BOS, no EOS, max_length 512) + Trainer with "
                     "DataCollatorForLanguageModeling(mlm=False)"),
    "001": (seed001, "formatting_prompts_func + SFTTrainer(dataset_text_field='text', max_length=512)"),
    "002": (seed002, "dataset.map template + SFTTrainer(formatting_func, TrainingArguments)"),
    "003": (seed003, "RAFT text (see make_seed_goldens.py) + Trainer with "
                     "DataCollatorForLanguageModeling(mlm=False)"),
    "004": (seed004, "messages + SFTTrainer chat template (assistant_only_loss=False)"),
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=DEFAULT_OUT)
    args = ap.parse_args()
    datasets.disable_caching()
    datasets.disable_progress_bars()
    inputs, outputs = {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        for seed, (fn, processing) in SEEDS.items():
            data_dir = os.path.join(args.out, "seed" + seed)
            tok = load_tokenizer(os.path.join(tmp, seed))
            files = fn(tok, data_dir, os.path.join(tmp, seed))
            golden = os.path.join(data_dir, "golden.json")
            with open(golden, "w", encoding="utf-8") as f:
                f.write(golden_json(seed, processing, files))
            for name in files:
                inputs[f"seed{seed}/{name}"] = sha256_file(os.path.join(data_dir, name))
            outputs[f"seed{seed}/golden.json"] = sha256_file(golden)
            print(golden)
    manifest = {
        "description": "Token ids and trained-token masks of the seeds' own Python on rows in each "
                       "seed's shape. See the script's docstring.",
        "command": "tools/reference/regenerate.sh seeds",
        "script": "tools/reference/make_seed_goldens.py",
        "tokenizer": "../shared/assets/tokenizers/gemma3 with eos_token " + MODEL_EOS,
        "versions": {"python": platform.python_version(), "torch": torch.__version__,
                     "transformers": transformers.__version__, "trl": trl.__version__,
                     "datasets": datasets.__version__},
        "seed": SEED,
        "sha256_inputs": inputs,
        "sha256": outputs,
    }
    with open(os.path.join(args.out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    sys.exit(main())
