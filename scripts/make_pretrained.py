"""Re-create the tiny GPTs shipped in datasets/ (`make pretrained`); deterministic on a given CPU stack.

    python scripts/make_pretrained.py                 # both models, the shipped step counts
    python scripts/make_pretrained.py --steps 20 --draft-steps 20 --out /tmp/check   # a quick check

The target (d=128, 4 layers, context 384, character level) and two drafts for speculative
decoding (d=64, 2 layers, same tokenizer and context) are trained on the pydoc corpus (first
90 % of the text; the last 10 % is the validation split) for a fixed number of steps:

* ``tiny_gpt_draft`` learns from the text (next-character cross-entropy), like the target;
* ``tiny_gpt_draft_distilled`` has the same shape, steps, batches and optimizer, but learns the
  target's next-character distribution instead (soft labels: cross-entropy against the target's
  softmax, i.e. KL(target ‖ draft) up to a constant; Hinton et al. 2015), read from the
  *shipped* (fp16) target file, so it is distilled from exactly the model it will serve.

Both drafts also record how often their greedy choice agrees with the target's and the expected
acceptance rate of speculative sampling, 1 − TV(target, draft), on the validation split.
Prints val loss and wall time; writes <name>.npz and prints sha256.
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
BATCH, LR, SEED = 8, 3e-3, 0    # small batches, many steps: at this scale more updates beat bigger batches


def corpus():
    from labkit import llm
    text = lk.data.load("pydoc_corpus").text
    tok = llm.CharTokenizer.from_text(text)
    import numpy as np
    ids = np.asarray(tok.encode(text), np.int32)
    cut = int(0.9 * len(ids))
    return tok, ids[:cut], ids[cut:]


def train(name: str, shape: dict, steps: int, tok, train_ids, val_ids, out: Path, stop_at: int | None = None,
          seconds: float | None = None, teacher_path: Path | None = None) -> dict:
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
    if teacher_path is not None:
        meta.update(agreement(model, llm.load_weights(teacher_path)[0], val_ids, config.context))
    uncompiled = llm.build_gpt(config)  # weights only: no optimizer state
    uncompiled.set_weights(model.get_weights())
    path = llm.save_weights(uncompiled, out / f"{name}.npz", tok, meta=meta)
    meta.update(file=path.name, bytes=path.stat().st_size, sha256=lk.data.sha256(path))
    print(json.dumps(meta), flush=True)
    return meta


def agreement(draft, target, val_ids, context: int, windows: int = 16) -> dict:
    """Greedy agreement and expected speculative-sampling acceptance (1 − TV) of draft vs target on
    ``windows`` evenly spaced validation windows (``labkit.llm.cache.draft_agreement``)."""
    import numpy as np
    from labkit import llm
    from labkit.llm import cache
    Xv, _ = llm.lm_arrays(val_ids, context)
    a = cache.draft_agreement(draft, target, Xv[np.linspace(0, len(Xv) - 1, windows).astype(int)])
    return {"greedy_agreement_with_target": round(a["greedy_agreement"], 4),
            "expected_acceptance_sampling": round(a["sampling_acceptance"], 4)}


def train_distilled(name: str, shape: dict, steps: int, tok, train_ids, val_ids, out: Path, teacher_path: Path,
                    stop_at: int | None = None) -> dict:
    """The draft's recipe with soft labels from the teacher file (a custom loop: the loss needs the teacher)."""
    import keras
    import tensorflow as tf
    from labkit import llm
    keras.utils.set_random_seed(SEED)
    teacher, _, tconfig, _ = llm.load_weights(teacher_path)
    config = llm.GPTConfig(vocab_size=tok.vocab_size, **shape)
    if tconfig.vocab_size != config.vocab_size or tconfig.context != config.context:
        raise ValueError("the teacher must share the draft's tokenizer and context")
    model = llm.build_gpt(config, seed=SEED)
    warm = max(1, steps // 20)
    sched = keras.optimizers.schedules.CosineDecay(0.0, steps - warm, alpha=0.1, warmup_target=LR, warmup_steps=warm)
    opt = keras.optimizers.AdamW(learning_rate=sched, weight_decay=0.01, clipnorm=1.0)   # as llm.compile_lm
    opt.build(model.trainable_variables)
    ds = llm.lm_batches(train_ids, config.context, BATCH, stride=config.context // 2, seed=SEED, repeat=True)

    @tf.function
    def step(x):
        p = tf.nn.softmax(tf.cast(teacher(x, training=False), tf.float32), axis=-1)
        with tf.GradientTape() as tape:
            logp = tf.nn.log_softmax(model(x, training=True), axis=-1)
            loss = -tf.reduce_mean(tf.reduce_sum(p * logp, axis=-1))
        grads = tape.gradient(loss, model.trainable_variables)
        opt.apply_gradients(zip(grads, model.trainable_variables))
        return loss

    done = 0
    t0 = time.perf_counter()
    for x, _ in ds:
        step(x)
        done += 1
        if done >= min(steps, stop_at or steps):
            break
    seconds = time.perf_counter() - t0
    Xv, Yv = llm.lm_arrays(val_ids, config.context)
    val = llm.evaluate_loss(model, Xv, Yv)
    meta = {"name": name, "steps_planned": steps, "steps_done": done, "batch": BATCH, "lr": LR, "seed": SEED,
            "train_seconds": round(seconds, 1), "val_loss_nats_per_char": round(val, 4),
            "params": int(model.count_params()), "distilled_from": teacher_path.name,
            "loss": "cross-entropy against the teacher's softmax (T = 1)",
            "corpus": "pydoc_corpus first 90% (val: last 10%)", "keras": keras.__version__, "tensorflow": tf.__version__}
    meta.update(agreement(model, teacher, val_ids, config.context))
    uncompiled = llm.build_gpt(config)
    uncompiled.set_weights(model.get_weights())
    path = llm.save_weights(uncompiled, out / f"{name}.npz", tok, meta=meta)
    meta.update(file=path.name, bytes=path.stat().st_size, sha256=lk.data.sha256(path))
    print(json.dumps(meta), flush=True)
    return meta


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=1600, help="training steps of the target model")
    ap.add_argument("--draft-steps", type=int, default=1200, help="training steps of each draft model")
    ap.add_argument("--out", default=str(lk.data.DATASETS_DIR), help="output folder")
    ap.add_argument("--seconds", type=float, default=None,
                    help="also stop each model after this wall time (then rerun with --stop-at to reproduce)")
    ap.add_argument("--stop-at", type=int, default=None, help="stop after this many steps (schedule unchanged)")
    ap.add_argument("--draft-stop-at", type=int, default=None)
    ap.add_argument("--only", choices=["tiny_gpt", "tiny_gpt_draft", "tiny_gpt_draft_distilled"],
                    help="make only this model (the drafts read the target from --out)")
    args = ap.parse_args()
    import tensorflow as tf
    tf.config.experimental.enable_op_determinism()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    tok, tr, va = corpus()
    if args.only in (None, "tiny_gpt"):
        train("tiny_gpt", TARGET, args.steps, tok, tr, va, out, args.stop_at, args.seconds)
    teacher = out / "tiny_gpt.npz"
    if args.only in (None, "tiny_gpt_draft"):
        train("tiny_gpt_draft", DRAFT, args.draft_steps, tok, tr, va, out, args.draft_stop_at, args.seconds,
              teacher_path=teacher if teacher.exists() else None)
    if args.only in (None, "tiny_gpt_draft_distilled"):
        train_distilled("tiny_gpt_draft_distilled", DRAFT, args.draft_steps, tok, tr, va, out, teacher,
                        args.draft_stop_at)


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    main()
