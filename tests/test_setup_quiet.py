"""A notebook's setup cell prints nothing on stderr on a healthy machine (no red TensorFlow log)."""
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def _setup_cell(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    cell = next(c for c in nb["cells"] if c["cell_type"] == "code")
    return "".join(cell["source"])


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_setup_cell_imports_labkit_before_tensorflow(path):
    code = [ln for ln in _setup_cell(path).splitlines() if ln.strip() and not ln.startswith("#")]
    assert code[0].startswith("import labkit as lk"), \
        f"{path.name}: the setup cell must start with `import labkit as lk` (it silences TensorFlow's start-up log)"


@pytest.mark.parametrize("name", ["00_welcome.ipynb", "05_cnn.ipynb"])
def test_setup_cell_writes_nothing_to_stderr(name):
    from jupyter_client.manager import start_new_kernel
    km, kc = start_new_kernel(kernel_name="python3", cwd=str(ROOT / "notebooks"))
    try:
        msg_id = kc.execute(_setup_cell(ROOT / "notebooks" / name))
        stderr, error = [], None
        while True:
            msg = kc.get_iopub_msg(timeout=120)
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            kind, content = msg["msg_type"], msg["content"]
            if kind == "stream" and content["name"] == "stderr":
                stderr.append(content["text"])
            elif kind == "error":
                error = content["evalue"]
            elif kind == "status" and content["execution_state"] == "idle":
                break
        assert error is None, error
        assert "".join(stderr).strip() == "", f"the setup cell of {name} wrote to stderr:\n{''.join(stderr)}"
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
