"""Proven graders: a ✓ is earned (issue 15).

For every registered exercise:
* the reference passes on several checks in a row (each check draws fresh random cases);
* every wrong answer of its catalogue is rejected on EVERY one of several checks — an answer
  that fails only for some seeds means the cases are too weak;
* the catalogue has >= 6 wrong answers from >= 4 distinct mistake classes;
* generic probes derived from the reference are rejected: one that returns None, one that
  changes/consumes its inputs (function exercises), one that hard-codes the fixed cases;
* a judge run first with an answer that consumes its inputs still rejects a wrong answer next;
* a learner's stub gives a clear ✗ with a hint, not a traceback.
"""
import inspect

import numpy as np
import pytest

import labkit as lk
from labkit.check import MISTAKE_CLASSES, wrong_classes

EXERCISES = lk.check.all_exercises()
N_CALLS = 3                 # checks per answer: each draws its own random cases
MIN_WRONG, MIN_CLASSES = 6, 4

# Exercises whose catalogue does not yet have >= 6 wrong answers from >= 4 classes. They are
# xfail (strict=False) for THE COUNT RULE ONLY — never for rejection. Shrink this as catalogues land;
# the lead removes it at the end.
PENDING_CATALOGUE: set[str] = set()

# Function exercises (with fixed `cases`) that do not yet draw random cases: the hard-coding probe
# cannot be rejected for them. xfail (strict=False) for that rule only; shrink it as exercises land.
PENDING_RANDOM: set[str] = set()


@pytest.fixture(autouse=True)
def _lenient(monkeypatch):
    monkeypatch.setenv("LABKIT_STRICT", "0")


def _check(ex, answer):
    return lk.check(ex.id, answer, record=False, quiet=True)


def _is_function(ref):
    return callable(ref) and not inspect.isclass(ref)


def _pending(ids, ex):
    return [pytest.mark.xfail(reason="catalogue/cases still being upgraded (pending list)", strict=False)] \
        if ex.id in ids else []


def _params(pending=frozenset()):
    return [pytest.param(ex, id=ex.id, marks=_pending(pending, ex)) for ex in EXERCISES]


def test_there_are_exercises():
    assert EXERCISES


@pytest.mark.parametrize("ex", _params())
def test_accepts_reference_on_every_call(ex):
    for _ in range(N_CALLS):
        res = _check(ex, ex.reference)
        assert res.passed, res.message


@pytest.mark.parametrize("ex", _params())
def test_rejects_every_wrong_answer_on_every_call(ex):
    assert len(ex.wrong) >= 2
    for call in range(N_CALLS):
        for label, bad in zip(ex.wrong_labels, ex.wrong):
            res = _check(ex, bad)
            assert not res.passed, f"{ex.id}: wrong answer {label!r} was accepted on check {call + 1}"
            assert res.hint and "Traceback" not in res.message


@pytest.mark.parametrize("ex", _params(PENDING_CATALOGUE))
def test_catalogue_covers_enough_mistake_classes(ex):
    classes = wrong_classes(ex)
    labelled = [label for label in ex.wrong_labels if label != "other: (unlabelled)"]
    assert len(ex.wrong) >= MIN_WRONG, f"{ex.id}: {len(ex.wrong)} wrong answers, need >= {MIN_WRONG}"
    assert len(labelled) == len(ex.wrong), f"{ex.id}: label every wrong answer '<class>: description'"
    assert len(set(classes)) >= MIN_CLASSES, f"{ex.id}: classes {sorted(set(classes))}, need >= {MIN_CLASSES}"


@pytest.mark.parametrize("ex", _params())
def test_wrong_answer_labels_name_a_known_class(ex):
    assert len(ex.wrong_labels) == len(ex.wrong)
    assert all(c in MISTAKE_CLASSES for c in wrong_classes(ex))


# ---------------------------------------------------------------- generic probes
def _returns_none(*args, **kwargs):
    return None


def _consume(v):
    """Change a plain-data argument in place the way careless code does; True if it changed."""
    if isinstance(v, np.ndarray) and v.flags.writeable and v.size and np.any(v != 0):
        v[...] = 0
        return True
    if isinstance(v, (list, dict, set)) and v:
        v.clear()
        return True
    return False


def _consuming(reference):
    """The right result, after which the inputs are zeroed / emptied (``layers.pop(0)``-style)."""
    def answer(*args, **kwargs):
        out = reference(*args, **kwargs)
        for v in list(args) + list(kwargs.values()):
            answer.consumed |= _consume(v)
        return out
    answer.consumed = False
    return answer


@pytest.mark.parametrize("ex", _params())
def test_returns_none_probe_is_rejected(ex):
    if not _is_function(ex.reference):
        pytest.skip("the answer is not a function")
    for _ in range(N_CALLS):
        assert not _check(ex, _returns_none).passed


@pytest.mark.parametrize("ex", _params())
def test_consuming_answer_then_wrong_answer(ex):
    """First an answer that consumes its inputs, then a wrong answer: it must still be ✗."""
    if not _is_function(ex.reference):
        pytest.skip("the answer is not a function")
    probe = _consuming(ex.reference)
    res = _check(ex, probe)
    if ex.cases is not None and probe.consumed and not ex.allow_mutation:  # changing the inputs is wrong too
        assert not res.passed and "in place" in res.message, res.message
    # had the consuming answer emptied the judge's cases, any answer would pass from here on
    label, bad = ex.wrong_labels[0], ex.wrong[0]
    assert not _check(ex, bad).passed, f"{ex.id}: {label!r} accepted after a consuming answer ran"
    assert _check(ex, ex.reference).passed


def _memorising(ex):
    fixed = list(ex.cases() if callable(ex.cases) else ex.cases)
    return lk.check.lookup_table_answer(ex.reference, fixed)


@pytest.mark.parametrize("ex", _params(PENDING_RANDOM))
def test_hard_coding_the_fixed_cases_is_rejected(ex):
    if ex.cases is None or not _is_function(ex.reference):
        pytest.skip("custom judge: it draws its own cases")
    assert ex.random_cases is not None, f"{ex.id}: no random_cases, so a lookup table of the fixed cases passes"
    answer = _memorising(ex)
    for _ in range(N_CALLS):
        assert not _check(ex, answer).passed


@pytest.mark.parametrize("ex", _params())
def test_stub_gives_clear_cross(ex, capsys):
    def stub(*args, **kwargs):
        raise NotImplementedError("Replace this line with your solution")
    answer = stub
    if not callable(ex.reference):
        answer = None  # value exercises: an unanswered cell leaves None
    res = lk.check(ex.id, answer, record=False)
    out = capsys.readouterr().out
    assert not res.passed and "✗" in out and "Hint" in out and "Traceback" not in out


def test_strict_mode_raises(monkeypatch):
    monkeypatch.setenv("LABKIT_STRICT", "1")
    ex = EXERCISES[0]
    with pytest.raises(AssertionError, match="check failed"):
        lk.check(ex.id, ex.wrong[0], record=False, quiet=True)
