"""The course's one timer waits for results: GPU-style asynchronous work is timed, not just queued."""
import time

import pytest

from labkit import compress, precision, timing


class _Async:
    """A fake accelerator tensor: the call returns at once, the work happens in .numpy()."""

    def __init__(self, work_s):
        self.work_s = work_s

    def numpy(self):
        time.sleep(self.work_s)
        return 0


def test_timed_waits_for_nested_results():
    assert timing.timed(lambda: _Async(0.05)) >= 0.05
    assert timing.timed(lambda: {"a": [_Async(0.02), (_Async(0.02),)]}) >= 0.04
    assert timing.timed(lambda: 3) < 0.05


def test_course_timers_are_synchronised():
    samples = compress.latency_samples_ms(lambda: _Async(0.02), repeats=3, warmup=1)
    assert len(samples) == 3 and samples.min() >= 20
    assert compress.latency_ms(lambda: [_Async(0.02)], repeats=2, warmup=0) >= 20
    best = precision.time_steps({"a": lambda: _Async(0.02), "b": lambda: None}, repeats=2)
    assert best["a"] >= 0.02 and best["b"] < 0.02


def test_timed_needs_a_function():
    with pytest.raises(TypeError, match="zero-argument function"):
        timing.timed(3)


def test_timed_call_returns_the_result_and_waits_for_it():
    out, s = timing.timed_call(lambda: [_Async(0.03), 7])
    assert s >= 0.03 and out[1] == 7 and isinstance(out[0], _Async)
    with pytest.raises(TypeError, match="zero-argument"):
        timing.timed_call(3)
