"""``labkit student``: student copies of the notebooks, made with nbgrader's own preprocessors.

Solutions between ``### BEGIN SOLUTION`` / ``### END SOLUTION`` become a stub that raises
``NotImplementedError`` pointing at the hints; outputs are cleared. nbgrader's
``ClearSolutions`` and ``ClearOutput`` run through nbconvert, so instructors can use nbgrader
itself on the same notebooks.

A learner's edits are never lost: the output folder keeps a manifest of what was generated;
a copy the learner has changed (or one the manifest does not know) is skipped unless
``force=True``, and even then it is first moved aside to ``NAME.ipynb.bak-<time>``.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MANIFEST = ".labkit-student.json"
STUB = ("# YOUR CODE HERE — run lk.hint({id!r}) for a hint\n"
        "raise NotImplementedError(\"Exercise {id}: replace this line with your solution; lk.hint({id!r}) gives a hint\")")
_GENERIC_ID = "__EXERCISE__"


@dataclass
class Written:
    """What happened to one notebook: ``written``, ``unchanged``, ``skipped`` (edited), ``replaced`` or ``error``."""
    path: Path
    action: str
    backup: Path | None = None
    error: str = ""


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def student_version(src: Path) -> str:
    """The student version of one notebook, as JSON text."""
    import nbformat
    from nbconvert.exporters import NotebookExporter
    from nbgrader.preprocessors import ClearOutput, ClearSolutions
    from traitlets.config import Config

    if not Path(src).is_file():
        raise ValueError(f"{src} is not a notebook file; pass notebooks/NN_name.ipynb.")
    try:
        nb = nbformat.read(src, as_version=4)
        nbformat.validate(nb)
    except Exception as exc:
        why = str(exc).strip().splitlines()[0][:120] if str(exc).strip() else type(exc).__name__
        raise ValueError(f"{src} is not a valid notebook ({why}); restore it with `git checkout -- {src}` "
                         "or re-save it from JupyterLab.") from None
    c = Config()
    c.ClearSolutions.enforce_metadata = False
    c.ClearSolutions.code_stub = {"python": STUB.format(id=_GENERIC_ID)}
    c.ClearSolutions.text_stub = "YOUR ANSWER HERE"
    exporter = NotebookExporter(config=c)
    exporter.register_preprocessor(ClearSolutions(config=c), enabled=True)
    exporter.register_preprocessor(ClearOutput(config=c), enabled=True)
    body, _ = exporter.from_notebook_node(nb)
    out = nbformat.reads(body, as_version=4)
    for cell in out.cells:
        if cell.cell_type != "code" or _GENERIC_ID not in cell.source:
            continue
        m = re.search(r"lk\.check\(\s*[\"'](\d\d\.\w+)[\"']", cell.source)
        cell.source = cell.source.replace(_GENERIC_ID, m.group(1) if m else "the exercise id")
        cell.metadata.pop("nbgrader", None)
    return nbformat.writes(out)


def _read_manifest(man_path: Path) -> dict[str, str]:
    if not man_path.exists():
        return {}
    try:
        data = json.loads(man_path.read_text(encoding="utf-8"))
    except (ValueError, OSError) as exc:
        data = exc
    if not isinstance(data, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in data.items()):
        raise ValueError(f"{man_path} is damaged (not a table of notebook → hash); delete it and rerun — your "
                         "edited copies are then kept (skipped) unless you pass --force.")
    return data


def make(out_dir: str | Path = "student", notebooks: list[str | Path] | None = None,
         force: bool = False) -> list[Written]:
    """Write student copies into ``out_dir``; never overwrites a learner's edited copy without ``force``."""
    out = Path(out_dir)
    srcs = [Path(p) for p in notebooks] if notebooks else sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    if not srcs:
        raise ValueError("No notebooks found to convert; run from the course folder or pass paths.")
    if out.resolve() == (ROOT / "notebooks").resolve():
        raise ValueError("The student folder must not be notebooks/ (it would replace the solutions); "
                         "use e.g. --out student.")
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {out} is a file, not a folder; name a folder, e.g. --out student.")
    try:
        out.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".probe-", dir=out)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise ValueError(f"cannot write to {out} ({exc.strerror or exc}); choose a folder you can write to "
                         f"(--out DIR) or fix its permissions (chmod u+w {out}).") from None
    man_path = out / MANIFEST
    manifest = _read_manifest(man_path)
    results = []
    for src in srcs:
        try:
            text = student_version(src).encode("utf-8")
        except ValueError as exc:  # one bad notebook does not stop the others
            results.append(Written(out / Path(src).name, "error", error=str(exc)))
            continue
        dest = out / src.name
        new_hash = _sha(text)
        backup = None
        if dest.exists():
            current = _sha(dest.read_bytes())
            if current == new_hash:
                manifest[src.name] = new_hash
                results.append(Written(dest, "unchanged"))
                continue
            edited = manifest.get(src.name) != current
            if edited and not force:
                results.append(Written(dest, "skipped"))
                continue
            if edited:  # force: keep the learner's work next to the new copy
                backup = dest.with_name(f"{dest.name}.bak-{time.strftime('%Y%m%d-%H%M%S')}")
                n = 1
                while backup.exists():
                    backup = dest.with_name(f"{dest.name}.bak-{time.strftime('%Y%m%d-%H%M%S')}-{n}")
                    n += 1
                shutil.move(dest, backup)
        tmp = dest.with_suffix(".ipynb.tmp")
        tmp.write_bytes(text)
        tmp.replace(dest)
        manifest[src.name] = new_hash
        results.append(Written(dest, "replaced" if backup else "written", backup))
    man_path.write_text(json.dumps(manifest, indent=1, sort_keys=True))
    return results
