"""Shared helpers for the exercise modules (not an exercise module itself).

``memorised`` builds the "fits the visible cases" wrong answer of a catalogue; ``fresh_seed``
serves custom judges that draw their own random cases. ``function_exercise`` and
``wrong_answers`` are kept for modules written before ``labkit.check`` took ``random_cases`` and
a dict of classed wrong answers: they now forward unchanged.
"""
from __future__ import annotations

import copy
from typing import Any, Callable

import numpy as np

from .. import check as _check

function_exercise = _check.function_exercise


def fresh_seed() -> int:
    """A new seed for one judge call (reported on a ✗; ``lk.check(id, fn, seed=…)`` replays it)."""
    if hasattr(_check, "_fresh_seed"):
        return int(_check._fresh_seed())
    return int(np.random.SeedSequence().entropy % (2 ** 31))


def wrong_answers(wrong: dict[str, Callable]) -> dict[str, Callable]:
    """The catalogue as the framework takes it (a dict of ``"<class>: description": answer``)."""
    return wrong


def memorised(reference: Callable, cases: Any, fallback: Callable) -> Callable:
    """A 'fits the visible cases' answer: the reference's outputs on the fixed cases, ``fallback`` elsewhere."""
    def one(v: Any) -> str:
        if isinstance(v, np.ndarray) and v.dtype != object:
            return f"a{v.shape}{v.dtype}{v.tobytes()!r}"
        if isinstance(v, (list, tuple)):
            return "[" + ",".join(one(x) for x in v) + "]"
        if isinstance(v, dict):
            return "{" + ",".join(f"{k}:{one(x)}" for k, x in sorted(v.items())) + "}"
        if isinstance(v, (int, float, np.number, str, bool)) or v is None:
            return repr(v)
        return getattr(v, "__qualname__", type(v).__name__)

    def key(args: tuple, kwargs: dict) -> str:
        return one(list(args)) + one(kwargs)

    table = {}
    for case in (cases() if callable(cases) else cases):
        args, kwargs, _ = _check._normalise_case(case)
        table[key(args, kwargs)] = reference(*copy.deepcopy(args), **copy.deepcopy(kwargs))

    def answer(*args: Any, **kwargs: Any) -> Any:
        k = key(args, kwargs)
        return copy.deepcopy(table[k]) if k in table else fallback(*args, **kwargs)
    return answer
