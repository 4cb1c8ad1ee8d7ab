"""Re-create datasets/scaling_sweep.csv: the tiny-GPT scaling sweep of notebook 12.

    python scripts/make_scaling_sweep.py               # every size of lk.memory.SWEEP
    python scripts/make_scaling_sweep.py --sizes 8x1 16x1 --out /tmp/sweep.csv   # a quick check

Each row is one character-level GPT (d_model × n_layers) trained by ``lk.memory.sweep_point``: the
same recipe the notebook runs live (first 90 % of the pydoc corpus in order, one pass over
SWEEP["short_tokens"] and SWEEP["tokens"] tokens (two budgets), AdamW 3e-3, context 64, batch 32, seed 0), validation loss in nats per
character on the held-out 10 %. Deterministic on one CPU stack; train_seconds depends on the machine.
"""
from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import labkit as lk  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", nargs="*", help="d_modelxn_layers, e.g. 16x2 (default: lk.memory.SWEEP)")
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent.parent / "datasets" / "scaling_sweep.csv"))
    args = ap.parse_args()
    lk.setup(seed=0)
    sizes = [tuple(int(v) for v in s.split("x")) for s in args.sizes] if args.sizes else lk.memory.SWEEP["sizes"]
    rows, t0 = [], time.perf_counter()
    for tokens in (lk.memory.SWEEP["short_tokens"], lk.memory.SWEEP["tokens"]):
        for d, n in sizes:
            row = lk.memory.sweep_point(d, n, tokens=tokens)
            rows.append(row)
            print(row, flush=True)
    with open(args.out, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    print(f"wrote {args.out}: {len(rows)} rows in {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
