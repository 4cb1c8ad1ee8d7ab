"""Probe every exercise judge: how often does a wrong answer (or a memorising answer) get a ✓?

For each exercise, run N judge calls of every wrong answer of its catalogue and of the generic
"hard-code the fixed cases" probe of tests/test_exercises.py, each call with its own seed, and
report how many calls passed (any pass is a flaky judge: CI runs 3 calls per answer). The reference
is judged as often: a call that rejects it is counted too (a statistical judge set too tight). The seeds of
passing calls are printed, so ``lk.check(id, answer, seed=S)`` reproduces them.

    nice -n 10 .venv/bin/python scripts/probe_judges.py                 # every exercise, 60 calls
    nice -n 10 .venv/bin/python scripts/probe_judges.py --only 07.bpe_step --calls 500
    nice -n 10 .venv/bin/python scripts/probe_judges.py --only 17. --calls 200 --max-seconds 120

Exit status 1 if any wrong answer passed or the reference failed.
"""
from __future__ import annotations

import argparse
import inspect
import os
import secrets
import sys
import time
from pathlib import Path

os.environ["LABKIT_STRICT"] = "0"
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import labkit as lk  # noqa: E402
from test_exercises import _memorising  # noqa: E402


REFERENCE = "reference: REJECTED (a statistical judge too strict?)"


def _is_function(ref) -> bool:
    return callable(ref) and not inspect.isclass(ref)


def probe(ex, calls: int, seed0: int, max_seconds: float | None) -> tuple[list[tuple[str, int, int, list[int]]], float]:
    """[(label, bad calls, calls made, their seeds)] for each wrong answer, the memorising probe and the
    reference (for the reference a bad call is a rejection; for the others, a pass)."""
    answers = list(zip(ex.wrong_labels, ex.wrong))
    if ex.cases is not None and _is_function(ex.reference):
        answers.append(("probe: memorises the fixed cases", _memorising(ex)))
    answers.append((REFERENCE, ex.reference))
    stats = {label: [0, 0, []] for label, _ in answers}
    t0 = time.perf_counter()
    for i in range(calls):
        seed = (seed0 + i) % 2 ** 31
        for label, ans in answers:
            res = lk.check(ex.id, ans, record=False, quiet=True, strict=False, seed=seed)
            st = stats[label]
            st[1] += 1
            if res.passed != (label == REFERENCE):   # a wrong answer passed, or the reference failed
                st[0] += 1
                st[2].append(seed)
        if max_seconds is not None and time.perf_counter() - t0 > max_seconds:
            break
    return [(label, *stats[label]) for label, _ in answers], time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", action="append", default=[],
                    help="exercise id or prefix (e.g. 07.bpe_step or 17.); repeatable")
    ap.add_argument("--calls", type=int, default=60, help="judge calls per answer (default 60)")
    ap.add_argument("--seed", type=int, default=None, help="first seed (default: random); call i uses seed+i")
    ap.add_argument("--max-seconds", type=float, default=None,
                    help="stop an exercise's rounds after this many seconds (reported as fewer calls)")
    ap.add_argument("--verbose", action="store_true", help="print every answer's count, not only the passing ones")
    args = ap.parse_args(argv)
    if args.calls < 1:
        raise SystemExit("--calls must be >= 1")
    seed0 = secrets.randbelow(2 ** 31) if args.seed is None else args.seed
    print(f"seed base {seed0}, {args.calls} calls per answer", flush=True)
    exercises = [ex for ex in lk.check.all_exercises()
                 if not args.only or any(ex.id == o or ex.id.startswith(o) for o in args.only)]
    if not exercises:
        raise SystemExit(f"no exercise matches {args.only}")
    bad = 0
    for ex in exercises:
        rows, secs = probe(ex, args.calls, seed0, args.max_seconds)
        n = min(r[2] for r in rows) if rows else 0
        flaky = [r for r in rows if r[1]]
        bad += len(flaky)
        print(f"{ex.id:34s} {len(rows):2d} answers × {n:4d} calls  {secs:6.1f} s  "
              f"{'FLAKY: ' + str(len(flaky)) if flaky else 'ok'}", flush=True)
        for label, passes, made, seeds in rows:
            if passes or args.verbose:
                more = f"  seeds {seeds[:5]}" if seeds else ""
                print(f"    {passes:4d}/{made:<4d} {label}{more}", flush=True)
    print(f"{'FLAKY' if bad else 'OK'}: {bad} answer(s) judged wrongly at least once "
          "(a wrong answer passed, or the reference failed)", flush=True)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
