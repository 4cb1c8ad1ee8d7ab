"""Exercise checks and readable asserts (introduced in 00_welcome).

Learners call ``lk.check("01.sgd_step", sgd_step)``: the answer is run against the reference
on several cases and a ✓, or a ✗ saying what differed plus a hint, is printed — never a bare
traceback. Notebooks verify their own from-scratch code with ``lk.check.close(mine, ref)``.

Exercises live in ``labkit/exercises/nbNN.py``; each declares the reference answer and at
least two plausible wrong answers, and ``tests/test_exercises.py`` proves the check accepts
the first and rejects the others.

Set ``LABKIT_STRICT=1`` (``make test`` does) to turn a ✗ into an ``AssertionError``, so a
notebook whose solution is wrong fails its test.
"""
from __future__ import annotations

import copy
import difflib
import importlib
import json
import os
import pkgutil
import sys
import time
import traceback
import types
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Sequence

import numpy as np

__all__ = ["Mismatch", "Exercise", "Result", "register", "function_exercise", "get", "all_exercises",
           "run", "hint", "close", "equal", "compare"]


class Mismatch(AssertionError):
    """Raised by a judge when an answer is wrong; the message says what differed."""


@dataclass
class Exercise:
    """One checked exercise: how to judge an answer, hints in steps, and known wrong answers."""
    id: str
    title: str
    judge: Callable[[Any], None]
    reference: Any
    wrong: Sequence[Any]
    hints: Sequence[str]
    section: str = ""

    @property
    def notebook(self) -> str:
        return self.id.split(".", 1)[0]


@dataclass
class Result:
    """The outcome of one check; truthy when it passed."""
    exercise: str
    passed: bool
    message: str
    hint: str = ""
    attempts: int = 1
    elapsed_s: float = 0.0

    def __bool__(self) -> bool:
        return self.passed

    def _ipython_display_(self) -> None:
        """Show nothing extra in a notebook: the ✓/✗ line was already printed."""

    def __str__(self) -> str:
        return self.message + (f"\n  Hint: {self.hint}" if self.hint and not self.passed else "")


_REGISTRY: dict[str, Exercise] = {}
_LOADED = False
_ATTEMPTS: dict[str, int] = {}


def register(ex: Exercise) -> Exercise:
    """Add an exercise to the registry (ids look like ``"01.sgd_step"``)."""
    if not isinstance(ex, Exercise):
        raise TypeError("register() takes an Exercise; build one with function_exercise(...).")
    nb, _, name = ex.id.partition(".")
    if not (len(nb) == 2 and nb.isdigit() and name):
        raise ValueError(f"Exercise id {ex.id!r} must look like 'NN.name', e.g. '01.sgd_step'.")
    if len(ex.wrong) < 2:
        raise ValueError(f"Exercise {ex.id!r} needs at least two plausible wrong answers to prove its check.")
    if not ex.hints:
        raise ValueError(f"Exercise {ex.id!r} needs at least one hint.")
    _REGISTRY[ex.id] = ex
    return ex


def _load_all() -> None:
    global _LOADED
    if _LOADED:
        return
    from . import exercises
    for mod in sorted(pkgutil.iter_modules(exercises.__path__), key=lambda m: m.name):
        importlib.import_module(f"{exercises.__name__}.{mod.name}")
    _LOADED = True


def all_exercises(notebook: str | None = None) -> list[Exercise]:
    """Every registered exercise, optionally only those of one notebook (``"01"``)."""
    _load_all()
    exs = sorted(_REGISTRY.values(), key=lambda e: e.id)
    return [e for e in exs if notebook is None or e.notebook == notebook]


def get(exercise_id: str) -> Exercise:
    """The exercise with this id; a ``ValueError`` naming the nearest ids otherwise."""
    if not isinstance(exercise_id, str):
        raise TypeError(f"Exercise ids are strings like '01.sgd_step', got {type(exercise_id).__name__}.")
    _load_all()
    try:
        return _REGISTRY[exercise_id]
    except KeyError:
        near = difflib.get_close_matches(exercise_id, list(_REGISTRY), n=3, cutoff=0.5)
        tip = f" Did you mean {', '.join(map(repr, near))}?" if near else \
            " `labkit.check.all_exercises()` lists them."
        raise ValueError(f"No exercise called {exercise_id!r}.{tip}") from None


# ---------------------------------------------------------------- comparing values
def _to_array(x: Any) -> np.ndarray | None:
    if isinstance(x, (np.ndarray, np.generic, int, float, complex)) and not isinstance(x, bool):
        return np.asarray(x)
    if isinstance(x, (list, tuple)) and x and all(isinstance(v, (int, float, np.number)) and not isinstance(v, bool)
                                                  for v in x):
        return np.asarray(x)
    if hasattr(x, "numpy") and callable(x.numpy):  # tf.Tensor / tf.Variable
        return np.asarray(x.numpy())
    if hasattr(x, "__array__") and not isinstance(x, (str, bytes)):
        return np.asarray(x)
    return None


def compare(got: Any, expected: Any, *, atol: float = 1e-6, rtol: float = 1e-6, path: str = "result") -> None:
    """Raise ``Mismatch`` describing the first difference between ``got`` and ``expected``."""
    if isinstance(expected, dict):
        if not isinstance(got, dict):
            raise Mismatch(f"{path} should be a dict, got {type(got).__name__}")
        missing = set(expected) - set(got)
        if missing:
            raise Mismatch(f"{path} is missing key(s) {sorted(map(str, missing))}")
        for k in expected:
            compare(got[k], expected[k], atol=atol, rtol=rtol, path=f"{path}[{k!r}]")
        return
    if isinstance(expected, (tuple, list)) and not (expected and all(isinstance(v, (int, float)) for v in expected)):
        if not isinstance(got, (tuple, list)):
            raise Mismatch(f"{path} should be a {type(expected).__name__} of {len(expected)} items, "
                           f"got {type(got).__name__}")
        if len(got) != len(expected):
            raise Mismatch(f"{path} should have {len(expected)} items, got {len(got)}")
        for i, (g, e) in enumerate(zip(got, expected)):
            compare(g, e, atol=atol, rtol=rtol, path=f"{path}[{i}]")
        return
    if isinstance(expected, (str, bytes, bool, type(None))):
        if got != expected:
            raise Mismatch(f"{path} is {got!r}, expected {expected!r}")
        return
    e = _to_array(expected)
    if e is None:
        if got != expected:
            raise Mismatch(f"{path} is {got!r}, expected {expected!r}")
        return
    g = _to_array(got)
    if g is None:
        raise Mismatch(f"{path} should be a number/array, got {type(got).__name__}")
    if g.shape != e.shape:
        raise Mismatch(f"{path} has shape {g.shape}, expected {e.shape}")
    if e.dtype.kind in "biu" and g.dtype.kind in "biu" or e.dtype.kind in "OSU":
        bad = np.argwhere(np.atleast_1d(g != e))
        if bad.size:
            if g.ndim == 0:
                raise Mismatch(f"{path} is {g.item()!r}, expected {e.item()!r}")
            idx = tuple(int(i) for i in bad[0])
            raise Mismatch(f"{path}{list(idx) if idx else ''} is {g[idx] if idx else g}, "
                           f"expected {e[idx] if idx else e}")
        return
    g = g.astype(np.float64)
    e = e.astype(np.float64)
    if np.isnan(g).any() and not np.isnan(e).any():
        raise Mismatch(f"{path} contains NaN (e.g. at {[int(i) for i in np.argwhere(np.isnan(g))[0]]}); "
                       "look for a division by zero or an overflowing exp/log")
    err = np.abs(g - e)
    tol = atol + rtol * np.abs(e)
    with np.errstate(invalid="ignore"):
        bad = ~(err <= tol) & ~(np.isnan(g) & np.isnan(e)) & ~(g == e)
    if bad.any():
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        where = f" at index {list(idx)}" if idx else ""
        raise Mismatch(f"{path} differs{where}: got {g[idx]:.6g}, expected {e[idx]:.6g} "
                       f"(max abs error {np.nanmax(err):.3g}, allowed {atol:g} + {rtol:g}·|expected|)")


def close(actual: Any, expected: Any, *, atol: float = 1e-6, rtol: float = 0.0, what: str = "value",
          quiet: bool = False) -> float:
    """Assert two numbers/arrays agree within tolerance; print ✓ with the error found. Returns it.

    Used to verify from-scratch code against the library: ``lk.check.close(mine, keras_out)``.
    """
    try:
        compare(actual, expected, atol=atol, rtol=rtol, path=what)
    except Mismatch as exc:
        raise AssertionError(f"✗ {exc}") from None
    a, e = _to_array(actual), _to_array(expected)
    err = float(np.max(np.abs(a.astype(np.float64) - e.astype(np.float64)))) if a is not None and a.size else 0.0
    if not quiet:
        print(f"✓ {what} matches (max abs error {err:.2g}, allowed {atol:g})")
    return err


def equal(actual: Any, expected: Any, *, what: str = "value", quiet: bool = False) -> None:
    """Assert exact equality (integers, strings, shapes, tuples) with a readable message."""
    if actual != expected:
        raise AssertionError(f"✗ {what} is {actual!r}, expected {expected!r}")
    if not quiet:
        print(f"✓ {what} == {expected!r}")


# ---------------------------------------------------------------- building exercises
def _normalise_case(case: Any) -> tuple[tuple, dict, str]:
    if isinstance(case, dict) and "args" in case:
        return tuple(case["args"]), dict(case.get("kwargs", {})), case.get("label", "")
    if isinstance(case, tuple):
        return case, {}, ""
    return (case,), {}, ""


def _describe(args: tuple, kwargs: dict) -> str:
    def short(v: Any) -> str:
        a = _to_array(v)
        if a is not None and a.ndim > 0:
            return f"array{a.shape}"
        r = repr(v)
        return r if len(r) <= 30 else r[:27] + "..."
    parts = [short(a) for a in args] + [f"{k}={short(v)}" for k, v in kwargs.items()]
    return ", ".join(parts)


def function_exercise(id: str, *, title: str, reference: Callable, cases: Iterable | Callable[[], Iterable],
                      hints: Sequence[str], wrong: Sequence[Callable], atol: float = 1e-6, rtol: float = 1e-6,
                      section: str = "", register_it: bool = True) -> Exercise:
    """An exercise whose answer is a function, judged against ``reference`` on ``cases``.

    ``cases`` is a list (or a zero-argument function returning one, for lazy data) of argument
    tuples or ``{"args": (...), "kwargs": {...}, "label": "..."}`` dicts. Arguments are deep-copied,
    so an answer that mutates its inputs cannot corrupt the reference run.
    """
    def judge(answer: Any) -> None:
        if not callable(answer):
            raise Mismatch(f"expected a function, got {type(answer).__name__}")
        for i, case in enumerate(cases() if callable(cases) else cases, 1):
            args, kwargs, label = _normalise_case(case)
            expected = reference(*copy.deepcopy(args), **copy.deepcopy(kwargs))
            got = answer(*copy.deepcopy(args), **copy.deepcopy(kwargs))
            try:
                compare(got, expected, atol=atol, rtol=rtol)
            except Mismatch as exc:
                raise Mismatch(f"case {i} {label + ' ' if label else ''}({_describe(args, kwargs)}): {exc}") from None

    ex = Exercise(id=id, title=title, judge=judge, reference=reference, wrong=list(wrong), hints=list(hints),
                  section=section)
    return register(ex) if register_it else ex


# ---------------------------------------------------------------- running a check
def _strict() -> bool:
    return os.environ.get("LABKIT_STRICT", "").strip() not in ("", "0", "false", "no")


def _learner_frame(exc: BaseException) -> str:
    here = os.path.dirname(os.path.abspath(__file__))
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if not os.path.abspath(f.filename).startswith(here)]
    if not frames:
        return ""
    f = frames[-1]
    where = "your cell" if f.filename.startswith("<") or "ipykernel" in f.filename else os.path.basename(f.filename)
    code = (f.line or "").strip()
    return f" (in {where}, line {f.lineno}" + (f": `{code}`)" if code else ")")


def run(exercise_id: str, answer: Any, *, record: bool = True, quiet: bool = False,
        strict: bool | None = None) -> Result:
    """Judge ``answer`` for ``exercise_id``; print ✓/✗ with a hint; record progress. Returns a Result.

    ``strict=None`` follows ``LABKIT_STRICT``; ``strict=False`` never raises (to show a ✗ on purpose).
    """
    ex = get(exercise_id)
    hint_txt = ""
    t0 = time.perf_counter()
    if answer is None or answer is Ellipsis:
        passed, msg = False, f"✗ {ex.id} — {ex.title}: no answer yet (got {answer!r}); fill in the exercise cell."
    else:
        try:
            ex.judge(answer)
            passed, msg = True, f"✓ {ex.id} — {ex.title}: correct."
        except NotImplementedError:
            passed, msg = False, (f"✗ {ex.id} — {ex.title}: not implemented yet. Replace the "
                                  f"`raise NotImplementedError` stub with your code.")
        except Mismatch as exc:
            passed, msg = False, f"✗ {ex.id} — {ex.title}: {exc}"
        except Exception as exc:  # the learner's code raised: explain, don't dump a traceback
            passed, msg = False, (f"✗ {ex.id} — {ex.title}: your code raised {type(exc).__name__}: "
                                  f"{exc}{_learner_frame(exc)}")
    elapsed = time.perf_counter() - t0
    if not passed:  # each failure reveals the next hint
        _ATTEMPTS[ex.id] = _ATTEMPTS.get(ex.id, 0) + 1
    n = max(_ATTEMPTS.get(ex.id, 0), 1)
    if not passed:
        hint_txt = ex.hints[min(n, len(ex.hints)) - 1]
        more = len(ex.hints) > n
        if more:
            hint_txt += f"  (lk.hint({ex.id!r}) shows the next hint)"
    res = Result(exercise=ex.id, passed=passed, message=msg, hint=hint_txt, attempts=n, elapsed_s=elapsed)
    if not quiet:
        print(res)
    if record:
        _record(res)
    if not passed and (_strict() if strict is None else strict):
        raise AssertionError(f"LABKIT_STRICT: check failed — {msg}")
    return res


def hint(exercise_id: str) -> str:
    """Print (and return) the next hint for an exercise; repeated calls step through them."""
    ex = get(exercise_id)
    n = _ATTEMPTS.get(ex.id, 0) + 1
    _ATTEMPTS[ex.id] = n
    text = ex.hints[min(n, len(ex.hints)) - 1]
    print(f"Hint {min(n, len(ex.hints))}/{len(ex.hints)} for {ex.id}: {text}")
    return text


def _record(res: Result) -> None:
    path = os.environ.get("LABKIT_RESULTS_FILE")
    if path:  # used by `labkit grade`: one JSON line per check
        try:
            with open(path, "a", encoding="utf-8") as fh:
                fh.write(json.dumps({"exercise": res.exercise, "passed": res.passed, "message": res.message}) + "\n")
        except OSError:
            pass
    try:
        from . import progress
        progress.record_check(res.exercise, res.passed)
    except Exception as exc:  # progress is a convenience; never break a check over it
        print(f"(progress not saved: {exc})", file=sys.stderr)


class _CallableModule(types.ModuleType):
    def __call__(self, exercise_id: str, answer: Any, **kw: Any) -> Result:
        return run(exercise_id, answer, **kw)


sys.modules[__name__].__class__ = _CallableModule
