"""`make wheelhouse`: every wheel the course needs, in one folder, for installs with no network.

    python workshop/wheelhouse.py download WHEELHOUSE '.[test,hub,zh]'
    WHEELHOUSE=WHEELHOUSE make lab        # then: pip install --no-index --find-links WHEELHOUSE …

The wheels are for the OS, CPU and Python of the machine that downloads them (pip picks the
matching builds). For a room of mixed laptops, build one wheelhouse per platform on a machine of
that platform. The build tools pip needs to install labkit itself (setuptools, wheel) and pip
are included, so the offline install needs nothing else.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BUILD_TOOLS = ["setuptools>=68", "wheel", "pip"]


def download(dest: str | Path, spec: str = ".[test,hub,zh]", python: str = sys.executable) -> list[Path]:
    """Download ``spec``'s wheels and their dependencies (plus the build tools) into ``dest``."""
    dest = Path(dest)
    if dest.exists() and not dest.is_dir():
        raise ValueError(f"{dest} is a file; pass a folder for the wheelhouse.")
    dest.mkdir(parents=True, exist_ok=True)
    subprocess.run([python, "-m", "pip", "download", "--quiet", "--dest", str(dest), spec, *BUILD_TOOLS], check=True)
    # pip saves a local project (the course itself) as an sdist/zip: the offline install uses the source tree
    for p in dest.iterdir():
        if p.suffix == ".zip" or p.name.startswith("labkit-"):
            p.unlink()
    wheels = sorted(dest.glob("*.whl")) + sorted(dest.glob("*.tar.gz"))
    size = sum(p.stat().st_size for p in wheels) / 1e6
    print(f"wheelhouse {dest}: {len(wheels)} files, {size:.0f} MB")
    return wheels


if __name__ == "__main__":
    if len(sys.argv) < 3 or sys.argv[1] != "download":
        sys.exit("usage: python workshop/wheelhouse.py download FOLDER SPEC")
    try:
        download(sys.argv[2], sys.argv[3])
    except (ValueError, subprocess.CalledProcessError) as exc:
        sys.exit(f"wheelhouse: {exc}")
