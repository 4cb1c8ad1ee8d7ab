"""Headless notebook runs (timings, capacity) have an overall limit, name the stalled cell, and retry once."""
import time

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from labkit import course


def _nb(path, *cells):
    nb = new_notebook(cells=[new_code_cell(c) for c in cells])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


def test_stall_is_reported_with_its_cell_and_retried_once(tmp_path):
    p = _nb(tmp_path / "stall.ipynb", "x = 1", "import time\nwhile True:\n    time.sleep(0.1)")
    said = []
    t0 = time.perf_counter()
    with pytest.raises(course.NotebookStalled, match=r"in cell 1 \(`import time`\)") as e:
        course.run_notebook(p, timeout=600, overall=20, echo=said.append)
    assert len(said) == 2 and "retrying once" in said[0] and "retrying" not in said[1]
    assert "stall.ipynb: stopped after 20 s" in str(e.value)
    assert time.perf_counter() - t0 < 2 * 20 + 120  # two tries, not a cell timeout of 600 s


def test_a_good_notebook_runs_and_arguments_are_checked(tmp_path):
    p = _nb(tmp_path / "ok.ipynb", "print(1)")
    assert course.run_notebook(p, timeout=120) > 0
    for bad in ({"timeout": 0}, {"timeout": float("inf")}, {"overall": -1}, {"retries": -1}):
        with pytest.raises(ValueError):
            course.run_notebook(p, **bad)
