"""A summary quotes no figure that the run does not produce.

A notebook's summary may state a number only if that number is a constant of the notebook's code
(an assert's bound, a parameter, a size) — measured values belong in a table the summary's code
cell prints from this run's variables. This stops "≈ 20× less forgetting" sentences that were
true on the day they were written and never checked again.
"""
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
NUMBER = re.compile(r"(?<![\w.\-/])(\d+(?:[.,]\d+)*)(?![\w])")
#: numbers that are structure, not measurements (notebook numbers are matched separately)
ALWAYS_OK = {str(i) for i in range(0, 11)}


def _cells(path):
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def _src(cell):
    return "".join(cell["source"])


def _numbers_in_code(cells):
    found = set()
    for c in cells:
        if c["cell_type"] == "code":
            code = re.sub(r"(?<=\d)_(?=\d)", "", _src(c))
            found.update(m.group(1) for m in re.finditer(r"(\d+(?:\.\d+)?)e[+-]?\d+", code))   # 112e9 ↔ "112 GB"
            for m in NUMBER.finditer(code):
                n = m.group(1).replace(",", "").replace("_", "")
                found.add(n)
                found.add(n.lstrip("0") or "0")
                if "." in n:
                    found.add(n.rstrip("0").rstrip("."))
                    found.add(str(float(n) * 100).rstrip("0").rstrip("."))   # 0.05 in code ↔ 5 % in prose
                else:
                    found.add(str(int(n) * 100))
    return found


def summary_figures(path):
    """Numbers in the summary cell that no code cell of the notebook contains."""
    cells = _cells(path)
    idx = [i for i, c in enumerate(cells) if c["cell_type"] == "markdown" and _src(c).lstrip().startswith("## Summary")]
    if not idx:
        return None
    text = _src(cells[idx[-1]])
    text = re.sub(r"\*\*\d\d ·[^*]*\*\*|\b\d\d_[a-z_]+|[Nn]otebooks? \d\d(?:(?:, | and | or |–|-)\d\d)*|\b\d\d ·",
                  " ", text)                                                   # notebook refs
    text = re.sub(r"\b\d{1,3}(?:\.\d{1,3}){3}\b|\b(?:19|20)\d\d\b", " ", text)    # IP addresses, years
    text = re.sub(r"(\d)[ \u202f\u2009](\d{3})\b", r"\1\2", text)                  # 200 000 → 200000
    text = re.sub(r"`[^`]*`", " ", text)                                       # code spans: names, not figures
    text = re.sub(r"\$[^$]*\$|\b\d+(\.\d+)?\s*[A-Z]\b|\bx86|float\d+|int\d+|bfloat16|fp\d+|sha\d+|SHA-\d+|HMAC-SHA\d+",
                  " ", text)                                                   # maths, units like 7B, dtypes
    code_numbers = _numbers_in_code(cells)
    loose = []
    for m in NUMBER.finditer(text):
        n = m.group(1).replace(",", "")
        if n in ALWAYS_OK or n in code_numbers or n.lstrip("0") in code_numbers:
            continue
        loose.append((n, text[max(0, m.start() - 40):m.end() + 20].replace("\n", " ")))
    return loose


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_summary_states_no_free_figures(path):
    loose = summary_figures(path)
    if loose is None:
        pytest.skip("no summary cell")
    assert not loose, (f"{path.name}: the summary quotes figures that no code cell produces or asserts — print "
                       f"them from this run's variables (a table in a code cell) or state the range an assert "
                       f"enforces:\n" + "\n".join(f"  {n!r} in …{ctx}…" for n, ctx in loose))


def test_the_scanner_catches_a_free_figure(tmp_path):
    nb = {"cells": [{"cell_type": "code", "source": ["assert acc > 0.9\n"], "outputs": [], "metadata": {}},
                    {"cell_type": "markdown", "source": ["## Summary\n\nAccuracy reached ≈ 0.93, above 0.9.\n"],
                     "metadata": {}}], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    p = tmp_path / "99_x.ipynb"
    p.write_text(json.dumps(nb))
    assert [n for n, _ in summary_figures(p)] == ["0.93"]
