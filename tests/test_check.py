import numpy as np
import pytest

import labkit as lk
from labkit.check import Exercise, Mismatch, compare, function_exercise


@pytest.fixture(autouse=True)
def _lenient(monkeypatch):
    monkeypatch.setenv("LABKIT_STRICT", "0")


def test_close_passes_and_reports_error(capsys):
    err = lk.check.close(np.array([1.0, 2.0]), np.array([1.0, 2.0 + 1e-8]), atol=1e-6, what="x")
    assert err < 1e-7 and "✓ x matches" in capsys.readouterr().out


def test_close_fails_with_location_and_range():
    with pytest.raises(AssertionError, match=r"differs at index \[1\].*allowed 1e-06"):
        lk.check.close(np.array([1.0, 2.0]), np.array([1.0, 2.1]), atol=1e-6, quiet=True)


def test_close_shape_mismatch():
    with pytest.raises(AssertionError, match="shape"):
        lk.check.close(np.zeros(3), np.zeros(4), quiet=True)


def test_equal():
    lk.check.equal((2, 3), (2, 3), quiet=True)
    with pytest.raises(AssertionError, match="expected"):
        lk.check.equal(1, 2)


def test_compare_nested_and_nan():
    compare({"a": (1.0, np.ones(2))}, {"a": (1.0, np.ones(2))})
    with pytest.raises(Mismatch, match="missing key"):
        compare({}, {"a": 1})
    with pytest.raises(Mismatch, match="NaN"):
        compare(np.array([np.nan]), np.array([1.0]))
    with pytest.raises(Mismatch, match="shape|items"):
        compare((1, 2), (1, 2, 3))


def test_unknown_exercise_suggests_names():
    with pytest.raises(ValueError, match="00.standardize"):
        lk.check("00.standardise", lambda X: X)
    with pytest.raises(TypeError):
        lk.check.get(3)


def test_register_rejects_bad_definitions():
    with pytest.raises(ValueError, match="NN.name"):
        function_exercise("bad-id", title="t", reference=abs, cases=[(1,)], hints=["h"], wrong=[abs, abs],
                          register_it=True)
    with pytest.raises(ValueError, match="two plausible wrong"):
        function_exercise("99.x", title="t", reference=abs, cases=[(1,)], hints=["h"], wrong=[abs])
    with pytest.raises(TypeError):
        lk.check.register("not an exercise")


def test_hints_step_through(capsys, monkeypatch):
    monkeypatch.setattr(lk.check, "_ATTEMPTS", {})  # other tests in this process may have failed this exercise
    ex = lk.check.get("00.standardize")
    first, second = lk.check.hint("00.standardize"), lk.check.hint("00.standardize")
    assert (first, second) == (ex.hints[0], ex.hints[1])
    assert "Hint 1/3" in capsys.readouterr().out


def test_no_answer_and_learner_exception_are_explained():
    r = lk.check("00.standardize", None, record=False, quiet=True)
    assert not r and "no answer yet" in r.message
    r = lk.check("00.standardize", lambda X: X / 0 + undefined_name, record=False, quiet=True)  # noqa: F821
    assert not r and "NameError" in r.message and "Traceback" not in r.message


def test_mutating_answer_is_rejected_and_cannot_corrupt_reference():
    def mutating(X):
        X -= X.mean(axis=0)
        X /= X.std(axis=0)
        return X
    r = lk.check("00.standardize", mutating, record=False, quiet=True)
    assert not r and "in place" in r.message
    assert lk.check("00.standardize", lk.check.get("00.standardize").reference, record=False, quiet=True)


def test_results_file_for_grader(tmp_path, monkeypatch):
    f = tmp_path / "r.jsonl"
    monkeypatch.setenv("LABKIT_RESULTS_FILE", str(f))
    lk.check("00.standardize", lambda X: X, quiet=True)
    assert '"passed": false' in f.read_text()


def test_compare_plain_integers():
    compare(5, 5)
    with pytest.raises(Mismatch, match="is 5, expected 6"):
        compare(5, 6)
    with pytest.raises(Mismatch):
        compare(np.array([1, 2]), np.array([1, 3]))
