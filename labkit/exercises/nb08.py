"""Exercises of 08_evaluation: precision/recall/F1, ROC AUC by the trapezoid rule, ECE."""

import numpy as np

from ..check import function_exercise

SECTION_PRF = "08 · Accuracy, precision, recall, F1"
SECTION_ROC = "08 · The ROC curve and its area"
SECTION_ECE = "08 · Calibration"


# ------------------------------------------------------------------ 1. precision, recall, F1
def precision_recall_f1(y_true, y_pred):
    """Reference: precision, recall and F1 of the positive class 1; 0.0 where a denominator is 0."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    tp = np.sum((y_true == 1) & (y_pred == 1))
    fp = np.sum((y_true == 0) & (y_pred == 1))
    fn = np.sum((y_true == 1) & (y_pred == 0))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return float(precision), float(recall), float(f1)


def _prf_cases():
    rng = np.random.default_rng(7)
    y1 = rng.integers(0, 2, 40)
    p1 = np.where(rng.random(40) < 0.75, y1, 1 - y1)            # a decent classifier
    y2 = (rng.random(200) < 0.1).astype(int)                     # imbalanced: 10 % positives
    p2 = np.where(rng.random(200) < 0.85, y2, 1 - y2)
    y3 = np.array([1, 0, 1, 1, 0, 0, 1, 0])
    p3 = np.zeros(8, int)                                         # predicts no positive at all
    y4 = np.array([1, 1, 1, 0, 0, 0, 0, 0, 0, 0])
    p4 = np.array([1, 1, 0, 1, 1, 1, 0, 0, 0, 0])                # precision 2/5, recall 2/3
    return [(y1, p1), {"args": (y2, p2), "label": "(10 % positives)"},
            {"args": (y3, p3), "label": "(no predicted positives: precision's denominator is 0)"}, (y4, p4)]


def _prf_swapped(y_true, y_pred):
    p, r, f = precision_recall_f1(y_true, y_pred)
    return r, p, f


def _prf_arith_mean(y_true, y_pred):
    p, r, _ = precision_recall_f1(y_true, y_pred)
    return p, r, (p + r) / 2


def _prf_negative_class(y_true, y_pred):
    return precision_recall_f1(1 - np.asarray(y_true), 1 - np.asarray(y_pred))


def _prf_no_guard(y_true, y_pred):
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    tp = np.sum((y_true == 1) & (y_pred == 1)).astype(float)
    fp = np.sum((y_true == 0) & (y_pred == 1)).astype(float)
    fn = np.sum((y_true == 1) & (y_pred == 0)).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        p, r = tp / (tp + fp), tp / (tp + fn)
        return p, r, 2 * p * r / (p + r)


def _prf_random(rng):
    cases = []
    for _ in range(6):
        n = int(rng.integers(1, 300))
        y = (rng.random(n) < rng.choice([0.0, 0.05, 0.3, 0.5, 0.9, 1.0])).astype(int)
        keep = rng.uniform(0.3, 1.0)
        p = np.where(rng.random(n) < keep, y, 1 - y)
        if rng.random() < 0.2:
            p = np.zeros(n, int)                                         # nothing predicted positive
        cases.append({"args": (y, p), "label": f"(random: n = {n}, {y.sum()} positives, {p.sum()} predicted)"})
    return cases


def _prf_no_factor_2(y_true, y_pred):
    p, r, _ = precision_recall_f1(y_true, y_pred)
    return p, r, (p * r / (p + r) if p + r else 0.0)


def _prf_no_return(y_true, y_pred):
    _ = precision_recall_f1(y_true, y_pred)


def _prf_fits_visible(y_true, y_pred):
    if len(y_true) in (40, 200, 8, 10):
        return precision_recall_f1(y_true, y_pred)
    return 0.5, 0.5, 0.5


function_exercise(
    id="08.precision_recall_f1",
    title="precision, recall and F1 from the confusion counts",
    reference=precision_recall_f1,
    cases=_prf_cases,
    hints=[
        "Count TP (true 1, predicted 1), FP (true 0, predicted 1) and FN (true 1, predicted 0). "
        "Precision asks 'of what I flagged, how much was right?', recall 'of what was there, how much did I find?'.",
        "precision = TP / (TP + FP), recall = TP / (TP + FN), F1 = their *harmonic* mean 2PR / (P + R). "
        "When a denominator is 0 return 0.0 (sklearn's zero_division=0) rather than NaN.",
        "tp = np.sum((y_true == 1) & (y_pred == 1)); fp = np.sum((y_true == 0) & (y_pred == 1)); "
        "fn = np.sum((y_true == 1) & (y_pred == 0)); p = tp / (tp + fp) if tp + fp else 0.0; "
        "r = tp / (tp + fn) if tp + fn else 0.0; f1 = 2 * p * r / (p + r) if p + r else 0.0",
    ],
    random_cases=_prf_random,
    wrong={
        "other: precision and recall swapped": _prf_swapped,
        "other: arithmetic instead of harmonic mean": _prf_arith_mean,
        "sign: scores the negative class (0 and 1 swapped)": _prf_negative_class,
        "boundary: no guard for a zero denominator (NaN)": _prf_no_guard,
        "normalisation: F1 without the factor 2": _prf_no_factor_2,
        "returns_none: computes the metrics but never returns them": _prf_no_return,
        "fits_visible: right only on the visible case sizes": _prf_fits_visible,
    },
    section=SECTION_PRF,
)


# ------------------------------------------------------------------ 2. ROC AUC, trapezoid rule
def roc_auc_trapezoid(y_true, scores):
    """Reference: area under the ROC curve with one point per distinct score (ties), trapezoid rule."""
    y_true = np.asarray(y_true).astype(float)
    scores = np.asarray(scores, dtype=float)
    order = np.argsort(-scores, kind="stable")
    s, yt = scores[order], y_true[order]
    last = np.r_[np.flatnonzero(np.diff(s)), len(s) - 1]     # last index of each distinct score
    tps = np.cumsum(yt)[last]
    fps = (last + 1) - tps
    tpr = np.r_[0.0, tps / tps[-1]]
    fpr = np.r_[0.0, fps / fps[-1]]
    return float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2))


def _auc_cases():
    rng = np.random.default_rng(3)
    y1 = rng.integers(0, 2, 60)
    s1 = rng.normal(size=60) + 1.2 * y1                                     # no ties
    y2 = rng.integers(0, 2, 80)
    s2 = np.round(rng.normal(size=80) + y2, 0)                               # many ties
    y3 = np.array([0, 1, 0, 1, 1, 0, 0, 1, 0, 1])
    s3 = np.array([1, 1, 2, 2, 3, 3, 3, 2, 1, 3])                            # integer scores, all tied groups
    y4 = (rng.random(100) < 0.2).astype(int)
    s4 = rng.random(100)
    return [(y1, s1), {"args": (y2, s2), "label": "(tied scores)"},
            {"args": (y3, s3), "label": "(integer scores: every score is shared)"},
            {"args": (y4, s4), "label": "(20 % positives)"}]


def _auc_ignores_ties(y_true, scores):
    y = np.asarray(y_true, float)[np.argsort(-np.asarray(scores, float), kind="stable")]
    tpr = np.r_[0.0, np.cumsum(y) / y.sum()]
    fpr = np.r_[0.0, np.cumsum(1 - y) / (1 - y).sum()]
    return float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2))


def _auc_left_rectangles(y_true, scores):
    y_true = np.asarray(y_true).astype(float)
    scores = np.asarray(scores, dtype=float)
    order = np.argsort(-scores, kind="stable")
    s, yt = scores[order], y_true[order]
    last = np.r_[np.flatnonzero(np.diff(s)), len(s) - 1]
    tps = np.cumsum(yt)[last]
    fps = (last + 1) - tps
    tpr = np.r_[0.0, tps / tps[-1]]
    fpr = np.r_[0.0, fps / fps[-1]]
    return float(np.sum(np.diff(fpr) * tpr[:-1]))


def _auc_ascending(y_true, scores):
    return roc_auc_trapezoid(y_true, -np.asarray(scores, dtype=float))


def _auc_counts(y_true, scores):
    y_true = np.asarray(y_true).astype(float)
    scores = np.asarray(scores, dtype=float)
    order = np.argsort(-scores, kind="stable")
    s, yt = scores[order], y_true[order]
    last = np.r_[np.flatnonzero(np.diff(s)), len(s) - 1]
    tps = np.r_[0.0, np.cumsum(yt)[last]]
    fps = np.r_[0.0, (last + 1) - tps[1:]]
    return float(np.sum(np.diff(fps) * (tps[1:] + tps[:-1]) / 2))   # forgot to divide by P and N


def _auc_random(rng):
    cases = []
    for _ in range(5):
        n = int(rng.integers(2, 300))
        y = (rng.random(n) < rng.uniform(0.05, 0.95)).astype(int)
        y[:2] = [0, 1]                                                   # both classes present
        y = rng.permutation(y)
        scale = 10.0 ** rng.uniform(-3, 3)
        s = (rng.normal(size=n) + rng.uniform(0, 2) * y) * scale
        if rng.random() < 0.5:
            s = np.round(s / scale, int(rng.integers(0, 2))) * scale       # tied scores
        cases.append({"args": (y, s), "label": f"(random: n = {n}, {y.sum()} positives, "
                                               f"{len(np.unique(s))} distinct scores)"})
    return cases


def _auc_no_origin(y_true, scores):
    y_true = np.asarray(y_true).astype(float)
    scores = np.asarray(scores, dtype=float)
    order = np.argsort(-scores, kind="stable")
    s, yt = scores[order], y_true[order]
    last = np.r_[np.flatnonzero(np.diff(s)), len(s) - 1]
    tps = np.cumsum(yt)[last]
    fps = (last + 1) - tps
    tpr, fpr = tps / tps[-1], fps / fps[-1]                              # the curve starts at its first point
    return float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2))


def _auc_no_return(y_true, scores):
    _ = roc_auc_trapezoid(y_true, scores)


def _auc_fits_visible(y_true, scores):
    if len(y_true) in (60, 80, 10, 100):
        return roc_auc_trapezoid(y_true, scores)
    return 0.5


function_exercise(
    id="08.roc_auc_trapezoid",
    title="ROC AUC by the trapezoid rule, handling tied scores",
    reference=roc_auc_trapezoid,
    cases=_auc_cases,
    hints=[
        "Sort the examples by score, highest first. Lowering the threshold past each *distinct* score adds "
        "all examples with that score at once: the curve moves up (positives) and right (negatives) together.",
        "Build TPR = TP/P and FPR = FP/N at the end of each group of equal scores (np.diff(sorted) != 0 marks "
        "group ends), start the curve at (0, 0), then sum the trapezoids Δfpr · (tpr_left + tpr_right) / 2. "
        "Without ties every step is purely up or right, so ties are exactly where the trapezoid matters.",
        "order = np.argsort(-scores); s, yt = scores[order], y_true[order]; "
        "last = np.r_[np.flatnonzero(np.diff(s)), len(s) - 1]; tps = np.cumsum(yt)[last]; fps = last + 1 - tps; "
        "tpr = np.r_[0, tps / tps[-1]]; fpr = np.r_[0, fps / fps[-1]]; "
        "return np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2)",
    ],
    random_cases=_auc_random,
    wrong={
        "boundary: tied scores enter one at a time": _auc_ignores_ties,
        "other: left rectangles instead of trapezoids": _auc_left_rectangles,
        "sign: sorts ascending (lowest score first)": _auc_ascending,
        "normalisation: counts instead of rates (no division by P and N)": _auc_counts,
        "off_by_one: the curve does not start at (0, 0)": _auc_no_origin,
        "returns_none: computes the area but never returns it": _auc_no_return,
        "fits_visible: right only on the visible case sizes": _auc_fits_visible,
    },
    atol=1e-9,
    section=SECTION_ROC,
)


# ------------------------------------------------------------------ 3. expected calibration error
def expected_calibration_error(confidence, correct, n_bins=10):
    """Reference: Σ_b (n_b / n) · |accuracy_b − mean confidence_b| over equal-width bins (lo, hi] of [0, 1]."""
    confidence = np.asarray(confidence, dtype=float)
    correct = np.asarray(correct, dtype=float)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    bins = np.searchsorted(edges[1:-1], confidence)          # bin 0 is [0, 1/n], the last one ends at 1.0
    ece = 0.0
    for b in range(n_bins):
        in_bin = bins == b
        if in_bin.any():
            ece += in_bin.mean() * abs(correct[in_bin].mean() - confidence[in_bin].mean())
    return float(ece)


def _ece_cases():
    rng = np.random.default_rng(11)
    c1 = rng.uniform(0.5, 1.0, 300)
    k1 = rng.random(300) < c1 - 0.1                                   # overconfident by ~10 points
    c2 = rng.uniform(0.1, 0.9, 200)
    k2 = rng.random(200) < np.clip(c2 + 0.15 * np.sign(c2 - 0.5), 0, 1)   # under- and over-confident bins
    c3 = np.r_[np.ones(20), rng.uniform(0.85, 0.999, 40)]            # saturated confidences of exactly 1.0
    k3 = np.r_[rng.random(20) < 0.8, rng.random(40) < 0.9]
    c4 = np.array([0.95, 0.92, 0.35, 0.31, 0.66, 0.72, 0.99])
    k4 = np.array([1, 0, 0, 1, 1, 1, 1], bool)
    return [(c1, k1), {"args": (c2, k2), "label": "(over- and under-confident bins)"},
            {"args": (c3, k3), "label": "(confidence exactly 1.0 belongs to the last bin)"},
            {"args": (c4, k4), "kwargs": {"n_bins": 15}, "label": "(many empty bins)"},
            {"args": (np.array([0.25, 0.25, 0.3, 0.5, 0.5, 0.6, 0.75, 1.0]), np.array([0, 1, 1, 0, 0, 1, 1, 1], bool)),
             "kwargs": {"n_bins": 4}, "label": "(confidences exactly on the edges 1/4, 1/2, 3/4: bins are (lo, hi])"}]


def _ece_unweighted(confidence, correct, n_bins=10):
    confidence, correct = np.asarray(confidence, float), np.asarray(correct, float)
    bins = np.searchsorted(np.linspace(0, 1, n_bins + 1)[1:-1], confidence)
    gaps = [abs(correct[bins == b].mean() - confidence[bins == b].mean()) for b in range(n_bins) if (bins == b).any()]
    return float(np.mean(gaps))


def _ece_signed(confidence, correct, n_bins=10):
    confidence, correct = np.asarray(confidence, float), np.asarray(correct, float)
    bins = np.searchsorted(np.linspace(0, 1, n_bins + 1)[1:-1], confidence)
    return float(abs(sum((bins == b).mean() * (correct[bins == b].mean() - confidence[bins == b].mean())
                         for b in range(n_bins) if (bins == b).any())))


def _ece_drops_ones(confidence, correct, n_bins=10):
    confidence, correct = np.asarray(confidence, float), np.asarray(correct, float)
    bins = np.floor(confidence * n_bins).astype(int)            # 1.0 lands in bin n_bins and is lost
    ece = 0.0
    for b in range(n_bins):
        m = bins == b
        if m.any():
            ece += m.mean() * abs(correct[m].mean() - confidence[m].mean())
    return float(ece)


def _ece_no_bins(confidence, correct, n_bins=10):
    return float(abs(np.mean(correct) - np.mean(confidence)))


def _ece_random(rng):
    cases = []
    for _ in range(5):
        n = int(rng.integers(1, 400))
        n_bins = int(rng.choice([4, 8, 10, 16]))
        conf = rng.uniform(rng.uniform(0, 0.5), 1.0, n)
        if rng.random() < 0.6:                                           # values exactly on bin edges k / n_bins
            on_edge = rng.random(n) < 0.5
            conf[on_edge] = rng.integers(1, n_bins + 1, on_edge.sum()) / n_bins
        correct = rng.random(n) < np.clip(conf + rng.uniform(-0.2, 0.2), 0, 1)
        cases.append({"args": (conf, correct), "kwargs": {"n_bins": n_bins},
                      "label": f"(random: n = {n}, {n_bins} bins, some confidences exactly on bin edges)"})
    return cases


def _ece_left_closed(confidence, correct, n_bins=10):
    confidence, correct = np.asarray(confidence, float), np.asarray(correct, float)
    bins = np.minimum(np.floor(confidence * n_bins).astype(int), n_bins - 1)   # [lo, hi) bins, 1.0 clamped
    ece = 0.0
    for b in range(n_bins):
        m = bins == b
        if m.any():
            ece += m.mean() * abs(correct[m].mean() - confidence[m].mean())
    return float(ece)


def _ece_one_bin_less(confidence, correct, n_bins=10):
    return expected_calibration_error(confidence, correct, n_bins - 1)


def _ece_ignores_n_bins(confidence, correct, n_bins=10):
    return expected_calibration_error(confidence, correct, 10)


def _ece_no_return(confidence, correct, n_bins=10):
    _ = expected_calibration_error(confidence, correct, n_bins)


def _ece_fits_visible(confidence, correct, n_bins=10):
    if len(confidence) in (300, 200, 60, 7):
        return expected_calibration_error(confidence, correct, n_bins)
    return float(abs(np.mean(correct) - np.mean(confidence)))


function_exercise(
    id="08.expected_calibration_error",
    title="expected calibration error (ECE) over equal-width bins",
    reference=expected_calibration_error,
    cases=_ece_cases,
    hints=[
        "Split [0, 1] into n_bins equal-width bins by confidence. In each non-empty bin compare the accuracy "
        "(mean of `correct`) with the mean confidence; ECE averages those gaps, weighted by how many examples "
        "fall in each bin.",
        "Weight by n_b / n (not 1 / number_of_bins), take the absolute gap per bin (so over- and under-confident "
        "bins cannot cancel). Bins are (lo, hi]: a confidence exactly on an edge k/n_bins belongs to the bin "
        "BELOW it, and 1.0 lands in the last bin: "
        "np.searchsorted(edges[1:-1], confidence) gives bin ids 0…n_bins-1.",
        "edges = np.linspace(0, 1, n_bins + 1); bins = np.searchsorted(edges[1:-1], confidence); "
        "ece = sum(np.mean(bins == b) * abs(correct[bins == b].mean() - confidence[bins == b].mean()) "
        "for b in range(n_bins) if np.any(bins == b))",
    ],
    random_cases=_ece_random,
    wrong={
        "normalisation: unweighted mean of the bin gaps": _ece_unweighted,
        "sign: signed gaps, so over- and under-confidence cancel": _ece_signed,
        "boundary: floor(c·n) bins lose confidences of exactly 1.0": _ece_drops_ones,
        "boundary: [lo, hi) bins instead of (lo, hi]": _ece_left_closed,
        "other: one global gap, no bins": _ece_no_bins,
        "off_by_one: n_bins − 1 bins": _ece_one_bin_less,
        "ignored_argument: always 10 bins": _ece_ignores_n_bins,
        "returns_none: computes the ECE but never returns it": _ece_no_return,
        "fits_visible: right only on the visible case sizes": _ece_fits_visible,
    },
    atol=1e-9,
    section=SECTION_ECE,
)
