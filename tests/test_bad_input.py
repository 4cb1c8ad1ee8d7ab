"""Bad input to labkit's public functions raises a clear ValueError/TypeError naming the fix."""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import labkit as lk
from labkit import data, plots, quiz

FAST = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
junk = st.one_of(st.none(), st.text(max_size=5), st.floats(allow_nan=True), st.lists(st.integers(), max_size=3),
                 st.booleans())


@FAST
@given(name=st.text(min_size=1, max_size=12).filter(lambda s: s not in data.REGISTRY))
def test_unknown_dataset_names(name):
    with pytest.raises(ValueError, match="Available"):
        data.load(name)


@FAST
@given(n=st.one_of(st.integers(max_value=0), st.floats(), st.text(max_size=3), st.none()))
def test_generated_sizes(n):
    with pytest.raises((ValueError, TypeError), match="n must"):
        data.load("shapes", n=n)


@FAST
@given(noise=st.one_of(st.just(float("nan")), st.just(float("inf")), st.floats(max_value=-1e-9), st.text(max_size=2)))
def test_generated_noise(noise):
    with pytest.raises((ValueError, TypeError), match="noise must"):
        data.load("spirals", noise=noise)


@FAST
@given(seed=junk)
def test_setup_seed(seed):
    if isinstance(seed, int) and not isinstance(seed, bool):
        return
    with pytest.raises((TypeError, ValueError), match="seed"):
        lk.setup(seed=seed)


@FAST
@given(eid=st.text(max_size=10).filter(lambda s: "." not in s))
def test_unknown_exercise(eid):
    with pytest.raises(ValueError, match="No exercise"):
        lk.check.get(eid)


@FAST
@given(shape=st.sampled_from([(5,), (5, 1), (5, 3), (2, 2, 2)]))
def test_decision_boundary_shapes(shape):
    with pytest.raises(ValueError, match=r"\(n, 2\)"):
        plots.decision_boundary(lambda P: P, np.zeros(shape), np.zeros(shape[0]))


@FAST
@given(heat=st.sampled_from([np.full((8, 8), np.nan), np.full((8, 8), np.inf)]))
def test_heatmap_nan(heat):
    with pytest.raises(ValueError, match="NaN"):
        plots.heatmap_overlay(np.zeros((8, 8)), heat)


@FAST
@given(topic=st.one_of(st.integers(), st.text(min_size=1, max_size=8).filter(lambda s: s not in quiz.topics())))
def test_quiz_topic(topic):
    with pytest.raises((ValueError, TypeError), match="topic"):
        quiz.load(topic)


@FAST
@given(lang=st.text(max_size=4).filter(lambda s: s not in quiz.LANGS))
def test_quiz_lang(lang):
    q = quiz.load("ml_workflow")[0]
    with pytest.raises(ValueError, match="language"):
        q.t(lang)


@FAST
@given(bs=st.one_of(st.integers(max_value=0), st.booleans(), st.text(max_size=2)))
def test_as_dataset_batch_size(bs):
    with pytest.raises(ValueError, match="batch_size"):
        lk.train.as_dataset((np.zeros((4, 2), "float32"), np.zeros(4)), batch_size=bs)


@FAST
@given(test_size=st.one_of(st.just(0.0), st.just(1.0), st.floats(min_value=1.0001, max_value=10), st.just(float("nan"))))
def test_split_test_size(test_size):
    with pytest.raises(ValueError, match="test_size"):
        data.split(np.zeros((10, 2)), np.r_[np.zeros(5), np.ones(5)], test_size=test_size)
