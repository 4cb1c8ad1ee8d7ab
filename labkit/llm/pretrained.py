"""The tiny GPTs shipped with the course (made by ``make pretrained``; used in 07, 12 and 15).

Weights are stored weights-only in a small ``.npz`` (fp16 by default, restored to fp32 on load)
together with the config and the tokenizer. The zip is written with fixed timestamps and a
fixed order, so the same weights always give the same file bytes. ``load_pretrained`` checks
the file's sha256 against the registry below before it loads anything.
"""
from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from .config import GPTConfig
from .tokenizer import BPETokenizer, CharTokenizer

# name -> file in datasets/ and its sha256 (filled in by scripts/make_pretrained.py's run)
PRETRAINED: dict[str, dict[str, str]] = {
    "tiny_gpt": {"file": "tiny_gpt.npz",
                 "sha256": "e6d5ec183b0653b7a3501900b02455eea7815436d454ee54283404ba1e439e30"},
    "tiny_gpt_draft": {"file": "tiny_gpt_draft.npz",
                       "sha256": "1120f618cded6f685e96b814f789c14a794137db2103a00560250aba107cbf61"},
    "tiny_gpt_draft_distilled": {"file": "tiny_gpt_draft_distilled.npz", "sha256": "80f3c50389819f8beaf90106874fa4dbfca2ca513e96cbda1d8d5a90320690d0"},
}


def _npy_bytes(a: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array(buf, np.ascontiguousarray(a), allow_pickle=False)
    return buf.getvalue()


def save_weights(model: Any, path: str | Path, tokenizer: Any, dtype: str = "float16",
                 meta: dict | None = None) -> Path:
    """Write a GPT's weights (as ``dtype``), config, tokenizer and ``meta`` to a reproducible .npz."""
    if dtype not in ("float16", "float32"):
        raise ValueError(f"dtype must be 'float16' or 'float32', got {dtype!r}.")
    config = getattr(model, "gpt_config", None)
    if not isinstance(config, GPTConfig):
        raise TypeError("save_weights takes a model made by lk.llm.build_gpt.")
    path = Path(path)
    entries = {"config.json": config.to_json().encode(), "tokenizer.json": tokenizer.to_json().encode("utf-8"),
               "meta.json": json.dumps(meta or {}, sort_keys=True).encode(),
               "paths.json": json.dumps([w.path for w in model.weights]).encode()}
    for i, w in enumerate(model.weights):
        entries[f"w{i:03d}.npy"] = _npy_bytes(np.asarray(w.numpy(), dtype=dtype))
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, data)
    return path


def _tokenizer_from_json(text: str) -> Any:
    kind = json.loads(text).get("type")
    return BPETokenizer.from_json(text) if kind == "bpe" else CharTokenizer.from_json(text)


def load_weights(path: str | Path) -> tuple[Any, Any, GPTConfig, dict]:
    """Read a file written by :func:`save_weights`: (model in fp32, tokenizer, config, meta). No hash check."""
    from .layers import build_gpt
    with zipfile.ZipFile(path) as zf:
        config = GPTConfig.from_json(zf.read("config.json").decode())
        tok = _tokenizer_from_json(zf.read("tokenizer.json").decode("utf-8"))
        meta = json.loads(zf.read("meta.json"))
        paths = json.loads(zf.read("paths.json"))
        arrays = [np.load(io.BytesIO(zf.read(f"w{i:03d}.npy"))) for i in range(len(paths))]
    model = build_gpt(config)
    if [w.path for w in model.weights] != paths:
        raise ValueError(f"{path} was saved from a differently built model (weight names differ); "
                         "re-create it with `make pretrained`.")
    model.set_weights([a.astype(np.float32) for a in arrays])
    return model, tok, config, meta


def pretrained_info(name: str = "tiny_gpt") -> dict:
    """How a shipped model was made (steps, batch, training seconds, validation loss, …), read from its file."""
    from .. import data
    if name not in PRETRAINED:
        raise ValueError(f"Unknown pretrained model {name!r}; available: {', '.join(PRETRAINED)}.")
    path = data.verify(data.DATASETS_DIR / PRETRAINED[name]["file"], PRETRAINED[name]["sha256"])
    with zipfile.ZipFile(path) as zf:
        return json.loads(zf.read("meta.json"))


def load_pretrained(name: str = "tiny_gpt") -> tuple[Any, Any, GPTConfig]:
    """The shipped model ``name`` (see ``PRETRAINED``: "tiny_gpt", "tiny_gpt_draft", "tiny_gpt_draft_distilled"),
    sha256-checked: (model, tokenizer, config)."""
    from .. import data
    if name not in PRETRAINED:
        raise ValueError(f"Unknown pretrained model {name!r}; available: {', '.join(PRETRAINED)}.")
    entry = PRETRAINED[name]
    path = data.DATASETS_DIR / entry["file"]
    if not entry["sha256"] or not path.exists():
        raise data.DatasetError(f"The pretrained model {name!r} ({path.name}) is not in datasets/ yet; "
                                "create it with `make pretrained` (about 15 minutes on 2 cores).")
    data.verify(path, entry["sha256"])
    model, tok, config, _ = load_weights(path)
    return model, tok, config
