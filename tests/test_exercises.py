"""Proven graders: every check accepts its reference, rejects ≥ 2 plausible wrong answers,
and turns a learner's stub into a clear ✗ with a hint instead of a traceback."""
import pytest

import labkit as lk

EXERCISES = lk.check.all_exercises()


@pytest.fixture(autouse=True)
def _lenient(monkeypatch):
    monkeypatch.setenv("LABKIT_STRICT", "0")


def test_there_are_exercises():
    assert EXERCISES


@pytest.mark.parametrize("ex", EXERCISES, ids=lambda e: e.id)
def test_accepts_reference(ex):
    res = lk.check(ex.id, ex.reference, record=False, quiet=True)
    assert res.passed, res.message


@pytest.mark.parametrize("ex", EXERCISES, ids=lambda e: e.id)
def test_rejects_wrong_answers(ex):
    assert len(ex.wrong) >= 2
    for i, bad in enumerate(ex.wrong):
        res = lk.check(ex.id, bad, record=False, quiet=True)
        assert not res.passed, f"{ex.id}: wrong answer #{i + 1} was accepted"
        assert res.hint and "Traceback" not in res.message


@pytest.mark.parametrize("ex", EXERCISES, ids=lambda e: e.id)
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
