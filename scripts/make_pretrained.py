"""Re-create the tiny GPTs shipped in datasets/ (`make pretrained`); deterministic on a given CPU stack.

    python scripts/make_pretrained.py                 # both models, the shipped step counts
    python scripts/make_pretrained.py --steps 20 --draft-steps 20 --out /tmp/check   # a quick check

The target (d=128, 4 layers, context 384, character level) and the draft for speculative
decoding (d=64, 2 layers, same tokenizer and context) are trained on the pydoc corpus (first
90 % of the text; the last 10 % is the validation split) for a fixed number of steps, so two
runs give identical weights. Prints val loss and wall time; writes <name>.npz and prints sha256.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import labkit as lk  # noqa: E402

TARGET = dict(context=384, d_model=128, n_layers=4, n_heads=4)
DRAFT = dict(context=384, d_model=64, n_layers=2, n_heads=4)
BATCH, LR, SEED = 32, 3e-3, 0


def corpus():
    from labkit import llm
    text = lk.data.load("pydoc_corpus").text
    tok = llm.CharTokenizer.from_text(text)
    import numpy as np
    ids = np.asarray(tok.encode(text), np.int32)
    cut = int(0.9 * len(ids))
    return tok, ids[:cut], ids[cut:]


def train(name: str, shape: dict, steps: int, tok, train_ids, val_ids, out: Path, stop_at: int | None = None,
          seconds: float | None = None) -> dict:
    import keras
    import tensorflow as tf
    from labkit import llm
    keras.utils.set_random_seed(SEED)
    config = llm.GPTConfig(vocab_size=tok.vocab_size, **shape)
    model = llm.build_gpt(config, seed=SEED)
    warm = max(1, steps // 20)
    sched = keras.optimizers.schedules.CosineDecay(0.0, steps - warm, alpha=0.1, warmup_target=LR, warmup_steps=warm)
    llm.compile_lm(model, lr=sched, jit_compile=False)
    ds = llm.lm_batches(train_ids, config.context, BATCH, stride=config.context // 2, seed=SEED, repeat=True)
    budget = llm.TimeBudget(seconds=seconds, max_steps=min(steps, stop_at or steps))
    t0 = time.perf_counter()
    model.fit(ds, epochs=1, steps_per_epoch=steps, callbacks=[budget], verbose=0)
    seconds = time.perf_counter() - t0
    Xv, Yv = llm.lm_arrays(val_ids, config.context)
    val = llm.evaluate_loss(model, Xv, Yv)
    meta = {"name": name, "steps_planned": steps, "steps_done": budget.steps, "batch": BATCH, "lr": LR, "seed": SEED, "train_seconds": round(seconds, 1),
            "val_loss_nats_per_char": round(val, 4), "params": int(model.count_params()),
            "corpus": "pydoc_corpus first 90% (val: last 10%)", "keras": keras.__version__, "tensorflow": tf.__version__}
    uncompiled = llm.build_gpt(config)  # weights only: no optimizer state
    uncompiled.set_weights(model.get_weights())
    path = llm.save_weights(uncompiled, out / f"{name}.npz", tok, meta=meta)
    meta.update(file=path.name, bytes=path.stat().st_size, sha256=lk.data.sha256(path))
    print(json.dumps(meta), flush=True)
    return meta


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=160, help="training steps of the target model")
    ap.add_argument("--draft-steps", type=int, default=120, help="training steps of the draft model")
    ap.add_argument("--out", default=str(lk.data.DATASETS_DIR), help="output folder")
    ap.add_argument("--seconds", type=float, default=None,
                    help="also stop each model after this wall time (then rerun with --stop-at to reproduce)")
    ap.add_argument("--stop-at", type=int, default=None, help="stop after this many steps (schedule unchanged)")
    ap.add_argument("--draft-stop-at", type=int, default=None)
    ap.add_argument("--only", choices=["tiny_gpt", "tiny_gpt_draft"], help="make only this model")
    args = ap.parse_args()
    import tensorflow as tf
    tf.config.experimental.enable_op_determinism()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    tok, tr, va = corpus()
    if args.only in (None, "tiny_gpt"):
        train("tiny_gpt", TARGET, args.steps, tok, tr, va, out, args.stop_at, args.seconds)
    if args.only in (None, "tiny_gpt_draft"):
        train("tiny_gpt_draft", DRAFT, args.draft_steps, tok, tr, va, out, args.draft_stop_at, args.seconds)


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    main()
