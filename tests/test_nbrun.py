"""labkit.nbrun: the notebook client's polls run in short slices up to the same deadline."""
import asyncio
import time
from queue import Empty

import nbformat
import pytest

from labkit import nbrun


def _fake_channel(ready_after_calls):
    calls = []

    async def get_msg(timeout=None):
        calls.append(timeout)
        if len(calls) > ready_after_calls:
            return {"msg": len(calls)}
        await asyncio.sleep(timeout or 0)
        raise Empty
    return get_msg, calls


def test_a_missed_message_is_found_at_the_next_slice(monkeypatch):
    monkeypatch.setattr(nbrun, "POLL_SLICE_S", 0.01)
    get_msg, calls = _fake_channel(ready_after_calls=3)
    assert asyncio.run(nbrun._sliced(get_msg)(timeout=None)) == {"msg": 4}   # no timeout: keeps polling
    assert calls == [0.01] * 4


def test_the_overall_deadline_still_holds(monkeypatch):
    monkeypatch.setattr(nbrun, "POLL_SLICE_S", 0.02)
    get_msg, calls = _fake_channel(ready_after_calls=10 ** 6)
    t0 = time.monotonic()
    with pytest.raises(Empty):
        asyncio.run(nbrun._sliced(get_msg)(timeout=0.1))
    assert 0.09 <= time.monotonic() - t0 < 1.0 and 4 <= len(calls) <= 7 and max(calls) <= 0.02
    get_msg, calls = _fake_channel(ready_after_calls=10 ** 6)
    with pytest.raises(Empty):
        asyncio.run(nbrun._sliced(get_msg)(timeout=0))                 # timeout 0: one non-blocking poll
    assert calls == [0]


def test_blocking_channels_are_served_too(monkeypatch):
    monkeypatch.setattr(nbrun, "POLL_SLICE_S", 0.01)
    seen = []

    def get_msg(timeout=None):                                          # a BlockingKernelClient's channel
        seen.append(timeout)
        if len(seen) < 3:
            raise Empty
        return {"ok": True}
    assert asyncio.run(nbrun._sliced(get_msg)(timeout=5)) == {"ok": True} and len(seen) == 3


def test_a_notebook_runs_through_the_sliced_client():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 6 * 7"), nbformat.v4.new_code_cell("print(x)")])
    polls = []
    client = nbrun.notebook_client(nb, timeout=120, kernel_name="python3", on_cell_executed=lambda **_: polls.append(
        (client.kc.shell_channel.get_msg.__name__, client.kc.iopub_channel.get_msg.__name__)))
    client.execute()
    assert client.nb.cells[1].outputs[0]["text"] == "42\n"
    assert polls == [("get_msg_sliced", "get_msg_sliced")] * 2
