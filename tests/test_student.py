"""Student versions: solutions stubbed by nbgrader, outputs cleared, learners' edits never lost."""
import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from labkit import student

ROOT = Path(__file__).resolve().parent.parent
NB00 = ROOT / "notebooks" / "00_welcome.ipynb"
ALL = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.name)
def test_student_version_has_no_solutions(path):
    nb = nbformat.reads(student.student_version(path), as_version=4)
    src = "\n".join(c.source for c in nb.cells)
    assert "### BEGIN SOLUTION" not in src
    original = nbformat.read(path, as_version=4)
    n_solutions = sum(c.source.count("### BEGIN SOLUTION") for c in original.cells)
    assert src.count("raise NotImplementedError") >= n_solutions
    for c in nb.cells:
        if c.cell_type == "code":
            assert c.outputs == []
            if "NotImplementedError" in c.source and "lk.check(" in c.source:
                assert "lk.hint('" in c.source and "__EXERCISE__" not in c.source


def test_stubbed_exercise_cell_gives_a_cross_not_a_traceback(monkeypatch, capsys):
    monkeypatch.setenv("LABKIT_STRICT", "0")
    nb = nbformat.reads(student.student_version(NB00), as_version=4)
    cell = next(c for c in nb.cells if c.cell_type == "code" and "def standardize" in c.source)
    import numpy as np
    import labkit as lk
    exec(cell.source, {"np": np, "lk": lk})  # must not raise
    out = capsys.readouterr().out
    assert "✗ 00.standardize" in out and "not implemented yet" in out and "Hint" in out


def test_never_overwrites_learner_work(tmp_path):
    out = tmp_path / "student"
    r = student.make(out, [NB00])
    assert r[0].action == "written"
    dest = out / NB00.name
    # regenerating an untouched copy is fine
    assert student.make(out, [NB00])[0].action == "unchanged"
    # the learner edits their copy
    nb = json.loads(dest.read_text())
    nb["cells"].append({"cell_type": "markdown", "metadata": {}, "source": "my precious notes", "id": "mine"})
    dest.write_text(json.dumps(nb))
    edited = dest.read_text()
    r = student.make(out, [NB00])
    assert r[0].action == "skipped" and dest.read_text() == edited
    # --force replaces it but keeps the learner's copy next to it
    r = student.make(out, [NB00], force=True)
    assert r[0].action == "replaced" and r[0].backup.read_text() == edited
    assert "my precious notes" not in dest.read_text()


def test_unknown_existing_file_is_not_overwritten(tmp_path):
    out = tmp_path / "s"
    out.mkdir()
    (out / NB00.name).write_text("learner's own file")
    assert student.make(out, [NB00])[0].action == "skipped"
    assert (out / NB00.name).read_text() == "learner's own file"


def test_refuses_to_write_into_notebooks():
    with pytest.raises(ValueError, match="must not be notebooks"):
        student.make(ROOT / "notebooks", [NB00])


def test_cli(tmp_path):
    res = subprocess.run([sys.executable, "-m", "labkit.cli", "student", "--out", str(tmp_path / "s"), str(NB00)],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "s" / NB00.name).exists()
    res = subprocess.run([sys.executable, "-m", "labkit.cli", "student", "--out", str(tmp_path / "s"),
                          str(tmp_path / "missing.ipynb")], capture_output=True, text=True, timeout=120)
    assert res.returncode == 1 and "not a notebook" in res.stderr  # one bad input: named, the others still run


def test_bad_output_paths_and_inputs_give_one_line_errors(tmp_path, capsys):
    from labkit import cli
    f = tmp_path / "afile"
    f.write_text("x")
    assert cli.main(["student", "--out", str(f), str(NB00)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and str(f) in err and "is a file" in err
    # a folder that cannot be written: /proc refuses even root
    assert cli.main(["student", "--out", "/proc/labkit-student", str(NB00)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "cannot write to /proc/labkit-student" in err and "--out" in err
    # an invalid notebook among the inputs: named, with the fix; the others are still written
    bad = tmp_path / "99_broken.ipynb"
    bad.write_text("{not a notebook")
    out = tmp_path / "student"
    assert cli.main(["student", "--out", str(out), str(bad), str(NB00)]) == 1
    cap = capsys.readouterr()
    errs = cap.err.strip().splitlines()
    assert len(errs) == 1 and str(bad) in errs[0] and "not a valid notebook" in errs[0] and "git checkout" in errs[0]
    assert (out / NB00.name).exists() and not (out / bad.name).exists()
    # a damaged manifest: named, with the fix, nothing overwritten
    (out / student.MANIFEST).write_text("[1, 2")
    before = (out / NB00.name).read_bytes()
    assert cli.main(["student", "--out", str(out), str(NB00)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and student.MANIFEST in err and "delete it" in err
    assert (out / NB00.name).read_bytes() == before
