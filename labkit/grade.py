"""``labkit grade DIR``: run submitted student notebooks headless and score every check.

``DIR`` holds one folder per learner (``DIR/alice/01_gradient_descent.ipynb``) or notebooks
directly (the learner is then the file's stem). Each notebook runs in its own process group
with a time limit; a notebook that errors is graded on the checks it reached, one that hangs
is stopped and recorded as ``timeout`` — the grader itself never crashes on a submission.
The CSV has one row per learner, notebook and exercise.
"""
from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Submission:
    learner: str
    notebook: Path


def find(directory: str | Path) -> list[Submission]:
    """The submissions under ``directory`` (learner folders, or notebooks directly)."""
    d = Path(directory)
    if not d.is_dir():
        raise ValueError(f"{d} is not a folder; pass the folder of submissions, e.g. `labkit grade submitted/`.")
    subs = [Submission(p.stem, p) for p in sorted(d.glob("*.ipynb"))]
    for sub in sorted(p for p in d.iterdir() if p.is_dir() and not p.name.startswith(".")):
        subs += [Submission(sub.name, p) for p in sorted(sub.glob("*.ipynb"))]
    return subs


def _run_one(nb_path: str, results_file: str, cell_timeout: int) -> None:
    """Child-process entry: execute one notebook, errors allowed, check results appended to a file."""
    import nbformat
    from nbclient import NotebookClient
    nb = nbformat.read(nb_path, as_version=4)
    client = NotebookClient(nb, timeout=cell_timeout, allow_errors=True, kernel_name="python3",
                            resources={"metadata": {"path": str(Path(nb_path).parent)}})
    client.execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.output_type == "error"]
    with open(results_file, "a", encoding="utf-8") as fh:
        fh.write(json.dumps({"_errors": [f"{e.ename}: {e.evalue}"[:200] for e in errors]}) + "\n")


def run(sub: Submission, timeout: float = 300.0) -> dict:
    """Execute one submission; returns status, duration, check results and errors."""
    with tempfile.TemporaryDirectory(prefix="labkit-grade-") as tmp:
        results = Path(tmp) / "results.jsonl"
        results.touch()
        env = dict(os.environ, LABKIT_RESULTS_FILE=str(results), LABKIT_STRICT="0", LABKIT_HOME=tmp,
                   MPLBACKEND="Agg")
        t0 = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-c",
                                 "import sys; from labkit.grade import _run_one; "
                                 "_run_one(sys.argv[1], sys.argv[2], int(sys.argv[3]))",
                                 str(sub.notebook), str(results), str(int(timeout))],
                                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
        status = "ok"
        try:
            _, err = proc.communicate(timeout=timeout)
            if proc.returncode != 0:
                status = "crashed: " + (err.decode(errors="replace").strip().splitlines() or ["?"])[-1][:200]
        except subprocess.TimeoutExpired:
            status = f"timeout after {timeout:.0f} s"
            try:
                os.killpg(proc.pid, signal.SIGKILL)  # the kernel is in the same process group
            except ProcessLookupError:
                pass
            proc.communicate()
        checks, errors = {}, []
        for line in results.read_text(encoding="utf-8").splitlines():
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            if "_errors" in rec:
                errors = rec["_errors"]
            else:  # the last attempt of each exercise counts
                checks[rec["exercise"]] = rec
        if status == "ok" and errors:
            status = f"errors in {len(errors)} cell(s)"
        return {"status": status, "seconds": time.perf_counter() - t0, "checks": checks, "errors": errors}


def grade(directory: str | Path, out_csv: str | Path = "grades.csv", timeout: float = 300.0,
          echo=print) -> Path:
    """Grade every submission under ``directory``; write the CSV and return its path."""
    from .check import all_exercises
    subs = find(directory)
    if not subs:
        raise ValueError(f"No .ipynb files found in {directory}.")
    rows = []
    for sub in subs:
        res = run(sub, timeout=timeout)
        nn = sub.notebook.name[:2]
        expected = [e.id for e in all_exercises(nn)] if nn.isdigit() else []
        ids = list(dict.fromkeys(expected + sorted(res["checks"])))
        passed = sum(bool(res["checks"].get(i, {}).get("passed")) for i in ids)
        echo(f"{sub.learner:<16} {sub.notebook.name:<32} {passed}/{len(ids)}  {res['status']}")
        if not ids:
            rows.append([sub.learner, sub.notebook.name, "", 0, res["status"], "no checks found"])
        for i in ids:
            rec = res["checks"].get(i)
            rows.append([sub.learner, sub.notebook.name, i, int(bool(rec and rec["passed"])), res["status"],
                         rec["message"] if rec else "not reached"])
    out = Path(out_csv)
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["learner", "notebook", "exercise", "score", "status", "message"])
        w.writerows(rows)
    return out
