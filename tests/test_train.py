import keras
import numpy as np
import pytest
import tensorflow as tf

import labkit as lk


def _data(n=256):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, 4)).astype("float32")
    y = (X[:, 0] + X[:, 1] > 0).astype("int64")
    return X, y


def _model():
    keras.utils.set_random_seed(0)
    return keras.Sequential([keras.Input((4,)), keras.layers.Dense(16, activation="relu"), keras.layers.Dense(2)])


def test_fit_learns_and_logs():
    X, y = _data()
    h = lk.train.fit(_model(), (X, y), loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                     optimizer=keras.optimizers.Adam(1e-2), metrics=["accuracy"], epochs=8,
                     validation_data=(X, y), verbose=0)
    assert h.history["loss"][-1] < h.history["loss"][0]
    assert h.history["val_accuracy"][-1] > 0.9
    assert len(h.epoch) == 8


def test_matches_model_fit_exactly_for_sgd():
    X, y = _data(128)
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    ds = tf.data.Dataset.from_tensor_slices((X, y)).batch(32)
    m1, m2 = _model(), _model()
    m1.compile(optimizer=keras.optimizers.SGD(0.1), loss=loss)
    m1.fit(ds, epochs=2, verbose=0, shuffle=False)
    lk.train.fit(m2, ds, loss=loss, optimizer=keras.optimizers.SGD(0.1), epochs=2, verbose=0)
    for a, b in zip(m1.get_weights(), m2.get_weights()):
        np.testing.assert_allclose(a, b, atol=1e-5)


def test_early_stopping_callback_is_honoured():
    X, y = _data()
    cb = keras.callbacks.EarlyStopping(monitor="loss", patience=0, min_delta=10.0)
    h = lk.train.fit(_model(), (X, y), loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), epochs=10,
                     callbacks=[cb], verbose=0)
    assert len(h.epoch) < 10


def test_runs_under_a_strategy():
    X, y = _data()
    strategy = tf.distribute.OneDeviceStrategy("/cpu:0")
    with strategy.scope():
        m = _model()
    h = lk.train.fit(m, (X, y), loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                     optimizer=keras.optimizers.Adam(1e-2), epochs=2, strategy=strategy, verbose=0)
    assert np.isfinite(h.history["loss"]).all()


@pytest.mark.parametrize("bad, match", [
    (([1, 2, 3], [1, 2]), "same length"),
    ((np.array([[np.nan]]), np.array([0])), "NaN"),
    ("not data", "tf.data.Dataset"),
])
def test_bad_data(bad, match):
    with pytest.raises((ValueError, TypeError), match=match):
        lk.train.fit(_model(), bad, loss="mse", verbose=0)


def test_bad_epochs_and_missing_loss():
    X, y = _data(8)
    with pytest.raises(ValueError, match="epochs"):
        lk.train.fit(_model(), (X, y), loss="mse", epochs=0)
    with pytest.raises(ValueError, match="loss"):
        lk.train.fit(_model(), (X, y), loss=None)
