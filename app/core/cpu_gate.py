"""One gate for heavy CPU work in a process: an embedding batch or a generation at a time."""

from __future__ import annotations

import threading


class CpuGate:
    """Keeps heavy CPU work (an embedding batch, a generation) from running at once.

    On 2 cores, a generation beside an ingest's embedding slows both by more than half;
    taking turns finishes each sooner. Callers take ``gate()`` as a context manager.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def __call__(self) -> threading.Lock:
        return self._lock
