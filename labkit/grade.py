"""``labkit grade DIR``: run submitted student notebooks headless, each in a sandbox, and score them.

``DIR`` holds one folder per learner (``DIR/alice/01_gradient_descent.ipynb``) or notebooks
directly (the learner is then the file's stem). The CSV has one row per learner, notebook and
exercise; it is rewritten atomically after every submission, so what was graded is never lost.

How one submission runs (see the README section "Grading and its sandbox"):

* the notebook is copied alone into a fresh folder; the kernel runs under bubblewrap
  (``bwrap``) with that folder as its only writable place, no network, its own PID namespace
  (every process it starts dies with it), an empty environment and no view of the other
  submissions or the instructor's home (only labkit, the datasets and Python are mounted,
  read-only). Without bubblewrap, ``unshare`` gives no network and its own PID namespace but
  no file isolation, and the grader says so; ``--no-sandbox`` runs with no isolation at all.
* the notebook client runs outside the sandbox and talks to the kernel over Unix sockets in
  that folder; results are read from the outputs the client collected, never from a file the
  learner can write. A ✓/✗ line counts only for an exercise of that notebook, and only when
  printed by a cell whose source checks that exercise.
* at the time limit the whole process tree is killed, and the report names the cell that was
  running.

Honest limit: code in the same kernel as the checks can monkeypatch them, as with nbgrader and
otter-grader. The grader looks for the cheap tricks (typed ✓ marks, assignments to labkit's
functions, exec/eval, ``sys.modules``) and holds such a submission's score for review.
"""
from __future__ import annotations

import csv
import io
import json
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from .files import atomic_write_text

ROOT = Path(__file__).resolve().parent.parent

#: a check's printed verdict: "✓ 01.sgd_step — title: correct."
_VERDICT = re.compile(r"^([✓✗]) (\d\d\.[\w.\-]+) — (.*)$")
#: cheap-to-detect ways of forging a verdict from inside the kernel
_SUSPICIOUS = [
    (re.compile(r"([✓✗]|\\u271[37]|\\N\{(CHECK|BALLOT))[^\n]{0,80}?(—|\\u2014|\\N\{EM|\d\d\.\w)"),
     "prints a verdict of its own"),
    (re.compile(r"\b(lk|labkit|check|_check)\s*\.\s*(check\s*\.\s*)?\w+\s*=(?!=)"), "assigns to a labkit attribute"),
    (re.compile(r"setattr\s*\(\s*(lk|labkit|check|sys)\b"), "patches labkit"),
    (re.compile(r"_REGISTRY|\.judge\b|_record\b|__class__|__code__|__globals__"), "touches labkit internals"),
    (re.compile(r"sys\s*\.\s*modules\s*\[\s*['\"](labkit|builtins)|\bbuiltins\b|sys\s*\.\s*stdout\s*="),
     "patches modules or stdout"),
    (re.compile(r"(?<![.\w])(exec|eval)\s*\(|__import__|importlib|\bbase64\b"), "runs hidden code"),
]
#: seconds a sandboxed kernel may take to start (not counted in the per-notebook limit)
STARTUP_S = 120.0
_CSV_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")


@dataclass
class Submission:
    learner: str
    notebook: Path


def find(directory: str | Path) -> list[Submission]:
    """The submissions under ``directory`` (learner folders, or notebooks directly)."""
    d = Path(directory)
    if not d.is_dir():
        raise ValueError(f"{d} is not a folder; pass the folder of submissions, e.g. `labkit grade submitted/`.")
    subs = [Submission(p.stem, p) for p in sorted(d.glob("*.ipynb")) if p.is_file()]
    for sub in sorted(p for p in d.iterdir() if p.is_dir() and not p.name.startswith(".")):
        subs += [Submission(sub.name, p) for p in sorted(sub.glob("*.ipynb")) if p.is_file()]
    return subs


# ---------------------------------------------------------------- the sandbox
def _probe(cmd: list[str]) -> bool:
    try:
        return subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              timeout=20).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def _unshare_base() -> list[str]:
    base = ["unshare", "--net", "--pid", "--fork", "--kill-child", "--mount-proc"]
    return base if os.geteuid() == 0 else base[:1] + ["--user", "--map-root-user"] + base[1:]


def sandbox_mode() -> str:
    """``"bwrap"``, ``"unshare"`` (no file isolation) or ``"none"``: what this machine allows."""
    if shutil.which("bwrap") and _probe(["bwrap", "--unshare-all", "--die-with-parent", "--ro-bind", "/", "/",
                                         "--proc", "/proc", "--dev", "/dev", "true"]):
        return "bwrap"
    if shutil.which("unshare") and _probe(_unshare_base() + ["true"]):
        return "unshare"
    return "none"


def describe_mode(mode: str) -> str:
    """One line for the instructor: what the sandbox of ``mode`` protects."""
    return {
        "bwrap": "sandbox: bubblewrap — per submission: a copy of its notebook only, no network, own PID namespace, "
                 "no view of other submissions or your home",
        "unshare": "sandbox: unshare (bubblewrap not found) — no network and own PID namespace, but NO file isolation: "
                   "learner code can read and write your files; install bubblewrap (`apt-get install bubblewrap`)",
        "none": "sandbox: NONE (--no-sandbox) — learner code runs with your rights, network and files",
    }[mode]


def _kernel_env(box: Path) -> dict[str, str]:
    venv_bin = str(Path(sys.executable).parent)
    return {"HOME": str(box), "LABKIT_HOME": str(box / ".labkit"), "LABKIT_STRICT": "0", "MPLBACKEND": "Agg",
            "PATH": f"{venv_bin}:/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "PYTHONDONTWRITEBYTECODE": "1",
            "TF_CPP_MIN_LOG_LEVEL": "2", "KERAS_HOME": str(box / ".keras")}


def kernel_argv(mode: str, box: Path) -> list[str]:
    """The kernel command (with ``{connection_file}``) for a sandbox of ``mode`` writing only to ``box``."""
    py = sys.executable
    launch = [py, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    env = _kernel_env(box)
    if mode == "bwrap":
        argv = ["bwrap", "--unshare-all", "--die-with-parent", "--new-session", "--cap-drop", "ALL",
                "--ro-bind", "/usr", "/usr"]
        for name in ("bin", "sbin", "lib", "lib64", "lib32"):
            p = Path("/") / name
            if p.is_symlink():
                argv += ["--symlink", os.readlink(p), str(p)]
            elif p.is_dir():
                argv += ["--ro-bind", str(p), str(p)]
        for etc in ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "fonts", "localtime", "passwd", "group",
                    "nsswitch.conf", "hosts", "alternatives", "matplotlibrc", "mime.types"):
            argv += ["--ro-bind-try", f"/etc/{etc}", f"/etc/{etc}"]
        argv += ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"]
        mounts = {Path(sys.base_prefix).resolve(), Path(sys.prefix).resolve(), ROOT / "labkit", ROOT / "datasets"}
        real_py = Path(py).resolve()
        if not any(real_py.is_relative_to(m) for m in mounts):
            mounts.add(real_py.parent.parent)
        for m in sorted(mounts):
            if m.exists():
                argv += ["--ro-bind", str(m), str(m)]
        if Path(sys.prefix) != Path(sys.prefix).resolve():
            argv += ["--symlink", str(Path(sys.prefix).resolve()), str(sys.prefix)]
        argv += ["--bind", str(box), str(box), "--chdir", str(box), "--clearenv"]
        for k, v in env.items():
            argv += ["--setenv", k, v]
        return argv + launch
    if mode == "unshare":
        return ["env", "-i"] + [f"{k}={v}" for k, v in env.items()] + _unshare_base() + launch
    return ["env", "-i"] + [f"{k}={v}" for k, v in env.items()] + launch


def _descendants(pid: int) -> list[int]:
    try:
        import psutil
        return [c.pid for c in psutil.Process(pid).children(recursive=True)]
    except Exception:
        return []


def _kill_tree(proc: subprocess.Popen) -> None:
    """SIGKILL the child, its process group and every descendant (kernels start their own sessions)."""
    pids = _descendants(proc.pid)
    for kill in (lambda: os.killpg(proc.pid, signal.SIGKILL), lambda: proc.kill()):
        try:
            kill()
        except (ProcessLookupError, PermissionError, OSError):
            pass
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError, OSError):
            pass


# ---------------------------------------------------------------- the trusted client (a child process)
def _run_one(nb_path: str, out_path: str, state_path: str, mode: str, cell_timeout: int) -> None:
    """Child-process entry: execute one notebook with its kernel in the sandbox; save outputs after each cell."""
    import nbformat
    from jupyter_client import KernelManager
    from jupyter_client.kernelspec import KernelSpecManager
    from .nbrun import notebook_client

    box = Path(nb_path).parent
    private = Path(out_path).parent
    spec = private / "kernels" / "labkit-sandbox"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({"argv": kernel_argv(mode, box), "display_name": "labkit sandbox",
                                                  "language": "python"}))
    rt = box / ".rt"
    rt.mkdir()
    km = KernelManager(kernel_name="labkit-sandbox", kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(spec.parent)]),
                       transport="ipc", ip=str(rt / "k"), connection_file=str(rt / "kernel.json"))
    nb = nbformat.read(nb_path, as_version=4)

    def save(*_a):
        tmp = out_path + ".tmp"
        nbformat.write(nb, tmp)
        os.replace(tmp, out_path)

    def started(cell, cell_index, **_):
        Path(state_path).write_text(json.dumps({"cell": cell_index, "t": time.time(),
                                                "line": (cell.source.strip().splitlines() or [""])[0][:80]}))

    client = notebook_client(nb, km=km, timeout=cell_timeout, allow_errors=True, startup_timeout=120,
                             on_cell_start=started, on_cell_executed=lambda **_: save())
    try:
        client.execute(cwd=str(box))
    finally:
        save()


# ---------------------------------------------------------------- grading one submission
def _cell_flags(nb) -> list[str]:
    flags = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        src = re.sub(r"#[^\n]*", "", cell.source)  # comments do not run
        for rx, what in _SUSPICIOUS:
            m = rx.search(src)
            if m:
                flags.append(f"cell {i} {what} (`{m.group(0).strip()[:30]}`)")
    return flags


def _demonstration(source: str, ex_id: str) -> bool:
    """Whether a cell checks ``ex_id`` only as a demonstration (``record=False``), e.g. a wrong answer on purpose.

    A notebook shows what a ✗ looks like with ``lk.check(id, wrong, strict=False, record=False)``;
    such a verdict is not the learner's attempt and must not overwrite it.
    """
    calls = re.findall(r"check(?:\.run)?\(\s*['\"]" + re.escape(ex_id) + r"['\"][^\n]*", source)
    return bool(calls) and all(re.search(r"record\s*=\s*False", c) for c in calls)


def results_from(nb, expected: list[str]) -> tuple[dict, list[str], list[str]]:
    """Verdicts per exercise read from an executed notebook's outputs, the error lines, and notes.

    Only exercises in ``expected`` count, and only when the cell printing the verdict checks that id.
    """
    checks: dict[str, dict] = {}
    errors: list[str] = []
    notes: list[str] = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                errors.append(f"cell {i}: {out.get('ename', '?')}: {str(out.get('evalue', ''))[:160]}")
            if out.get("output_type") != "stream" or out.get("name") != "stdout":
                continue
            text = out.get("text", "")
            for line in (text if isinstance(text, str) else "".join(text)).splitlines():
                m = _VERDICT.match(line)
                if not m:
                    continue
                mark, ex_id, _ = m.groups()
                if ex_id not in expected:
                    notes.append(f"ignored a verdict for {ex_id}, not an exercise of this notebook")
                elif ex_id not in cell.source:
                    notes.append(f"ignored a verdict for {ex_id} printed by cell {i}, which does not check it")
                elif _demonstration(cell.source, ex_id):
                    notes.append(f"ignored cell {i}'s demonstration check of {ex_id} (record=False)")
                else:  # the last attempt counts
                    checks[ex_id] = {"passed": mark == "✓", "message": line[:300]}
    return checks, errors, notes


def _stalled(state_path: Path) -> str:
    try:
        st = json.loads(state_path.read_text())
        return f" in cell {st['cell']} (`{st['line']}`)"
    except Exception:
        return " before the first cell ran (kernel start)"


def run(sub: Submission, timeout: float = 300.0, mode: str | None = None) -> dict:
    """Execute one submission in the sandbox; returns status, duration, check results, errors and notes."""
    import nbformat
    from .check import all_exercises
    mode = mode or sandbox_mode()
    nn = sub.notebook.name[:2]
    expected = [e.id for e in all_exercises(nn)] if nn.isdigit() else []
    t0 = time.perf_counter()
    try:
        nbformat.validate(nbformat.read(sub.notebook, as_version=4))
    except Exception as exc:
        return {"status": f"invalid notebook: {type(exc).__name__}: {str(exc).splitlines()[0][:150] if str(exc) else ''}",
                "seconds": 0.0, "checks": {}, "errors": [], "notes": [], "expected": expected}
    res, retried = None, []
    for attempt in (1, 2):
        res = _attempt(sub, timeout, mode, expected)
        if not res.pop("retry", False) or attempt == 2:
            break
        retried.append(f"attempt {attempt}: {res['status']}; retried once")
    res["notes"][:0] = retried  # the note on the failed first attempt survives its retry
    res["seconds"] = time.perf_counter() - t0
    res["expected"] = expected
    return res


def _attempt(sub: Submission, timeout: float, mode: str, expected: list[str]) -> dict:
    import nbformat
    private = Path(tempfile.mkdtemp(prefix="labkit-grade-"))
    try:
        os.chmod(private, 0o700)
        box = private / "box"
        box.mkdir()
        nb_copy = box / sub.notebook.name
        shutil.copyfile(sub.notebook, nb_copy)
        out_nb, state, err = private / "executed.ipynb", private / "state.json", private / "client.err"
        with open(err, "wb") as err_fh:
            proc = subprocess.Popen(
                [sys.executable, "-c", "import sys; from labkit.grade import _run_one; "
                 "_run_one(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))",
                 str(nb_copy), str(out_nb), str(state), mode, str(math.ceil(timeout) + 30)],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err_fh, start_new_session=True,
                cwd=str(private))
            status, retry = "ok", False
            try:
                # the limit counts from the first cell: starting a kernel on a loaded machine is not the learner's time
                start_by = time.monotonic() + max(STARTUP_S, timeout)
                deadline = None
                while proc.poll() is None:
                    now = time.monotonic()
                    if deadline is None and state.exists():
                        deadline = now + timeout
                    if deadline is not None and now > deadline:
                        status = f"timeout after {timeout:g} s{_stalled(state)}"
                        break
                    if deadline is None and now > start_by:
                        status, retry = f"kernel did not start within {max(STARTUP_S, timeout):g} s", True
                        break
                    time.sleep(0.1)
                else:
                    if proc.returncode != 0:
                        last = (err.read_bytes().decode(errors="replace").strip().splitlines() or ["?"])[-1][:200]
                        status = f"crashed: {last}"
                        retry = not out_nb.exists()  # the client never got going: an infrastructure failure
            finally:
                _kill_tree(proc)
                proc.wait()
        checks, errors, notes = {}, [], []
        if out_nb.exists():
            try:
                checks, errors, notes = results_from(nbformat.read(out_nb, as_version=4), expected)
                flags = _cell_flags(nbformat.read(nb_copy, as_version=4))
            except Exception as exc:  # anything odd in a submission's results is that submission's error
                status, checks, flags = f"unreadable results: {type(exc).__name__}: {str(exc)[:150]}", {}, []
            if flags:
                notes.append("held for review: " + "; ".join(flags[:3]))
                status = "held for review" + (f" ({status})" if status != "ok" else "")
                for rec in checks.values():
                    rec["held"] = True
        if status == "ok" and errors:
            status = f"errors in {len(errors)} cell(s)"
        return {"status": status, "checks": checks, "errors": errors, "notes": notes, "retry": retry}
    finally:
        shutil.rmtree(private, ignore_errors=True)


# ---------------------------------------------------------------- the CSV
def csv_safe(value: object) -> object:
    """Neutralise spreadsheet formulas: text starting with = + - @ (or a control char) gets a leading '."""
    if isinstance(value, str) and value.startswith(_CSV_TRIGGERS):
        return "'" + value
    return value


HEADER = ["learner", "notebook", "exercise", "score", "status", "message"]


def _write_csv(out: Path, rows: list[list]) -> None:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(HEADER)
    w.writerows([[csv_safe(v) for v in r] for r in rows])
    atomic_write_text(out, buf.getvalue(), prefix=".grades-", newline="")


def _validate_out(out_csv: str | Path) -> Path:
    out = Path(out_csv)
    if out.is_dir():
        raise ValueError(f"--out {out} is a folder; name a file, e.g. --out {out / 'grades.csv'}.")
    if out.suffix.lower() != ".csv":
        raise ValueError(f"--out {out} should end in .csv, e.g. --out grades.csv.")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".grades-probe-", dir=out.parent)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise ValueError(f"cannot write --out {out}: {exc.strerror or exc}; choose a folder you can write to.") from None
    return out


def _validate_timeout(timeout: object) -> float:
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
        raise TypeError(f"timeout must be a number of seconds, got {timeout!r}; e.g. --timeout 300.")
    if not math.isfinite(timeout) or timeout <= 0:
        raise ValueError(f"timeout must be a positive finite number of seconds, got {timeout!r}; e.g. --timeout 300.")
    return float(timeout)


def grade(directory: str | Path, out_csv: str | Path = "grades.csv", timeout: float = 300.0,
          echo=print, sandbox: bool = True) -> Path:
    """Grade every submission under ``directory`` in a sandbox; write the CSV after each one; return its path."""
    timeout = _validate_timeout(timeout)
    out = _validate_out(out_csv)
    subs = find(directory)
    if not subs:
        raise ValueError(f"No .ipynb files found in {directory}.")
    mode = sandbox_mode() if sandbox else "none"
    if mode == "none" and sandbox:
        raise ValueError("no sandbox available (neither bubblewrap nor unshare works here); install bubblewrap "
                         "(`apt-get install bubblewrap`), or pass --no-sandbox to run learner code with your rights.")
    echo(describe_mode(mode))
    rows: list[list] = []
    _write_csv(out, rows)
    for sub in subs:
        try:
            res = run(sub, timeout=timeout, mode=mode)
        except Exception as exc:  # never let one submission cost the class its grades
            res = {"status": f"grader error: {type(exc).__name__}: {str(exc)[:150]}", "checks": {}, "errors": [],
                   "notes": [], "expected": []}
        ids = res["expected"]
        checks = res["checks"]
        passed = sum(bool(checks.get(i, {}).get("passed")) and not checks[i].get("held") for i in ids)
        echo(f"{sub.learner:<16} {sub.notebook.name:<32} {passed}/{len(ids)}  {res['status']}")
        for note in res["notes"]:
            echo(f"{'':<16} note: {note}")
        if not ids:
            rows.append([sub.learner, sub.notebook.name, "", 0, res["status"], "no exercises in this notebook"])
        for i in ids:
            rec = checks.get(i)
            score = int(bool(rec and rec["passed"] and not rec.get("held")))
            rows.append([sub.learner, sub.notebook.name, i, score, res["status"],
                         rec["message"] if rec else "not reached"])
        _write_csv(out, rows)
    return out
