"""The quiz bank quotes no figure from a notebook run that the notebook does not produce.

An explanation may say "the notebook measured ~10×" only if that figure is a constant of the
notebook's code (an assert's bound, a parameter, a size) — otherwise it was true on the day it was
written and nothing checks it since. Figures the question itself states (a worked example's
givens), facts (bits of fp16, a paper's figure cited as such) and section numbers are not run
figures; a sentence is a run claim when it says so ("the notebook measured", "in this run",
"本 notebook 测得", …). The English and Chinese text of a question quote the same figures.
"""
import re
import tomllib
from pathlib import Path

import pytest

from test_summary_figures import NUMBER, _cells, _numbers_in_code

ROOT = Path(__file__).resolve().parent.parent
BANKS = sorted(p for p in (ROOT / "labkit" / "quizbank").glob("*.toml") if p.stem != "glossary")
#: phrases that make a sentence a claim about what a notebook run showed
RUN_CLAIM = re.compile(
    r"we (?:measured|found|saw|got)|in this run|this run|(?:this|the|our|course's) machine|the notebook(?:'s)?|in the notebook|"
    r"notebook \d\d (?:measured|showed|found|printed|prints)|\bhere\b|"
    r"本 ?notebook|notebook ?[中里]|在 ?notebook|笔记本[中里测]|本课|测得|实测|这次运行|本次运行|这里|此处", re.I)
SENTENCE_END = re.compile(r"(?<=[.;:!?])\s+|(?<=[。；：！？])")


def _sentences(text: str) -> list[str]:
    return [s for s in SENTENCE_END.split(text) if s.strip()]


def _numbers(text: str) -> list[str]:
    """Figures in prose: notebook numbers, exponents and code spans removed."""
    text = re.sub(r"[Nn]otebooks? \d\d(?:(?:, | and | or |–|-)\d\d)*|\b\d\d ·|notebook ?\d\d|第 ?\d+ ?节", " ", text)
    text = re.sub(r"`[^`]*`|\b\d+(?:\.\d+)?e[+-]?\d+\b|[⁰¹²³⁴⁵⁶⁷⁸⁹⁻]+", " ", text)
    text = re.sub(r"\b\d+(?:\.\d+)?\s*·\s*(?=[A-Za-z(√])", " ", text)       # formula coefficients: 12·d² + 13·d
    text = re.sub(r"(\d),(\d{3})\b", r"\1\2", text)
    return [m.group(1) for m in NUMBER.finditer(text)]


def _fields(block: dict) -> list[tuple[str, str]]:
    out = []
    for k, v in block.items():
        if isinstance(v, str):
            out.append((k, v))
        elif isinstance(v, list):
            out += [(f"{k}[{i}]", s) for i, s in enumerate(v) if isinstance(s, str)]
    return out


def _code_numbers(nn: str) -> set[str]:
    paths = sorted((ROOT / "notebooks").glob(f"{nn}_*.ipynb"))
    return _numbers_in_code(_cells(paths[0])) if paths else set()


def run_figures(bank: Path) -> list[str]:
    """Run claims in a bank whose figures neither the notebook's code nor the question itself contains."""
    data = tomllib.loads(bank.read_text(encoding="utf-8"))
    nn = data.get("notebook", "")
    code = _code_numbers(nn)
    loose = []
    for q in data["questions"]:
        for lang in ("en", "zh"):
            block = q[lang]
            givens = set(_numbers(block["question"] + " " + " ".join(block.get("options", []))))
            for field, text in _fields(block):
                for sentence in _sentences(text):
                    if not RUN_CLAIM.search(sentence):
                        continue
                    other = re.search(r"[Nn]otebook (\d\d)", sentence)
                    known = code | givens | (_code_numbers(other.group(1)) if other else set())
                    for n in _numbers(sentence):
                        if n in known or n.lstrip("0") in known or (n.isdigit() and int(n) <= 3):
                            continue
                        loose.append(f"{q['id']} {lang} {field}: {n!r} in “{sentence.strip()}”")
    return loose


@pytest.mark.parametrize("bank", BANKS, ids=lambda p: p.stem)
def test_quiz_quotes_no_free_run_figure(bank):
    loose = run_figures(bank)
    assert not loose, (f"{bank.name}: a question quotes a figure from a notebook run that the notebook's code "
                       f"neither produces nor asserts — drop the figure, or make the notebook assert it:\n  "
                       + "\n  ".join(loose))


def _claimed(text: str) -> set[str]:
    """The figures of a field's run-claim sentences."""
    return {n for s in _sentences(text) if RUN_CLAIM.search(s) for n in _numbers(s)}


@pytest.mark.parametrize("bank", BANKS, ids=lambda p: p.stem)
def test_english_and_chinese_quote_the_same_run_figures(bank):
    data = tomllib.loads(bank.read_text(encoding="utf-8"))
    differ = []
    for q in data["questions"]:
        en, zh = dict(_fields(q["en"])), dict(_fields(q["zh"]))
        for field in sorted(en.keys() & zh.keys()):
            a, b = _claimed(en[field]), _claimed(zh[field])
            missing = {n for n in a if n not in _numbers(zh[field])} | {n for n in b if n not in _numbers(en[field])}
            if {n for n in missing if not (n.isdigit() and int(n) <= 3)}:
                differ.append(f"{q['id']} {field}: en {sorted(a)} ≠ zh {sorted(b)}")
    assert not differ, (f"{bank.name}: where a question quotes a run, English and Chinese quote different "
                        f"figures:\n  " + "\n  ".join(differ))


def test_the_scanner_catches_a_free_run_figure(tmp_path):
    bank = tmp_path / "x.toml"
    bank.write_text('topic = "x"\nnotebook = "00"\n[[questions]]\nid = "x-01"\n'
                    '[questions.en]\nquestion = "Why?"\nexplanation = "The notebook measured 1.8× here. Adam uses 16 bytes."\n'
                    '[questions.zh]\nquestion = "为什么？"\nexplanation = "本 notebook 测得 1.8×。Adam 用 16 字节。"\n',
                    encoding="utf-8")
    found = run_figures(bank)
    assert [f.split(":")[0] for f in found] == ["x-01 en explanation", "x-01 zh explanation"]
    assert all("'1.8'" in f for f in found)
