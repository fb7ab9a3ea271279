#!/usr/bin/env python3
"""Jinja feature goldens: small templates, each exercising one construct of the engine, rendered
by transformers' own chat-template environment (utils.chat_template_utils._compile_jinja_template:
sandboxed jinja2, trim_blocks, lstrip_blocks, loopcontrols, HF's tojson, raise_exception).

Writes tests/golden/chat_template/features.jsonl.gz, one record per case:
  {"id", "template", "context" (template variables), "rendered" or null,
   "error": null or {"type": exception class, "message": str(exception)}}
Usage: python make_jinja_feature_goldens.py
"""

import gzip
import io
import json
import os

import jinja2
import transformers
from transformers.utils.chat_template_utils import _compile_jinja_template

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "tests", "golden", "chat_template", "features.jsonl.gz")

CTX = {
    "d": {"a": 1, "b": "x", "c": [1, 2.5, None, True], "n": {"k": "v"}},
    "m": [],
    "msgs": [
        {"role": "system", "content": "  sys  "},
        {"role": "user", "content": "안녕하세요 tuna"},
        {"role": "assistant", "content": "<think>\nhmm\n</think>\n\nanswer"},
    ],
    "s": "  Hello, World!  ",
    "ko": "한국어 텍스트",
    "nums": [3, 1, 2, 10, -4],
    "words": ["b", "A", "c", "a"],
    "people": [{"name": "kim", "age": 30}, {"name": "lee", "age": 25}, {"name": "park"}],
    "f": 2.5,
    "big": 1e16,
    "none_v": None,
    "t": True,
    "emptys": "",
}

CASES = [
    # output and literals
    "{{ 1 }} {{ -2 }} {{ 1.0 }} {{ 0.1 + 0.2 }} {{ 1e-5 }} {{ 1e20 }} {{ 3/2 }} {{ 7//2 }} {{ -7//2 }}",
    "{{ -7 % 3 }} {{ 7 % -3 }} {{ 2**10 }} {{ 2**-1 }} {{ 7.5 // 2 }} {{ -7.5 % 2 }} {{ 1_000 }}",
    "{{ big }} {{ f }} {{ 1e15 }} {{ 1.5e-7 }} {{ -0.0 }} {{ 123456789012345678.0 }} {{ 0.0001 }}",
    "{{ none }} {{ None }} {{ true }} {{ False }} {{ none_v }} {{ t }}",
    "{{ [1, 'a', none, true, 1.5, {'k': 'v'}] }} {{ (1,) }} {{ (1, 2) }} {{ () }}",
    "{{ \"it's\" }} {{ [\"it's\"] }} {{ ['a\"b'] }} {{ ['\\n\\t\\\\'] }} {{ ['both \\' \"'] }}",
    "{{ ['\u00a0', '\u3000', '\u200d', '\x01', '\x7f', '\U0010fffd', '한'] }}",
    "{{ 'a' 'b' }} {{ 'x\\u00e9\\x41\\101' }} {{ 'unknown \\d escape' }}",
    "{{ d }} {{ d.n }} {{ d['c'] }}",
    # arithmetic and strings
    "{{ 'ab' * 3 }} {{ 3 * 'ab' }} {{ [1] * 2 }} {{ [1, 2] + [3] }} {{ 'a' ~ 1 ~ none ~ undefined_x }}",
    "{{ 'a' + 1 }}",
    "{{ 1 + 'a' }}",
    "{{ 'a' + [1] }}",
    "{{ [1] + 'a' }}",
    "{{ 1 / 0 }}",
    "{{ 1 // 0 }}",
    "{{ 1 < 'a' }}",
    "{{ -'a' }}",
    "{{ undefined_x + 'a' }}",
    "{{ d.zzz + 'a' }}",
    "{{ m[0]['a'] }}",
    "{{ none_v.x }}",
    "{{ none_v.x + 1 }}",
    "{{ d.a.b.c }}",
    # comparisons and logic
    "{{ 1 == 1.0 }} {{ 'a' != 'b' }} {{ 1 < 2 < 3 }} {{ 3 > 2 > 2 }} {{ [1,2] == [1,2] }} {{ (1,2) == [1,2] }}",
    "{{ 'a' in 'cat' }} {{ 'z' not in 'cat' }} {{ 2 in nums }} {{ 'a' in d }} {{ 'q' in undefined_x }}",
    "{{ 1 and 'x' }} {{ 0 and 'x' }} {{ '' or 'dflt' }} {{ none_v or [] }} {{ not emptys }} {{ not not 3 }}",
    "{{ 'yes' if t else 'no' }} {{ 'yes' if none_v else 'no' }} [{{ 'x' if false }}]",
    "{{ 5 in 'abc' }}",
    "{{ 'a' in 5 }}",
    # subscripts and slices
    "{{ 'abcdef'[::-1] }} {{ 'abcdef'[1:4] }} {{ 'abcdef'[-2:] }} {{ nums[1:] }} {{ nums[::2] }} {{ nums[-1] }}",
    "{{ ko[1:3] }} {{ ko[-1] }} {{ ko|length }} {{ ko[::-1] }} {{ nums[10:] }} {{ nums[-100:2] }}",
    "{{ nums[5] }}|{{ nums[-6] }}|{{ 'ab'[5] }}|{{ d['nope'] }}|{{ d.items is defined }}",
    "{{ msgs[0].role }} {{ msgs[-1]['content'] }} {{ msgs.0.role }} {{ d.c.1 }}",
    # statements and scoping
    "{% set x = 1 %}{% for i in [1,2,3] %}{{ x }}{% set x = x + 10 %}{{ x }},{% endfor %}{{ x }}",
    "{% for i in [1,2] %}{% if i == 2 %}[{{ y }}]{% endif %}{% set y = i %}{% endfor %}",
    "{% if true %}{% set z = 5 %}{% endif %}{{ z }}",
    "{% set a, b = 1, 2 %}{{ a }}{{ b }}{% set c = 1, 2 %}{{ c }}",
    "{% set ns = namespace(a=1, items=[]) %}{% for i in [1,2] %}{% set ns.a = ns.a + i %}{% endfor %}{{ ns.a }} {{ ns.items }} {{ ns.missing }}",
    "{% set x = 3 %}{% set x.y = 1 %}",
    "{% set block %}in  a block {{ 1 + 1 }}{% endset %}[{{ block }}]",
    "{% for a in [] %}x{% else %}empty{% endfor %}{% for a in [1] %}x{% else %}empty{% endfor %}",
    "{% for i in nums if i > 1 %}{{ i }}:{{ loop.index }}/{{ loop.length }}{{ ',' if not loop.last }}{% endfor %}",
    "{% for i in 'abc' %}{{ loop.index0 }}{{ loop.revindex }}{{ loop.revindex0 }}{{ loop.first }}{{ loop.last }}{{ loop.previtem }}{{ loop.nextitem }};{% endfor %}",
    "{% for i in [1,2,3] %}{{ loop.cycle('odd', 'even') }} {% endfor %}",
    "{% for i in range(10) %}{% if i == 2 %}{% continue %}{% endif %}{% if i == 5 %}{% break %}{% endif %}{{ i }}{% endfor %}",
    "{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}",
    "{% for k in d %}{{ k }}{% endfor %} {% for k, v in d|dictsort %}{{ k }}{% endfor %}",
    "{% for a, b in [[1, 2], [3]] %}{{ a }}{% endfor %}",
    "{% for x in 5 %}{% endfor %}",
    "{% for x in none_v %}{% endfor %}",
    "{% for x in undefined_x %}never{% endfor %}done",
    "{% for i in [1, 2] %}{% for j in 'ab' %}{{ loop.index }}{{ j }}{% endfor %}{{ loop.index }} {% endfor %}",
    "{% macro greet(name, greeting='Hi') %}{{ greeting }}, {{ name }}!{% endmacro %}{{ greet('kim') }} {{ greet('lee', greeting='Yo') }} {{ greet() }}",
    "{% macro rec(n) %}{% if n > 0 %}{{ n }}{{ rec(n - 1) }}{% endif %}{% endmacro %}{{ rec(3) }}",
    "{% set g = 'outer' %}{% macro show() %}{{ g }}{% endmacro %}{% for i in [1] %}{% set g = 'loop' %}{{ show() }}{% endfor %}",
    "{% macro f(a) %}{{ a }}{% endmacro %}{{ f(1, 2) }}",
    "{% filter upper %}shout {{ 'this' }}{% endfilter %}",
    "{% raw %}{{ not rendered }} {% if %}{% endraw %}",
    "{# a comment #}x{#- trimmed -#}  y",
    # whitespace control (trim_blocks / lstrip_blocks / - and +)
    "a\n  {% if true %}\n  b\n  {% endif %}\nc\n",
    "  {{ 'x' }}\n  {%- if true %} y {% endif %}   \n",
    "{%- for m in [1,2] -%}\n  {{ m }}\n{%- endfor %}",
    "line\n    {%+ if true %}kept{% endif +%}\nnext",
    "x  {# c #}\n  {% if true %}\ty{% endif %}",
    "{{ 'a' }}  {% if true %}b{% endif %}",
    "\n\n{% if true %}\n\n{% endif %}\n\n",
    "a {{- ' b ' -}} c",
    "{% if true -%}\n\n   text\n{%- endif %}",
    "a\r\nb\r\n{% if true %}\r\nc{% endif %}\r\n",
    # filters
    "{{ s|trim }}|{{ s|trim('! ') }}|{{ s|length }}|{{ s|lower }}|{{ s|upper }}|{{ s|title }}|{{ s|capitalize }}",
    "{{ s|replace('l', 'L') }} {{ s|replace('l', 'L', 2) }} {{ 'abc'|replace('', '-') }}",
    "{{ nums|join(', ') }} {{ people|join('/', attribute='name') }} {{ nums|first }} {{ nums|last }} {{ 'abc'|first }}",
    "{{ []|first }}|{{ undefined_x|default('dflt') }}|{{ emptys|default('dflt') }}|{{ emptys|default('dflt', true) }}|{{ none_v|d('x') }}",
    "{{ 42|string + 'a' }} {{ '42'|int + 1 }} {{ 'x'|int }} {{ 3.7|int }} {{ '3.7'|int }} {{ ' 12 '|int }} {{ '1_000'|int }} {{ 'x'|int(7) }} {{ '2.5'|float }} {{ 'x'|float }}",
    "{{ d|items|list }} {{ d|list }} {{ 'ab'|list }} {{ nums|reverse|list }} {{ 'abc'|reverse }}",
    "{{ nums|sort }} {{ nums|sort(reverse=true) }} {{ words|sort }} {{ words|sort(case_sensitive=true) }} {{ people|sort(attribute='name')|map(attribute='name')|list }}",
    "{{ nums|min }} {{ nums|max }} {{ nums|sum }} {{ people|sum(attribute='age') }} {{ words|unique|list }} {{ nums|abs }}",
    "{{ -3|abs }} {{ 2.567|round(2) }} {{ 2.5|round }} {{ 3.5|round }} {{ 2.1|round(0, 'ceil') }}",
    "{{ people|map(attribute='name')|join(',') }} {{ words|map('upper')|list }} {{ people|map(attribute='age', default=0)|list }}",
    "{{ nums|select('odd')|list }} {{ nums|reject('odd')|list }} {{ people|selectattr('age')|map(attribute='name')|list }} {{ people|rejectattr('age', 'defined')|map(attribute='name')|list }} {{ people|selectattr('name', 'equalto', 'lee')|list }}",
    "{{ d|tojson }} {{ d|tojson(indent=2) }} {{ ko|tojson }} {{ ko|tojson(ensure_ascii=true) }} {{ d|tojson(sort_keys=true) }} {{ d|tojson(separators=(',', ':')) }}",
    "{{ [1.0, 1e-7, 1e21, -0.0, 9007199254740993, 'a\\u0001\\n\"\\\\/<>&'] | tojson }} {{ {} | tojson }} {{ [] | tojson(indent=2) }} {{ {'a': []} | tojson(indent=2) }}",
    "{{ undefined_x|tojson }}",
    "{{ 'line1\\nline2\\n\\nline4'|indent }}|{{ 'a\\nb'|indent(2, true) }}|{{ 'a\\n\\nb'|indent(2, blank=true) }}",
    "{{ 'x'|center(7) }}|{{ 'one two  three'|wordcount }}|{{ '%s and %d'|format('a', 3) }}|{{ '<a href=\"x\">'|e }}|{{ 'x'|safe }}",
    "{{ undefined_x|length }} {{ undefined_x|string }}|{{ undefined_x|trim }}|{{ undefined_x|list }} {{ undefined_x|items|list }}",
    "{{ 5|length }}",
    "{{ d|attr('a') }} {{ d|attr('items') is defined }}",
    # tests
    "{{ 3 is divisibleby 3 }} {{ 'a' is string }} {{ d is mapping }} {{ d is iterable }} {{ 1.0 is number }} {{ true is number }} {{ 1 is integer }} {{ true is integer }}",
    "{{ x is defined }} {{ x is undefined }} {{ none_v is none }} {{ t is true }} {{ 1 is true }} {{ false is false }} {{ t is boolean }} {{ 2.5 is float }}",
    "{{ 'ab' is iterable }} {{ 5 is iterable }} {{ undefined_x is iterable }} {{ nums is sequence }} {{ 5 is sequence }} {{ range is callable }} {{ 'x' is callable }}",
    "{{ 4 is even }} {{ 3 is odd }} {{ 3 is eq 3 }} {{ 3 is ne 3 }} {{ 2 is lt 3 }} {{ 3 is ge 4 }} {{ 2 is in nums }} {{ 'abc' is lower }} {{ 'ABC' is upper }} {{ 'a' is not string }}",
    "{{ none_v is sameas none }} {{ 'upper' is filter }} {{ 'odd' is test }} {{ 'nope' is filter }}",
    # methods
    "{{ s.strip() }}|{{ s.lstrip() }}|{{ s.rstrip() }}|{{ 'xxaxx'.strip('x') }}|{{ s.upper() }}|{{ s.lower() }}",
    "{{ 'a,b,,c'.split(',') }} {{ ' a  b '.split() }} {{ 'a b c'.split(none, 1) }} {{ 'a,b,c'.rsplit(',', 1) }} {{ ' a  b '.rsplit() }}",
    "{{ s.startswith('  He') }} {{ s.endswith(('x', '  ')) }} {{ 'abc'.replace('b', 'B') }} {{ 'abca'.find('a') }} {{ ko.find('텍') }} {{ 'abca'.rfind('a') }} {{ 'abca'.count('a') }}",
    "{{ '-'.join(['a', 'b']) }} {{ 'a\\nb\\r\\nc'.splitlines() }} {{ '12'.isdigit() }} {{ 'ab'.isalpha() }} {{ 'Hello World'.title() }} {{ 'hELLO'.capitalize() }} {{ 'ß'.upper() }}",
    "{{ d.get('a') }} {{ d.get('zz') }} {{ d.get('zz', 7) }} {{ d.keys() | list }} {{ d.values() | list }} {{ nums.index(2) }} {{ nums.count(3) }}",
    "{{ msgs[2].content.split('</think>')[-1].lstrip('\\n') }}|{{ msgs[2].content.split('</think>')[0].rstrip('\\n').split('<think>')[-1].lstrip('\\n') }}",
    "{{ [].append(1) }}",
    "{{ d.pop('a') }}",
    "{{ d.update }}",
    "{{ nums.nope() }}",
    "{{ 'x'.nope }}|",
    "{{ 'abc'() }}",
    # globals
    "{{ raise_exception('custom failure: ' ~ 42) }}",
    "{{ range(3)|list }} {{ range(1, 10, 3)|list }} {{ range(5, 0, -2)|list }} {{ dict(a=1, b='x') }} {{ namespace(x=1).x }}",
    "{% if msgs[0]['role'] == 'system' %}{% set sys = msgs[0]['content'] | trim + '\\n\\n' %}{% set msgs = msgs[1:] %}{% endif %}{{ sys }}{{ msgs|length }}",
    "{{ messages }}",
]


def render(src, ctx):
    try:
        return _compile_jinja_template(src).render(**ctx), None
    except Exception as e:  # noqa: BLE001 - the golden records whatever jinja2 raises
        return None, {"type": type(e).__name__, "message": str(e)}


def main():
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0) as gz:
        for i, src in enumerate(CASES):
            rendered, error = render(src, CTX)
            rec = {"id": f"feature-{i}", "template": src, "context": CTX, "rendered": rendered, "error": error}
            gz.write((json.dumps(rec, ensure_ascii=False) + "\n").encode("utf-8"))
    with open(OUT, "wb") as f:
        f.write(buf.getvalue())
    print(f"wrote {OUT}: {len(CASES)} cases (jinja2 {jinja2.__version__}, transformers {transformers.__version__})")


if __name__ == "__main__":
    main()
