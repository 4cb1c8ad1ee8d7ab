"""Exercises of 09_transfer_learning: freezing, unfreezing the top, a few-shot evaluation loop, prototypes.

The freezing judges build a tiny Keras model (a ``backbone`` sub-model and a ``head`` layer, like
the notebook's) and inspect which variables end up trainable; Keras is imported inside them.
"""
import numpy as np

from ..check import Exercise, Mismatch, function_exercise, register

SECTION_FREEZE = "09 · Feature extraction: freeze the backbone"
SECTION_FINETUNE = "09 · Fine-tuning: unfreeze the top, lower the learning rate"
SECTION_FEWSHOT = "09 · Few-shot: accuracy vs labelled examples"


def _toy_model():
    """A small model shaped like the notebook's: Input → backbone (Sequential) → head (Dense)."""
    import keras
    from keras import layers
    backbone = keras.Sequential([
        keras.Input((12, 1)),
        layers.Conv1D(4, 3, name="conv1"),
        layers.Conv1D(4, 3, name="conv2"),
        layers.BatchNormalization(name="bn2"),
        layers.MaxPooling1D(name="pool"),
        layers.Conv1D(4, 3, padding="same", name="conv3"),
        layers.GlobalAveragePooling1D(name="gap"),
        layers.Dense(4, name="embed"),
    ], name="backbone")
    inputs = keras.Input((12, 1))
    outputs = layers.Dense(3, name="head")(backbone(inputs))
    return keras.Model(inputs, outputs, name="toy")


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
    bn = backbone.get_layer("bn2")
    if bn.trainable:
        raise Mismatch(f"{what}: BatchNormalization layer {bn.name!r} is still trainable, so it runs in training "
                       "mode and overwrites its moving statistics with the statistics of tiny target batches")


# ------------------------------------------------------------------ 1. freeze the backbone
def freeze_backbone(model):
    """Reference: feature extraction — nothing in the backbone trains, the head does."""
    model.get_layer("backbone").trainable = False
    model.get_layer("head").trainable = True
    return model


def _judge_freeze(answer):
    if not callable(answer):
        raise Mismatch(f"expected a function, got {type(answer).__name__}")
    model = _toy_model()
    out = answer(model)
    if out is not None and out is not model:
        raise Mismatch("return the model you were given (freezing changes it in place), not a new one")
    _compare_trainable(model, ["head"], "after freeze_backbone(model)")


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


register(Exercise(
    id="09.freeze_backbone",
    title="freeze the backbone for feature extraction",
    judge=_judge_freeze,
    reference=freeze_backbone,
    wrong=[_freeze_whole_model, _freeze_first_layer, _freeze_weight_layers_only, _freeze_head],
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
    order = ["conv1", "conv2", "conv3", "embed"]          # the toy backbone's weight layers, BN excluded
    for n in (1, 3, 0):                                   # n=0: only the head trains
        model = _toy_model()
        model.get_layer("backbone").trainable = False     # the state after feature extraction
        out = answer(model, n)
        if out is not None and out is not model:
            raise Mismatch("return the model you were given (unfreezing changes it in place), not a new one")
        _compare_trainable(model, ["head", *(order[len(order) - n:] if n else [])], f"after unfreeze_top(model, n={n})")


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


register(Exercise(
    id="09.unfreeze_top",
    title="unfreeze the top n weight layers of the backbone (BatchNorm stays frozen)",
    judge=_judge_unfreeze,
    reference=unfreeze_top,
    wrong=[_unfreeze_everything, _unfreeze_last_n_positions, _unfreeze_bottom, _unfreeze_counting_bn,
           _unfreeze_wrong_order],
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
    """Reference: mean and std (ddof=0) of query accuracy over episodes of `shots` labelled examples per class."""
    rng = np.random.default_rng(seed)
    X, y = np.asarray(X), np.asarray(y)
    accs = []
    for _ in range(n_trials):
        support = np.concatenate([rng.choice(np.flatnonzero(y == c), shots, replace=False) for c in np.unique(y)])
        query = np.setdiff1d(np.arange(len(y)), support)
        pred = np.asarray(fit_predict(X[support], y[support], X[query]))
        accs.append(np.mean(pred == y[query]))
    return float(np.mean(accs)), float(np.std(accs))


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
    rng = np.random.default_rng(5)
    for shots, n_trials, labels, sizes in [(2, 4, [5, 6, 7], [12, 20, 9]), (5, 3, [0, 3, 8, 9], [30, 11, 25, 40])]:
        y = rng.permutation(np.repeat(labels, sizes))
        X = np.c_[np.arange(len(y)), rng.normal(size=(len(y), 2))]   # column 0 = the example's index
        spy = _Spy(y)
        out = answer(X, y, shots, n_trials, spy, seed=3)
        where = f"(shots={shots}, n_trials={n_trials}, {len(labels)} classes of sizes {sizes})"
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
        if len(supports) < n_trials:
            raise Mismatch(f"{where}: the {n_trials} trials used only {len(supports)} different support set(s) — "
                           "draw a new episode each trial (create the generator once, before the loop)")
        if not isinstance(out, (tuple, list)) or len(out) != 2:
            raise Mismatch(f"{where}: return a (mean, std) pair of accuracies, got {out!r}")
        mean, std = (float(v) for v in out)
        if not np.isclose(mean, np.mean(spy.accs), atol=1e-9):
            raise Mismatch(f"{where}: mean accuracy is {mean:.6g}, but the {n_trials} episodes scored "
                           f"{np.round(spy.accs, 4).tolist()} (mean {np.mean(spy.accs):.6g}); average per-episode "
                           "accuracies over the query sets")
        if not (np.isclose(std, np.std(spy.accs), atol=1e-9) or np.isclose(std, np.std(spy.accs, ddof=1), atol=1e-9)):
            raise Mismatch(f"{where}: std is {std:.6g}, expected the spread of the per-episode accuracies "
                           f"{np.std(spy.accs):.6g}")


def _fs_query_includes_support(X, y, shots, n_trials, fit_predict, seed=0):
    rng = np.random.default_rng(seed)
    accs = []
    for _ in range(n_trials):
        support = np.concatenate([rng.choice(np.flatnonzero(y == c), shots, replace=False) for c in np.unique(y)])
        pred = fit_predict(X[support], y[support], X)                       # evaluates on everything
        accs.append(np.mean(pred == y))
    return float(np.mean(accs)), float(np.std(accs))


def _fs_shots_total(X, y, shots, n_trials, fit_predict, seed=0):
    rng = np.random.default_rng(seed)
    accs = []
    for _ in range(n_trials):
        support = rng.choice(len(y), shots, replace=False)                 # `shots` in total, not per class
        query = np.setdiff1d(np.arange(len(y)), support)
        accs.append(np.mean(fit_predict(X[support], y[support], X[query]) == y[query]))
    return float(np.mean(accs)), float(np.std(accs))


def _fs_same_episode(X, y, shots, n_trials, fit_predict, seed=0):
    accs = []
    for _ in range(n_trials):
        rng = np.random.default_rng(seed)                                  # re-seeded: every trial is identical
        support = np.concatenate([rng.choice(np.flatnonzero(y == c), shots, replace=False) for c in np.unique(y)])
        query = np.setdiff1d(np.arange(len(y)), support)
        accs.append(np.mean(fit_predict(X[support], y[support], X[query]) == y[query]))
    return float(np.mean(accs)), float(np.std(accs))


def _fs_with_replacement(X, y, shots, n_trials, fit_predict, seed=0):
    rng = np.random.default_rng(seed)
    accs = []
    for _ in range(n_trials):
        support = np.concatenate([rng.choice(np.flatnonzero(y == c), shots, replace=True) for c in np.unique(y)])
        query = np.setdiff1d(np.arange(len(y)), support)
        accs.append(np.mean(fit_predict(X[support], y[support], X[query]) == y[query]))
    return float(np.mean(accs)), float(np.std(accs))


register(Exercise(
    id="09.few_shot_accuracy",
    title="a few-shot evaluation loop (episodes of k labelled examples per class)",
    judge=_judge_few_shot,
    reference=few_shot_accuracy,
    wrong=[_fs_query_includes_support, _fs_shots_total, _fs_same_episode, _fs_with_replacement],
    hints=[
        "One trial = one episode: draw `shots` examples of *every* class (without replacement) as the labelled "
        "support set; every other example is the query set. Call fit_predict(X_support, y_support, X_query) and "
        "score its predictions on the query labels.",
        "Create the generator once, before the loop (rng = np.random.default_rng(seed)), so each trial draws a "
        "different episode; never score on support examples. Return (mean, std) of the per-trial accuracies.",
        "for each trial: support = np.concatenate([rng.choice(np.flatnonzero(y == c), shots, replace=False) "
        "for c in np.unique(y)]); query = np.setdiff1d(np.arange(len(y)), support); "
        "accs.append(np.mean(fit_predict(X[support], y[support], X[query]) == y[query])); "
        "then return float(np.mean(accs)), float(np.std(accs))",
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


function_exercise(
    "09.prototype_predict",
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
    wrong=[_proto_nearest_example, _proto_index_not_label, _proto_farthest],
    section=SECTION_FEWSHOT,
)
