"""Exercises of 09_transfer_learning: freezing, unfreezing the top, a few-shot evaluation loop, prototypes.

The freezing judges build a tiny Keras model (a ``backbone`` sub-model and a ``head`` layer, like
the notebook's) and inspect which variables end up trainable; Keras is imported inside them.
"""

import numpy as np

from ..check import Exercise, Mismatch, function_exercise, register
from ._compat import fresh_seed

SECTION_FREEZE = "09 · Feature extraction: freeze the backbone"
SECTION_FINETUNE = "09 · Fine-tuning: unfreeze the top, lower the learning rate"
SECTION_FEWSHOT = "09 · Few-shot: accuracy vs labelled examples"


def _fresh_seed():
    """The check's seed: fresh each call, or the one ``lk.check(id, answer, seed=…)`` replays."""
    return fresh_seed()


def _toy_model(seed=None):
    """A small model shaped like the notebook's: Input → backbone (Sequential) → head (Dense).

    With a seed, the layer names, the number of convolutions and where BatchNormalization sits vary,
    so an answer cannot hard-code the names it saw."""
    import keras
    from keras import layers
    if seed is None:
        convs, bn_after, tag = 3, 1, ""
    else:
        rng = np.random.default_rng(seed)
        convs, tag = int(rng.integers(2, 5)), f"_{int(rng.integers(100, 999))}"
        bn_after = int(rng.integers(0, convs - 1))
    body = [keras.Input((12, 1))]
    for k in range(convs):
        body.append(layers.Conv1D(4, 3, padding="same", name=f"conv{k + 1}{tag}"))
        if k == bn_after:
            body.append(layers.BatchNormalization(name=f"bn{k + 1}{tag}"))
        if k == 0:
            body.append(layers.MaxPooling1D(name=f"pool{tag}"))
    body += [layers.GlobalAveragePooling1D(name=f"gap{tag}"), layers.Dense(4, name=f"embed{tag}")]
    backbone = keras.Sequential(body, name="backbone")
    inputs = keras.Input((12, 1))
    outputs = layers.Dense(3, name="head")(backbone(inputs))
    return keras.Model(inputs, outputs, name="toy")


def _weight_layers(model):
    """Names of the backbone's weight layers, BatchNormalization excluded, bottom to top."""
    import keras
    return [l.name for l in model.get_layer("backbone").layers
            if l.weights and not isinstance(l, keras.layers.BatchNormalization)]


def _paths(variables):
    return sorted(v.path for v in variables)


def _compare_trainable(model, expected_layers, what):
    backbone = model.get_layer("backbone")
    expected = []
    for name in expected_layers:
        layer = model.get_layer("head") if name == "head" else backbone.get_layer(name)
        expected += [v.path for v in layer.trainable_weights or layer.weights]
    got, expected = _paths(model.trainable_variables), sorted(expected)
    extra = [p for p in got if p not in expected]
    missing = [p for p in expected if p not in got]
    if extra or missing:
        parts = []
        if extra:
            parts.append(f"these should be frozen but would train: {extra}")
        if missing:
            parts.append(f"these should train but are frozen: {missing}")
        raise Mismatch(f"{what}: " + "; ".join(parts))
    for bn in backbone.layers:
        if type(bn).__name__ == "BatchNormalization" and bn.trainable:
            raise Mismatch(f"{what}: BatchNormalization layer {bn.name!r} is still trainable, so it runs in training "
                           "mode and overwrites its moving statistics with the statistics of tiny target batches")


# ------------------------------------------------------------------ 1. freeze the backbone
def freeze_backbone(model):
    """Reference: feature extraction — nothing in the backbone trains, the head does."""
    model.get_layer("backbone").trainable = False
    model.get_layer("head").trainable = True
    return model


def _returned_model(out, model, what):
    if out is None:
        raise Mismatch(f"{what} returned None: return the model (the notebook writes "
                       "`lib_model = freeze_backbone(make_model(...))` and uses what you return)")
    if out is not model:
        raise Mismatch(f"{what}: return the model you were given (it is changed in place), not a new one")


def _judge_freeze(answer):
    if not callable(answer):
        raise Mismatch(f"expected a function, got {type(answer).__name__}")
    for seed in (None, _fresh_seed()):
        model = _toy_model(seed)
        where = "" if seed is None else f" (random toy backbone, seed {seed}: layers {_weight_layers(model)})"
        _returned_model(answer(model), model, "freeze_backbone(model)" + where)
        _compare_trainable(model, ["head"], "after freeze_backbone(model)" + where)


def _freeze_whole_model(model):
    model.trainable = False
    return model


def _freeze_first_layer(model):
    model.layers[0].trainable = False          # on a functional model layers[0] is the InputLayer
    return model


def _freeze_weight_layers_only(model):
    for layer in model.get_layer("backbone").layers:
        if layer.weights and type(layer).__name__ != "BatchNormalization":   # leaves BatchNorm trainable
            layer.trainable = False
    return model


def _freeze_head(model):
    model.get_layer("head").trainable = False
    return model


def _freeze_no_return(model):
    model.get_layer("backbone").trainable = False
    model.get_layer("head").trainable = True


def _freeze_by_visible_names(model):
    bb = model.get_layer("backbone")
    for name in ("conv1", "bn2", "conv2", "conv3", "embed"):       # the names of the layers it was shown
        try:
            bb.get_layer(name).trainable = False
        except ValueError:
            pass
    return model


def _freeze_returns_copy(model):
    import keras
    clone = keras.models.clone_model(model)
    clone.get_layer("backbone").trainable = False
    return clone


register(Exercise(
    id="09.freeze_backbone",
    title="freeze the backbone for feature extraction",
    judge=_judge_freeze,
    reference=freeze_backbone,
    wrong={
        "other: freezes the whole model, so nothing trains": _freeze_whole_model,
        "off_by_one: freezes model.layers[0], the InputLayer": _freeze_first_layer,
        "boundary: freezes the weight layers but leaves BatchNormalization trainable": _freeze_weight_layers_only,
        "sign: freezes the head instead of the backbone": _freeze_head,
        "returns_none: freezes correctly but returns None": _freeze_no_return,
        "fits_visible: freezes the layers by the names it was shown": _freeze_by_visible_names,
        "other: freezes and returns a copy, leaving the given model training": _freeze_returns_copy,
    },
    hints=[
        "Get the two parts by name: model.get_layer('backbone') and model.get_layer('head'). Only the head may train.",
        "Setting `trainable = False` on a Keras 3 layer that contains other layers freezes all of them, "
        "BatchNormalization included (which then also runs in inference mode). Do not freeze the whole model: "
        "then nothing trains.",
        "model.get_layer('backbone').trainable = False; model.get_layer('head').trainable = True; return model",
    ],
    section=SECTION_FREEZE,
))


# ------------------------------------------------------------------ 2. unfreeze the top n weight layers
def unfreeze_top(model, n):
    """Reference: head + the last ``n`` backbone layers that own weights train; the rest and every BN stay frozen."""
    backbone = model.get_layer("backbone")
    backbone.trainable = True                  # in Keras 3 this sets every sub-layer to True ...
    for layer in backbone.layers:              # ... so freeze them all again, then open the top n
        layer.trainable = False
    weighted = [layer for layer in backbone.layers
                if layer.weights and not isinstance(layer, _bn_class())]
    for layer in weighted[len(weighted) - n:] if n > 0 else []:   # [-0:] would be the whole list
        layer.trainable = True
    model.get_layer("head").trainable = True
    return model


def _bn_class():
    import keras
    return keras.layers.BatchNormalization


def _judge_unfreeze(answer):
    if not callable(answer):
        raise Mismatch(f"expected a function, got {type(answer).__name__}")
    seed = _fresh_seed()
    rng = np.random.default_rng(seed)
    plans = [(None, 1), (None, 3), (None, 0), (seed, int(rng.integers(0, 3))), (seed, -1)]
    for model_seed, n in plans:
        model = _toy_model(model_seed)
        order = _weight_layers(model)
        n = len(order) if n == -1 else n                  # n = all weight layers of the backbone
        model.get_layer("backbone").trainable = False     # the state after feature extraction
        where = f"unfreeze_top(model, n={n})" + ("" if model_seed is None else
                                                 f" on a random toy backbone (seed {seed}, weight layers {order})")
        _returned_model(answer(model, n), model, where)
        _compare_trainable(model, ["head", *(order[len(order) - n:] if n else [])], "after " + where)


def _unfreeze_everything(model, n):
    model.get_layer("backbone").trainable = True
    return model


def _unfreeze_last_n_positions(model, n):
    backbone = model.get_layer("backbone")
    backbone.trainable = True
    for layer in backbone.layers:
        layer.trainable = False
    for layer in backbone.layers[-n:]:                    # counts pooling layers, which own no weights
        layer.trainable = True
    return model


def _unfreeze_bottom(model, n):
    backbone = model.get_layer("backbone")
    backbone.trainable = True
    for layer in backbone.layers:
        layer.trainable = False
    weighted = [layer for layer in backbone.layers if layer.weights and not isinstance(layer, _bn_class())]
    for layer in weighted[:n]:
        layer.trainable = True
    return model


def _unfreeze_counting_bn(model, n):
    backbone = model.get_layer("backbone")
    backbone.trainable = True
    for layer in backbone.layers:
        layer.trainable = False
    weighted = [layer for layer in backbone.layers if layer.weights]
    for layer in weighted[len(weighted) - n:]:
        layer.trainable = True
    return model


def _unfreeze_wrong_order(model, n):
    backbone = model.get_layer("backbone")
    weighted = [layer for layer in backbone.layers if layer.weights and not isinstance(layer, _bn_class())]
    for layer in weighted[len(weighted) - n:]:
        layer.trainable = True
    backbone.trainable = True                             # set last: overrides every sub-layer again
    return model


def _unfreeze_no_return(model, n):
    unfreeze_top(model, n)


def _unfreeze_one_more(model, n):
    return unfreeze_top(model, n + 1)


def _unfreeze_by_visible_names(model, n):
    bb = model.get_layer("backbone")
    bb.trainable = True
    for layer in bb.layers:
        layer.trainable = False
    for name in ["conv1", "conv2", "conv3", "embed"][4 - n:] if n else []:
        bb.get_layer(name).trainable = True
    model.get_layer("head").trainable = True
    return model


register(Exercise(
    id="09.unfreeze_top",
    title="unfreeze the top n weight layers of the backbone (BatchNorm stays frozen)",
    judge=_judge_unfreeze,
    reference=unfreeze_top,
    wrong={
        "ignored_argument: unfreezes everything, whatever n": _unfreeze_everything,
        "boundary: counts the last n layers by position (pooling included)": _unfreeze_last_n_positions,
        "sign: unfreezes the bottom n instead of the top n": _unfreeze_bottom,
        "boundary: counts BatchNormalization as a weight layer": _unfreeze_counting_bn,
        "other: sets backbone.trainable = True last, which reopens every layer": _unfreeze_wrong_order,
        "off_by_one: unfreezes n + 1 layers": _unfreeze_one_more,
        "returns_none: unfreezes correctly but returns None": _unfreeze_no_return,
        "fits_visible: unfreezes by the layer names it was shown": _unfreeze_by_visible_names,
    },
    hints=[
        "Count only the backbone layers that own weights (`layer.weights` is not empty) and are not "
        "BatchNormalization; pooling layers do not count. Unfreeze the last n of those, plus the head.",
        "Order matters in Keras 3: `backbone.trainable = True` sets *every* sub-layer to True. So set it first, "
        "then freeze every sub-layer, then unfreeze the top n. BatchNormalization stays frozen (inference mode).",
        "bb = model.get_layer('backbone'); bb.trainable = True; for l in bb.layers: l.trainable = False; "
        "w = [l for l in bb.layers if l.weights and not isinstance(l, keras.layers.BatchNormalization)]; "
        "for l in w[len(w) - n:]: l.trainable = True; model.get_layer('head').trainable = True; return model",
    ],
    section=SECTION_FINETUNE,
))


# ------------------------------------------------------------------ 3. few-shot evaluation loop
def few_shot_accuracy(X, y, shots, n_trials, fit_predict, seed=0):
    """Reference: the query accuracy of each of `n_trials` episodes of `shots` labelled examples per class."""
    rng = np.random.default_rng(seed)
    X, y = np.asarray(X), np.asarray(y)
    accs = []
    for _ in range(n_trials):
        support = np.concatenate([rng.choice(np.flatnonzero(y == c), shots, replace=False) for c in np.unique(y)])
        query = np.setdiff1d(np.arange(len(y)), support)
        pred = np.asarray(fit_predict(X[support], y[support], X[query]))
        accs.append(np.mean(pred == y[query]))
    return np.array(accs)


class _Spy:
    """A fit_predict that records each episode and answers with a deterministic, varying accuracy."""

    def __init__(self, y):
        self.y = y
        self.calls = []
        self.accs = []

    def __call__(self, X_support, y_support, X_query):
        s_idx = np.asarray(X_support)[:, 0].astype(int)
        q_idx = np.asarray(X_query)[:, 0].astype(int)
        self.calls.append((s_idx, np.asarray(y_support), q_idx))
        # correct on queries whose index is a multiple of 3 or of 5: accuracy differs between episodes
        right = (q_idx % 3 == 0) | (q_idx % 5 == 0)
        pred = np.where(right, self.y[q_idx], -1)
        self.accs.append(float(np.mean(pred == self.y[q_idx])))
        return pred


def _judge_few_shot(answer):
    if not callable(answer):
        raise Mismatch(f"expected a function, got {type(answer).__name__}")
    seed = _fresh_seed()
    rng = np.random.default_rng(seed)
    k = int(rng.integers(2, 6))
    rand_labels = sorted(rng.choice(50, k, replace=False).tolist())
    rand_shots = int(rng.integers(1, 5))
    plans = [(2, 4, [5, 6, 7], [12, 20, 9], ""), (5, 3, [0, 3, 8, 9], [30, 11, 25, 40], ""),
             (rand_shots, int(rng.integers(2, 7)), rand_labels,
              [int(v) for v in rng.integers(rand_shots + 1, 30, k)], f", random case seed {seed}")]
    for shots, n_trials, labels, sizes, tag in plans:
        y = rng.permutation(np.repeat(labels, sizes))
        X = np.c_[np.arange(len(y)), rng.normal(size=(len(y), 2))]   # column 0 = the example's index
        spy = _Spy(y)
        out = answer(X.copy(), y.copy(), shots, n_trials, spy, seed=3)
        where = f"(shots={shots}, n_trials={n_trials}, classes {labels} of sizes {sizes}{tag})"
        if len(spy.calls) != n_trials:
            raise Mismatch(f"{where}: fit_predict was called {len(spy.calls)} times; expected once per trial "
                           f"({n_trials})")
        for t, (s_idx, s_y, q_idx) in enumerate(spy.calls, 1):
            if len(np.unique(s_idx)) != len(s_idx):
                raise Mismatch(f"{where}, trial {t}: the support set contains the same example twice — sample "
                               "without replacement")
            if not np.array_equal(s_y, y[s_idx]):
                raise Mismatch(f"{where}, trial {t}: y_support does not match the labels of X_support")
            counts = {int(c): int(np.sum(y[s_idx] == c)) for c in labels}
            if any(v != shots for v in counts.values()):
                raise Mismatch(f"{where}, trial {t}: the support set should hold {shots} examples of every class, "
                               f"it holds {counts}")
            if np.intersect1d(s_idx, q_idx).size:
                raise Mismatch(f"{where}, trial {t}: {np.intersect1d(s_idx, q_idx).size} support examples are also "
                               "in the query set — the model is tested on examples it was given (leakage)")
            if len(q_idx) != len(y) - len(s_idx):
                raise Mismatch(f"{where}, trial {t}: the query set should be every example not in the support set "
                               f"({len(y) - len(s_idx)}), got {len(q_idx)}")
        supports = {tuple(sorted(c[0])) for c in spy.calls}
        if n_trials > 1 and len(supports) < n_trials:
            raise Mismatch(f"{where}: the {n_trials} trials used only {len(supports)} different support set(s) — "
                           "draw a new episode each trial (create the generator once, before the loop)")
        if out is None:
            raise Mismatch(f"{where}: returned None; return the array of the {n_trials} per-episode accuracies")
        got = np.asarray(out, dtype=float) if np.ndim(out) == 1 else None
        if got is None or got.shape != (n_trials,):
            raise Mismatch(f"{where}: return an array of the {n_trials} per-episode accuracies, got {out!r}")
        if not np.allclose(got, spy.accs, atol=1e-9):
            raise Mismatch(f"{where}: you returned {np.round(got, 4).tolist()}, but the episodes scored "
                           f"{np.round(spy.accs, 4).tolist()} on their query sets (in episode order)")
        again = _Spy(y)
        answer(X.copy(), y.copy(), shots, n_trials, again, seed=3)
        if [tuple(c[0]) for c in again.calls] != [tuple(c[0]) for c in spy.calls]:
            raise Mismatch(f"{where}: two calls with the same seed drew different episodes — use "
                           "np.random.default_rng(seed), not the global np.random state")


def _fs_query_includes_support(X, y, shots, n_trials, fit_predict, seed=0):
    rng = np.random.default_rng(seed)
    accs = []
    for _ in range(n_trials):
        support = np.concatenate([rng.choice(np.flatnonzero(y == c), shots, replace=False) for c in np.unique(y)])
        pred = fit_predict(X[support], y[support], X)                       # evaluates on everything
        accs.append(np.mean(pred == y))
    return np.array(accs)


def _fs_shots_total(X, y, shots, n_trials, fit_predict, seed=0):
    rng = np.random.default_rng(seed)
    accs = []
    for _ in range(n_trials):
        support = rng.choice(len(y), shots, replace=False)                 # `shots` in total, not per class
        query = np.setdiff1d(np.arange(len(y)), support)
        accs.append(np.mean(fit_predict(X[support], y[support], X[query]) == y[query]))
    return np.array(accs)


def _fs_same_episode(X, y, shots, n_trials, fit_predict, seed=0):
    accs = []
    for _ in range(n_trials):
        rng = np.random.default_rng(seed)                                  # re-seeded: every trial is identical
        support = np.concatenate([rng.choice(np.flatnonzero(y == c), shots, replace=False) for c in np.unique(y)])
        query = np.setdiff1d(np.arange(len(y)), support)
        accs.append(np.mean(fit_predict(X[support], y[support], X[query]) == y[query]))
    return np.array(accs)


def _fs_with_replacement(X, y, shots, n_trials, fit_predict, seed=0):
    rng = np.random.default_rng(seed)
    accs = []
    for _ in range(n_trials):
        support = np.concatenate([rng.choice(np.flatnonzero(y == c), shots, replace=True) for c in np.unique(y)])
        query = np.setdiff1d(np.arange(len(y)), support)
        accs.append(np.mean(fit_predict(X[support], y[support], X[query]) == y[query]))
    return np.array(accs)


def _fs_global_rng(X, y, shots, n_trials, fit_predict, seed=0):
    accs = []
    for _ in range(n_trials):
        support = np.concatenate([np.random.choice(np.flatnonzero(y == c), shots, replace=False) for c in np.unique(y)])
        query = np.setdiff1d(np.arange(len(y)), support)
        accs.append(np.mean(fit_predict(X[support], y[support], X[query]) == y[query]))
    return np.array(accs)


def _fs_one_trial_less(X, y, shots, n_trials, fit_predict, seed=0):
    return few_shot_accuracy(X, y, shots, n_trials - 1, fit_predict, seed)


def _fs_no_return(X, y, shots, n_trials, fit_predict, seed=0):
    few_shot_accuracy(X, y, shots, n_trials, fit_predict, seed)


def _fs_mean_std(X, y, shots, n_trials, fit_predict, seed=0):
    a = few_shot_accuracy(X, y, shots, n_trials, fit_predict, seed)
    return float(a.mean()), float(a.std())


def _fs_classes_0_to_c(X, y, shots, n_trials, fit_predict, seed=0):
    rng = np.random.default_rng(seed)
    accs = []
    for _ in range(n_trials):
        support = np.concatenate([rng.choice(np.flatnonzero(y == c), shots, replace=False)
                                  for c in range(len(np.unique(y)))])     # assumes labels 0…C−1
        query = np.setdiff1d(np.arange(len(y)), support)
        accs.append(np.mean(fit_predict(X[support], y[support], X[query]) == y[query]))
    return np.array(accs)


register(Exercise(
    id="09.few_shot_accuracy",
    title="a few-shot evaluation loop (episodes of k labelled examples per class)",
    judge=_judge_few_shot,
    reference=few_shot_accuracy,
    wrong={
        "other: scores on every example, support included (leakage)": _fs_query_includes_support,
        "other: `shots` examples in total, not per class": _fs_shots_total,
        "global_rng: re-creates the generator every trial, so every episode is the same": _fs_same_episode,
        "boundary: samples the support set with replacement": _fs_with_replacement,
        "global_rng: np.random instead of default_rng(seed)": _fs_global_rng,
        "off_by_one: n_trials − 1 episodes": _fs_one_trial_less,
        "returns_none: runs the episodes but returns nothing": _fs_no_return,
        "other: returns (mean, std) instead of the per-episode accuracies": _fs_mean_std,
        "fits_visible: assumes the classes are 0…C−1": _fs_classes_0_to_c,
    },
    hints=[
        "One trial = one episode: draw `shots` examples of *every* class (without replacement) as the labelled "
        "support set; every other example is the query set. Call fit_predict(X_support, y_support, X_query) and "
        "score its predictions on the query labels.",
        "Create the generator once, before the loop (rng = np.random.default_rng(seed)), so each trial draws a "
        "different episode; never score on support examples. Return np.array(accs), one accuracy per trial.",
        "for each trial: support = np.concatenate([rng.choice(np.flatnonzero(y == c), shots, replace=False) "
        "for c in np.unique(y)]); query = np.setdiff1d(np.arange(len(y)), support); "
        "accs.append(np.mean(fit_predict(X[support], y[support], X[query]) == y[query])); "
        "then return np.array(accs)",
    ],
    section=SECTION_FEWSHOT,
))


# ------------------------------------------------------------------ 4. prototype (nearest class mean) classifier
def prototype_predict(support_x, support_y, query_x):
    """Reference: label of the nearest class mean (Euclidean) of the support embeddings."""
    support_x, support_y, query_x = np.asarray(support_x, float), np.asarray(support_y), np.asarray(query_x, float)
    classes = np.unique(support_y)
    prototypes = np.stack([support_x[support_y == c].mean(axis=0) for c in classes])
    d2 = ((query_x[:, None, :] - prototypes[None, :, :]) ** 2).sum(-1)
    return classes[np.argmin(d2, axis=1)]


def _proto_cases():
    rng = np.random.default_rng(21)
    out = []
    for labels, shots, dim, label in [([5, 6, 7, 8, 9], 5, 8, "(labels 5–9, 5 shots)"),
                                      ([2, 11, 40], 3, 4, "(labels 2, 11, 40)"),
                                      ([0, 1, 2, 3], 10, 16, "(10 shots)")]:
        centres = rng.normal(0, 1.0, (len(labels), dim))
        sy = np.repeat(labels, shots)
        sx = centres.repeat(shots, 0) + rng.normal(0, 1.2, (len(sy), dim))
        qy = rng.choice(len(labels), 60)
        qx = centres[qy] + rng.normal(0, 1.2, (60, dim))
        out.append({"args": (sx, sy, qx), "label": label})
    return out


def _proto_nearest_example(support_x, support_y, query_x):
    d2 = ((np.asarray(query_x)[:, None] - np.asarray(support_x)[None]) ** 2).sum(-1)
    return np.asarray(support_y)[np.argmin(d2, axis=1)]                 # 1-nearest neighbour, not prototypes


def _proto_index_not_label(support_x, support_y, query_x):
    classes = np.unique(support_y)
    protos = np.stack([np.asarray(support_x)[np.asarray(support_y) == c].mean(0) for c in classes])
    return np.argmin(((np.asarray(query_x)[:, None] - protos[None]) ** 2).sum(-1), axis=1)   # 0..C-1, not labels


def _proto_farthest(support_x, support_y, query_x):
    classes = np.unique(support_y)
    protos = np.stack([np.asarray(support_x)[np.asarray(support_y) == c].mean(0) for c in classes])
    return classes[np.argmax(((np.asarray(query_x)[:, None] - protos[None]) ** 2).sum(-1), axis=1)]


def _proto_random(rng):
    out = []
    for _ in range(4):
        c, shots, dim = int(rng.integers(2, 7)), int(rng.integers(1, 8)), int(rng.integers(1, 20))
        labels = rng.choice(100, c, replace=False)
        centres = rng.normal(0, 1.0, (c, dim)) * 10.0 ** rng.uniform(-2, 2)
        sy = np.repeat(labels, shots)
        order = rng.permutation(len(sy))                                 # classes interleaved in the support set
        sx = centres.repeat(shots, 0) + rng.normal(0, 1.0, (len(sy), dim)) * np.abs(centres).mean()
        qy = rng.integers(0, c, 40)
        qx = centres[qy] + rng.normal(0, 1.0, (40, dim)) * np.abs(centres).mean()
        out.append({"args": (sx[order], sy[order], qx),
                    "label": f"(random: {c} classes {sorted(labels.tolist())}, {shots} shots, {dim} dims)"})
    return out


def _proto_manhattan(support_x, support_y, query_x):
    classes = np.unique(support_y)
    protos = np.stack([np.asarray(support_x)[np.asarray(support_y) == c].mean(0) for c in classes])
    return classes[np.abs(np.asarray(query_x)[:, None] - protos[None]).sum(-1).argmin(1)]


def _proto_first_shot(support_x, support_y, query_x):
    support_y = np.asarray(support_y)
    classes, first = np.unique(support_y, return_index=True)
    protos = np.asarray(support_x)[first]                                # one example per class, not the mean
    return classes[((np.asarray(query_x)[:, None] - protos[None]) ** 2).sum(-1).argmin(1)]


def _proto_no_return(support_x, support_y, query_x):
    prototype_predict(support_x, support_y, query_x)


def _proto_fits_visible(support_x, support_y, query_x):
    if np.shape(support_x)[1] in (8, 4, 16):
        return prototype_predict(support_x, support_y, query_x)
    return np.full(len(query_x), np.asarray(support_y)[0])


function_exercise(
    id="09.prototype_predict",
    title="nearest-prototype (class-mean) classifier on embeddings",
    reference=prototype_predict,
    cases=_proto_cases,
    hints=[
        "A prototype is the mean embedding of one class's support examples. Predict, for every query, the class "
        "whose prototype is closest in Euclidean distance.",
        "classes = np.unique(support_y); stack one mean per class; compute all query–prototype squared distances "
        "at once with broadcasting (query[:, None, :] - prototypes[None, :, :]); map argmin back to `classes` — "
        "the labels need not be 0…C-1.",
        "prototypes = np.stack([support_x[support_y == c].mean(0) for c in classes]); "
        "d2 = ((query_x[:, None] - prototypes[None]) ** 2).sum(-1); return classes[d2.argmin(1)]",
    ],
    random_cases=_proto_random,
    wrong={
        "other: 1-nearest support example instead of the nearest class mean": _proto_nearest_example,
        "ignored_argument: returns class indices 0…C−1, not the labels in support_y": _proto_index_not_label,
        "sign: the farthest prototype": _proto_farthest,
        "normalisation: Manhattan instead of Euclidean distance": _proto_manhattan,
        "other: the first example of each class instead of the mean": _proto_first_shot,
        "returns_none: computes the labels but never returns them": _proto_no_return,
        "fits_visible: right only on the visible embedding sizes": _proto_fits_visible,
    },
    section=SECTION_FEWSHOT,
)
