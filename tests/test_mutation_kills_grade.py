"""Tests that kill mutants of labkit/grade.py which tests/test_grade.py leaves alive (issue 15).

Fast: no kernel starts. ``_attempt`` is driven with a fake notebook client (a tiny Python script put
in place of the real one), so time limits, crashes, retries and the kill of a process tree are
exercised for real in a second or two.
"""
import csv
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from labkit import grade


def _nb(path, *sources):
    nb = new_notebook(cells=[new_code_cell(s) for s in sources])
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


def _stdout(text):
    return new_output("stream", name="stdout", text=text)


# ---------------------------------------------------------------- finding submissions
def test_find_learner_folders_and_loose_notebooks(tmp_path):
    _nb(tmp_path / "zoe.ipynb", "1")
    _nb(tmp_path / "bob" / "01_x.ipynb", "1")
    _nb(tmp_path / "bob" / "00_y.ipynb", "1")
    _nb(tmp_path / "amy" / "00_y.ipynb", "1")
    _nb(tmp_path / ".ipynb_checkpoints" / "00_y.ipynb", "1")  # hidden: not a learner
    (tmp_path / "notes.txt").write_text("x")
    (tmp_path / "bob" / "folder.ipynb").mkdir()  # a folder named like a notebook is not one
    subs = grade.find(tmp_path)
    assert [(s.learner, s.notebook.name) for s in subs] == [("zoe", "zoe.ipynb"), ("amy", "00_y.ipynb"),
                                                            ("bob", "00_y.ipynb"), ("bob", "01_x.ipynb")]
    assert subs[0].notebook == tmp_path / "zoe.ipynb"
    with pytest.raises(ValueError, match="is not a folder"):
        grade.find(tmp_path / "zoe.ipynb")


# ---------------------------------------------------------------- the sandbox command
def test_sandbox_mode_prefers_bubblewrap_then_unshare(monkeypatch):
    tried = []
    monkeypatch.setattr(grade.shutil, "which", lambda name: f"/usr/bin/{name}")
    monkeypatch.setattr(grade, "_probe", lambda cmd: tried.append(cmd[0]) or True)
    assert grade.sandbox_mode() == "bwrap" and tried == ["bwrap"]
    monkeypatch.setattr(grade, "_probe", lambda cmd: tried.append(cmd) or cmd[0] != "bwrap")
    assert grade.sandbox_mode() == "unshare"
    assert tried[-1][-1] == "true" and "--net" in tried[-1] and "--pid" in tried[-1]
    monkeypatch.setattr(grade, "_probe", lambda cmd: False)
    assert grade.sandbox_mode() == "none"
    monkeypatch.setattr(grade.shutil, "which", lambda name: None)
    monkeypatch.setattr(grade, "_probe", lambda cmd: pytest.fail("probed a missing tool"))
    assert grade.sandbox_mode() == "none"


def test_probe_reports_success_failure_and_missing_tools():
    assert grade._probe(["true"]) is True
    assert grade._probe(["false"]) is False
    assert grade._probe(["/nonexistent/tool"]) is False


def test_unshare_maps_root_only_for_ordinary_users(monkeypatch):
    monkeypatch.setattr(grade.os, "geteuid", lambda: 0)
    assert grade._unshare_base() == ["unshare", "--net", "--pid", "--fork", "--kill-child", "--mount-proc"]
    monkeypatch.setattr(grade.os, "geteuid", lambda: 1000)
    assert grade._unshare_base() == ["unshare", "--user", "--map-root-user", "--net", "--pid", "--fork",
                                     "--kill-child", "--mount-proc"]


def test_describe_mode_warns_about_weaker_isolation():
    assert "bubblewrap" in grade.describe_mode("bwrap") and "no network" in grade.describe_mode("bwrap")
    assert "NO file isolation" in grade.describe_mode("unshare") and "apt-get install bubblewrap" in grade.describe_mode("unshare")
    assert grade.describe_mode("none").startswith("sandbox: NONE")


def test_kernel_environment_is_minimal_and_private(tmp_path):
    env = grade._kernel_env(tmp_path)
    assert env["HOME"] == str(tmp_path) and env["LABKIT_HOME"] == str(tmp_path / ".labkit")
    assert env["LABKIT_STRICT"] == "0" and env["MPLBACKEND"] == "Agg" and env["KERAS_HOME"] == str(tmp_path / ".keras")
    assert env["PATH"].startswith(str(Path(sys.executable).parent) + ":") and env["LANG"] == "C.UTF-8"
    assert set(env) == {"HOME", "LABKIT_HOME", "LABKIT_STRICT", "MPLBACKEND", "PATH", "LANG",
                        "PYTHONDONTWRITEBYTECODE", "TF_CPP_MIN_LOG_LEVEL", "KERAS_HOME"}


def _pairs(argv, flag):
    return [(argv[i + 1], argv[i + 2]) for i, a in enumerate(argv) if a == flag]


def test_bwrap_command_isolates_the_kernel(tmp_path):
    argv = grade.kernel_argv("bwrap", tmp_path)
    assert argv[:3] == ["bwrap", "--unshare-all", "--die-with-parent"]
    assert "--new-session" in argv and argv[argv.index("--cap-drop") + 1] == "ALL" and "--clearenv" in argv
    assert argv[-5:] == [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    assert _pairs(argv, "--bind") == [(str(tmp_path), str(tmp_path))]  # the only writable place
    assert argv[argv.index("--chdir") + 1] == str(tmp_path)
    ro = dict(_pairs(argv, "--ro-bind"))
    assert ro["/usr"] == "/usr" and str(grade.ROOT / "labkit") in ro and str(grade.ROOT / "datasets") in ro
    assert str(Path(sys.prefix).resolve()) in ro and str(grade.ROOT) not in ro
    assert str(Path.home()) not in ro or str(Path.home()) == str(Path(sys.base_prefix).resolve())
    etc = {a for a, b in _pairs(argv, "--ro-bind-try") if a == b}
    assert {f"/etc/{n}" for n in ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "fonts", "localtime", "passwd", "group",
                                  "nsswitch.conf", "hosts", "alternatives", "matplotlibrc", "mime.types")} == etc
    assert ("/proc", "/dev") == (argv[argv.index("--proc") + 1], argv[argv.index("--dev") + 1])
    assert argv[argv.index("--tmpfs") + 1] == "/tmp"
    env = dict(_pairs(argv, "--setenv"))
    assert env == grade._kernel_env(tmp_path)
    for name in ("bin", "lib"):
        p = Path("/") / name
        if p.is_symlink():
            assert (os.readlink(p), str(p)) in _pairs(argv, "--symlink")
        elif p.is_dir():
            assert (str(p), str(p)) in _pairs(argv, "--ro-bind")


def test_unshare_and_unsandboxed_commands_start_with_an_empty_environment(tmp_path):
    env = grade._kernel_env(tmp_path)
    for mode in ("unshare", "none"):
        argv = grade.kernel_argv(mode, tmp_path)
        assert argv[:2] == ["env", "-i"] and f"HOME={tmp_path}" in argv
        assert argv[2:2 + len(env)] == [f"{k}={v}" for k, v in env.items()]
        assert argv[-5:] == [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    assert "unshare" in grade.kernel_argv("unshare", tmp_path) and "unshare" not in grade.kernel_argv("none", tmp_path)


# ---------------------------------------------------------------- killing a process tree
def test_kill_tree_kills_detached_grandchildren():
    script = ("import subprocess, sys, time\n"
              "p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(300)'], start_new_session=True)\n"
              "print(p.pid, flush=True)\ntime.sleep(300)\n")
    bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])  # the grader's own child
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, start_new_session=True)
    grandchild = int(proc.stdout.readline())
    assert grade._descendants(proc.pid) == [grandchild]
    grade._kill_tree(proc)
    proc.wait(10)
    for _ in range(100):
        try:
            os.kill(grandchild, 0)
            with open(f"/proc/{grandchild}/stat") as fh:
                if fh.read().split()[2] == "Z":
                    break
        except (ProcessLookupError, FileNotFoundError):
            break
        time.sleep(0.05)
    else:
        pytest.fail("the detached grandchild survived")
    assert grade._descendants(proc.pid) == []  # a dead process has none (no exception)
    assert bystander.poll() is None  # only the submission's tree is killed
    bystander.kill()
    bystander.wait()


# ---------------------------------------------------------------- reading results
def test_results_from_reads_list_texts_and_ignores_stderr_and_other_ids():
    nb = new_notebook(cells=[new_markdown_cell("✓ 00.standardize — in prose"),
                             new_code_cell("lk.check('00.standardize', f)\nlk.check(\"00.other\", g)")])
    nb.cells[1].outputs = [
        new_output("stream", name="stderr", text="✓ 00.standardize — on stderr: ignored\n"),
        {"output_type": "stream", "name": "stdout", "text": ["✗ 00.standardize — t: wrong\n", "noise\n"]},
        _stdout("✓ 00.standardize — t: correct.\n✓ 00.other — o: fine\nnot a verdict ✓ 00.x — y\n"),
        {"output_type": "stream", "name": "stdout", "text": ["✗ 00.other — o: ", "retried\n"]},  # a line in two parts
        {"output_type": "error", "ename": "KeyError", "evalue": "x" * 300, "traceback": []},
        {"output_type": "error"},
    ]
    checks, errors, notes = grade.results_from(nb, ["00.standardize", "00.other"])
    assert checks == {"00.standardize": {"passed": True, "message": "✓ 00.standardize — t: correct."},
                      "00.other": {"passed": False, "message": "✗ 00.other — o: retried"}}  # the last attempt
    assert errors == ["cell 1: KeyError: " + "x" * 160, "cell 1: ?: "]
    assert notes == []
    long = "✓ 00.standardize — " + "y" * 400
    nb.cells[1].outputs = [_stdout(long + "\n")]
    assert grade.results_from(nb, ["00.standardize"])[0]["00.standardize"]["message"] == long[:300]


def test_results_notes_say_why_a_verdict_was_ignored():
    nb = new_notebook(cells=[new_code_cell("print('hi')"), new_code_cell("lk.check('00.standardize', f)")])
    nb.cells[0].outputs = [_stdout("✓ 00.standardize — forged\n")]
    nb.cells[1].outputs = [_stdout("✓ 01.sgd_step — t: ok\n")]
    checks, _, notes = grade.results_from(nb, ["00.standardize"])
    assert checks == {}
    assert notes == ["ignored a verdict for 00.standardize printed by cell 0, which does not check it",
                     "ignored a verdict for 01.sgd_step, not an exercise of this notebook"]


def test_demonstration_needs_every_call_to_be_record_false():
    src = "lk.check('00.a', f, record=False)\nlk.check('00.a', g)"
    assert not grade._demonstration(src, "00.a")
    assert grade._demonstration("lk.check.run( '00.a', f, strict=False, record = False)", "00.a")
    assert grade._demonstration("check(\"00.a\", f, record=False)", "00.a")
    assert not grade._demonstration("lk.check('00.ab', f, record=False)", "00.a")  # another id
    assert not grade._demonstration("x = 1", "00.a")
    assert not grade._demonstration("lk.check('00.a', f, record=True)", "00.a")


def test_each_kind_of_forgery_is_named():
    def flags(*srcs):
        return grade._cell_flags(new_notebook(cells=[new_markdown_cell("print('✓ 00.a — x')")]
                                              + [new_code_cell(s) for s in srcs]))
    cases = {
        "print('\\u2713 00.standardize \\u2014 ok')": "prints a verdict of its own",
        "lk.check = None": "assigns to a labkit attribute",
        "labkit . check . judge = f": "assigns to a labkit attribute",
        "setattr(lk, 'check', f)": "patches labkit",
        "x = lk._REGISTRY": "touches labkit internals",
        "f.__code__": "touches labkit internals",
        "import builtins": "patches modules or stdout",
        "sys.stdout = io.StringIO()": "patches modules or stdout",
        "eval('1')": "runs hidden code",
        "__import__('os')": "runs hidden code",
        "import base64": "runs hidden code",
    }
    for src, what in cases.items():
        (flag,) = flags(src)
        assert flag.startswith(f"cell 1 {what} (`") and flag.endswith("`)"), (src, flag)
    assert flags("lk.check('00.a', f) == 1", "# exec(x)\nx = 2", "model.evaluate(x)", "lk.x == 2") == []
    assert len(flags("eval('1')", "eval('2')")) == 2
    assert flags("exec('" + "a" * 60 + "')")[0] == "cell 1 runs hidden code (`exec(`)"


def test_stalled_names_the_running_cell(tmp_path):
    st = tmp_path / "state.json"
    assert grade._stalled(st) == " before the first cell ran (kernel start)"
    st.write_text(json.dumps({"cell": 4, "t": 0, "line": "while True: pass"}))
    assert grade._stalled(st) == " in cell 4 (`while True: pass`)"
    st.write_text("{half")
    assert grade._stalled(st) == " before the first cell ran (kernel start)"


# ---------------------------------------------------------------- one submission, with a fake client
FAKE_CLIENT = r'''
import json, os, sys, time
import nbformat
nb_path, out_path, state_path, mode, cell_timeout = sys.argv[1:6]
behaviour = json.load(open(os.environ["FAKE_BEHAVIOUR"]))
with open(os.environ["FAKE_BEHAVIOUR"] + ".args", "w") as fh:
    json.dump([nb_path, out_path, state_path, mode, cell_timeout, os.getcwd()], fh)
if behaviour.get("crash_early"):
    sys.exit("ImportError: no kernel\nRuntimeError: client could not start")
nb = nbformat.read(nb_path, as_version=4)
if behaviour.get("start", True):
    open(state_path, "w").write(json.dumps({"cell": 1, "t": time.time(), "line": "spin()"}))
for i, cell in enumerate(nb.cells):
    if cell.cell_type == "code":
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=t) for t in behaviour.get("print", {}).get(str(i), [])]
        if str(i) in behaviour.get("error", {}):
            cell.outputs.append(nbformat.v4.new_output("error", ename="ValueError", evalue=behaviour["error"][str(i)], traceback=[]))
if behaviour.get("save", True):
    nbformat.write(nb, out_path)
if behaviour.get("corrupt"):
    open(out_path, "w").write("{not a notebook")
if behaviour.get("hang"):
    time.sleep(300)
sys.exit(behaviour.get("exit", 0))
'''


@pytest.fixture
def client(tmp_path, monkeypatch):
    """Run _attempt with FAKE_CLIENT in place of the real notebook client; returns a runner."""
    fake = tmp_path / "fake_client.py"
    fake.write_text(FAKE_CLIENT)
    behaviour = tmp_path / "behaviour.json"
    monkeypatch.setenv("FAKE_BEHAVIOUR", str(behaviour))
    real_popen = subprocess.Popen
    launched = []

    def popen(argv, **kw):
        assert argv[:2] == [sys.executable, "-c"] and "_run_one" in argv[2]
        compile(argv[2], "<client command>", "exec")  # the command the real client would run is valid Python
        launched.append(kw)
        return real_popen([sys.executable, str(fake)] + argv[3:], **kw)
    monkeypatch.setattr(grade.subprocess, "Popen", popen)

    def attempt(nb_path, timeout=5.0, expected=("00.standardize",), **b):
        behaviour.write_text(json.dumps(b))
        sub = grade.Submission("ann", nb_path)
        res = grade._attempt(sub, timeout, "none", list(expected))
        args_file = tmp_path / "behaviour.json.args"
        args = json.loads(args_file.read_text()) if args_file.exists() else None  # None: killed before it began
        if args_file.exists():
            args_file.unlink()
        return res, args, launched[-1]
    return attempt


GOOD_CELLS = ("import labkit as lk", "lk.check('00.standardize', standardize)")


def test_attempt_reads_the_verdicts_of_a_finished_run(client, tmp_path):
    nb = _nb(tmp_path / "in" / "00_welcome.ipynb", *GOOD_CELLS)
    res, args, kw = client(nb, print={"1": ["✓ 00.standardize — s: correct.\n"]})
    assert res == {"status": "ok", "checks": {"00.standardize": {"passed": True,
                                                                   "message": "✓ 00.standardize — s: correct."}},
                   "errors": [], "notes": [], "retry": False}
    nb_copy, out_path, state, mode, cell_timeout, cwd = args
    assert Path(nb_copy).name == "00_welcome.ipynb" and Path(nb_copy).parent.name == "box"
    assert Path(out_path).parent == Path(nb_copy).parent.parent == Path(cwd)  # results outside the box
    assert Path(state).parent == Path(cwd) and mode == "none" and cell_timeout == "35"  # ceil(5) + 30
    assert kw["start_new_session"] is True and kw["stdin"] == subprocess.DEVNULL
    assert not Path(cwd).exists()  # the private folder is removed afterwards


def test_attempt_counts_cells_with_errors(client, tmp_path):
    nb = _nb(tmp_path / "00_welcome.ipynb", *GOOD_CELLS)
    res, _, _ = client(nb, print={"1": ["✗ 00.standardize — s: wrong\n"]}, error={"0": "a", "1": "b"})
    assert res["status"] == "errors in 2 cell(s)" and res["errors"] == ["cell 0: ValueError: a", "cell 1: ValueError: b"]
    assert res["checks"]["00.standardize"]["passed"] is False


def test_attempt_holds_a_suspicious_submission_for_review(client, tmp_path):
    nb = _nb(tmp_path / "00_welcome.ipynb", "import labkit as lk\nlk.check.judge = None", GOOD_CELLS[1])
    res, _, _ = client(nb, print={"1": ["✓ 00.standardize — s: correct.\n"]}, error={"0": "e"})
    assert res["status"] == "held for review" and res["checks"]["00.standardize"]["held"] is True
    assert res["notes"][-1].startswith("held for review: cell 0 assigns to a labkit attribute")
    res, _, _ = client(nb, print={"1": ["✓ 00.standardize — s: correct.\n"]}, hang=True, timeout=1.0)
    assert res["status"] == "held for review (timeout after 1 s in cell 1 (`spin()`))"


def test_attempt_stops_a_hang_at_the_limit_and_names_the_cell(client, tmp_path):
    nb = _nb(tmp_path / "00_welcome.ipynb", *GOOD_CELLS)
    t0 = time.monotonic()
    res, _, _ = client(nb, timeout=1.0, hang=True)
    assert res["status"] == "timeout after 1 s in cell 1 (`spin()`)" and res["retry"] is False
    assert time.monotonic() - t0 < 30


def test_a_kernel_that_never_starts_is_retried(client, tmp_path, monkeypatch):
    monkeypatch.setattr(grade, "STARTUP_S", 0.5)
    nb = _nb(tmp_path / "00_welcome.ipynb", *GOOD_CELLS)
    res, _, _ = client(nb, timeout=1.0, start=False, save=False, hang=True)
    assert res["status"] == "kernel did not start within 1 s" and res["retry"] is True


def test_a_crash_is_reported_with_the_last_error_line(client, tmp_path):
    nb = _nb(tmp_path / "00_welcome.ipynb", *GOOD_CELLS)
    res, _, _ = client(nb, crash_early=True)
    assert res["status"] == "crashed: RuntimeError: client could not start" and res["retry"] is True
    res, _, _ = client(nb, print={"1": ["✓ 00.standardize — s: correct.\n"]}, exit=3)
    assert res["status"] == "crashed: ?" and res["retry"] is False  # it had started: not retried
    assert res["checks"]["00.standardize"]["passed"]  # what ran before the crash still counts


def test_unreadable_results_are_that_submissions_error(client, tmp_path):
    nb = _nb(tmp_path / "00_welcome.ipynb", *GOOD_CELLS)
    res, _, _ = client(nb, print={"1": ["✓ 00.standardize — s: correct.\n"]}, corrupt=True)
    assert res["status"].startswith("unreadable results: ") and res["checks"] == {}


def test_run_validates_retries_once_and_times(tmp_path, monkeypatch):
    bad = tmp_path / "00_welcome.ipynb"
    bad.write_text('{"cells": 1}')
    res = grade.run(grade.Submission("x", bad), mode="none")
    assert re.match(r"invalid notebook: \w*(Error|Exception): ", res["status"]), res["status"]
    assert res["checks"] == {} and res["seconds"] == 0.0 and res["notes"] == [] and res["errors"] == []
    assert res["expected"] == ["00.standardize"]
    good = _nb(tmp_path / "01_gd.ipynb", "1")
    calls = []

    def attempt(sub, timeout, mode, expected):
        calls.append((timeout, mode, tuple(expected)))
        return {"status": "kernel did not start", "checks": {}, "errors": [], "notes": [], "retry": True}
    monkeypatch.setattr(grade, "_attempt", attempt)
    res = grade.run(grade.Submission("x", good), timeout=7, mode="unshare")
    assert len(calls) == 2 and calls[0][:2] == (7, "unshare") and len(calls[0][2]) >= 3
    # the instructor reads that the first attempt failed and was retried; the status is the second's
    assert res["notes"] == ["attempt 1: kernel did not start; retried once"]
    assert res["status"] == "kernel did not start"
    outcomes = iter([{"status": "crashed: x", "checks": {}, "errors": [], "notes": [], "retry": True},
                     {"status": "ok", "checks": {}, "errors": [], "notes": ["n"], "retry": False}])
    monkeypatch.setattr(grade, "_attempt", lambda *a: next(outcomes))
    res = grade.run(grade.Submission("x", good), mode="none")
    assert res["status"] == "ok" and res["notes"] == ["attempt 1: crashed: x; retried once", "n"]
    assert "retry" not in res and res["seconds"] >= 0 and res["expected"] == list(calls[0][2])
    ok = {"status": "ok", "checks": {}, "errors": [], "notes": [], "retry": False}
    calls.clear()
    monkeypatch.setattr(grade, "_attempt", lambda *a: calls.append(a) or dict(ok))
    assert grade.run(grade.Submission("x", good), mode="none")["notes"] == [] and len(calls) == 1
    loose = _nb(tmp_path / "essay.ipynb", "1")
    assert grade.run(grade.Submission("x", loose), mode="none")["expected"] == []


# ---------------------------------------------------------------- the CSV
def test_csv_rows_scores_and_messages(tmp_path, monkeypatch):
    _nb(tmp_path / "s" / "ann" / "01_gd.ipynb", "1")
    _nb(tmp_path / "s" / "ann" / "essay.ipynb", "1")
    _nb(tmp_path / "s" / "bob" / "01_gd.ipynb", "1")
    results = {
        ("ann", "01_gd.ipynb"): {"status": "ok", "notes": ["a note"], "errors": [], "expected": ["01.a", "01.b", "01.c"],
                                 "checks": {"01.a": {"passed": True, "message": "✓ 01.a"},
                                            "01.b": {"passed": False, "message": "✗ 01.b"}}},
        ("ann", "essay.ipynb"): {"status": "ok", "notes": [], "errors": [], "expected": [], "checks": {}},
        ("bob", "01_gd.ipynb"): {"status": "held for review", "notes": [], "errors": [], "expected": ["01.a", "01.b"],
                                 "checks": {"01.a": {"passed": True, "held": True, "message": "✓ 01.a"},
                                            "01.b": {"passed": True, "message": "=✓ 01.b"}}},
    }
    monkeypatch.setattr(grade, "run", lambda sub, timeout, mode: dict(results[(sub.learner, sub.notebook.name)]))
    monkeypatch.setattr(grade, "sandbox_mode", lambda: "unshare")
    lines = []
    out = grade.grade(tmp_path / "s", tmp_path / "g.csv", timeout=10, echo=lines.append)
    rows = list(csv.reader(open(out, encoding="utf-8")))
    assert rows[0] == grade.HEADER
    assert rows[1:] == [
        ["ann", "01_gd.ipynb", "01.a", "1", "ok", "✓ 01.a"],
        ["ann", "01_gd.ipynb", "01.b", "0", "ok", "✗ 01.b"],
        ["ann", "01_gd.ipynb", "01.c", "0", "ok", "not reached"],
        ["ann", "essay.ipynb", "", "0", "ok", "no exercises in this notebook"],
        ["bob", "01_gd.ipynb", "01.a", "0", "held for review", "✓ 01.a"],  # a held ✓ scores 0
        ["bob", "01_gd.ipynb", "01.b", "1", "held for review", "'=✓ 01.b"],
    ]
    assert lines[0] == grade.describe_mode("unshare")
    assert lines[1] == f"{'ann':<16} {'01_gd.ipynb':<32} 1/3  ok"
    assert lines[2] == f"{'':<16} note: a note"
    assert lines[4] == f"{'bob':<16} {'01_gd.ipynb':<32} 1/2  held for review"


def test_no_sandbox_needs_an_explicit_opt_out(tmp_path, monkeypatch):
    _nb(tmp_path / "s" / "00_welcome.ipynb", "1")
    monkeypatch.setattr(grade, "sandbox_mode", lambda: "none")
    seen = []
    monkeypatch.setattr(grade, "run", lambda sub, timeout, mode: seen.append((mode, timeout)) or
                        {"status": "ok", "checks": {}, "errors": [], "notes": [], "expected": []})
    with pytest.raises(ValueError, match="no sandbox available.*--no-sandbox"):
        grade.grade(tmp_path / "s", tmp_path / "g.csv", timeout=10)
    assert seen == []
    lines = []
    grade.grade(tmp_path / "s", tmp_path / "g.csv", timeout=12, echo=lines.append, sandbox=False)
    assert seen == [("none", 12.0)] and lines[0].startswith("sandbox: NONE")
    monkeypatch.setattr(grade, "sandbox_mode", lambda: pytest.fail("probed although --no-sandbox"))
    grade.grade(tmp_path / "s", tmp_path / "g.csv", timeout=12, echo=lines.append, sandbox=False)


def test_write_csv_is_atomic_and_neutralises_formulas(tmp_path, monkeypatch):
    out = tmp_path / "g.csv"
    grade._write_csv(out, [["=a", "+b", "-c", "@d", "\te", "\rf", "\ng", "ok", 3]])
    rows = list(csv.reader(open(out, encoding="utf-8", newline="")))
    assert rows == [grade.HEADER, ["'=a", "'+b", "'-c", "'@d", "'\te", "'\rf", "'\ng", "ok", "3"]]
    before = out.read_bytes()

    def boom(*a, **k):
        raise OSError("disk full")
    monkeypatch.setattr(grade.os, "fsync", boom)
    with pytest.raises(OSError):
        grade._write_csv(out, [["x"]])
    assert out.read_bytes() == before and not list(tmp_path.glob(".grades-*"))


def test_out_and_timeout_validation(tmp_path):
    assert grade._validate_out(tmp_path / "new" / "g.CSV") == tmp_path / "new" / "g.CSV"
    assert (tmp_path / "new").is_dir() and not list((tmp_path / "new").iterdir())  # the probe is removed
    with pytest.raises(ValueError, match=r"should end in \.csv"):
        grade._validate_out(tmp_path / "g.txt")
    assert grade._validate_timeout(2) == 2.0 and type(grade._validate_timeout(2)) is float
    assert grade._validate_timeout(0.5) == 0.5
    for bad in (True, None, "5"):
        with pytest.raises(TypeError):
            grade._validate_timeout(bad)


# ---------------------------------------------------------------- the client itself, with a fake kernel
def test_run_one_saves_outputs_after_each_cell_and_says_which_cell_runs(tmp_path, monkeypatch):
    """The trusted client writes the kernel spec for the sandbox, records the running cell (for the
    time-limit report) and saves the executed notebook after every cell, so a later hang loses nothing."""
    import jupyter_client
    import jupyter_client.kernelspec
    import nbclient
    box, private = tmp_path / "box", tmp_path / "private"
    box.mkdir()
    private.mkdir()
    nb_path = _nb(box / "00_welcome.ipynb", "x = 1  # first\ny = 2", "print('two')  # " + "z" * 100)
    out_path, state_path = private / "executed.ipynb", private / "state.json"
    seen = {}

    class FakeKM:
        def __init__(self, **kw):
            seen["km"] = kw

    class FakeKSM:
        def __init__(self, kernel_dirs):
            seen["kernel_dirs"] = kernel_dirs

    class FakeClient:
        def __init__(self, nb, km, timeout, allow_errors, startup_timeout, on_cell_start, on_cell_executed):
            seen["client"] = dict(timeout=timeout, allow_errors=allow_errors, startup_timeout=startup_timeout)
            self.nb, self.start, self.done = nb, on_cell_start, on_cell_executed

        def execute(self, cwd):
            seen["cwd"] = cwd
            for i, cell in enumerate(self.nb.cells):
                self.start(cell=cell, cell_index=i)
                seen.setdefault("states", []).append(json.loads(state_path.read_text()))
                cell.outputs = [_stdout(f"out {i}\n")]
                self.done(cell=cell, cell_index=i)
                seen.setdefault("saved", []).append(len(nbformat.read(out_path, as_version=4).cells[i].outputs))
            raise RuntimeError("kernel died after the last cell")
    monkeypatch.setattr(jupyter_client, "KernelManager", FakeKM)
    monkeypatch.setattr(jupyter_client.kernelspec, "KernelSpecManager", FakeKSM)
    monkeypatch.setattr(nbclient, "NotebookClient", FakeClient)
    with pytest.raises(RuntimeError, match="kernel died"):
        grade._run_one(str(nb_path), str(out_path), str(state_path), "unshare", 42)
    spec = json.loads((private / "kernels" / "labkit-sandbox" / "kernel.json").read_text())
    assert spec == {"argv": grade.kernel_argv("unshare", box), "display_name": "labkit sandbox", "language": "python"}
    assert seen["kernel_dirs"] == [str(private / "kernels")]
    assert seen["km"]["kernel_name"] == "labkit-sandbox" and seen["km"]["transport"] == "ipc"
    assert seen["km"]["ip"] == str(box / ".rt" / "k") and seen["km"]["connection_file"] == str(box / ".rt" / "kernel.json")
    assert seen["client"] == {"timeout": 42, "allow_errors": True, "startup_timeout": 120} and seen["cwd"] == str(box)
    assert [(s["cell"], s["line"]) for s in seen["states"]] == [(0, "x = 1  # first"),
                                                                 (1, ("print('two')  # " + "z" * 100)[:80])]
    assert seen["saved"] == [1, 1]  # each cell's output was on disk right after it ran
    final = nbformat.read(out_path, as_version=4)  # saved once more when the client failed
    assert [c.outputs[0]["text"] for c in final.cells] == ["out 0\n", "out 1\n"]
    assert not (private / "executed.ipynb.tmp").exists()


def test_bubblewrap_is_chosen_wherever_it_works():
    """The probe asks bubblewrap for the isolation the kernels get; where bwrap runs, that probe must pass
    (a probe that failed for its own reasons would silently fall back to the weaker unshare sandbox)."""
    if not grade.shutil.which("bwrap") or not grade._probe(["bwrap", "--ro-bind", "/", "/", "true"]):
        pytest.skip("bubblewrap is not installed or cannot run here")
    assert grade.sandbox_mode() == "bwrap"


@pytest.mark.parametrize("exc,reason", [(ValueError("first line " + "y" * 200 + "\nsecond"), "first line " + "y" * 139),
                                        (ValueError(), "")])
def test_an_invalid_notebook_says_why_in_one_line(tmp_path, monkeypatch, exc, reason):
    nb = _nb(tmp_path / "00_welcome.ipynb", *GOOD_CELLS)

    def unreadable(*a, **k):
        raise exc
    monkeypatch.setattr(nbformat, "read", unreadable)
    res = grade.run(grade.Submission("x", nb), mode="none")
    assert res["status"] == f"invalid notebook: ValueError: {reason}"


def test_a_grader_error_row_names_the_exception_and_its_message(tmp_path, monkeypatch):
    (tmp_path / "s" / "ann").mkdir(parents=True)
    _nb(tmp_path / "s" / "ann" / "00_welcome.ipynb", *GOOD_CELLS)

    def broken(sub, timeout, mode):
        raise OSError("disk on fire " + "z" * 200)
    monkeypatch.setattr(grade, "run", broken)
    monkeypatch.setattr(grade, "sandbox_mode", lambda: "bwrap")
    out = grade.grade(tmp_path / "s", tmp_path / "g.csv", timeout=10, echo=lambda *_: None)
    (row,) = list(csv.DictReader(open(out, encoding="utf-8")))
    assert row["status"] == "grader error: OSError: " + ("disk on fire " + "z" * 200)[:150] and row["score"] == "0"
