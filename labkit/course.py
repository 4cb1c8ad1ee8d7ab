"""The course as a whole: notebook list, measured run times (``make timings``) and the
workshop plan generated from them (``make plan``)."""
from __future__ import annotations

import json
import math
import os
import platform
import re
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
TIMINGS = NOTEBOOKS / "timings.json"
PLAN = NOTEBOOKS / "WORKSHOP_PLAN.md"
README = ROOT / "README.md"

#: minutes a learner spends per notebook beyond running it: reading, plus per exercise
READ_MIN, EXERCISE_MIN, QUIZ_MIN = 15, 12, 8
HALF_DAY_MIN, FULL_DAY_MIN = 210, 420


def notebooks() -> list[Path]:
    """The course notebooks in order."""
    return sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))


def title(path: Path) -> str:
    """A notebook's title, from its first cell (``# 05 · Convolutional networks`` → the topic)."""
    import nbformat
    nb = nbformat.read(path, as_version=4)
    first = nb.cells[0].source.splitlines()[0] if nb.cells else path.stem
    return first.split("·", 1)[-1].strip() if "·" in first else path.stem


class NotebookStalled(RuntimeError):
    """A headless notebook run passed its overall limit (twice); the message names the cell."""


def run_notebook(path: Path, timeout: int = 600, *, overall: float | None = None, retries: int = 1,
                 echo=print) -> float:
    """Execute a notebook headless (outputs discarded); return its wall time in seconds.

    ``timeout`` bounds one cell, ``overall`` (default: ``timeout``) the whole notebook. A run past
    ``overall`` is stopped (kernel shut down), reported with the cell that was running, and
    retried ``retries`` times; :class:`NotebookStalled` if every try stalls.
    """
    import asyncio
    import nbformat
    from .nbrun import notebook_client
    path = Path(path)
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not 0 < timeout < float("inf"):
        raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}.")
    overall = float(timeout if overall is None else overall)
    if not 0 < overall < float("inf"):
        raise ValueError(f"overall must be a positive finite number of seconds, got {overall!r}.")
    if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
        raise ValueError(f"retries must be an int >= 0, got {retries!r}.")
    reports = []
    for attempt in range(retries + 1):
        nb = nbformat.read(path, as_version=4)
        where = {"cell": None, "since": time.perf_counter()}

        def started(cell, cell_index, **_):
            where.update(cell=cell_index, since=time.perf_counter(),
                         line=(cell.source.strip().splitlines() or [""])[0][:80])
        client = notebook_client(nb, timeout=int(max(1, timeout)), kernel_name="python3", on_cell_start=started,
                                 resources={"metadata": {"path": str(path.parent)}})
        async def bounded() -> bool:
            task = asyncio.ensure_future(client.async_execute())
            done, _ = await asyncio.wait({task}, timeout=overall)
            if task in done:
                task.result()  # a cell error propagates as before
                return True
            task.cancel()  # nbclient shuts the kernel down on cancellation
            try:
                await task
            except BaseException:
                pass
            return False

        t0 = time.perf_counter()
        if asyncio.run(bounded()):
            return time.perf_counter() - t0
        else:
            cell = ("before the first cell (kernel start)" if where["cell"] is None else
                    f"in cell {where['cell']} (`{where.get('line', '')}`), running for "
                    f"{time.perf_counter() - where['since']:.0f} s")
            reports.append(f"{path.name}: stopped after {overall:.0f} s {cell}")
            echo(reports[-1] + ("; retrying once" if attempt < retries else ""))
    raise NotebookStalled("; ".join(reports) + ". If the same cell stalls each time, run it by hand; if a "
                          "different one does, the machine is overloaded (retry later).")


def measure(only: list[str] | None = None, echo=print) -> dict:
    """Run notebooks (all, or those whose name starts with one of ``only``), save ``timings.json``."""
    data = {"machine": "", "notebooks": {}}
    if TIMINGS.exists():
        data = json.loads(TIMINGS.read_text())
    data["machine"] = f"{platform.machine()}, {os.cpu_count()} cores, {platform.python_version()}"
    data["measured"] = time.strftime("%Y-%m-%d")
    for p in notebooks():
        if only and not any(p.name.startswith(o) for o in only):
            continue
        secs = run_notebook(p)
        echo(f"{p.name:<36} {secs:6.1f} s")
        data["notebooks"][p.stem] = {"seconds": round(secs, 1), "title": title(p)}
    TIMINGS.write_text(json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False) + "\n")
    update_readme(data)
    update_run_time_headers(data)
    return data


RUN_TIME = re.compile(r"(\*\*Run time\*\* on a 2-core CPU at the default profile: about )(\d+)( s)")


def header_seconds(measured_s: float) -> int:
    """What a notebook's "Run time" line states for a measured run: rounded up to a multiple of 5 s."""
    return int(5 * math.ceil(float(measured_s) / 5))


def update_run_time_headers(data: dict | None = None) -> list[str]:
    """Rewrite each measured notebook's "**Run time** … about N s" line from ``timings.json``; returns the changed names."""
    if data is None:
        data = json.loads(TIMINGS.read_text()) if TIMINGS.exists() else {"notebooks": {}}
    changed = []
    for p in notebooks():
        rec = data["notebooks"].get(p.stem)
        if not rec:
            continue
        nb = json.loads(p.read_text(encoding="utf-8"))
        first = nb["cells"][0]
        src = "".join(first["source"]) if isinstance(first["source"], list) else first["source"]
        new = RUN_TIME.sub(lambda m: f"{m.group(1)}{header_seconds(rec['seconds'])}{m.group(3)}", src, count=1)
        if new != src:
            first["source"] = new.splitlines(keepends=True)
            p.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
            changed.append(p.name)
    return changed


def syllabus_table(data: dict | None = None) -> str:
    """The README's syllabus table (notebook, topic, CPU run time)."""
    if data is None:
        data = json.loads(TIMINGS.read_text()) if TIMINGS.exists() else {"notebooks": {}}
    rows = ["| notebook | topic | CPU run time (2 cores) |", "|---|---|---|"]
    for p in notebooks():
        rec = data["notebooks"].get(p.stem)
        t = f"{rec['seconds']:.0f} s" if rec else "not measured"
        rows.append(f"| [`{p.name}`](notebooks/{p.name}) | {title(p)} | {t} |")
    return "\n".join(rows)


def _replace_between_markers(path: Path, marker: str, table: str) -> bool:
    """Replace what stands between ``<!-- {marker}:start -->`` and ``<!-- {marker}:end -->`` in ``path``
    with ``table``; True if the file changed (False if it does not exist)."""
    if not path.exists():
        return False
    text = path.read_text(encoding="utf-8")
    new = re.sub(rf"(<!-- {marker}:start -->\n).*?(<!-- {marker}:end -->)",
                 lambda m: m.group(1) + table + "\n" + m.group(2), text, flags=re.S)
    if new != text:
        path.write_text(new, encoding="utf-8")
    return new != text


def update_readme(data: dict | None = None) -> bool:
    """Replace the table between the README's timing markers; True if the README changed."""
    return _replace_between_markers(README, "syllabus", syllabus_table(data))


def plan() -> str:
    """A workshop plan in Markdown: which notebooks fit a half day and a full day, with exercises."""
    from .check import all_exercises
    data = json.loads(TIMINGS.read_text()) if TIMINGS.exists() else {"notebooks": {}}
    items = []
    for p in notebooks():
        nn = p.name[:2]
        exs = all_exercises(nn)
        run_s = data["notebooks"].get(p.stem, {}).get("seconds", 60.0)
        minutes = READ_MIN + EXERCISE_MIN * len(exs) + (QUIZ_MIN if nn not in ("00", "19") else 0) + run_s / 60
        items.append((p, nn, exs, minutes, run_s))

    def block(name: str, budget: int, chosen: list) -> list[str]:
        total = sum(m for *_, m, _ in chosen)
        out = [f"### {name} ({total:.0f} of {budget} min)", ""]
        for p, nn, exs, m, run_s in chosen:
            out.append(f"- **{p.stem}** — {title(p)}: ~{m:.0f} min (runs in {run_s:.0f} s)")
            out += [f"  - exercise `{e.id}`: {e.title}" for e in exs]
        return out + [""]

    def fill(start: int, budget: int) -> list:
        chosen, used = [], 0.0
        for it in items[start:]:
            if used + it[3] > budget:
                break
            chosen.append(it)
            used += it[3]
        return chosen

    lines = ["# Workshop plan", "",
             f"Generated by `make plan` from `notebooks/timings.json` ({data.get('measured', 'not measured')}). "
             f"A notebook's time = {READ_MIN} min reading + {EXERCISE_MIN} min per exercise + {QUIZ_MIN} min quiz "
             "+ its measured run time. Half day = 3.5 h, full day = 7 h of teaching time (breaks not counted).", "",
             "## Half day", ""]
    lines += block("Half day: foundations", HALF_DAY_MIN, fill(0, HALF_DAY_MIN))
    lines += ["## Full days (the whole course)", ""]
    i, day = 0, 1
    while i < len(items):
        chosen = fill(i, FULL_DAY_MIN) or [items[i]]
        lines += block(f"Day {day}: {chosen[0][0].stem[:2]}–{chosen[-1][0].stem[:2]}", FULL_DAY_MIN, chosen)
        i += len(chosen)
        day += 1
    lines += ["## Before the workshop", "",
              "1. `make test` on the room's machine image (every notebook runs offline).",
              "2. `labkit student --out student` and hand out `student/`.",
              "3. Afterwards collect notebooks into `submitted/<name>/` and run `labkit grade submitted/`.", ""]
    text = "\n".join(lines)
    PLAN.write_text(text, encoding="utf-8")
    return text


# ------------------------------------------------------------------ capacity (make capacity)
CAPACITY = ROOT / "workshop" / "capacity.json"
WORKSHOP_README = ROOT / "workshop" / "README.md"
#: server sizes in the instructor table: (vCPU, GB)
SERVER_SIZES = ((8, 32), (16, 64))
#: assumptions of the table (stated next to it in workshop/README.md)
RUNS_PER_HOUR = 4    # full runs of the heaviest notebook per learner per hour (re-running while doing exercises)
TARGET_UTIL = 0.7    # share of the server's cores the class may keep busy on average
SERVER_MB = 250      # one learner's JupyterLab server, kernel not counted
RESERVE_GB = 2       # operating system, JupyterHub, proxy


def _tree_rss(proc) -> int:
    """Resident memory of a process and all its descendants, in bytes (0 for processes that left)."""
    import psutil
    total = 0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            total += p.memory_info().rss
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass
    return total


def _run_measured(paths: list[Path], timeout: int = 600) -> list[dict]:
    """Run notebooks at the same time, one worker process each (course.run_notebook); per run:
    wall seconds, CPU-seconds (worker + kernel) and peak resident memory of its process tree."""
    import psutil
    import resource
    import subprocess
    import sys
    code = ("import sys; from pathlib import Path; from labkit.course import run_notebook; "
            "print(run_notebook(Path(sys.argv[1]), timeout=int(sys.argv[2])))")
    env = dict(os.environ, MPLBACKEND="Agg", LABKIT_HOME=os.environ.get("LABKIT_HOME", "")
               or str(Path.home() / ".labkit-capacity"))
    import tempfile
    # output goes to files, not pipes: a kernel's chatter must never fill a pipe and stall the run
    logs = [tempfile.TemporaryFile(mode="w+") for _ in paths]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    procs = [subprocess.Popen([sys.executable, "-c", code, str(p), str(timeout)], env=env, stdin=subprocess.DEVNULL,
                              stdout=log, stderr=subprocess.STDOUT, text=True) for p, log in zip(paths, logs)]
    handles = [psutil.Process(p.pid) for p in procs]
    peaks, walls = [0] * len(procs), [0.0] * len(procs)
    while any(w == 0.0 for w in walls):
        for i, (p, h) in enumerate(zip(procs, handles)):
            if walls[i]:
                continue
            if p.poll() is None:
                try:
                    peaks[i] = max(peaks[i], _tree_rss(h))
                except psutil.NoSuchProcess:
                    pass
            else:
                walls[i] = time.perf_counter() - t0
        time.sleep(0.2)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_total = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    out = []
    for p, path, wall, peak, log in zip(procs, paths, walls, peaks, logs):
        p.wait()
        log.seek(0)
        err = log.read()
        log.close()
        if p.returncode != 0:
            raise RuntimeError(f"{path.name} failed while measuring capacity: {err.strip().splitlines()[-1:]}")
        out.append({"notebook": path.stem, "wall_s": round(wall, 1), "peak_mb": round(peak / 2**20),
                    "cpu_s": round(cpu_total / len(paths), 1)})
    return out


def capacity(only: list[str] | None = None, ns: tuple[int, ...] = (1, 2, 4), concurrent: str | None = None,
             echo=print, reuse: bool = False) -> dict:
    """Measure peak memory and CPU-seconds per notebook and the slowdown with N learners at once.

    Writes ``workshop/capacity.json`` and the learners-per-server table in ``workshop/README.md``.
    ``only`` limits the notebooks (prefixes such as ``00``); ``concurrent`` names the notebook run
    N times at once (default: the heaviest measured by CPU-seconds). Each notebook's record is saved
    to ``capacity.json`` as soon as it is measured, so a failure later loses nothing; ``reuse=True``
    (``make capacity CAPACITY_ARGS=--reuse``) keeps the records of that file's current run instead of
    measuring those notebooks again.
    """
    if only is not None and (not isinstance(only, (list, tuple)) or not all(isinstance(o, str) for o in only)):
        raise TypeError("only must be a list of notebook prefixes such as ['00', '02'].")
    if not ns or not all(isinstance(n, int) and not isinstance(n, bool) and n >= 1 for n in ns):
        raise ValueError(f"ns must be positive ints such as (1, 2, 4), got {ns!r}.")
    paths = [p for p in notebooks() if not only or any(p.name.startswith(o) for o in only)]
    if not paths:
        raise ValueError(f"No notebook matches {only}; pass prefixes such as 00 02.")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    meta = {"measured": time.strftime("%Y-%m-%d %H:%M"),
            "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.python_version()}",
            "load_average_at_start": round(load, 1)}
    per: dict = {}
    if reuse and CAPACITY.exists():
        old = json.loads(CAPACITY.read_text())
        if old.get("partial"):                      # only an unfinished run is continued
            per = dict(old.get("notebooks", {}))
            meta = {k: old[k] for k in meta if k in old} or meta
    for p in paths:
        if p.stem in per:
            echo(f"{p.name:<36} (kept from the unfinished run of {meta['measured']})")
            continue
        rec = _run_measured([p])[0]
        per[p.stem] = rec
        echo(f"{p.name:<36} peak {rec['peak_mb']:5d} MB   CPU {rec['cpu_s']:6.1f} s   wall {rec['wall_s']:6.1f} s")
        CAPACITY.parent.mkdir(parents=True, exist_ok=True)
        CAPACITY.write_text(json.dumps({**meta, "partial": True, "notebooks": per}, indent=1, sort_keys=True) + "\n")
    heaviest = max(per.values(), key=lambda r: r["cpu_s"])
    name = concurrent or heaviest["notebook"]
    target = next((p for p in paths if p.stem.startswith(name)), None) or \
        next((p for p in notebooks() if p.stem.startswith(name)), None)
    if target is None:
        raise ValueError(f"No notebook {name!r} for the concurrent runs.")
    scaling = {}
    for n in ns:
        runs = _run_measured([target] * n)
        mean_wall = sum(r["wall_s"] for r in runs) / n
        scaling[str(n)] = {"mean_wall_s": round(mean_wall, 1), "max_peak_mb": max(r["peak_mb"] for r in runs)}
        echo(f"{n} learner(s) running {target.stem} at once: {mean_wall:6.1f} s each")
    base = scaling[str(min(ns))]["mean_wall_s"]
    for v in scaling.values():
        v["slowdown"] = round(v["mean_wall_s"] / base, 2) if base else None
    data = {**meta, "notebooks": per, "concurrent_notebook": target.stem, "concurrent": scaling}
    CAPACITY.parent.mkdir(parents=True, exist_ok=True)
    CAPACITY.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    _update_capacity_readme(data)
    return data


def learners_per_server(data: dict, vcpu: int, gb: float) -> dict:
    """Learners a server of ``vcpu`` cores and ``gb`` GB holds, from measured ``data`` (see the README)."""
    if isinstance(vcpu, bool) or not isinstance(vcpu, int) or vcpu < 1 or not gb > RESERVE_GB:
        raise ValueError(f"need vcpu >= 1 and gb > {RESERVE_GB} (kept for the system), got {vcpu!r}, {gb!r}.")
    peak_mb = max(r["peak_mb"] for r in data["notebooks"].values())
    cpu_s = max(r["cpu_s"] for r in data["notebooks"].values())  # CPU-seconds: the load-independent cost
    by_mem = int((gb - RESERVE_GB) * 1024 // (peak_mb + SERVER_MB))
    by_cpu = int(vcpu * TARGET_UTIL * 3600 // (cpu_s * RUNS_PER_HOUR)) if cpu_s > 0 else by_mem
    n = max(min(by_mem, by_cpu), 1)
    return {"learners": n, "by_memory": by_mem, "by_cpu": by_cpu, "all_run_at_once_s": round(n * cpu_s / vcpu)}


def capacity_table(data: dict) -> str:
    """The instructor README's capacity section (Markdown) from ``workshop/capacity.json`` data."""
    rows = ["| notebook | peak memory (MB) | CPU-seconds | wall (s) |", "|---|---|---|---|"]
    for name, r in sorted(data["notebooks"].items(), key=lambda kv: -kv[1]["cpu_s"]):
        rows.append(f"| {name} | {r['peak_mb']} | {r['cpu_s']} | {r['wall_s']} |")
    rows += ["", f"N learners running `{data['concurrent_notebook']}` at the same moment on this machine:", "",
             "| N | mean run time (s) | slowdown vs N=1 |", "|---|---|---|"]
    for n, v in sorted(data["concurrent"].items(), key=lambda kv: int(kv[0])):
        rows.append(f"| {n} | {v['mean_wall_s']} | {v['slowdown']}× |")
    rows += ["", "| server | learners | limited by | if all run the heaviest notebook together, each waits at least |",
             "|---|---|---|---|"]
    for vcpu, gb in SERVER_SIZES:
        c = learners_per_server(data, vcpu, gb)
        lim = "memory" if c["by_memory"] <= c["by_cpu"] else "CPU"
        rows.append(f"| {vcpu} vCPU / {gb} GB | {c['learners']} | {lim} (memory allows {c['by_memory']}, "
                    f"CPU {c['by_cpu']}) | ~{c['all_run_at_once_s']} s |")
    rows += ["", f"Measured {data['measured']} on {data['machine']}, load average {data['load_average_at_start']} "
             f"at the start ({'a loaded machine: figures inflated' if data['load_average_at_start'] > 1.5 else 'idle'}); "
             f"notebooks measured: {', '.join(sorted(data['notebooks']))}. Assumptions: every learner's kernel "
             f"holds the heaviest peak at once, plus {SERVER_MB} MB for their JupyterLab server, {RESERVE_GB} GB "
             f"kept for the system and the hub; each learner runs the heaviest notebook in full {RUNS_PER_HOUR}× "
             f"an hour and the class may keep {TARGET_UTIL:.0%} of the cores busy on average (CPU-seconds, not "
             "wall time, are used: they barely change with the machine's load). Regenerate: `make capacity`."]
    return "\n".join(rows)


def _update_capacity_readme(data: dict) -> bool:
    return _replace_between_markers(WORKSHOP_README, "capacity", capacity_table(data))
