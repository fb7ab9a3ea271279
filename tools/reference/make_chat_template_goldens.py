#!/usr/bin/env python3
"""Chat-template parity goldens (DESIGN.md §3 "chat templates", §4, §8 "Goldens").

Writes tests/golden/chat_template/:
  <name>.jsonl.gz   one record per rendering (see README.md there for the format): the inputs
                    (messages, tools, add_generation_prompt, extra template variables, bos/eos)
                    and what transformers renders for them, or the exception it raises, plus the
                    {% generation %} spans as UTF-8 byte offsets
  manifest.json     command, versions, seed, sha256 of every template and output, counts
It reads only the committed template copies in tests/golden/chat_template/templates/
(templates/SOURCES.md gives their provenance). `--import-from DIR` (re)creates those copies
from the shared reference assets (DIR = the folder holding tokenizers/ and chat_templates/);
it is run once by hand, never by regenerate.sh.

Rendering is transformers' own: utils.chat_template_utils.render_jinja_template, which is what
PreTrainedTokenizerBase.apply_chat_template calls with template_kwargs = special_tokens_map +
kwargs. For gemma3, qwen3 and llama3 every record is also rendered through
PreTrainedTokenizerFast(...).apply_chat_template(..., tokenize=False) (tokenizer files from
tests/golden/tokenizer/) and must give the same string / the same exception.

Usage: python make_chat_template_goldens.py [--out DIR] [--only NAME ...]
       python make_chat_template_goldens.py --import-from /work/shared/assets
"""

import argparse
import copy
import gzip
import hashlib
import io
import json
import os
import platform
import random
import shutil
import sys
import tempfile

import jinja2
import transformers
from transformers import PreTrainedTokenizerFast
from transformers.utils.chat_template_utils import render_jinja_template

SEED = 20240726
N_RANDOM = 44  # random plain conversations per template (the fixed cases come on top)
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GOLDEN = os.path.join(ROOT, "tests", "golden", "chat_template")
DATE = "26 Jul 2024"

# name -> template file, bos_token / eos_token passed to the template (None: not passed, i.e.
# undefined in the template, as apply_chat_template does for a tokenizer whose token is unset)
TEMPLATES = {
    "gemma3": dict(bos="<bos>", eos="<end_of_turn>"),
    "qwen3": dict(bos=None, eos="<|im_end|>"),
    "llama3": dict(bos="<|begin_of_text|>", eos="<|eot_id|>"),
    "llama4": dict(bos="<|begin_of_text|>", eos="<|eot|>"),
    "mistral": dict(bos="<s>", eos="</s>"),
    "exaone3": dict(bos="[BOS]", eos="[|endofturn|]"),
    "chatml": dict(bos="<s>", eos="<|im_end|>"),
    "phi3": dict(bos="<s>", eos="<|endoftext|>"),
    "generation": dict(bos=None, eos="<|im_end|>"),
}
# templates rendered a second time through PreTrainedTokenizerFast.apply_chat_template:
# name -> committed tokenizer folder under tests/golden/tokenizer/ (+ config overrides)
EQUIVALENCE = {
    "gemma3": ("gemma3", {}),
    "qwen3": ("qwen3", {}),
    # llama3_1's tokenizer.json is not committed; the chat-template path does not look at the
    # vocabulary, so the trained llama3_style tokenizer with Llama 3.1's special tokens stands in
    "llama3": ("llama3_style", {"bos_token": "<|begin_of_text|>", "eos_token": "<|eot_id|>"}),
}

# ----------------------------------------------------------------------------- text pool

KO_NEWS = [
    "정부는 올해 경제 성장률 전망치를 2.1%로 하향 조정했다고 밝혔다.",
    "서울 아파트 가격이 3주 연속 상승한 것으로 나타났다 (한국부동산원, 2024년 7월 기준).",
    "삼성전자는 2분기 영업이익이 10조4천억원으로 전년 동기 대비 1,452% 증가했다고 발표했다.",
    "기상청에 따르면 내일 중부지방에 최대 150mm의 비가 내릴 예정이다.",
    "한국은행 금융통화위원회는 기준금리를 연 3.50%로 동결했다.",
    "AI 반도체 수출이 전년 대비 50% 늘었다고 산업통상자원부 관계자가 전했다.",
]
KO_CHAT = [
    "안녕하세요! 오늘 날씨 어때요?", "ㅋㅋㅋ 진짜 대박이다", "저녁 뭐 먹을까? 치킨 vs 피자 🍕",
    "내일 3시에 강남역에서 봐요~", "고마워요 ㅠㅠ 덕분에 해결했어요!!", "LoRA로 파인튜닝하면 VRAM 얼마나 필요해?",
    "잠깐만, 이거 Python 3.11에서도 돼?", "넵 알겠습니다 :)",
]
EN = [
    "Hello, how are you today?", "Can you explain what a transformer model is?",
    "Sure! A transformer uses self-attention to relate tokens to one another.",
    "Write a haiku about autumn leaves.", "What's 17 * 23? I think it's 391.",
    "Summarize the following text in two sentences.", "I'm not sure; let's check the docs.",
    "Thanks, that's exactly what I needed.",
]
CODE = [
    "def f(x):\n    return {'a': x, \"b\": [1, 2, 3]}\n",
    "for (int i = 0; i < n; ++i) {\n\tsum += a[i];\n}",
    "```cpp\nstd::map<std::string, int> m{{\"k\", 1}};\nprintf(\"%d\\n\", m[\"k\"]);\n```",
    "const s = `template ${literal}`; // it's \"quoted\"",
    "SELECT * FROM users WHERE name = 'O''Brien';",
    "{\"json\": true, \"nested\": {\"list\": [1, 2.5, null]}}",
]
EMOJI = ["😀", "👍🏽", "👨‍👩‍👧‍👦", "🧑🏿‍🚀", "🏳️‍🌈", "🇰🇷", "1️⃣", "❤️‍🔥", "🫠"]
CJK = ["中华人民共和国的首都是北京。", "日本語のテキストです。東京タワー", "人工智能大型语言模型", "ひらがな・カタカナ・漢字"]
NON_BMP = ["𝕳𝖊𝖑𝖑𝖔 𝔀𝓸𝓻𝓵𝓭", "𠀀𠀁𪚥 (CJK Ext B)", "𓀀𓁐 hieroglyphs", "🀄 mahjong", "\U0010fffd"]
SPECIALS = ["<start_of_turn>", "<end_of_turn>", "<|im_start|>", "<|im_end|>", "<|eot_id|>",
            "<|begin_of_text|>", "<bos>", "</s>", "[INST]", "[/INST]", "<|end|>", "[|endofturn|]",
            "<think>", "</think>", "<tool_call>", "<|start_header_id|>user<|end_header_id|>"]
JINJA_LIKE = ["{{ x }}", "{% if %}", "{%- endfor -%}", "{# comment #}", "{{ raise_exception('no') }}",
              "{{'{{'}}", "{% raw %}", "${{ secrets.TOKEN }}"]
BACKSLASH = ["C:\\Users\\tuna\\new", "regex: \\d+\\.\\d*", "a\\nb (literal backslash-n)", "\\\\server\\share",
             "tab\\t and quote \\\""]
WS = ["", " ", "  ", "\n", "\n\n", "\n\n\n", "\t", " \n ", "\r\n", "\u3000", "\u00a0"]


def piece(rng):
    kind = rng.choice(["ko_news", "ko_chat", "en", "en", "code", "emoji", "cjk", "nonbmp", "special",
                       "jinja", "backslash", "mixed"])
    if kind == "ko_news":
        return rng.choice(KO_NEWS)
    if kind == "ko_chat":
        return rng.choice(KO_CHAT)
    if kind == "en":
        return rng.choice(EN)
    if kind == "code":
        return rng.choice(CODE)
    if kind == "emoji":
        return "".join(rng.choice(EMOJI) for _ in range(rng.randint(1, 4)))
    if kind == "cjk":
        return rng.choice(CJK)
    if kind == "nonbmp":
        return rng.choice(NON_BMP)
    if kind == "special":
        return rng.choice(SPECIALS)
    if kind == "jinja":
        return rng.choice(JINJA_LIKE)
    if kind == "backslash":
        return rng.choice(BACKSLASH)
    return rng.choice(KO_CHAT) + " " + rng.choice(EMOJI) + " " + rng.choice(EN)


def text(rng):
    r = rng.random()
    if r < 0.06:
        return ""
    if r < 0.10:
        return rng.choice(WS[1:])  # whitespace only: trim empties it
    parts = [piece(rng) for _ in range(rng.randint(1, 3))]
    s = rng.choice([" ", "\n", "\n\n", ""]).join(parts)
    if rng.random() < 0.3:
        s = rng.choice(WS) + s
    if rng.random() < 0.3:
        s = s + rng.choice(WS)
    return s


def conversation(rng, system=None, turns=None, end_with_user=None):
    """Alternating user/assistant messages; turns = number of messages after the system one."""
    if system is None:
        system = rng.random() < 0.5
    if turns is None:
        turns = rng.randint(1, 8)
    if end_with_user is not None:
        if (turns % 2 == 1) != end_with_user:
            turns += 1
    msgs = []
    if system:
        msgs.append({"role": "system", "content": text(rng) if rng.random() < 0.8 else
                     rng.choice(["You are a helpful assistant.", "당신은 친절한 한국어 비서입니다. 존댓말로 답하세요."])})
    for i in range(turns):
        msgs.append({"role": "user" if i % 2 == 0 else "assistant", "content": text(rng)})
    return msgs


# ----------------------------------------------------------------------------- tools

TOOLS = [
    {"type": "function", "function": {
        "name": "get_weather",
        "description": "지정한 도시의 현재 날씨를 조회합니다. Returns °C by default.",
        "parameters": {"type": "object", "properties": {
            "location": {"type": "string", "description": "도시 이름, 예: \"서울\" or 'Seoul, KR'"},
            "unit": {"type": "string", "enum": ["celsius", "fahrenheit"], "default": "celsius"},
            "days": {"type": "integer", "minimum": 1, "maximum": 14}},
            "required": ["location"]}}},
    {"type": "function", "function": {
        "name": "search_documents",
        "description": "Search the knowledge base 📚 and return the top matches.",
        "parameters": {"type": "object", "properties": {
            "query": {"type": "string", "description": "검색어 / query text"},
            "filters": {"type": "object", "description": "Optional filters", "properties": {
                "date_range": {"type": "object", "properties": {
                    "from": {"type": "string", "format": "date"}, "to": {"type": "string", "format": "date"}}},
                "tags": {"type": "array", "items": {"type": "string"}},
                "min_score": {"type": "number", "minimum": 0.0, "maximum": 1.0}}},
            "limit": {"type": "integer", "default": 10}},
            "required": ["query"], "additionalProperties": False}}},
    {"type": "function", "function": {
        "name": "run_python",
        "description": "Execute Python code in a sandbox; prints go to stdout.\nUse `print()` — not return.",
        "parameters": {"type": "object", "properties": {
            "code": {"type": "string"}, "timeout_s": {"type": ["number", "null"]}},
            "required": ["code"]},
        "return": {"type": "string", "description": "stdout"}}},
]

ARGS_POOL = [
    {"location": "서울", "unit": "celsius"},
    {"location": "Zürich, CH", "days": 3},
    {"query": "LoRA rank 선택", "filters": {"date_range": {"from": "2024-01-01", "to": None},
                                         "tags": ["nlp", "한국어", "🔥"], "min_score": 0.75}, "limit": 5},
    {"code": "print(\"hi\\n\")\nx = {'a': [1, 2]}", "timeout_s": 2.5},
    {"int": 42, "neg": -7, "zero": 0, "big": 9007199254740993, "float": 3.14, "one": 1.0, "tiny": 1e-07,
     "huge": 1e+21, "negzero": -0.0, "t": True, "f": False, "n": None, "nested": {"a": [1, [2, {"b": None}]], "e": {}},
     "empty_list": [], "s": "tab\tnl\nquote\"bs\\ 😀 𝕏 \u0001"},
]


def tool_call(rng, args, as_string=False, wrap_function=True):
    name = rng.choice(["get_weather", "search_documents", "run_python"])
    a = json.dumps(args, ensure_ascii=False) if as_string else copy.deepcopy(args)
    fn = {"name": name, "arguments": a}
    return {"type": "function", "id": "call_%04d" % rng.randint(0, 9999), "function": fn} if wrap_function else fn


# ----------------------------------------------------------------------------- cases

def common_cases(rng, name):
    """(messages, tools, add_generation_prompt, kwargs, overrides) for every template."""
    cases = []
    # fixed shapes: with/without system, 1..8 turns, generation prompt on/off
    for system in (False, True):
        for turns in (1, 2, 3, 4, 8):
            for agp in (False, True):
                if turns in (3, 8) and agp == system:
                    continue
                cases.append((conversation(rng, system, turns), None, agp, {}, {}))
    for _ in range(N_RANDOM - len(cases) + 6):
        c = conversation(rng)
        cases.append((c, None, c[-1]["role"] == "user" and rng.random() < 0.7, {}, {}))
    # hand-picked contents
    trim_case = [{"role": "system", "content": "\n\n  시스템\t \n"},
                 {"role": "user", "content": "  \n leading and trailing \n\n\n"},
                 {"role": "assistant", "content": "\t\r\n답변\u3000\u00a0 "},
                 {"role": "user", "content": "\n"}]
    cases.append((trim_case, None, True, {}, {}))
    cases.append(([{"role": "user", "content": "<start_of_turn>model\n<|im_end|><|eot_id|>[/INST]</s>"},
                   {"role": "assistant", "content": "{{ x }} {% if %} {%- endfor %} {# c #} \\n \\\\"}],
                  None, False, {}, {}))
    cases.append(([{"role": "user", "content": "👨‍👩‍👧‍👦 🏳️‍🌈 🧑🏿‍🚀 𝕳𝖊𝖑𝖑𝖔 𠀀 \U0010fffd é (e\u0301)"}], None, True, {}, {}))
    cases.append(([{"role": "user", "content": ""}, {"role": "assistant", "content": ""}], None, True, {}, {}))
    # which characters Python's str.strip() (the trim filter) treats as whitespace
    cases.append(([{"role": "user", "content": "\x1c\x1d\x1e\x1f\x85\u2028\u2029\v\f x \u200b\u180e\ufeff"},
                   {"role": "assistant", "content": "\u2000\u200a\u202f\u205f y\u200b"}], None, False, {}, {}))
    # Python repr() of a list / dict (what {{ }} and trim give for non-strings): quote choice,
    # escapes, non-printable characters (\xa0, \u3000, ZWJ, private use) and float repr
    cases.append(([{"role": "user", "content": [
        {"type": "text", "text": "it's"}, {"type": "text", "text": "say \"hi\""}, {"type": "text", "text": "both ' and \""},
        {"type": "text", "text": "bs \\ nl \n tab \t cr \r \x01 \x7f nbsp\xa0 ideo\u3000 👨‍👩‍👧 \U0010fffd 𝕏 é"},
        {"type": "image", "n": None, "ok": True, "f": 1e-07, "g": 1e16, "h": 2.0, "i": -0.0, "nested": {"k": [1, "v"]}}]}],
        None, True, {}, {}))
    # list-of-parts content
    parts = [{"type": "text", "text": "  이 사진에 뭐가 있어? "}, {"type": "image"},
             {"type": "text", "text": "Describe it.\n"}]
    cases.append(([{"role": "user", "content": parts}], None, True, {}, {}))
    cases.append(([{"role": "system", "content": [{"type": "text", "text": "Be brief. 간단히."}]},
                   {"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "What is this?"}]},
                   {"role": "assistant", "content": [{"type": "text", "text": "A cat 🐱."}]}], None, False, {}, {}))
    cases.append(([{"role": "user", "content": [{"type": "text", "text": "it's \"quoted\" \\ 'single'"}]}],
                  None, False, {}, {}))
    # error / odd inputs
    cases.append(([{"role": "user", "content": "one"}, {"role": "user", "content": "two"}], None, True, {}, {}))
    cases.append(([{"role": "assistant", "content": "I speak first"}, {"role": "user", "content": "hi"}],
                  None, True, {}, {}))
    cases.append(([{"role": "system", "content": "sys"}, {"role": "system", "content": "sys 2"},
                   {"role": "user", "content": "hi"}], None, True, {}, {}))
    cases.append(([], None, True, {}, {}))
    cases.append(([{"role": "user"}], None, True, {}, {}))
    cases.append(([{"role": "user", "content": "hi"}, {"role": "assistant"}], None, False, {}, {}))
    cases.append(([{"role": "user", "content": 42}], None, True, {}, {}))
    cases.append(([{"role": "user", "content": None}], None, True, {}, {}))
    cases.append(([{"role": "user", "content": {"text": "a dict", "n": 1.5}}], None, True, {}, {}))
    cases.append(([{"role": "user", "content": True}, {"role": "assistant", "content": 3.0}], None, False, {}, {}))
    cases.append(([{"content": "no role"}], None, True, {}, {}))
    # special tokens unset / different
    cases.append(([{"role": "user", "content": "bos and eos unset"}, {"role": "assistant", "content": "ok"}],
                  None, True, {}, {"bos_token": None, "eos_token": None}))
    cases.append(([{"role": "user", "content": "other tokens"}, {"role": "assistant", "content": "ok"}],
                  None, False, {}, {"bos_token": "<|BOS🐟|>", "eos_token": ""}))
    return cases


def qwen3_cases(rng):
    cases = []
    sys_msg = {"role": "system", "content": "당신은 도구를 쓸 수 있는 비서입니다."}
    for think in ("absent", True, False):
        kw = {} if think == "absent" else {"enable_thinking": think}
        for agp in (True, False):
            c = conversation(rng, end_with_user=True)
            cases.append((c, None, agp, kw, {}))
    # tools, with and without system message
    for i in range(6):
        tools = rng.sample(TOOLS, rng.randint(1, 3))
        msgs = ([sys_msg] if i % 2 == 0 else []) + [{"role": "user", "content": text(rng) or "날씨 알려줘"}]
        cases.append((msgs, tools, True, {} if i < 3 else {"enable_thinking": i % 2 == 0}, {}))
    # a full tool-calling exchange: dict args, string args, consecutive tool messages
    for i in range(8):
        tools = TOOLS[: 1 + i % 3]
        args1 = ARGS_POOL[i % len(ARGS_POOL)]
        args2 = ARGS_POOL[(i + 2) % len(ARGS_POOL)]
        calls = [tool_call(rng, args1, as_string=(i % 2 == 1), wrap_function=(i % 4 != 3))]
        if i >= 2:
            calls.append(tool_call(rng, args2, as_string=(i % 3 == 0)))
        content = ["", "날씨를 확인해 볼게요.", "\n\nLet me check.\n", "<think>\n도구가 필요함\n</think>\n\n확인 중"][i % 4]
        msgs = ([sys_msg] if i % 2 == 0 else []) + [
            {"role": "user", "content": "서울이랑 Zürich 날씨 알려줘 ☔"},
            {"role": "assistant", "content": content, "tool_calls": calls}]
        for j in range(len(calls)):
            msgs.append({"role": "tool", "name": calls[j].get("function", calls[j])["name"],
                         "content": ["{\"temp\": 23.5, \"condition\": \"맑음\"}", "12°C, 비 🌧️",
                                     "Error: timeout\n", "[]"][(i + j) % 4]})
        if i % 2 == 0:
            msgs.append({"role": "assistant", "content": "서울은 23.5°C로 맑고, Zürich는 12°C에 비가 옵니다."})
            if i % 4 == 0:
                msgs.append({"role": "user", "content": "고마워! 내일은?"})
        cases.append((msgs, tools, msgs[-1]["role"] != "assistant", {} if i < 4 else {"enable_thinking": False}, {}))
    # reasoning_content and <think> in content
    rc_msgs = [{"role": "user", "content": "2+2?"},
               {"role": "assistant", "content": "4", "reasoning_content": "\n간단한 덧셈.\n2+2=4\n\n"},
               {"role": "user", "content": "3+3?"},
               {"role": "assistant", "content": "\n\n6", "reasoning_content": "3+3=6"}]
    cases.append((rc_msgs, None, False, {}, {}))
    cases.append((rc_msgs[:3], None, True, {"enable_thinking": True}, {}))
    cases.append((rc_msgs + [{"role": "user", "content": "and 4+4?"}], None, True, {"enable_thinking": False}, {}))
    think_msgs = [{"role": "user", "content": "생각해 봐"},
                  {"role": "assistant", "content": "<think>\n\n음... 😀 </think>\n\n\n결론: 좋다"},
                  {"role": "user", "content": "<think>user think</think> tail"},
                  {"role": "assistant", "content": "prefix <think>a</think>b</think>\nc"}]
    cases.append((think_msgs, None, False, {}, {}))
    cases.append((think_msgs[:2], None, False, {}, {}))
    cases.append(([think_msgs[0], {"role": "assistant", "content": "x", "reasoning_content": None}], None, False, {}, {}))
    cases.append(([think_msgs[0], {"role": "assistant", "content": "", "reasoning_content": ""}], None, False, {}, {}))
    # multi-step tool turn: a user message that is itself a tool response
    cases.append(([{"role": "user", "content": "find docs"},
                   {"role": "assistant", "content": "", "tool_calls": [tool_call(rng, ARGS_POOL[2])]},
                   {"role": "user", "content": "<tool_response>\n[{\"id\": 1}]\n</tool_response>"},
                   {"role": "assistant", "content": "<think>\nok\n</think>\n\nFound one."}], TOOLS, False, {}, {}))
    # tool message contents that are not strings (rendered with Python str())
    cases.append(([{"role": "user", "content": "x"},
                   {"role": "assistant", "content": "", "tool_calls": [tool_call(rng, ARGS_POOL[4])]},
                   {"role": "tool", "content": {"temp": 23.5, "ok": True, "none": None, "list": [1, "a", 2.0]}},
                   {"role": "tool", "content": ["a", 'b"c', "d'e"]},
                   {"role": "tool", "content": 1e-07}], TOOLS[:1], True, {}, {}))
    # tools given but empty list (falsy) / tool_calls empty list / arguments with numbers only
    cases.append(([{"role": "user", "content": "no tools"}], [], True, {}, {}))
    cases.append(([{"role": "user", "content": "x"}, {"role": "assistant", "content": "y", "tool_calls": []}],
                  None, False, {}, {}))
    cases.append(([{"role": "user", "content": "nums"},
                   {"role": "assistant", "content": None,
                    "tool_calls": [{"function": {"name": "f", "arguments": {"a": 1, "b": -2.5, "c": [True, None]}}}]}],
                  None, False, {}, {}))
    return cases


def llama4_cases(rng):
    cases = []
    kw = {"date_string": DATE}
    for i in range(6):
        tools = rng.sample(TOOLS, rng.randint(1, 3))
        msgs = conversation(rng, system=(i % 2 == 0), end_with_user=True)
        if i % 3 == 0 and msgs[0]["role"] == "system":
            msgs[0]["content"] = [{"type": "text", "text": "  system as parts  "}]
        k = dict(kw)
        if i >= 3:
            k["tools_in_user_message"] = False
        cases.append((msgs, tools, True, k, {}))
    cases.append(([{"role": "user", "content": "custom"}], None, True, dict(kw, custom_tools=TOOLS[:2]), {}))
    cases.append(([{"role": "system", "content": "s"}], TOOLS[:1], True, kw, {}))  # tools but no user message
    for i in range(5):
        calls = [tool_call(rng, ARGS_POOL[(i + j) % len(ARGS_POOL)], as_string=(i == 2)) for j in range(1 + i % 2)]
        msgs = [{"role": "user", "content": "서울 날씨?"},
                {"role": "assistant", "content": ["", "checking", [{"type": "text", "text": "parts"}]][i % 3],
                 "tool_calls": calls},
                {"role": ["tool", "ipython"][i % 2],
                 "content": ["23°C 맑음", {"temp": 23, "unit": "C", "ok": True}, ["a", 1, None]][i % 3]},
                {"role": "assistant", "content": "23°C입니다."}]
        cases.append((msgs, TOOLS if i % 2 == 0 else None, i % 2 == 1, kw, {}))
    cases.append(([{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "what?"}]},
                   {"role": "assistant", "content": [{"type": "text", "text": "a cat"}, {"type": "video"}]}],
                  None, True, kw, {}))
    return cases


def generation_cases(rng):
    cases = []
    for i in range(8):
        msgs = conversation(rng, system=(i % 2 == 0), turns=2 + i, end_with_user=(i % 3 == 0))
        cases.append((msgs, None, i % 3 == 0, {}, {}))
    calls = [tool_call(rng, ARGS_POOL[0]), tool_call(rng, ARGS_POOL[4])]
    cases.append(([{"role": "user", "content": "날씨? 🌦️"},
                   {"role": "assistant", "content": "", "tool_calls": calls},
                   {"role": "tool", "content": "23°C"},
                   {"role": "assistant", "content": "  23°C예요 😀𝕏  "}], None, False, {}, {}))
    cases.append(([{"role": "assistant", "content": "assistant first 👨‍👩‍👧‍👦"}], None, False, {}, {}))
    cases.append(([{"role": "user", "content": "only user"}], None, True, {}, {}))
    return cases


EXTRA = {"qwen3": qwen3_cases, "llama4": llama4_cases, "generation": generation_cases}

# ----------------------------------------------------------------------------- rendering


def utf8_offsets(s, spans):
    out = []
    for a, b in spans:
        ba = len(s[:a].encode("utf-8"))
        out.append([ba, ba + len(s[a:b].encode("utf-8"))])
    return out


def render(template, messages, tools, agp, kwargs, bos, eos):
    kw = dict(kwargs)
    if bos is not None:
        kw["bos_token"] = bos
    if eos is not None:
        kw["eos_token"] = eos
    has_gen = "generation %}" in template or "generation -%}" in template
    try:
        rendered, indices = render_jinja_template(
            conversations=[copy.deepcopy(messages)], tools=copy.deepcopy(tools), chat_template=template,
            add_generation_prompt=agp, return_assistant_tokens_mask=has_gen, **copy.deepcopy(kw))
    except Exception as e:  # noqa: BLE001 - any exception is a golden outcome
        return None, {"type": type(e).__name__, "message": str(e)}, []
    s = rendered[0]
    spans = []
    if has_gen:
        spans = utf8_offsets(s, indices[0])
        plain, _ = render_jinja_template(conversations=[copy.deepcopy(messages)], tools=copy.deepcopy(tools),
                                         chat_template=template, add_generation_prompt=agp, **copy.deepcopy(kw))
        assert plain[0] == s, "generation tracking changed the rendering"
    return s, None, spans


def load_equivalence_tokenizer(name, template):
    folder, overrides = EQUIVALENCE[name]
    src = os.path.join(ROOT, "tests", "golden", "tokenizer", folder)
    with gzip.open(os.path.join(src, "tokenizer_config.json.gz"), "rt", encoding="utf-8") as f:
        cfg = json.load(f)
    cfg.update(overrides)
    tmp = tempfile.mkdtemp(prefix="tuna_ct_")
    try:
        path = os.path.join(tmp, "tokenizer.json")
        with gzip.open(os.path.join(src, "tokenizer.json.gz"), "rb") as f, open(path, "wb") as g:
            shutil.copyfileobj(f, g)
        special = {k: cfg[k] for k in ("bos_token", "eos_token", "unk_token", "pad_token") if cfg.get(k)}
        if isinstance(cfg.get("additional_special_tokens"), list):
            special["additional_special_tokens"] = cfg["additional_special_tokens"]
        tok = PreTrainedTokenizerFast(tokenizer_file=path, chat_template=template, **special)
    finally:
        shutil.rmtree(tmp)
    return tok


def check_equivalence(tok, rec):
    """apply_chat_template(tokenize=False) must give the record's rendering / exception."""
    kw = dict(rec["kwargs"])
    # the record's bos/eos differ from the tokenizer's only in the "special tokens" cases: skip
    if rec["bos_token"] != tok.special_tokens_map.get("bos_token") or \
            rec["eos_token"] != tok.special_tokens_map.get("eos_token"):
        return "skipped"
    try:
        got = tok.apply_chat_template(copy.deepcopy(rec["messages"]), tools=copy.deepcopy(rec["tools"]),
                                      tokenize=False, add_generation_prompt=rec["add_generation_prompt"], **kw)
        err = None
    except Exception as e:  # noqa: BLE001
        got, err = None, {"type": type(e).__name__, "message": str(e)}
    if not rec["messages"]:
        # apply_chat_template looks at conversation[0] before rendering: IndexError there
        assert err is not None and err["type"] == "IndexError", (rec["id"], got, err)
        return "differs (empty list: IndexError in apply_chat_template)"
    assert got == rec["rendered"] and err == rec["error"], (rec["id"], got, err, rec["rendered"], rec["error"])
    return "equal"


# ----------------------------------------------------------------------------- output


def write_jsonl_gz(path, records):
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0, compresslevel=9) as g:
        for r in records:
            # top-level keys sorted; key order inside messages / tools is the order the template
            # saw (tojson preserves it), so inner objects are not re-sorted
            line = json.dumps({k: r[k] for k in sorted(r)}, ensure_ascii=False)
            g.write(line.encode("utf-8") + b"\n")
    data = buf.getvalue()
    with open(path, "wb") as f:
        f.write(data)
    return hashlib.sha256(data).hexdigest()


def sha256_file(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def read_template(name):
    with open(os.path.join(GOLDEN, "templates", name + ".jinja"), "rb") as f:
        return f.read().decode("utf-8")


def import_templates(assets):
    """One-time copy of the template sources into templates/ (byte-exact, no newline added)."""
    dst = os.path.join(GOLDEN, "templates")
    os.makedirs(dst, exist_ok=True)
    for name, folder in (("gemma3", "gemma3"), ("qwen3", "qwen3"), ("llama3", "llama3_1")):
        with open(os.path.join(assets, "tokenizers", folder, "tokenizer_config.json"), encoding="utf-8") as f:
            t = json.load(f)["chat_template"]
        with open(os.path.join(dst, name + ".jinja"), "wb") as f:
            f.write(t.encode("utf-8"))
    for name, fn in (("mistral", "mistral-instruct"), ("phi3", "phi-3"), ("chatml", "chatml"),
                     ("exaone3", "exaone3")):
        shutil.copyfile(os.path.join(assets, "chat_templates", fn + ".jinja"), os.path.join(dst, name + ".jinja"))
    shutil.copyfile(os.path.join(assets, "chat_templates", "LICENSE.chujiezheng-chat_templates.MIT"),
                    os.path.join(dst, "LICENSE.chujiezheng-chat_templates.MIT"))
    from transformers.models.llama4 import processing_llama4
    with open(os.path.join(dst, "llama4.jinja"), "wb") as f:
        f.write(processing_llama4.chat_template.encode("utf-8"))
    print("imported templates into", dst)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=GOLDEN)
    ap.add_argument("--only", nargs="*")
    ap.add_argument("--import-from", help="copy the template sources from this assets folder, then exit")
    args = ap.parse_args()
    if args.import_from:
        import_templates(args.import_from)
        return
    os.makedirs(args.out, exist_ok=True)
    manifest = {
        "command": "tools/reference/regenerate.sh chat_template  "
                   "(= \"$(tools/reference/setup_venv.sh)/bin/python\" tools/reference/make_chat_template_goldens.py)",
        "render_call": "transformers.utils.chat_template_utils.render_jinja_template(conversations=[messages], "
                       "tools=tools, chat_template=T, add_generation_prompt=G, return_assistant_tokens_mask="
                       "<T has a generation block>, bos_token=..., eos_token=..., **kwargs)",
        "equivalence_call": "PreTrainedTokenizerFast(tokenizer_file=..., chat_template=T, <special tokens>)"
                            ".apply_chat_template(messages, tools=tools, tokenize=False, add_generation_prompt=G, "
                            "**kwargs)",
        "versions": {"python": platform.python_version(), "transformers": transformers.__version__,
                     "jinja2": jinja2.__version__},
        "seed": SEED,
        "pythonhashseed": os.environ.get("PYTHONHASHSEED"),
        "templates": {}, "sha256": {}, "counts": {}, "errors": {}, "equivalence": {},
    }
    names = args.only or list(TEMPLATES)
    mpath = os.path.join(args.out, "manifest.json")
    if args.only and os.path.exists(mpath):  # keep the other templates' entries
        with open(mpath, encoding="utf-8") as f:
            old = json.load(f)
        for key in ("templates", "sha256", "counts", "errors", "equivalence"):
            manifest[key] = old.get(key, {})
    for name in names:
        spec = TEMPLATES[name]
        template = read_template(name)
        manifest["templates"][name] = {"file": "templates/%s.jinja" % name,
                                       "sha256": sha256_file(os.path.join(GOLDEN, "templates", name + ".jinja")),
                                       "bos_token": spec["bos"], "eos_token": spec["eos"]}
        rng = random.Random("%d:%s" % (SEED, name))
        cases = common_cases(rng, name)
        if name in EXTRA:
            cases += EXTRA[name](rng)
        records = []
        for n, (messages, tools, agp, kwargs, over) in enumerate(cases):
            bos = over.get("bos_token", spec["bos"]) if "bos_token" in over else spec["bos"]
            eos = over.get("eos_token", spec["eos"]) if "eos_token" in over else spec["eos"]
            if name == "llama4" and "date_string" not in kwargs:
                kwargs = dict(kwargs, date_string=DATE)  # never let a golden depend on today's date
            rendered, error, spans = render(template, messages, tools, agp, kwargs, bos, eos)
            if spans and name == "generation":
                # sanity: one span per assistant message, each ending with <|im_end|>
                b = rendered.encode("utf-8")
                assert len(spans) == sum(1 for m in messages if m.get("role") == "assistant"), (name, n)
                assert all(b[x:y].endswith(b"<|im_end|>") for x, y in spans), (name, n, spans)
            records.append({"id": "%s-%d" % (name, n), "messages": messages, "tools": tools,
                            "add_generation_prompt": agp, "kwargs": kwargs, "bos_token": bos, "eos_token": eos,
                            "rendered": rendered, "error": error, "generation_spans": spans})
        if name in EQUIVALENCE:
            tok = load_equivalence_tokenizer(name, template)
            tally = {}
            for rec in records:
                r = check_equivalence(tok, rec)
                tally[r] = tally.get(r, 0) + 1
            manifest["equivalence"][name] = tally
        fn = name + ".jsonl.gz"
        manifest["sha256"][fn] = write_jsonl_gz(os.path.join(args.out, fn), records)
        manifest["counts"][name] = len(records)
        manifest["errors"][name] = sum(1 for r in records if r["error"])
        print("%-10s %3d records, %2d errors" % (name, len(records), manifest["errors"][name]), file=sys.stderr)
    with open(mpath, "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=1, sort_keys=True, ensure_ascii=False)
        f.write("\n")


if __name__ == "__main__":
    main()
