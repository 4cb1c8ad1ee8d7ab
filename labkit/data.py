"""The course's dataset registry (introduced in 00_welcome, used by every notebook).

Every dataset has a name, a loader, its source, its license, its shape and — for any file
it reads — a sha256 that is verified on every load. Everything except the ``online`` sets
works with no network: it ships in ``datasets/``, inside an installed package, or is
generated. Loaders return a :class:`sklearn.utils.Bunch` with at least ``X`` (and ``y``
where there are labels) and ``description``.

    ds = lk.data.load("digits");  ds.X.shape, ds.y.shape
    lk.data.info()                # the table of every dataset
"""
from __future__ import annotations

import difflib
import hashlib
import os
import socket
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
DATASETS_DIR = ROOT / "datasets"


class DatasetError(RuntimeError):
    """A dataset could not be loaded (missing, corrupted or offline); the message says what to do."""


@dataclass(frozen=True)
class Dataset:
    """One registry entry."""
    name: str
    loader: Callable[..., Any]
    source: str
    license: str
    shape: str
    kind: str  # "bundled" (in an installed package), "shipped" (datasets/), "generated", "online"
    description: str
    files: dict[str, str] = field(default_factory=dict)  # file name -> sha256
    offline_alternative: str = ""


REGISTRY: dict[str, Dataset] = {}


def _register(**kw: Any) -> Callable:
    def deco(fn: Callable) -> Callable:
        REGISTRY[kw["name"]] = Dataset(loader=fn, description=(fn.__doc__ or "").strip().splitlines()[0], **kw)
        return fn
    return deco


def _bunch(**kw: Any):
    from sklearn.utils import Bunch
    return Bunch(**kw)


def hash_file(path: str | os.PathLike, h: Any = None) -> str:
    """Feed a file to a hashlib/hmac object in 1 MiB chunks (sha256 by default); its hex digest."""
    h = hashlib.sha256() if h is None else h
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def sha256(path: str | os.PathLike) -> str:
    """The sha256 hex digest of a file."""
    return hash_file(path)


def verify(path: str | os.PathLike, expected: str) -> Path:
    """Check a file's sha256; raise ``DatasetError`` saying how to repair it when it differs."""
    p = Path(path)
    if not p.exists():
        raise DatasetError(f"{p} is missing. Restore it with `git checkout -- {p.name}` in datasets/ "
                           "(or re-clone the course).")
    got = sha256(p)
    if got != expected:
        raise DatasetError(f"{p} is corrupted: sha256 {got[:16]}… but the registry expects {expected[:16]}…. "
                           f"Restore it with `git checkout -- datasets/{p.name}` (shipped files) or delete it "
                           "so it is downloaded again (cached online files).")
    return p


def names(kind: str | None = None) -> list[str]:
    """Registered dataset names, optionally of one kind (bundled/shipped/generated/online)."""
    return sorted(n for n, d in REGISTRY.items() if kind is None or d.kind == kind)


def get(name: str) -> Dataset:
    """The registry entry for ``name``; a ``ValueError`` naming the closest names otherwise."""
    if not isinstance(name, str):
        raise TypeError(f"Dataset names are strings, got {type(name).__name__}; see lk.data.names().")
    if name not in REGISTRY:
        near = difflib.get_close_matches(name, list(REGISTRY), n=3, cutoff=0.4)
        tip = f"Did you mean {', '.join(map(repr, near))}? " if near else ""
        raise ValueError(f"Unknown dataset {name!r}. {tip}Available: {', '.join(names())}.")
    return REGISTRY[name]


def load(name: str, **kwargs: Any):
    """Load a dataset by name (``lk.data.load("digits")``); generated sets take size/seed options."""
    return get(name).loader(**kwargs)


def info() -> list[dict[str, str]]:
    """A table (list of dicts) of every dataset: name, kind, shape, source, license."""
    return [{"name": d.name, "kind": d.kind, "shape": d.shape, "source": d.source, "license": d.license,
             "description": d.description} for d in (REGISTRY[n] for n in names())]


def status() -> dict[str, str]:
    """For each dataset: ``ok``, ``cached``, ``not downloaded`` or the problem found (no loading)."""
    out = {}
    for n in names():
        d = REGISTRY[n]
        try:
            if d.kind == "shipped":
                for f, h in d.files.items():
                    verify(DATASETS_DIR / f, h)
                out[n] = "ok"
            elif d.kind == "online":
                present = all((cache_dir() / f).exists() for f in d.files)
                out[n] = "cached" if present else "not downloaded (optional)"
            else:
                out[n] = "ok"
        except DatasetError as exc:
            out[n] = f"problem: {exc}"
    return out


def _check_int(name: str, value: Any, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}.")
    if not lo <= value <= hi:
        raise ValueError(f"{name} must be between {lo} and {hi}, got {value}.")
    return int(value)


def _check_float(name: str, value: Any, lo: float, hi: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}.")
    if not np.isfinite(value) or not lo <= value <= hi:
        raise ValueError(f"{name} must be a finite number between {lo} and {hi}, got {value}.")
    return float(value)


# ------------------------------------------------------------------ bundled in installed packages
@_register(name="digits", source="scikit-learn (UCI optical digits)", license="CC BY 4.0 (UCI)",
           shape="1797 × 8×8, 10 classes", kind="bundled")
def _digits():
    """Handwritten digits 0–9 as 8×8 grey images in [0, 1]: X (1797, 64), images (1797, 8, 8)."""
    from sklearn.datasets import load_digits
    d = load_digits()
    images = (d.images / 16.0).astype(np.float32)
    return _bunch(X=images.reshape(len(images), -1), images=images, y=d.target.astype(np.int64),
                  target_names=[str(i) for i in range(10)], description=REGISTRY["digits"].description)


@_register(name="breast_cancer", source="scikit-learn (UCI Wisconsin diagnostic)", license="CC BY 4.0 (UCI)",
           shape="569 × 30, 2 classes", kind="bundled")
def _breast_cancer():
    """Breast-cancer diagnosis from 30 cell-nucleus features (tabular, binary; 1 = benign)."""
    from sklearn.datasets import load_breast_cancer
    d = load_breast_cancer()
    return _bunch(X=d.data.astype(np.float32), y=d.target.astype(np.int64), feature_names=list(d.feature_names),
                  target_names=list(d.target_names), description=REGISTRY["breast_cancer"].description)


@_register(name="wine", source="scikit-learn (UCI wine)", license="CC BY 4.0 (UCI)",
           shape="178 × 13, 3 classes", kind="bundled")
def _wine():
    """Wine cultivar from 13 chemical measurements (tabular, 3 classes)."""
    from sklearn.datasets import load_wine
    d = load_wine()
    return _bunch(X=d.data.astype(np.float32), y=d.target.astype(np.int64), feature_names=list(d.feature_names),
                  target_names=list(d.target_names), description=REGISTRY["wine"].description)


@_register(name="lfw_subset", source="scikit-image data.lfw_subset (Labeled Faces in the Wild)",
           license="LFW: research use; scikit-image BSD-3", shape="200 × 25×25, 2 classes", kind="bundled")
def _lfw_subset():
    """Faces (y=1) vs non-faces (y=0): 200 grey 25×25 images from scikit-image."""
    from skimage.data import lfw_subset
    images = lfw_subset().astype(np.float32)
    y = np.r_[np.ones(100), np.zeros(100)].astype(np.int64)  # the first 100 are faces
    return _bunch(X=images, images=images, y=y, target_names=["non-face", "face"],
                  description=REGISTRY["lfw_subset"].description)


@_register(name="sample_images", source="scikit-learn load_sample_images (china.jpg, flower.jpg)",
           license="CC BY 2.0 (Flickr authors, see sklearn docs)", shape="2 × 427×640×3", kind="bundled")
def _sample_images():
    """Two real colour photos (uint8 RGB): a Chinese temple and a flower."""
    from sklearn.datasets import load_sample_images
    d = load_sample_images()
    return _bunch(X=np.stack(d.images), images=list(d.images), names=["china", "flower"],
                  description=REGISTRY["sample_images"].description)


@_register(name="sunspots", source="statsmodels datasets.sunspots (SIDC, 1700–2008)", license="public domain",
           shape="309 yearly values", kind="bundled")
def _sunspots():
    """Yearly mean sunspot numbers 1700–2008: X (309,) float32, years (309,)."""
    import statsmodels.api as sm
    df = sm.datasets.sunspots.load_pandas().data
    return _bunch(X=df["SUNACTIVITY"].to_numpy(np.float32), years=df["YEAR"].to_numpy(np.int64),
                  description=REGISTRY["sunspots"].description)


@_register(name="co2", source="statsmodels datasets.co2 (Mauna Loa, NOAA, 1958–2001)", license="public domain",
           shape="2284 weekly values", kind="bundled")
def _co2():
    """Weekly atmospheric CO₂ at Mauna Loa (ppm), 59 gaps filled by time interpolation."""
    import statsmodels.api as sm
    s = sm.datasets.co2.load_pandas().data["co2"].interpolate(method="time")
    return _bunch(X=s.to_numpy(np.float32), dates=s.index.to_numpy(), description=REGISTRY["co2"].description)


@_register(name="pydoc_corpus", source="CPython's pydoc_data.topics (the Python reference docs)",
           license="PSF License", shape="≈460k characters", kind="bundled")
def _pydoc_corpus(max_chars: int | None = None):
    """A character corpus: Python's own reference documentation topics, joined as plain text."""
    try:
        from pydoc_data.topics import topics
    except ImportError as exc:  # some minimal Python builds drop it
        raise DatasetError("This Python has no pydoc_data module; use the course's .venv (make lab).") from exc
    text = "\n\n".join(topics[k].strip() for k in sorted(topics))
    if max_chars is not None:
        text = text[:_check_int("max_chars", max_chars, 1, len(text))]
    vocab = sorted(set(text))
    return _bunch(X=text, text=text, vocab=vocab, description=REGISTRY["pydoc_corpus"].description)


# The second domain of the large-model track (07, 12, 15): Python code with docstrings and
# comments removed, far enough from the English prose of pydoc_corpus that fine-tuning on one
# shows forgetting of the other. Pure-Python standard-library modules, in this fixed order.
PYTHON_SOURCE_MODULES = (
    "abc", "argparse", "ast", "base64", "bisect", "calendar", "cmd", "codecs", "colorsys", "configparser",
    "contextlib", "copy", "csv", "dataclasses", "datetime", "decimal", "difflib", "dis", "enum", "fnmatch",
    "fractions", "ftplib", "functools", "getopt", "gettext", "glob", "gzip", "heapq", "hmac", "imaplib",
    "inspect", "ipaddress", "json.decoder", "json.encoder", "keyword", "linecache", "locale", "logging",
    "mailbox", "mimetypes", "netrc", "numbers", "operator", "optparse", "pathlib", "pickle", "pkgutil",
    "platform", "plistlib", "poplib", "pprint", "queue", "quopri", "random", "reprlib", "sched", "secrets",
    "selectors", "shlex", "shutil", "smtplib", "statistics", "string", "stringprep", "tabnanny", "tarfile",
    "tempfile", "textwrap", "threading", "timeit", "token", "tokenize", "trace", "traceback", "types",
    "typing", "uuid", "warnings", "wave", "weakref", "zipfile",
)
PYTHON_SOURCE_NOTE = ("≈1.6 M characters (CPython 3.11.7: 1,619,216, sha256 cc4ad042…); the text and its "
                      "sha256 depend on the installed Python's minor version (ast.unparse and the modules' code).")


def _strip_docstrings(tree):
    import ast
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant) \
                    and isinstance(body[0].value.value, str):
                node.body = body[1:] or [ast.Pass()]
    return tree


@_register(name="python_source", source="the installed CPython standard library (source files, read offline)",
           license="PSF License", shape=PYTHON_SOURCE_NOTE, kind="bundled")
def _python_source(max_chars: int | None = None):
    """Python code: pure-Python standard-library modules, docstrings and comments removed (via ast)."""
    import ast
    import importlib.util
    import sys
    parts, used = [], []
    for mod in PYTHON_SOURCE_MODULES:
        spec = importlib.util.find_spec(mod)
        origin = getattr(spec, "origin", None)
        if not origin or not origin.endswith(".py"):
            continue
        try:
            src = Path(origin).read_text(encoding="utf-8")
            parts.append(f"# module {mod}\n" + ast.unparse(_strip_docstrings(ast.parse(src))) + "\n")
        except (OSError, SyntaxError, UnicodeDecodeError):  # a stripped-down Python: skip the module
            continue
        used.append(mod)
        if max_chars is not None and sum(map(len, parts)) + len(parts) > max_chars:
            break  # enough text: the prefix is the same as that of the full corpus
    if not parts:
        raise DatasetError("No standard-library source files were found (a Python without .py files?); "
                           "use the course's .venv (make lab).")
    text = "\n".join(parts)
    if max_chars is not None:
        text = text[:_check_int("max_chars", max_chars, 1, len(text))]
    return _bunch(X=text, text=text, vocab=sorted(set(text)), modules=used,
                  python=".".join(map(str, sys.version_info[:3])),
                  sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
                  description=REGISTRY["python_source"].description)


# ------------------------------------------------------------------ shipped in datasets/
MNIST1D_SHA256 = "1193ce312ebf40dd2d945576eaa4455d2ce5619ba5188d8beae9f6cbc9a7dfe8"


@_register(name="mnist1d", source="mnist1d 0.0.2 make_dataset(default args, seed 42) — Greydanus 2020",
           license="Apache-2.0", shape="4000+1000 × 40, 10 classes", kind="shipped",
           files={"mnist1d.npz": MNIST1D_SHA256})
def _mnist1d():
    """MNIST-1D: 1-D signals of 40 points in 10 classes; hard for linear models, quick for small nets."""
    p = verify(DATASETS_DIR / "mnist1d.npz", MNIST1D_SHA256)
    with np.load(p) as z:
        return _bunch(X=z["x"], y=z["y"], X_test=z["x_test"], y_test=z["y_test"], t=z["t"],
                      description=REGISTRY["mnist1d"].description)


# ------------------------------------------------------------------ generated
@_register(name="spirals", source="generated (labkit)", license="CC0", shape="n × 2, k classes", kind="generated")
def spirals(n: int = 600, classes: int = 3, noise: float = 0.2, turns: float = 1.5, seed: int = 0):
    """Interleaved 2-D spirals, one arm per class: a classic non-linear decision boundary."""
    n = _check_int("n", n, classes, 10_000_000)
    classes = _check_int("classes", classes, 2, 20)
    noise = _check_float("noise", noise, 0.0, 10.0)
    turns = _check_float("turns", turns, 0.0, 100.0)
    rng = np.random.default_rng(seed)
    X, y = [], []
    for k in range(classes):
        per = n // classes + (k < n % classes)  # exactly n rows: the first n % classes arms get one more
        r = np.linspace(0.05, 1.0, per)
        t = r * turns * 2 * np.pi + 2 * np.pi * k / classes + rng.normal(0, noise, per) * 0.5
        X.append(np.c_[r * np.sin(t), r * np.cos(t)])
        y.append(np.full(per, k))
    X, y = np.concatenate(X).astype(np.float32), np.concatenate(y).astype(np.int64)
    order = rng.permutation(len(y))
    return _bunch(X=X[order], y=y[order], description=REGISTRY["spirals"].description)


@_register(name="sine_sequences", source="generated (labkit)", license="CC0", shape="n × length",
           kind="generated")
def sine_sequences(n: int = 1000, length: int = 50, noise: float = 0.1, seed: int = 0):
    """Noisy sine waves of random frequency and phase; y is the next value after each sequence."""
    n = _check_int("n", n, 1, 10_000_000)
    length = _check_int("length", length, 2, 100_000)
    noise = _check_float("noise", noise, 0.0, 10.0)
    rng = np.random.default_rng(seed)
    freq = rng.uniform(0.02, 0.12, (n, 1))
    phase = rng.uniform(0, 2 * np.pi, (n, 1))
    t = np.arange(length + 1)[None, :]
    clean = np.sin(2 * np.pi * freq * t + phase)
    series = clean + rng.normal(0, noise, clean.shape)
    return _bunch(X=series[:, :length].astype(np.float32), y=series[:, length].astype(np.float32),
                  freq=freq[:, 0].astype(np.float32), clean=clean.astype(np.float32),
                  description=REGISTRY["sine_sequences"].description)


SHAPE_NAMES = ["circle", "square", "triangle"]


@_register(name="shapes", source="generated (labkit)", license="CC0", shape="n × size×size×1, 3 classes + masks",
           kind="generated")
def shapes(n: int = 600, size: int = 32, noise: float = 0.15, clutter: int = 3, seed: int = 0):
    """Circles, squares and triangles at random places on noisy backgrounds, with exact object masks.

    ``masks`` marks the object's pixels, so an explanation method can be scored by how much of
    its attribution falls on the object. ``clutter`` adds small distracting blobs.
    """
    n = _check_int("n", n, 1, 1_000_000)
    size = _check_int("size", size, 16, 256)
    noise = _check_float("noise", noise, 0.0, 1.0)
    clutter = _check_int("clutter", clutter, 0, 50)
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) + 0.5
    X = np.empty((n, size, size, 1), np.float32)
    masks = np.zeros((n, size, size), bool)
    y = rng.integers(0, 3, n)
    for i in range(n):
        r = rng.uniform(0.16, 0.26) * size
        cx, cy = rng.uniform(r + 1, size - r - 1, 2)
        if y[i] == 0:
            m = (xx - cx) ** 2 + (yy - cy) ** 2 <= r ** 2
        elif y[i] == 1:
            h = r * 0.85
            m = (np.abs(xx - cx) <= h) & (np.abs(yy - cy) <= h)
        else:  # upward triangle: inside three half-planes
            top, base = cy - r, cy + r * 0.8
            half = (yy - top) / (base - top) * r
            m = (yy >= top) & (yy <= base) & (np.abs(xx - cx) <= half)
        img = rng.normal(0.0, noise, (size, size)).astype(np.float32)
        for _ in range(rng.integers(0, clutter + 1)):
            bx, by = rng.uniform(0, size, 2)
            img += 0.5 * np.exp(-((xx - bx) ** 2 + (yy - by) ** 2) / (2 * (size / 32) ** 2))
        img[m] += rng.uniform(0.7, 1.0)
        X[i, :, :, 0] = img
        masks[i] = m
    return _bunch(X=X, y=y.astype(np.int64), masks=masks, target_names=SHAPE_NAMES,
                  description=REGISTRY["shapes"].description)


# ------------------------------------------------------------------ optional, online, cached
def cache_dir() -> Path:
    """Where optional downloads are cached (``LABKIT_DATA`` or ``~/.labkit/datasets``)."""
    return Path(os.environ.get("LABKIT_DATA") or Path.home() / ".labkit" / "datasets")


def _online(name: str, url: str, fname: str, sha: str, offline: str, timeout: float = 5.0) -> Path:
    dest = cache_dir() / fname
    if dest.exists():
        return verify(dest, sha)
    host = url.split("/")[2]
    try:  # fail fast (well under a second) when offline, instead of hanging in a download
        socket.getaddrinfo(host, 443)
        socket.create_connection((host, 443), timeout=0.8).close()
    except OSError as exc:
        raise DatasetError(f"{name} is an optional online dataset and {host} cannot be reached ({exc}). "
                           f"Use the offline equivalent: lk.data.load({offline!r}). Or, on a machine with "
                           f"internet, download {url} to {dest} (sha256 {sha[:16]}…).") from None
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_suffix(".part")
    with urllib.request.urlopen(url, timeout=timeout) as r, open(tmp, "wb") as fh:
        while chunk := r.read(1 << 20):
            fh.write(chunk)
    try:
        verify(tmp, sha)
    except DatasetError:
        tmp.unlink(missing_ok=True)
        raise DatasetError(f"The download of {url} did not match its sha256; it was deleted. Try again, "
                           f"or use lk.data.load({offline!r}).") from None
    os.replace(tmp, dest)
    return dest


_KERAS_DS = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
MNIST_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"


@_register(name="mnist", source=_KERAS_DS + "mnist.npz (LeCun et al.)", license="CC BY-SA 3.0",
           shape="60000+10000 × 28×28, 10 classes", kind="online", files={"mnist.npz": MNIST_SHA256},
           offline_alternative="digits")
def _mnist():
    """Optional: full MNIST (needs internet once, then cached and sha256-checked); offline use 'digits'."""
    p = _online("mnist", _KERAS_DS + "mnist.npz", "mnist.npz", MNIST_SHA256, "digits")
    with np.load(p) as z:
        return _bunch(X=z["x_train"], y=z["y_train"], X_test=z["x_test"], y_test=z["y_test"],
                      description=REGISTRY["mnist"].description)


FASHION_FILES = {  # sha256 of the four gzip files served for keras.datasets.fashion_mnist
    "train-labels-idx1-ubyte.gz": "b0197879cbda89f3dc7b894f9fd52b858e68ea4182b6947c9d8c2b67e5f18dcc",
    "train-images-idx3-ubyte.gz": "08dc20ab1689590a0bcd66e874647b6ee8464e2d501b5a3f1f78831db19a3fdc",
    "t10k-labels-idx1-ubyte.gz": "42bd18137a62d5998cdeae52bf3a0676ac6b706f5cf8439b47bb5b151ae3dccf",
    "t10k-images-idx3-ubyte.gz": "78dcbbfb5a27efaf1b6c1d616caca68560be8766c5bffcb2791df9273a534229",
}


@_register(name="fashion_mnist", source=_KERAS_DS + "fashion-mnist/ (Zalando Research)", license="MIT",
           shape="60000+10000 × 28×28, 10 classes", kind="online", files=dict(FASHION_FILES),
           offline_alternative="shapes")
def _fashion_mnist():
    """Optional: Fashion-MNIST (needs internet once, then cached and sha256-checked); offline use 'shapes'."""
    import gzip
    arrays = {}
    for fname, sha in FASHION_FILES.items():
        p = _online("fashion_mnist", _KERAS_DS + "fashion-mnist/" + fname, "fashion-" + fname, sha, "shapes")
        with gzip.open(p, "rb") as fh:
            raw = fh.read()
        arrays[fname] = np.frombuffer(raw, np.uint8, offset=8 if "labels" in fname else 16)
    return _bunch(X=arrays["train-images-idx3-ubyte.gz"].reshape(-1, 28, 28),
                  y=arrays["train-labels-idx1-ubyte.gz"].astype(np.int64),
                  X_test=arrays["t10k-images-idx3-ubyte.gz"].reshape(-1, 28, 28),
                  y_test=arrays["t10k-labels-idx1-ubyte.gz"].astype(np.int64),
                  description=REGISTRY["fashion_mnist"].description)


def split(X: Any, y: Any, test_size: float = 0.25, seed: int = 0, stratify: bool = True):
    """Shuffle and split arrays into train/test (stratified by ``y`` by default)."""
    from sklearn.model_selection import train_test_split
    X, y = np.asarray(X), np.asarray(y)
    if len(X) != len(y):
        raise ValueError(f"X and y must have the same length, got {len(X)} and {len(y)}.")
    test_size = _check_float("test_size", test_size, 1e-9, 1 - 1e-9)
    return train_test_split(X, y, test_size=test_size, random_state=seed, stratify=y if stratify else None)
