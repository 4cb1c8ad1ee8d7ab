"""The grader runs submissions headless; errors and hangs are recorded, never crash it."""
import csv

import nbformat
from nbformat.v4 import new_code_cell, new_notebook

from labkit import grade


def _nb(path, *cells):
    nb = new_notebook(cells=[new_code_cell(c) for c in cells])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)


def test_grade_folder(tmp_path):
    sub = tmp_path / "submitted"
    head = "import numpy as np\nimport labkit as lk"
    _nb(sub / "alice" / "00_welcome.ipynb", head,
        "def standardize(X):\n    return (X - X.mean(0)) / X.std(0)\nlk.check('00.standardize', standardize)")
    _nb(sub / "bob" / "00_welcome.ipynb", head, "1/0",
        "def standardize(X):\n    return X - X.mean()\nlk.check('00.standardize', standardize)")
    _nb(sub / "carol" / "00_welcome.ipynb", head, "import time\ntime.sleep(600)")
    out = grade.grade(sub, tmp_path / "grades.csv", timeout=25, echo=lambda *_: None)
    rows = {r["learner"]: r for r in csv.DictReader(open(out))}
    assert rows["alice"]["score"] == "1" and rows["alice"]["status"] == "ok"
    assert rows["bob"]["score"] == "0" and "error" in rows["bob"]["status"]
    assert rows["carol"]["score"] == "0" and rows["carol"]["status"].startswith("timeout")
    assert rows["carol"]["message"] == "not reached"


def test_bad_directory(tmp_path):
    import pytest
    with pytest.raises(ValueError, match="not a folder"):
        grade.grade(tmp_path / "nope")
    with pytest.raises(ValueError, match="No .ipynb"):
        grade.grade(tmp_path)
