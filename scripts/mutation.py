"""Mutation testing of the course machinery with mutmut (``make mutation``; issue 15).

For each module (default: check quiz progress student data grade) this copies the project into
``build/mutation/<module>/``, writes a ``setup.cfg`` [mutmut] section that mutates only
``labkit/<module>.py`` and runs that module's own tests, runs ``mutmut run`` there, and prints the
share of mutants killed — overall and for *logic* mutants only (leaving out mutants that only change
a message string). Figures go to ``build/mutation/summary.json``; tests/README.md records them.

Isolation: mutmut's forkserver mode (the default fork mode deadlocks once TensorFlow has started
threads) with ``forkserver_warmup = collect``: the server imports the tests once and each mutant runs in
a fork of it. The few functions that run while the tests are collected (IMPORT_TIME) are judged in a
second pass with ``forkserver_warmup = none`` (a fresh interpreter per mutant), so code that runs at
import time is judged under its mutant too. grade's two sandbox tests are left out (DESELECT).

Usage: python scripts/mutation.py [module ...] [--jobs N] [--sample N] [--resume] [--summary-only]
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tokenize
from io import StringIO
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "build" / "mutation"
MODULES = ("check", "quiz", "progress", "student", "data", "grade")
TESTS = {  # each module's own tests (tests/test_mutation_kills_<module>*.py are added when present)
    "check": ["tests/test_check.py"],
    "quiz": ["tests/test_quiz.py"],
    "progress": ["tests/test_progress.py"],
    "student": ["tests/test_student.py"],
    "data": ["tests/test_data.py"],
    "grade": ["tests/test_grade.py"],
}
KILLED = {"killed", "timeout", "segfault", "caught by type check"}
#: tests left out of a module's mutation run: grade's two sandbox tests start real kernels under bubblewrap
#: (minutes per mutant on a loaded machine, and a slow mutant would count as a timeout, i.e. killed);
#: grade's figure is therefore that of its fast tests alone, which drive _attempt with a fake client.
DESELECT = {"grade": "not test_grade_in_sandbox_survives_hostile_class and not test_sandbox_sees_only_its_copy"}


# "collect" pre-imports the test modules once in the fork server (a mutant then costs a fork, not a fresh
# interpreter: several times faster). The server runs with no mutant active, so a function that runs while
# the tests are collected (at import time) would be judged unmutated there: IMPORT_TIME names those
# functions per module (measured with sys.setprofile over `pytest --collect-only`), and their mutants are
# judged in a second pass with warmup "none" (a fresh interpreter each), so no figure is flattered.
WARMUP = {"check": "collect", "quiz": "collect", "progress": "collect", "student": "collect",
          "data": "collect", "grade": "collect"}
IMPORT_TIME = {"progress": ("use_exercises",), "data": ("_register", "names"),
               "grade": ("_probe", "sandbox_mode", "_unshare_base")}


def _setup_cfg(module: str, tests: list[str], warmup: str | None = None) -> str:
    sel = "\n    ".join(tests)
    extra = f"\n    -k\n    {DESELECT[module]}" if module in DESELECT else ""
    return f"""[mutmut]
source_paths = labkit/
only_mutate = labkit/{module}.py
pytest_add_cli_args_test_selection =
    {sel}
pytest_add_cli_args =
    -p
    no:cacheprovider
    -p
    no:nbval
    -p
    no:xdist
    -q{extra}
do_not_mutate_patterns =
    ^\s*raise \w+\(
    ^\s*print\(
process_isolation = forkserver
timeout_constant = 5
forkserver_warmup = {warmup or WARMUP.get(module, "none")}
also_copy =
    datasets/
    notebooks/
"""


# timeout_constant: mutmut's wall limit per mutant is (measured test time + constant) × 15 s. Its default
# constant (1 s) gives 16 s to a quick test, too little on a loaded machine when the test's first call
# imports a large library in the forked child (sklearn in data.split): that is a false "timeout" kill.
# 5 s (≥ 90 s per mutant) ends genuine infinite loops (e.g. a 0-byte read chunk in hash_file) still soon.

# Statements that only build a message (raise X(...), print(...)) are not mutated, to save time: every
# mutant there changes a message only. String-only mutants elsewhere are classified by is_message_only().


def _prepare(module: str) -> Path:
    work = OUT / module
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "artifacts")
    for name in ("labkit", "tests", "datasets", "notebooks"):
        if (ROOT / name).exists():
            shutil.copytree(ROOT / name, work / name, ignore=ignore)
    shutil.copy2(ROOT / "pyproject.toml", work / "pyproject.toml")
    tests = TESTS[module] + sorted(str(p.relative_to(ROOT)) for p in (ROOT / "tests").glob(f"test_mutation_kills_{module}*.py"))
    (work / "setup.cfg").write_text(_setup_cfg(module, tests))
    return work


def _code_tokens(src: str) -> list[tuple[int, str]] | None:
    try:
        toks = list(tokenize.generate_tokens(StringIO(src).readline))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return None
    return [(t.type, "" if t.type == tokenize.STRING else t.string) for t in toks
            if t.type not in (tokenize.NL, tokenize.NEWLINE, tokenize.COMMENT, tokenize.INDENT, tokenize.DEDENT)]


def _strings(src: str) -> list[str]:
    try:
        return [t.string for t in tokenize.generate_tokens(StringIO(src).readline) if t.type == tokenize.STRING]
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return []


def is_message_only(diff: str) -> bool:
    """True when a mutant only changes the text of a message (a string with a space or > 12 chars)."""
    old = "\n".join(l[1:] for l in diff.splitlines() if l.startswith("-") and not l.startswith("---"))
    new = "\n".join(l[1:] for l in diff.splitlines() if l.startswith("+") and not l.startswith("+++"))
    a, b = _code_tokens(old.strip()), _code_tokens(new.strip())
    if a is None or b is None or a != b:
        return False
    changed = [s for s, t in zip(_strings(old), _strings(new)) if s != t]
    def body(s: str) -> str:
        return s.lstrip("rbfuRBFU").strip("'\"")
    return bool(changed) and all(" " in body(s) or len(body(s)) > 12 or "{" in s for s in changed)


def _all_keys(work: Path, module: str) -> list[str]:
    meta = work / "mutants" / "labkit" / f"{module}.py.meta"
    return sorted(json.loads(meta.read_text())["exit_code_by_key"]) if meta.exists() else []


def _function_of(mutant: str) -> str:
    """``labkit.data.x__register__mutmut_3`` → ``_register``; methods (``xǁClassǁname__mutmut_1``) → ``name``."""
    name = mutant.rsplit(".", 1)[-1].rsplit("__mutmut_", 1)[0]
    return name.rsplit("ǁ", 1)[-1] if "ǁ" in name else name[2:]


def summarise(work: Path, module: str, only: set[str] | None = None) -> dict:
    """Counts by status, and the killed share overall and for logic mutants, read in ``work`` (``only``: the sample)."""
    cwd = os.getcwd()
    os.chdir(work)
    sys.path.insert(0, str(work))
    try:
        from mutmut.__main__ import SourceFileMutationData, status_by_exit_code, walk_mutatable_files
        from mutmut.mutation.diff_apply import get_diff_for_mutant
        rows = []
        for path in walk_mutatable_files():
            m = SourceFileMutationData(path=path)
            m.load()
            for key, code in m.exit_code_by_key.items():
                if only is not None and key not in only:
                    continue
                status = status_by_exit_code[code]
                if status == "not checked":
                    rows.append({"mutant": key, "status": status, "message_only": False, "diff": ""})
                    continue
                try:
                    diff = get_diff_for_mutant(key, path=m.path)
                except Exception:  # noqa: BLE001 — a diff we cannot rebuild counts as logic
                    diff = ""
                rows.append({"mutant": key, "status": status, "message_only": is_message_only(diff),
                             "diff": diff if status not in KILLED else ""})
    finally:
        os.chdir(cwd)
        sys.path.remove(str(work))
    unjudged = sum(r["status"] == "not checked" for r in rows)
    rows = [r for r in rows if r["status"] != "not checked"]  # a --sample run judges a subset
    total = len(rows)
    killed = sum(r["status"] in KILLED for r in rows)
    logic = [r for r in rows if not r["message_only"]]
    lkilled = sum(r["status"] in KILLED for r in logic)
    by_status: dict[str, int] = {}
    for r in rows:
        by_status[r["status"]] = by_status.get(r["status"], 0) + 1
    return {"module": module, "mutants": total, "not_judged": unjudged, "killed": killed, "killed_pct": round(100 * killed / max(total, 1), 1),
            "logic_mutants": len(logic), "logic_killed": lkilled,
            "logic_killed_pct": round(100 * lkilled / max(len(logic), 1), 1), "by_status": by_status,
            "survivors": [r for r in rows if r["status"] not in KILLED]}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("modules", nargs="*", default=list(MODULES))
    ap.add_argument("--jobs", type=int, default=max(1, (os.cpu_count() or 2) // 2))
    ap.add_argument("--summary-only", action="store_true", help="re-read results of an earlier run")
    ap.add_argument("--sample", type=int, default=0,
                    help="judge about this many mutants, evenly spread over the module (0: all)")
    ap.add_argument("--resume", action="store_true", help="keep build/mutation/<module> (mutants already judged)")
    args = ap.parse_args(argv)
    bad = [m for m in args.modules if m not in MODULES]
    if bad:
        ap.error(f"unknown module(s) {bad}; choose from {', '.join(MODULES)}")
    if shutil.which("mutmut", path=str(Path(sys.executable).parent)) is None:
        print("mutmut is not installed: .venv/bin/pip install -e '.[dev]'", file=sys.stderr)
        return 2
    summary_path = OUT / "summary.json"
    summary = json.loads(summary_path.read_text()) if summary_path.exists() else {}
    for module in args.modules:
        work = OUT / module
        if not args.summary_only:
            if not (args.resume and (work / "mutants").exists()):
                work = _prepare(module)
            env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", LABKIT_HOME=str(work / ".labkit-home"),
                       PYTHONDONTWRITEBYTECODE="1")
            print(f"— mutmut on labkit/{module}.py ({', '.join(TESTS[module])}) —", flush=True)
            mutmut = [str(Path(sys.executable).parent / "mutmut"), "run", "--max-children", str(args.jobs)]
            names: list[str] = []
            if args.sample:
                meta = work / "mutants" / "labkit" / f"{module}.py.meta"
                if not meta.exists():  # generate the mutants and collect stats, judge none
                    subprocess.run(mutmut + ["labkit.no_such_module.none"], cwd=work, env=env, check=False)
                keys = sorted(json.loads(meta.read_text())["exit_code_by_key"])
                names = keys[::max(1, len(keys) // args.sample)]
            late = [n for n in (names or _all_keys(work, module)) if _function_of(n) in IMPORT_TIME.get(module, ())]
            first = [n for n in names if n not in late] if names else []
            if not (names and not first):
                subprocess.run(mutmut + first, cwd=work, env=env, check=False)
            if late and WARMUP.get(module, "none") == "collect":  # rejudge import-time functions in fresh interpreters
                cfg = work / "setup.cfg"
                text = cfg.read_text()
                # (same timeout_constant as the first pass: mutmut forgets every "timeout" result when it changes;
                # ≥ 75 s per mutant also covers a fresh interpreter's start-up on a loaded machine)
                cfg.write_text(text.replace("forkserver_warmup = collect", "forkserver_warmup = none"))
                try:
                    subprocess.run(mutmut + late, cwd=work, env=env, check=False)
                finally:
                    cfg.write_text(text)
        sample = set(_all_keys(work, module)[::max(1, len(_all_keys(work, module)) // args.sample)]) if args.sample else None
        s = summarise(work, module, sample)
        summary = json.loads(summary_path.read_text()) if summary_path.exists() else {}  # other runs may have written
        summary[module] = {k: v for k, v in s.items() if k != "survivors"}
        (OUT / f"{module}-survivors.json").write_text(json.dumps(s["survivors"], indent=1))
        print(f"{module}: {s['killed']}/{s['mutants']} judged mutants killed ({s['killed_pct']} %), logic only "
              f"{s['logic_killed']}/{s['logic_mutants']} ({s['logic_killed_pct']} %); {s['by_status']}", flush=True)
        summary_path.parent.mkdir(parents=True, exist_ok=True)
        summary_path.write_text(json.dumps(summary, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
