"""Print a JupyterLab settings folder that opens the interface in LANG (e.g. zh_CN); used by `make lab LAB_LANG=zh_CN`.

The folder is the course's own settings (labkit/lab_settings/overrides.json: no news pop-up,
no update check) plus the interface language. The language pack must be installed
(`pip install -e '.[zh]'`, which `make lab` does); without it JupyterLab stays in English.
"""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def settings_dir(lang: str) -> Path:
    """Write build/lab_settings_<lang>/overrides.json and return the folder."""
    if not re.fullmatch(r"[a-z]{2}_[A-Z]{2}|en", lang or ""):
        raise ValueError(f"LAB_LANG must look like zh_CN (language_REGION), got {lang!r}.")
    overrides = json.loads((ROOT / "labkit" / "lab_settings" / "overrides.json").read_text())
    overrides["@jupyterlab/translation-extension:plugin"] = {"locale": "en" if lang == "en" else lang}
    out = ROOT / "build" / f"lab_settings_{lang}"
    out.mkdir(parents=True, exist_ok=True)
    (out / "overrides.json").write_text(json.dumps(overrides, indent=2, ensure_ascii=False) + "\n")
    return out


if __name__ == "__main__":
    try:
        print(settings_dir(sys.argv[1] if len(sys.argv) > 1 else ""))
    except ValueError as exc:
        sys.exit(f"lab_lang: {exc}")
