"""Collect every learner's notebooks from the course server and grade them with `labkit grade`.

    python workshop/grade_all.py 00 01            # notebooks 00 and 01 of every learner
    python workshop/grade_all.py --homes /home 03 # The Littlest JupyterHub: one /home/jupyter-NAME each

The instructor runs this on the server (a terminal in their own JupyterLab on the hub, or ssh).
Each learner's `course/NN_*.ipynb` is copied into `<out>/submitted/<learner>/` (the learner's
files are only read), then `labkit grade` runs each copy in its own process with a time limit
and writes one CSV row per learner, notebook and exercise.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_HOMES = Path(os.environ.get("LABKIT_HUB_STATE", ROOT / "workshop" / "state")) / "home"


def collect(homes: Path, notebooks: list[str], dest: Path, skip: set[str] = frozenset(),
            prefix: str = "") -> dict[str, list[Path]]:
    """Copy ``homes/<learner>/course/NN_*.ipynb`` to ``dest/<learner>/``; returns what was copied."""
    if not homes.is_dir():
        raise ValueError(f"{homes} is not a folder of learner homes; pass --homes (TLJH: /home).")
    got: dict[str, list[Path]] = {}
    for home in sorted(p for p in homes.iterdir() if p.is_dir()):
        learner = home.name[len(prefix):] if prefix and home.name.startswith(prefix) else home.name
        if learner in skip or (prefix and not home.name.startswith(prefix)):
            continue
        for nn in notebooks:
            for nb in sorted((home / "course").glob(f"{nn}_*.ipynb")):
                (dest / learner).mkdir(parents=True, exist_ok=True)
                shutil.copy2(nb, dest / learner / nb.name)
                got.setdefault(learner, []).append(nb)
    return got


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("notebooks", nargs="+", help="notebook numbers, e.g. 00 01")
    p.add_argument("--homes", type=Path, default=DEFAULT_HOMES, help=f"learners' home folders (default {DEFAULT_HOMES})")
    p.add_argument("--prefix", default="", help="home-folder prefix to strip, e.g. jupyter- on TLJH")
    p.add_argument("--skip", default=os.environ.get("LABKIT_HUB_INSTRUCTORS", "instructor"),
                   help="comma-separated names not graded (instructors)")
    p.add_argument("--out", type=Path, default=Path("grading"), help="folder for submitted/ and grades.csv")
    p.add_argument("--timeout", type=float, default=300.0, help="seconds allowed per notebook")
    a = p.parse_args(argv)
    sub = a.out / "submitted"
    if sub.exists():
        shutil.rmtree(sub)  # a fresh collection each time: only the learners' current files count
    got = collect(a.homes, a.notebooks, sub, set(a.skip.split(",")), a.prefix)
    if not got:
        print(f"grade_all: no course/NN_*.ipynb for {a.notebooks} under {a.homes}; "
              "have the learners logged in?", file=sys.stderr)
        return 2
    print(f"collected {sum(map(len, got.values()))} notebooks from {len(got)} learners into {sub}")
    return subprocess.call([sys.executable, "-m", "labkit", "grade", str(sub), "--out", str(a.out / "grades.csv"),
                            "--timeout", str(a.timeout)])


if __name__ == "__main__":
    sys.exit(main())
