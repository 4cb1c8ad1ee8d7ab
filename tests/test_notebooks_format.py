"""Every notebook follows the course template and is stored without outputs."""
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
CONTENT = [p for p in NOTEBOOKS if p.name[:2] not in ("00", "19")]


def _nb(path):
    return json.loads(path.read_text(encoding="utf-8"))


def _src(cell):
    s = cell["source"]
    return "".join(s) if isinstance(s, list) else s


def test_there_are_notebooks():
    assert NOTEBOOKS and NOTEBOOKS[0].name == "00_welcome.ipynb"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_stored_without_outputs(path):
    for i, cell in enumerate(_nb(path)["cells"]):
        if cell["cell_type"] == "code":
            assert cell.get("outputs") == [], f"{path.name} cell {i} has stored outputs: clear them"
            assert cell.get("execution_count") is None, f"{path.name} cell {i} has an execution count"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_template(path):
    nb = _nb(path)
    cells = nb["cells"]
    first = _src(cells[0])
    nn = path.name[:2]
    assert cells[0]["cell_type"] == "markdown" and first.startswith(f"# {nn} · "), \
        f"{path.name}: the first cell must be the title '# {nn} · Topic'"
    for part in ("Learning goals", "Run time"):
        assert part in first, f"{path.name}: the title cell needs a '{part}' paragraph"
    code = [_src(c) for c in cells if c["cell_type"] == "code"]
    assert any("import labkit as lk" in c and "lk.setup(" in c for c in code[:2]), \
        f"{path.name}: the setup cell (first code cell) must import labkit as lk and call lk.setup(...)"
    md = "\n".join(_src(c) for c in cells if c["cell_type"] == "markdown")
    assert re.search(r"^#+ .*Summary", md, re.M), f"{path.name}: needs a Summary section"
    if path in CONTENT:
        assert re.search(r"^#+ .*Interview questions", md, re.M), f"{path.name}: needs an Interview questions section"
    assert nb["metadata"].get("kernelspec", {}).get("name") == "python3"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_forbidden_calls(path):
    code = "\n".join(_src(c) for c in _nb(path)["cells"] if c["cell_type"] == "code")
    for bad, why in [("tf.keras", "use `import keras` (Keras 3)"),
                     ("load_data(", "keras.datasets downloads; use lk.data.load(...)"),
                     ("weights=\"imagenet\"", "pretrained downloads fail offline"),
                     ("tensorflow_datasets", "stalls offline"),
                     ("tf.lite.Interpreter", "use ai_edge_litert's Interpreter")]:
        assert bad not in code, f"{path.name}: `{bad}` — {why}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_exercises_are_marked_and_checked(path):
    import labkit as lk
    cells = [_src(c) for c in _nb(path)["cells"] if c["cell_type"] == "code"]
    begins = sum(c.count("### BEGIN SOLUTION") for c in cells)
    ends = sum(c.count("### END SOLUTION") for c in cells)
    assert begins == ends, f"{path.name}: unbalanced BEGIN/END SOLUTION markers"
    ids = set(re.findall(r"lk\.check\(\s*[\"'](\d\d\.\w+)[\"']", "\n".join(cells)))
    for i in ids:
        lk.check.get(i)  # raises if the notebook checks an unregistered exercise
    nn = path.name[:2]
    registered = {e.id for e in lk.check.all_exercises(nn)}
    assert registered <= ids, f"{path.name}: exercises registered but never checked: {registered - ids}"
    if path in CONTENT:
        assert len(ids) >= 3 and begins >= 3, f"{path.name}: needs ≥ 3 checked exercises, found {len(ids)}"


def test_run_time_headers_follow_the_measured_timings():
    """Each notebook's "Run time … about N s" line is what `make timings` measured, rounded up to 5 s."""
    from labkit import course
    data = json.loads((ROOT / "notebooks" / "timings.json").read_text())
    for path in NOTEBOOKS:
        rec = data["notebooks"].get(path.stem)
        assert rec, f"{path.name} has no measured run time: run `make timings`"
        m = course.RUN_TIME.search(_src(_nb(path)["cells"][0]))
        assert m, f"{path.name}: the title cell has no '**Run time** … about N s' line"
        assert int(m.group(2)) == course.header_seconds(rec["seconds"]), \
            f"{path.name} says about {m.group(2)} s but measured {rec['seconds']} s: run `make timings`"


#: Notebooks measured over the 60 s budget, each with what is left to do. Keep this list short and
#: honest: a notebook leaves it when `make timings` measures it at 60 s or less.
OVER_BUDGET: dict[str, str] = {}   # 07 and 15 left it on 2026-12-07 (56 s and 55 s)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_run_time_fits_the_60_s_budget(path):
    rec = json.loads((ROOT / "notebooks" / "timings.json").read_text())["notebooks"][path.stem]
    if path.stem in OVER_BUDGET:
        assert rec["seconds"] > 60, f"{path.name} now fits the budget: remove it from OVER_BUDGET"
        pytest.xfail(f"over the 60 s budget ({rec['seconds']} s): {OVER_BUDGET[path.stem]}")
    assert rec["seconds"] <= 60, f"{path.name} takes {rec['seconds']} s on 2 cores; the budget is 60 s"
