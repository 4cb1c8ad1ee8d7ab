import numpy as np
import pytest

import labkit as lk
from labkit.check import Exercise, Mismatch, compare, function_exercise


@pytest.fixture(autouse=True)
def _lenient(monkeypatch):
    monkeypatch.setenv("LABKIT_STRICT", "0")


@pytest.fixture
def nb00(monkeypatch):
    """A private registry holding only notebook 00's exercises (fast: no other exercise module loads)."""
    import importlib

    import labkit.exercises.nb00 as mod
    monkeypatch.setattr(lk.check, "_REGISTRY", {})
    monkeypatch.setattr(lk.check, "_LOADED", True)
    monkeypatch.setattr(lk.check, "_ATTEMPTS", {})
    importlib.reload(mod)
    return lk.check._REGISTRY


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


def test_unknown_exercise_suggests_names(nb00):
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


def test_hints_step_through(nb00, capsys, monkeypatch):
    ex = lk.check.get("00.standardize")
    first, second = lk.check.hint("00.standardize"), lk.check.hint("00.standardize")
    assert (first, second) == (ex.hints[0], ex.hints[1])
    assert "Hint 1/3" in capsys.readouterr().out


def test_no_answer_and_learner_exception_are_explained(nb00):
    r = lk.check("00.standardize", None, record=False, quiet=True)
    assert not r and "no answer yet" in r.message
    r = lk.check("00.standardize", lambda X: X / 0 + undefined_name, record=False, quiet=True)  # noqa: F821
    assert not r and "NameError" in r.message and "Traceback" not in r.message


def test_mutating_answer_is_rejected_and_cannot_corrupt_reference(nb00):
    def mutating(X):
        X -= X.mean(axis=0)
        X /= X.std(axis=0)
        return X
    r = lk.check("00.standardize", mutating, record=False, quiet=True)
    assert not r and "in place" in r.message
    assert lk.check("00.standardize", lk.check.get("00.standardize").reference, record=False, quiet=True)


def test_results_file_for_grader(nb00, tmp_path, monkeypatch):
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


# ---------------------------------------------------------------- issue 15: a ✓ is earned
import signal  # noqa: E402
import time  # noqa: E402

from labkit.check import (MISTAKE_CLASSES, TimeLimitExceeded, call_answer, guard, random_case,  # noqa: E402
                          register, time_limit, wrong_classes)


@pytest.fixture
def reg(monkeypatch):
    """A private, empty registry (no exercise modules are loaded) and fresh hint counters."""
    monkeypatch.setattr(lk.check, "_REGISTRY", {})
    monkeypatch.setattr(lk.check, "_LOADED", True)
    monkeypatch.setattr(lk.check, "_ATTEMPTS", {})
    return lk.check._REGISTRY


def _double(x):
    return np.asarray(x, dtype=float) * 2


WRONG = {"sign: negated": lambda x: -2 * np.asarray(x, float), "off_by_one: plus one": lambda x: 2 * np.asarray(x) + 1}


def _ex(id="99.double", **kw):
    args = dict(title="double it", reference=_double, cases=[(np.array([1.0, 2.0]),)], hints=["h1", "h2", "h3"],
                wrong=WRONG)
    args.update(kw)
    return function_exercise(id, **args)


def _run(id, answer, **kw):
    return lk.check(id, answer, record=False, quiet=True, **kw)


def test_wrong_dict_labels_and_classes(reg):
    ex = _ex()
    assert wrong_classes(ex) == ["sign", "off_by_one"] and wrong_classes("99.double") == ["sign", "off_by_one"]
    assert ex.wrong_labels == list(WRONG) and len(ex.wrong) == 2 and callable(ex.wrong[0])
    listed = _ex("99.listed", wrong=list(WRONG.values()))
    assert wrong_classes(listed) == ["other", "other"]
    assert set(MISTAKE_CLASSES) >= {"off_by_one", "sign", "normalisation", "ignored_argument", "global_rng",
                                    "wrong_axis", "unstable", "boundary", "mutation", "returns_none",
                                    "fits_visible", "other"} and len(MISTAKE_CLASSES) == 12
    with pytest.raises(ValueError, match="mistake class"):
        _ex("99.bad", wrong={"typo: x": abs, "sign: y": abs})
    with pytest.raises(TypeError, match="keys are strings"):
        _ex("99.bad", wrong={1: abs, "sign: y": abs})
    with pytest.raises(TypeError, match="dict"):
        _ex("99.bad", wrong=abs)
    with pytest.raises(TypeError):
        wrong_classes(3)
    direct = register(Exercise(id="99.direct", title="t", judge=lambda a: None, reference=abs, hints=["h"],
                               wrong={"sign: a": abs, "boundary: b": abs}))
    assert wrong_classes(direct) == ["sign", "boundary"]


def test_fixed_cases_run_first_then_random_with_seed(reg):
    seen = []

    def rnd(rng):
        seen.append(rng)
        return [(rng.normal(size=3),), {"args": (rng.normal(size=2),), "label": "(labelled)"}]

    _ex(random_cases=rnd)
    calls = []

    def spy(x):
        calls.append(np.asarray(x).shape)
        return _double(x)
    assert _run("99.double", spy)
    assert calls == [(2,), (3,), (2,)] and isinstance(seen[0], np.random.Generator)
    _run("99.double", spy)
    assert len(seen) == 2  # called on every check


def test_random_case_failure_names_seed_and_reproduces(reg):
    _ex(random_cases=lambda rng: [(rng.normal(size=4),), (rng.normal(size=4) + 100,)])

    def wrong_on_big(x):
        return _double(x) + (np.asarray(x) > 50)
    r = _run("99.double", wrong_on_big)
    assert not r and "random case 2 (seed " in r.message and "lk.check.random_case('99.double', seed=" in r.message
    seed = int(r.message.split("seed ")[1].split(")")[0])
    args, kwargs = random_case("99.double", seed=seed, index=2)
    assert args[0].min() > 50 and kwargs == {}
    again = random_case("99.double", seed=seed, index=2)
    assert np.array_equal(again[0][0], args[0])
    replay = _run("99.double", wrong_on_big, seed=seed)
    assert f"seed {seed}" in replay.message
    assert not random_case("99.double", seed=seed + 1, index=2)[0][0].tolist() == args[0].tolist()
    with pytest.raises(ValueError, match="between 1 and 2"):
        random_case("99.double", seed=seed, index=3)
    with pytest.raises(ValueError, match="between 1 and 2"):
        random_case("99.double", seed=seed, index=0)
    with pytest.raises(TypeError, match="seed"):
        random_case("99.double", seed="1")
    with pytest.raises(TypeError, match="seed"):
        _run("99.double", _double, seed=True)
    _ex("99.fixed_only")
    with pytest.raises(ValueError, match="no random cases"):
        random_case("99.fixed_only", seed=1)
    with pytest.raises(TypeError, match="random_cases"):
        _ex("99.bad", random_cases=[1, 2])


def test_seed_override_is_popped_after_the_check(reg):
    _ex(random_cases=lambda rng: [(rng.normal(size=2),)])
    _run("99.double", _double, seed=5)
    assert lk.check._SEED_OVERRIDE == []
    _run("99.double", lambda x: 1 / 0, seed=5)
    assert lk.check._SEED_OVERRIDE == []


def test_fresh_seed_each_call(reg, monkeypatch):
    import labkit.check as check_mod
    seeds, firsts, original = [], set(), check_mod._fresh_seed
    monkeypatch.setattr(check_mod, "_fresh_seed", lambda: seeds.append(original()) or seeds[-1])
    _ex(random_cases=lambda rng: firsts.add(int(rng.integers(2 ** 40))) or [])
    for _ in range(5):
        _run("99.double", _double)
    assert len(seeds) == 5 and len(set(seeds)) == 5 and len(firsts) >= 5


def test_reference_and_answer_get_their_own_copies(reg):
    cases = [([1.0, 2.0],), ({"a": [1]},)]
    seen_by_ref = []

    def ref(v):
        seen_by_ref.append(copy_of(v))
        return 1

    def consuming(v):
        v.clear()
        return 1
    function_exercise("99.copy", title="t", reference=ref, cases=cases, hints=["h"], wrong=[abs, abs],
                      allow_mutation=True)
    assert _run("99.copy", consuming)
    assert _run("99.copy", consuming)
    assert cases == [([1.0, 2.0],), ({"a": [1]},)] and seen_by_ref[-1] == {"a": [1]}


def copy_of(v):
    import copy
    return copy.deepcopy(v)


def test_in_place_change_is_rejected_unless_allowed(reg):
    _ex()

    def in_place(x):
        x *= 2
        return x
    r = _run("99.double", in_place)
    assert not r and "argument #1 in place" in r.message
    function_exercise("99.kw", title="t", reference=lambda x, y=None: 0, hints=["h"], wrong=[abs, abs],
                      cases=[{"args": (1,), "kwargs": {"y": [1, 2]}}])

    def pops_kw(x, y=None):
        y.pop()
        return 0
    r = _run("99.kw", pops_kw)
    assert not r and "argument y= in place" in r.message
    _ex("99.allowed", allow_mutation=True)
    assert _run("99.allowed", in_place)


def test_custom_judge_cases_are_protected_by_the_guard(reg):
    layers = [[(3, 1)], [(3, 1), (3, 2)]]

    def rf(ls):
        return 1 + sum(k - 1 for k, _ in ls)

    def judge(answer):
        for case in layers:  # hands its own case list to the answer, as an old judge did
            if answer(case) != rf(case):
                raise Mismatch(f"case {case}: got {answer(case)}")
    register(Exercise(id="99.rf", title="t", judge=judge, reference=rf, wrong=[lambda ls: 1, lambda ls: 0],
                      hints=["h"]))

    def consuming(ls):
        out = rf(ls)
        while ls:
            ls.pop(0)
        return out
    assert _run("99.rf", consuming)
    assert layers == [[(3, 1)], [(3, 1), (3, 2)]]
    assert not _run("99.rf", lambda ls: 1)


def test_call_answer_and_guard():
    data = [1, [2, 3]]

    def eat(v):
        v.clear()
        return "ok"
    assert call_answer(eat, data) == "ok" and data == [1, [2, 3]]
    assert call_answer(eat, v=data) == "ok" and data == [1, [2, 3]]
    g = guard(eat)
    assert g(data) == "ok" and data == [1, [2, 3]] and g.__wrapped__ is eat and guard(g) is g
    arr = np.ones(3)
    guard(lambda a: a.fill(0))(arr)
    assert arr.tolist() == [1, 1, 1]

    class Buf:
        pass
    assert guard(Buf) is Buf
    rng = np.random.default_rng(0)
    guard(lambda r: r.normal())(rng)  # non-data objects are passed through: the rng really advances
    assert rng.bit_generator.state != np.random.default_rng(0).bit_generator.state
    with pytest.raises(TimeLimitExceeded):
        call_answer(_spin, time_limit_s=0.2)


def _spin(*args, **kwargs):
    while True:
        pass


def test_infinite_loop_gives_a_cross_and_the_kernel_stays_usable(reg):
    _ex(time_limit_s=0.3)
    t0 = time.monotonic()
    r = _run("99.double", _spin)
    assert not r and "took longer than 0.3 s" in r.message and "infinite loop" in r.message
    assert time.monotonic() - t0 < 5
    assert _run("99.double", _double)  # still usable
    assert signal.getsignal(signal.SIGALRM) in (signal.SIG_DFL, signal.default_int_handler, None) or \
        not callable(signal.getsignal(signal.SIGALRM)) or signal.getsignal(signal.SIGALRM).__name__ != "_alarm"
    assert signal.getitimer(signal.ITIMER_REAL)[0] == 0 or signal.getitimer(signal.ITIMER_REAL)[0] > 1


def test_time_limit_is_configurable_and_catches_except_exception(reg):
    ex = _ex(time_limit_s=5.0)
    ex.time_limit_s = 0.2  # configurable per exercise, also after registration

    def swallowing(x):
        try:
            _spin()
        except Exception:
            return _double(x)
    r = _run("99.double", swallowing)
    assert not r and "took longer than 0.2 s" in r.message


def test_time_limit_on_a_class_answer_times_the_whole_judge(reg):
    def judge(answer):
        answer().go()
    register(Exercise(id="99.cls", title="t", judge=judge, reference=None, wrong=[1, 2], hints=["h"],
                      time_limit_s=0.02))

    class Spinner:
        def go(self):
            _spin()
    t0 = time.monotonic()
    # the whole judge gets max(10 × limit, _WHOLE_JUDGE_MIN_S)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(lk.check, "_WHOLE_JUDGE_MIN_S", 0.3)
        r = _run("99.cls", Spinner)
    assert not r and "took longer than 0.3 s" in r.message and time.monotonic() - t0 < 5


def test_time_limit_restores_an_outer_timer_and_handler():
    fired = []
    old = signal.signal(signal.SIGALRM, lambda *a: fired.append(1))
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.5)
        with time_limit(5):
            pass
        left = signal.getitimer(signal.ITIMER_REAL)[0]
        assert 0 < left <= 0.5
        with time_limit(None):  # no limit: nothing changes
            assert signal.getitimer(signal.ITIMER_REAL)[0] > 0
        with time_limit(0):
            pass
        time.sleep(0.7)
        assert fired == [1]
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def test_nested_time_limits_keep_the_outer_one():
    t0 = time.monotonic()
    with pytest.raises(TimeLimitExceeded) as info:
        with time_limit(0.2):
            with time_limit(50):
                _spin()
    assert info.value.seconds == 0.2 and time.monotonic() - t0 < 3
    assert lk.check._ALARM_DEPTH == 0


def test_complex_results_are_not_cast_to_real():
    with pytest.raises(Mismatch, match=r"differs.*1\+0j|1\+0\.001j"):
        compare(np.array([1 + 0j]), np.array([1 + 1e-3j]))
    with pytest.raises(Mismatch):
        compare(np.array([1.0]), np.array([1 + 1j]))
    with pytest.raises(Mismatch):
        compare(1 + 1j, 1.0)
    compare(np.array([1 + 2j]), np.array([1 + 2j]))
    with pytest.raises(AssertionError, match="differs"):
        lk.check.close(np.array([1 + 1j]), np.array([1 + 0j]), quiet=True)
    assert lk.check.close(np.array([1 + 1j]), np.array([1 + 1j + 1e-9j]), quiet=True) == pytest.approx(1e-9, rel=1e-3)


def test_tuple_exercise_accepts_a_list_with_the_same_values():
    compare([1, 2.5], (1, 2.5))
    compare([True, 3], (True, 3))
    compare([np.ones(2), "a"], (np.ones(2), "a"))
    compare((np.int64(2), 3.0), (2, 3.0))
    with pytest.raises(Mismatch, match="shape"):
        compare([1, 2, 3], (1, 2))
    with pytest.raises(Mismatch, match="should have 2 items"):
        compare([1, "a", 3], (1, "a"))
    with pytest.raises(Mismatch, match=r"result\[1\]"):
        compare([True, 4], (True, 3))
    with pytest.raises(Mismatch, match="should be a tuple"):
        compare("ab", (np.ones(2), "a"))


def test_compare_bools_strings_and_none():
    compare(True, True)
    compare(np.bool_(True), True)
    with pytest.raises(Mismatch):
        compare(1, True)
    with pytest.raises(Mismatch):
        compare(False, True)
    with pytest.raises(Mismatch, match="forget to `return`"):
        compare(None, np.ones(2))
    compare(None, None)
    with pytest.raises(Mismatch, match="expected 'a'"):
        compare(np.array(["a"]), "a")
    with pytest.raises(Mismatch):
        compare("b", "a")
    with pytest.raises(Mismatch, match="number/array"):
        compare("x", 1.0)
    with pytest.raises(Mismatch, match="should be a dict"):
        compare([1], {"a": 1})
    compare(np.array(["a", "b"]), np.array(["a", "b"]))
    with pytest.raises(Mismatch, match=r"\[1\] is"):
        compare(np.array(["a", "c"]), np.array(["a", "b"]))
    with pytest.raises(Mismatch, match=r"should hold numbers"):
        compare(np.array([{}, {}], dtype=object)[:0].astype("M8[s]"), np.zeros(0))


def test_comparison_failure_does_not_blame_the_learners_code(reg):
    class Weird:
        def __eq__(self, other):
            raise RuntimeError("cannot compare")
    function_exercise("99.weird", title="t", reference=lambda: Weird(), cases=[()], hints=["h"], wrong=[abs, abs])
    r = _run("99.weird", lambda: Weird())
    assert not r and "your code raised" not in r.message


def test_mismatch_shows_enough_digits():
    with pytest.raises(Mismatch) as info:
        compare(0.6272114, 0.6272119, atol=1e-9, rtol=1e-9)
    msg = str(info.value)
    assert "0.6272114" in msg and "0.6272119" in msg and "difference 5e-07" in msg and "relative" in msg
    with pytest.raises(Mismatch) as info:
        compare(np.array([1.0, 0.62721100001]), np.array([1.0, 0.627211]), atol=1e-13, rtol=0)
    assert "0.62721100001" in str(info.value) and "index [1]" in str(info.value)
    with pytest.raises(Mismatch, match=r"relative inf"):
        compare(1e-3, 0.0, atol=1e-9, rtol=0)


def test_tolerances_are_atol_plus_rtol(capsys):
    compare(100.0 + 5e-5, 100.0, atol=1e-6, rtol=1e-6)
    with pytest.raises(Mismatch):
        compare(100.0 + 2e-4, 100.0, atol=1e-6, rtol=1e-6)
    compare(1.0 + 9e-7, 1.0, atol=1e-6, rtol=0)
    with pytest.raises(Mismatch):
        compare(1.0 + 2e-6, 1.0, atol=1e-6, rtol=0)
    compare(np.array([np.nan, 1.0]), np.array([np.nan, 1.0]))
    compare(np.array([np.inf]), np.array([np.inf]))
    with pytest.raises(Mismatch):
        compare(np.array([-np.inf]), np.array([np.inf]))
    with pytest.raises(Mismatch):
        compare(np.array([1e300]), np.array([np.inf]))
    assert lk.check.close(1.5, 1.0, atol=1.0) == 0.5
    assert "max abs error 0.5, allowed 1" in capsys.readouterr().out
    assert lk.check.close(1.0, 1.0, quiet=True) == 0.0 and capsys.readouterr().out == ""
    assert lk.check.close(102.0, 100.0, atol=0, rtol=0.05, quiet=True) == 2.0


def test_hints_advance_after_each_failed_run_and_not_after_a_pass(reg):
    _ex()
    r1 = _run("99.double", abs)
    r2 = _run("99.double", abs)
    assert (r1.hint.split("  ")[0], r2.hint.split("  ")[0]) == ("h1", "h2")
    assert (r1.attempts, r2.attempts) == (1, 2) and "lk.hint('99.double')" in r1.hint
    ok = _run("99.double", _double)
    assert ok and ok.hint == "" and ok.attempts == 2 and lk.check._ATTEMPTS["99.double"] == 2
    r3, r4 = _run("99.double", abs), _run("99.double", abs)
    assert r3.hint == "h3" and r4.hint == "h3" and r4.attempts == 4  # the last hint sticks, no "next" tip
    assert "Hint: h3" in str(r4) and str(ok) == ok.message and bool(ok) and not bool(r4)
    assert r3.elapsed_s >= 0


def test_hint_function_steps_after_failures(reg, capsys):
    _ex()
    _run("99.double", abs)
    assert lk.check.hint("99.double") == "h2" and "Hint 2/3 for 99.double: h2" in capsys.readouterr().out
    assert lk.check.hint("99.double") == "h3" and lk.check.hint("99.double") == "h3"
    assert "Hint 3/3" in capsys.readouterr().out


def test_strict_override_both_ways(reg, monkeypatch):
    _ex()
    monkeypatch.setenv("LABKIT_STRICT", "1")
    assert not _run("99.double", abs, strict=False)
    with pytest.raises(AssertionError, match="LABKIT_STRICT: check failed"):
        _run("99.double", abs)
    assert _run("99.double", _double)  # a pass never raises
    for off in ("0", "false", "no", ""):
        monkeypatch.setenv("LABKIT_STRICT", off)
        assert not _run("99.double", abs)
    monkeypatch.setenv("LABKIT_STRICT", "yes")
    with pytest.raises(AssertionError):
        _run("99.double", abs)
    monkeypatch.setenv("LABKIT_STRICT", "0")
    with pytest.raises(AssertionError):
        _run("99.double", abs, strict=True)


def test_printed_result_and_messages(reg, capsys):
    _ex()
    lk.check("99.double", _double, record=False)
    assert capsys.readouterr().out.strip() == "✓ 99.double — double it: correct."
    lk.check("99.double", abs, record=False)
    out = capsys.readouterr().out
    assert out.startswith("✗ 99.double — double it: case 1 (array([1., 2.])): result differs") and "Hint: h1" in out
    r = _run("99.double", ...)
    assert "no answer yet (got Ellipsis)" in r.message
    r = _run("99.double", 3)
    assert "expected a function, got int" in r.message

    def stub(x):
        raise NotImplementedError
    assert "not implemented yet" in _run("99.double", stub).message

    def recurse(x):
        return recurse(x)
    r = _run("99.double", recurse)
    assert "RecursionError" in r.message and "calls itself" in r.message

    def boom(x):
        return {}["missing"]
    r = _run("99.double", boom)
    assert "your code raised KeyError" in r.message and "line" in r.message and "Traceback" not in r.message


def test_results_file_and_progress_errors(reg, tmp_path, monkeypatch, capsys):
    _ex()
    f = tmp_path / "r.jsonl"
    monkeypatch.setenv("LABKIT_RESULTS_FILE", str(f))
    import json
    lk.check("99.double", _double, quiet=True)
    lk.check("99.double", abs, quiet=True)
    rows = [json.loads(line) for line in f.read_text().splitlines()]
    assert [r["passed"] for r in rows] == [True, False] and rows[0]["exercise"] == "99.double"
    lk.check("99.double", abs, quiet=True, record=False)
    assert len(f.read_text().splitlines()) == 2
    monkeypatch.setenv("LABKIT_RESULTS_FILE", str(tmp_path / "no" / "dir" / "r.jsonl"))
    import labkit.progress
    monkeypatch.setattr(labkit.progress, "record_check", lambda *a: (_ for _ in ()).throw(OSError("disk full")))
    assert lk.check("99.double", _double, quiet=True)
    assert "progress not saved: disk full" in capsys.readouterr().err


def test_register_validates(reg):
    for bad in ("1.x", "001.x", "ab.x", "01.", "01x"):
        with pytest.raises(ValueError, match="NN.name"):
            _ex(bad)
    with pytest.raises(ValueError, match="at least one hint"):
        _ex(hints=[])
    with pytest.raises(ValueError, match="two plausible"):
        _ex(wrong={"sign: a": abs})
    ex = _ex("12.name", register_it=False)
    assert "12.name" not in reg and ex.notebook == "12"
    assert register(ex) is ex and reg["12.name"] is ex
    assert [e.id for e in lk.check.all_exercises("12")] == ["12.name"]
    _ex("13.b")
    _ex("13.a")
    assert [e.id for e in lk.check.all_exercises()] == ["12.name", "13.a", "13.b"]
    assert lk.check.all_exercises("14") == []


def test_unknown_id_without_near_names(reg):
    with pytest.raises(ValueError, match="all_exercises"):
        lk.check.get("42.zzz")


def test_lazy_cases_are_called_per_check(reg):
    n = []

    def cases():
        n.append(1)
        return [(np.ones(2),)]
    _ex(cases=cases)
    _run("99.double", _double)
    _run("99.double", _double)
    assert len(n) == 2


def test_describe_keeps_failing_input_short():
    from labkit.check import _describe, _short_repr
    assert _short_repr(np.arange(3.0)) == "array([0., 1., 2.])"
    assert _short_repr(np.zeros((50, 4))) == "array(50, 4) float64 in [0, 0]"
    assert _short_repr(list(range(100))).startswith("list of 100 items [0, 1, ...]")
    assert _short_repr("x" * 100).endswith("...") and len(_short_repr("x" * 100)) == 60
    assert _describe((1,), {"k": 2}) == "1, k=2"
    assert _short_repr(np.array([np.nan, np.nan])).startswith("array(")


def test_full_registry_loads_every_exercise_module():
    exs = lk.check.all_exercises()
    assert "00.standardize" in {e.id for e in exs} and len({e.notebook for e in exs}) > 5
    assert lk.check.all_exercises("00")[0].id == "00.standardize"


# ---------------------------------------------------------------- tests that kill mutants (scripts/mutation.py)
def test_same_data_is_a_deep_plain_data_equality():
    from labkit.check import _same_data
    a = np.array([1.0, np.nan])
    assert _same_data(a, a.copy()) and not _same_data(a, np.array([1.0, 2.0]))
    assert _same_data(np.array([1, 2]), np.array([1, 2])) and not _same_data(np.array([1, 2]), np.array([1, 3]))
    assert not _same_data(np.array([1, 2]), [1, 2]) and not _same_data([1, 2], np.array([1, 2]))
    assert not _same_data(np.zeros(2), np.zeros(3)) and not _same_data(np.zeros(2), np.zeros(2, np.float32))
    assert not _same_data(np.array([np.nan, 1]), np.array([np.nan, 2]))
    assert _same_data([1, [2, {"k": (3,)}]], [1, [2, {"k": (3,)}]])
    assert not _same_data([1, 2], (1, 2)) and not _same_data([1, 2], [1, 2, 3]) and not _same_data([1, 2], [1, 3])
    assert not _same_data([[1], [2]], [[1], [3]]) and not _same_data((1, 2), [1, 2])
    assert _same_data({"a": 1, "b": [1]}, {"a": 1, "b": [1]})
    assert not _same_data({"a": 1}, {"a": 2}) and not _same_data({"a": 1}, {"b": 1}) and not _same_data({"a": 1}, [1])
    assert not _same_data({"a": 1, "b": 2}, {"b": 2, "a": 1})  # order changed in place counts too
    assert not _same_data({"a": [1]}, {"a": [2]}) and not _same_data({"a": 1}, {"a": 1, "b": 2})
    assert _same_data(float("nan"), float("nan")) and not _same_data(float("nan"), 1.0)
    assert not _same_data(1.0, float("nan")) and _same_data(1.0, 1.0) and not _same_data(1.0, 2.0)
    assert _same_data({1, 2}, {1, 2}) and not _same_data({1, 2}, {1}) and _same_data("ab", "ab")
    assert not _same_data("ab", "ac") and not _same_data(bytearray(b"a"), bytearray(b"b"))
    assert _same_data(object(), object())  # not plain data: not judged
    assert _same_data(np.random.default_rng(0), np.random.default_rng(1))


def test_learner_frame_names_the_learners_line():
    from labkit.check import _learner_frame

    def raise_from(filename, code="x = 1 / 0"):
        src = "\n" * 4 + code
        try:
            exec(compile(src, filename, "exec"), {})
        except ZeroDivisionError as exc:
            return _learner_frame(exc)
    assert raise_from("<ipython-input-3>") == " (in your cell, line 5)"
    assert raise_from("/tmp/ipykernel_42/123.py") == " (in your cell, line 5)"
    assert raise_from("/tmp/mine.py") == " (in mine.py, line 5)"

    def boom():
        return 1 / 0
    try:
        boom()
    except ZeroDivisionError as exc:
        msg = _learner_frame(exc)
    assert msg.startswith(" (in test_check.py, line ") and msg.endswith(": `return 1 / 0`)")


def test_record_writes_every_field_and_tells_progress(reg, tmp_path, monkeypatch):
    import json

    import labkit.progress
    _ex()
    seen = []
    monkeypatch.setattr(labkit.progress, "record_check", lambda ex, ok: seen.append((ex, ok)))
    f = tmp_path / "r.jsonl"
    monkeypatch.setenv("LABKIT_RESULTS_FILE", str(f))
    lk.check("99.double", abs, quiet=True)
    lk.check("99.double", _double, quiet=True)
    assert seen == [("99.double", False), ("99.double", True)]
    rows = [json.loads(line) for line in f.read_text(encoding="utf-8").splitlines()]
    assert rows[0] == {"exercise": "99.double", "passed": False, "message": rows[0]["message"]}
    assert rows[0]["message"].startswith("✗ 99.double") and rows[1]["message"].startswith("✓ 99.double")
    monkeypatch.delenv("LABKIT_RESULTS_FILE")
    lk.check("99.double", _double, quiet=True)
    assert len(seen) == 3 and len(f.read_text().splitlines()) == 2


def test_close_and_equal_details(capsys):
    with pytest.raises(AssertionError, match="^✗ loss differs"):
        lk.check.close(1.0, 2.0, what="loss", quiet=True)
    with pytest.raises(AssertionError, match="^✗ value differs"):
        lk.check.close(1.0, 2.0, quiet=True)
    assert lk.check.close("a", "a", quiet=True) == 0.0
    assert lk.check.close(np.zeros(0), np.zeros(0), quiet=True) == 0.0
    assert lk.check.close(np.array([np.nan]), np.array([np.nan]), quiet=True) == 0.0
    assert lk.check.close(np.array([True]), np.array([True]), quiet=True) == 0.0
    assert lk.check.close(3, 3.5, atol=1, quiet=True) == 0.5
    capsys.readouterr()
    lk.check.close(1.0, 1.0)
    assert capsys.readouterr().out == "✓ value matches (max abs error 0, allowed 1e-06)\n"
    lk.check.equal(1, 1)
    assert capsys.readouterr().out == "✓ value == 1\n"
    lk.check.equal((1, 2), (1, 2), what="shape", quiet=True)
    assert capsys.readouterr().out == ""
    with pytest.raises(AssertionError, match=r"^✗ value is 1, expected 2$"):
        lk.check.equal(1, 2, quiet=True)
    with pytest.raises(AssertionError, match=r"^✗ shape is \(1,\), expected \(2,\)$"):
        lk.check.equal((1,), (2,), what="shape")
    with pytest.raises(AssertionError):
        lk.check.equal(np.array([1, 2]), np.array([1, 2]))  # ambiguous truth value: not "equal"


def test_seeds_fit_in_31_bits_and_index_one_is_the_first_case(reg):
    seeds = []
    _ex(random_cases=lambda rng: seeds.append(rng) or [(np.array([float(len(seeds))]),), (np.array([-1.0]),)])
    for _ in range(20):
        assert lk.check._fresh_seed() < 2 ** 31 and lk.check.fresh_seed() < 2 ** 31
    assert len({lk.check.fresh_seed() for _ in range(5)}) == 5
    lk.check._SEED_OVERRIDE.append(11)
    try:
        assert lk.check.fresh_seed() == 11
    finally:
        lk.check._SEED_OVERRIDE.pop()
    args, _ = random_case("99.double", seed=7, index=1)
    assert args[0].tolist() == [float(len(seeds))]
    assert random_case("99.double", seed=7, index=2)[0][0].tolist() == [-1.0]


def test_short_repr_formats():
    from labkit.check import _short_repr
    assert _short_repr(np.array([1.23456789, 2.0])) == "array([1.2346, 2.    ])"
    assert _short_repr(np.arange(8)) == "array([0, 1, 2, 3, 4, 5, 6, 7])"
    assert _short_repr(np.arange(9)) == "array(9,) int64 in [0, 8]"
    assert _short_repr(np.ones((2, 2))) == "array([[1., 1.], [1., 1.]])"
    assert _short_repr(np.array(["a", "b"])) == "array(2,) <U1"
    assert _short_repr(np.zeros(0)) == "array([])" and _short_repr(np.zeros((0, 9))) == "array([])"
    assert _short_repr(np.array([{}, 1] * 5, dtype=object)) == "array(10,) object"
    assert _short_repr(np.array([np.nan] * 9)) == "array(9,) float64 all NaN"
    assert _short_repr(np.array([np.nan] + [1.0] * 9)) == "array(10,) float64 in [1, 1]"
    assert _short_repr([1.0, 2.0]) == "[1.0, 2.0]" and _short_repr((1, 2)) == "(1, 2)"
    assert _short_repr(list(range(12))) == repr(list(range(12)))
    assert _short_repr(tuple(range(13))) == "tuple of 13 items [0, 1, ...]"
    assert _short_repr(["a" * 30, "b" * 30] + [0] * 11) == f"list of 13 items ['{'a' * 16}..., '{'b' * 16}..., ...]"
    assert _short_repr(np.float64(1.5)) == "1.5" and _short_repr(3) == "3"
    assert _short_repr(np.arange(100.0).reshape(10, 10)) == "array(10, 10) float64 in [0, 99]"
    assert _short_repr(np.arange(1.0, 1e6, 1e5)) == "array(10,) float64 in [1, 900001]"
    assert _short_repr(np.arange(30.0).reshape(1, 30)[:, :6] * 1.5) == "array([[0. , 1.5, 3. , 4.5, 6. , 7.5]])"
    assert _short_repr("x" * 10, limit=8) == "'xxxx..."


def test_strict_reads_the_environment(monkeypatch):
    from labkit.check import _strict
    monkeypatch.delenv("LABKIT_STRICT", raising=False)
    assert _strict() is False
    for off in ("", " 0 ", "false", "no"):
        monkeypatch.setenv("LABKIT_STRICT", off)
        assert _strict() is False
    for on in ("1", " yes", "true"):
        monkeypatch.setenv("LABKIT_STRICT", on)
        assert _strict() is True


def test_compare_passes_tolerances_and_paths_down():
    compare({"a": 100.00005}, {"a": 100.0}, atol=1e-6, rtol=1e-6)
    compare([100.00005, "x"], (100.0, "x"), atol=1e-6, rtol=1e-6)
    with pytest.raises(Mismatch, match=r"^result\['a'\] differs"):
        compare({"a": 1.5}, {"a": 1.0})
    with pytest.raises(Mismatch, match=r"^out\[1\] is 'y', expected 'x'$"):
        compare([1.0, "y"], (1.0, "x"), path="out")
    with pytest.raises(Mismatch, match=r"^result\[0\] should be a number/array, got str$"):
        compare(["1", 2], (1, 2))
    from fractions import Fraction
    compare(Fraction(1, 2), Fraction(1, 2))
    with pytest.raises(Mismatch, match=r"is Fraction\(1, 3\), expected Fraction\(1, 2\)"):
        compare(Fraction(1, 3), Fraction(1, 2))


def test_mismatch_message_exact_forms():
    import warnings
    with pytest.raises(Mismatch) as info:
        compare(1.5, 1.0)
    assert str(info.value) == ("result differs: got 1.5, expected 1 (difference 0.5, relative 0.5; max abs error 0.5; "
                               "allowed 1e-06 + 1e-06·|expected|)")
    with pytest.raises(Mismatch, match=r"got \(1\+0j\), expected \(1\+0\.001j\)"):
        compare(1 + 0j, 1 + 1e-3j)
    with pytest.raises(Mismatch, match=r"relative inf"):
        compare(1.0, 0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(Mismatch):
            compare(np.array([1e308]), np.array([-1e308]))
        with pytest.raises(Mismatch):
            compare(np.array([np.inf]), np.array([0.0]))
        compare(np.array([np.nan, np.inf]), np.array([np.nan, np.inf]))
    from labkit.check import _fmt_pair
    assert _fmt_pair(1.2345678912345, 1.23457) == ("1.23456789", "1.23457")
    assert _fmt_pair(0.5, 0.25) == ("0.5", "0.25")
    assert _fmt_pair(float("nan"), float("nan")) == ("nan", "nan")


def test_to_array_cases():
    from labkit.check import _to_array

    class Tensor:
        def numpy(self):
            return np.array([1.0, 2.0])

    class Arrayish:
        def __array__(self, dtype=None, copy=None):
            return np.array([3, 4])

    class NotTensor:
        numpy = "not callable"
    assert _to_array([]) is None and _to_array(["a"]) is None and _to_array("abc") is None
    assert _to_array(b"ab") is None and _to_array(True) is None and _to_array(NotTensor()) is None
    assert _to_array(Tensor()).tolist() == [1.0, 2.0] and _to_array(Arrayish()).tolist() == [3, 4]
    assert _to_array((1, 2.5)).tolist() == [1.0, 2.5] and _to_array([1, True]) is None
    assert _to_array(3).shape == () and _to_array(np.float32(2)).dtype == np.float32


def test_time_limit_is_a_no_op_outside_the_main_thread():
    import threading
    errors = []

    def body():
        try:
            with time_limit(0.05):
                time.sleep(0.1)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
    t = threading.Thread(target=body)
    t.start()
    t.join()
    assert errors == []
    assert TimeLimitExceeded(0.5).args == (0.5,) and TimeLimitExceeded(0.5).seconds == 0.5


def test_guard_wraps_functions_methods_partials_and_builtins():
    import functools

    class Eater:
        def eat(self, v):
            v.clear()
            return len(v)
    data = [1, 2]
    for fn in (Eater().eat, functools.partial(Eater.eat, None), lambda v: v.clear()):
        g = guard(fn)
        assert g is not fn and g._labkit_guarded
        g(data)
        assert data == [1, 2]
    assert guard(len) is not len and guard(len)([1, 2, 3]) == 3
    assert guard(3) == 3 and guard(Eater) is Eater and guard(Eater()).__class__ is Eater


def test_function_exercise_details(reg):
    def ref(x, k=1):
        n = len(x[0])
        x[0].append(9)  # the reference may change its own copy; never the case
        return n * k
    ex = function_exercise("99.fx", title="t", reference=ref, hints=["h"], wrong=[abs, abs], section="S",
                           cases=[([[1]],), {"args": ([[1, 2]],), "kwargs": {"k": 3}, "label": "(edge)"}],
                           allow_mutation=True, atol=0.5, rtol=0)
    assert ex.section == "S" and ex.allow_mutation is True and ex.cases is not None
    assert _run("99.fx", lambda x, k=1: len(x[0]) * k)
    assert _run("99.fx", lambda x, k=1: len(x[0]) * k + 0.4)  # within atol
    r = _run("99.fx", lambda x, k=1: len(x[0]))
    assert not r and r.message.endswith("case 2 (edge) ([[1, 2]], k=3): result is 2, expected 6")
    assert _ex("99.nomut").allow_mutation is False


def test_random_case_message_reproduces_what_the_answer_saw(reg):
    _ex(random_cases=lambda rng: [(rng.normal(size=3),)])
    seen = []

    def spy(x):
        seen.append(np.array(x))
        return -_double(x)
    r = _run("99.double", spy)
    assert not r and "random" not in r.message  # fixed case fails first
    _ex("99.rnd_only", cases=[], random_cases=lambda rng: [(rng.normal(size=3),)])
    seen.clear()
    r = _run("99.rnd_only", spy)
    seed = int(r.message.split("seed ")[1].split(")")[0])
    assert np.array_equal(random_case("99.rnd_only", seed=seed)[0][0], seen[0])
    assert r.message.endswith(f"or lk.check('99.rnd_only', your_function, seed={seed})")


def test_run_failures_are_never_passes(reg, monkeypatch):
    _ex()

    def stub(x):
        raise NotImplementedError

    def recurse(x):
        return recurse(x)
    for answer in (stub, recurse, None, ..., 3):
        r = _run("99.double", answer)
        assert r.passed is False and not r
    assert _run("99.double", _double).passed is True

    class Slow:
        def __init__(self, x):
            _spin()
    monkeypatch.setattr(lk.check, "_WHOLE_JUDGE_MIN_S", 0.0)
    lk.check.get("99.double").time_limit_s = 0.05
    r = _run("99.double", Slow)
    assert not r and "took longer than 0.5 s" in r.message


def _abs_ref(x):
    return abs(int(x))


def _wrong_on_negatives(x):  # right on every input >= 0: only a negative case catches it
    print("noise from a wrong answer")
    np.random.random()
    return int(x)


def test_random_cases_always_catch_the_catalogued_mistakes(reg, capsys):
    """A draw that misses a catalogued wrong answer (or the lookup-table cheat) is extended, deterministically."""
    from labkit.check import random_case

    def draw(rng):  # one case, negative only one time in four
        return [(int(rng.integers(-2, 6)),)]
    function_exercise("99.abs", title="abs", reference=_abs_ref, cases=[(3,)], hints=["h"], random_cases=draw,
                      wrong={"sign: only right on x >= 0": _wrong_on_negatives, "other: constant": lambda x: 3})
    np.random.seed(5)
    before = np.random.random(3)
    np.random.seed(5)
    for seed in range(60):
        assert not _run("99.abs", lambda x: int(x), seed=seed)   # the learner's copy of the mistake
        assert _run("99.abs", _abs_ref, seed=seed)
        n = len(reg["99.abs"].judge.draw_random_cases(seed))
        cases = [random_case("99.abs", seed=seed, index=i)[0][0] for i in range(1, n + 1)]
        assert any(c < 0 for c in cases) and any(c != 3 for c in cases), (seed, cases)  # the added cases catch them
        assert n <= 3 and cases == [random_case("99.abs", seed=seed, index=i)[0][0] for i in range(1, n + 1)]
    assert np.array_equal(np.random.random(3), before)       # the global RNG is the learner's, untouched
    assert "noise from a wrong answer" not in capsys.readouterr().out
    # the lookup-table cheat of the fixed case is caught too: some random output differs from abs(3)
    assert not _run("99.abs", lk.check.lookup_table_answer(_abs_ref, [(3,)]))


def test_bounds_prints_each_figure_and_fails_on_any_outside_its_bound(capsys):
    lk.check.bounds([("speed-up", "3.4×", "> 3×", 3.4 > 3), ("spread", "1.2 points", "< 3 points", True)])
    out = capsys.readouterr().out
    assert "✓ speed-up  3.4×  (asserted: > 3×)" in out and "✓ spread" in out
    with pytest.raises(AssertionError, match=r"speed-up = 2.1×, expected > 3×$"):
        lk.check.bounds([("speed-up", "2.1×", "> 3×", False), ("spread", "1.2 points", "< 3 points", True)], quiet=True)
    assert "✗ speed-up" in capsys.readouterr().out            # printed even when quiet, since it failed
    lk.check.bounds([("a", "1", "> 0", np.True_)], quiet=True)
    assert capsys.readouterr().out == ""
    for bad in ([], [("a", "1", "> 0")], ["a"]):
        with pytest.raises(TypeError, match="figure, this run, bound, holds"):
            lk.check.bounds(bad)
