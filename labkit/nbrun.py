"""A headless notebook client that cannot wait forever on a missed message (used by ``labkit.course``
for ``make timings``/``make capacity`` and by ``labkit grade``; introduced in 00 with ``make timings``).

nbclient waits for a cell's ``execute_reply`` with one long poll of the shell socket (up to the cell
timeout). Runs of this course stalled a few times that way: the kernel idle, the client waiting,
until the limit — the pattern of jupyter/nbclient#312 (open; proposed fix #311: poll in short
slices). :func:`notebook_client` returns an nbclient ``NotebookClient`` whose channels poll in
slices of ``POLL_SLICE_S`` until the same deadline: a message that arrives is still taken at once,
but one whose wake-up was missed is found at the next slice instead of never.
"""
from __future__ import annotations

import inspect
import time
from typing import Any

POLL_SLICE_S = 1.0

__all__ = ["notebook_client", "POLL_SLICE_S"]


def _sliced(get_msg: Any) -> Any:
    from queue import Empty

    async def get_msg_sliced(timeout: float | None = None) -> dict:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            try:
                msg = get_msg(timeout=POLL_SLICE_S if left is None else min(POLL_SLICE_S, left))
                return await msg if inspect.isawaitable(msg) else msg    # async or blocking channel
            except Empty:
                if left is not None and left <= POLL_SLICE_S:
                    raise
    return get_msg_sliced


def notebook_client(nb: Any, **kwargs: Any) -> Any:
    """``nbclient.NotebookClient(nb, **kwargs)`` whose shell and IOPub polls run in short slices."""
    from nbclient import NotebookClient

    class _SlicedPollClient(NotebookClient):
        async def async_start_new_kernel_client(self) -> Any:
            kc = await super().async_start_new_kernel_client()
            for channel in (kc.shell_channel, kc.iopub_channel):
                channel.get_msg = _sliced(channel.get_msg)
            return kc

    return _SlicedPollClient(nb, **kwargs)
