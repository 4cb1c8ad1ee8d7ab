"""Writing a learner's or an instructor's file safely (used by progress, grade and drift; introduced in 00).

:func:`atomic_write_text` writes to a temporary file in the same folder, flushes it to disk and
renames it over the target, so a crash, a full disk or a killed kernel leaves either the old file
or the new one — never half a progress record or half a grade sheet.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

__all__ = ["atomic_write_text"]


def atomic_write_text(path: str | Path, text: str, *, prefix: str = ".tmp-", newline: str | None = None) -> Path:
    """Replace ``path`` with ``text`` (UTF-8) atomically: temp file + fsync + ``os.replace``.

    ``newline`` is passed to ``open`` (``""`` for CSV). The temporary file is removed if anything
    fails, and the error is raised. Returns the path.
    """
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=prefix, suffix=".tmp", dir=p.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline=newline) as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, p)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return p
