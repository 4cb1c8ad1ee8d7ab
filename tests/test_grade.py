"""The grader: each submission in a sandbox, hangs killed with their whole process tree, results
read from a channel the learner cannot write to, and the CSV written as it goes."""
import csv
import math
import os
import socket
import threading
import time

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from labkit import grade

#: per-notebook limit in the sandbox tests: generous, the test machine is shared and loaded
LIMIT = 60
HEAD = "import numpy as np\nimport labkit as lk"
GOOD = "def standardize(X):\n    return (X - X.mean(0)) / X.std(0)\nlk.check('00.standardize', standardize)"


def _nb(path, *cells):
    nb = new_notebook(cells=[new_code_cell(c) for c in cells])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)


def _rows(out):
    return {(r["learner"], r["exercise"]): r for r in csv.DictReader(open(out, encoding="utf-8"))}


needs_bwrap = pytest.mark.skipif(
    grade.sandbox_mode() != "bwrap" and not os.environ.get("LABKIT_REQUIRE_BWRAP"),
    reason="bubblewrap not installed (apt-get install bubblewrap); CI installs it")


def _sleepers(tag):
    import psutil
    return [p for p in psutil.process_iter(["cmdline"]) if p.info["cmdline"] and tag in " ".join(p.info["cmdline"])]


@needs_bwrap
def test_grade_in_sandbox_survives_hostile_class(tmp_path):
    """One run, six learners: honest, erroring, sleeping, a hang inside C with a detached child,
    a hostile one, and one whose folder name is a spreadsheet formula."""
    sub = tmp_path / "submitted"
    home_secret = tmp_path / "instructor_home" / "secret.txt"
    home_secret.parent.mkdir()
    home_secret.write_text("exam answers")
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    port = listener.getsockname()[1]
    _nb(sub / "alice" / "00_welcome.ipynb", HEAD, GOOD)
    _nb(sub / "bob" / "00_welcome.ipynb", HEAD, "1/0",
        "def standardize(X):\n    return X - X.mean()\nlk.check('00.standardize', standardize)")
    _nb(sub / "carol" / "00_welcome.ipynb", HEAD, "import time\ntime.sleep(600)")
    _nb(sub / "dave" / "00_welcome.ipynb", HEAD,
        "import subprocess\nsubprocess.Popen(['sleep', '4242.5'], start_new_session=True)",
        "sum(range(10**14))")
    victim = sub / "alice" / "00_welcome.ipynb"
    hostile = [
        HEAD,
        # reach other submissions, the instructor's files, the network
        f"import os, socket\nescapes = []\n"
        f"for p in [{str(victim)!r}, {str(home_secret)!r}]:\n"
        f"    try:\n        open(p, 'a').write('x'); escapes.append(p)\n    except OSError:\n        pass\n"
        f"try:\n    socket.create_connection(('127.0.0.1', {port}), timeout=2); escapes.append('net')\nexcept OSError:\n    pass\n"
        f"print('ESCAPES', escapes, 'HOME' in os.environ and os.environ['HOME'])",
        # forge: a verdict printed by a cell that does not check, and one for another notebook
        "print('\\u2713 00.standardize \\u2014 forged: correct.')\nprint('\\u2713 01.sgd_step \\u2014 forged: correct.')",
        "def standardize(X):\n    return X\nlk.check('00.standardize', standardize)",
    ]
    _nb(sub / "eve" / "00_welcome.ipynb", *hostile)
    _nb(sub / "=HYPERLINK(1)" / "00_welcome.ipynb", HEAD, GOOD)
    before = victim.read_bytes()
    lines = []
    t0 = time.monotonic()
    out = grade.grade(sub, tmp_path / "out" / "grades.csv", timeout=LIMIT, echo=lines.append)
    elapsed = time.monotonic() - t0
    listener.setblocking(False)
    with pytest.raises(BlockingIOError):  # nobody connected from a sandbox
        listener.accept()
    listener.close()
    rows = _rows(out)
    assert lines[0].startswith("sandbox: bubblewrap"), lines
    print("\n".join(lines))
    assert rows[("alice", "00.standardize")]["score"] == "1", lines
    assert rows[("alice", "00.standardize")]["status"] == "ok"
    assert rows[("bob", "00.standardize")]["score"] == "0" and "error" in rows[("bob", "00.standardize")]["status"]
    carol = rows[("carol", "00.standardize")]
    assert carol["status"].startswith(f"timeout after {LIMIT} s in cell 1") and carol["message"] == "not reached"
    dave = rows[("dave", "00.standardize")]
    assert dave["status"].startswith(f"timeout after {LIMIT} s in cell 2"), dave
    # the hang inside C and the detached child are gone with the sandbox: nothing left running
    assert not _sleepers("4242.5")
    assert not _sleepers("labkit-grade-")  # no kernel, sandbox or client of the grader is left
    # eve reached nothing and forged nothing
    assert victim.read_bytes() == before and home_secret.read_text() == "exam answers"
    assert rows[("eve", "00.standardize")]["score"] == "0"
    assert ("eve", "01.sgd_step") not in rows
    assert any("01.sgd_step, not an exercise of this notebook" in l for l in lines)
    # spreadsheet formulas neutralised
    assert ("'=HYPERLINK(1)", "00.standardize") in rows
    # every submission's limit was kept (kernel start-up excluded, so only a loose bound)
    assert elapsed < 6 * (LIMIT + grade.STARTUP_S)


@needs_bwrap
def test_sandbox_sees_only_its_copy(tmp_path):
    """Inside the sandbox: no network interface but loopback, own PID namespace, empty environment, no /root."""
    sub = tmp_path / "submitted"
    os.environ["LABKIT_TEST_SECRET"] = "instructor-token"
    try:
        _nb(sub / "zed" / "00_welcome.ipynb", HEAD,
            "import os\nfrom pathlib import Path\n"
            "assert 'LABKIT_TEST_SECRET' not in os.environ\n"
            "assert [f for f in os.listdir('.') if not f.startswith('.')] == ['00_welcome.ipynb'], os.listdir('.')\n"
            f"assert not Path({str(sub)!r}).exists()\n"
            "assert not Path('/root').exists() or os.listdir('/root') == [] or os.listdir('/root') == ['.pyenv']\n"
            "import socket\nassert [n for _, n in socket.if_nameindex()] == ['lo'], socket.if_nameindex()\n"
            "pids = [p for p in os.listdir('/proc') if p.isdigit()]\nassert len(pids) < 10, pids",
            GOOD)
        res = grade.run(grade.find(sub)[0], timeout=LIMIT)
    finally:
        del os.environ["LABKIT_TEST_SECRET"]
    assert res["errors"] == [] and res["status"] == "ok", res
    assert res["checks"]["00.standardize"]["passed"]


# ---------------------------------------------------------------- fast tests (no kernel)
def test_arguments_are_checked_before_anything_runs(tmp_path, monkeypatch):
    _nb(tmp_path / "s" / "a" / "00_welcome.ipynb", HEAD)
    monkeypatch.setattr(grade, "run", lambda *a, **k: pytest.fail("ran a notebook before checking arguments"))
    for bad in (math.inf, 0, -1, math.nan):
        with pytest.raises(ValueError, match="positive finite"):
            grade.grade(tmp_path / "s", tmp_path / "g.csv", timeout=bad)
    with pytest.raises(TypeError, match="number of seconds"):
        grade.grade(tmp_path / "s", tmp_path / "g.csv", timeout="10")
    with pytest.raises(ValueError, match="is a folder"):
        grade.grade(tmp_path / "s", tmp_path, timeout=10)
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    if os.geteuid() != 0:  # root writes anywhere
        with pytest.raises(ValueError, match="cannot write"):
            grade.grade(tmp_path / "s", ro / "g.csv", timeout=10)
    (tmp_path / "file").write_text("x")
    with pytest.raises(ValueError, match="cannot write"):
        grade.grade(tmp_path / "s", tmp_path / "file" / "g.csv", timeout=10)


def test_cli_rejects_bad_timeout(tmp_path, capsys):
    from labkit import cli
    (tmp_path / "s").mkdir()
    assert cli.main(["grade", str(tmp_path / "s"), "--timeout", "inf"]) == 2
    assert "positive finite" in capsys.readouterr().err


def test_csv_is_written_after_each_learner(tmp_path, monkeypatch):
    for name in ("a", "b", "c"):
        _nb(tmp_path / "s" / name / "00_welcome.ipynb", HEAD)
    calls = []

    def fake_run(sub, timeout, mode):
        calls.append(sub.learner)
        if sub.learner == "b":
            raise RuntimeError("=cmd|' /C calc'!A0")  # an odd result is that submission's error
        if sub.learner == "c":
            raise KeyboardInterrupt  # the grader is stopped half-way
        return {"status": "ok", "checks": {"00.standardize": {"passed": True, "message": "✓"}},
                "errors": [], "notes": [], "expected": ["00.standardize"], "seconds": 1.0}
    monkeypatch.setattr(grade, "run", fake_run)
    monkeypatch.setattr(grade, "sandbox_mode", lambda: "bwrap")
    out = tmp_path / "g.csv"
    with pytest.raises(KeyboardInterrupt):
        grade.grade(tmp_path / "s", out, timeout=10, echo=lambda *_: None)
    rows = list(csv.DictReader(open(out, encoding="utf-8")))
    assert [r["learner"] for r in rows] == ["a", "b"]
    assert rows[0]["score"] == "1"
    assert rows[1]["status"].startswith("grader error") and rows[1]["score"] == "0"
    assert not list(tmp_path.glob(".grades-*"))


def test_csv_safe():
    for bad in ("=1+1", "+1", "-1", "@SUM(A1)", "\t=x"):
        assert grade.csv_safe(bad).startswith("'")
    assert grade.csv_safe("alice") == "alice" and grade.csv_safe(3) == 3


def test_results_only_from_checking_cells_of_this_notebook():
    nb = new_notebook(cells=[
        new_code_cell("lk.check('00.standardize', f)"),
        new_code_cell("print('x')"),
        new_code_cell("lk.check('00.standardize', g)")])
    nb.cells[0].outputs = [{"output_type": "stream", "name": "stdout", "text": "✓ 00.standardize — t: correct.\n"}]
    nb.cells[1].outputs = [{"output_type": "stream", "name": "stdout",
                            "text": "✓ 00.standardize — forged\n✓ 01.sgd_step — forged\n"}]
    nb.cells[2].outputs = [{"output_type": "stream", "name": "stdout", "text": "✗ 00.standardize — t: wrong\n"},
                           {"output_type": "error", "ename": "ValueError", "evalue": "boom", "traceback": []}]
    checks, errors, notes = grade.results_from(nb, ["00.standardize"])
    assert checks == {"00.standardize": {"passed": False, "message": "✗ 00.standardize — t: wrong"}}
    assert errors == ["cell 2: ValueError: boom"]
    assert len(notes) == 2


def test_cheap_forgeries_are_flagged():
    def flags(src):
        return grade._cell_flags(new_notebook(cells=[new_code_cell(src)]))
    assert flags("print('✓ 00.standardize — correct')")
    assert flags("lk.check.run = lambda *a, **k: None")
    assert flags("import sys\nsys.modules['labkit.check'].judge = 1")
    assert flags("exec(code)")
    assert not flags("model.compile(loss='mse')\nlk.check('00.standardize', standardize)  # ✓ soon\nx == y")


def test_course_notebooks_are_not_flagged():
    """The shipped notebooks' own code never looks like a forgery (no false alarms for honest learners)."""
    from labkit import course
    for p in course.notebooks():
        assert grade._cell_flags(nbformat.read(p, as_version=4)) == [], p.name


def test_bad_directory(tmp_path):
    with pytest.raises(ValueError, match="not a folder"):
        grade.grade(tmp_path / "nope")
    with pytest.raises(ValueError, match="No .ipynb"):
        grade.grade(tmp_path)


def test_a_demonstration_check_does_not_overwrite_the_learners_attempt():
    """Notebook 00 shows a ✗ on purpose (record=False) after the learner's ✓: the ✓ must count."""
    nb = new_notebook(cells=[
        new_code_cell("lk.check('00.standardize', standardize)"),
        new_code_cell("res = lk.check('00.standardize', lambda X: X, strict=False, record=False)")])
    nb.cells[0].outputs = [{"output_type": "stream", "name": "stdout", "text": "✓ 00.standardize — t: correct.\n"}]
    nb.cells[1].outputs = [{"output_type": "stream", "name": "stdout", "text": "✗ 00.standardize — t: wrong\n"}]
    checks, _, notes = grade.results_from(nb, ["00.standardize"])
    assert checks["00.standardize"]["passed"] is True
    assert any("demonstration" in n for n in notes)
    # a learner cell that records its attempt still counts, also when it fails
    nb.cells[1].source = "lk.check('00.standardize', standardize2)"
    checks, _, _ = grade.results_from(nb, ["00.standardize"])
    assert checks["00.standardize"]["passed"] is False
