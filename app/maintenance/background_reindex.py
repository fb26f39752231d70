"""The service's one background reindex: started by the API, watched by polling.

The embedded store belongs to the service process, so a reindex of a running service runs
here, in a thread, while queries keep being served from the current version.
"""

from __future__ import annotations

import threading
import time
from dataclasses import asdict, dataclass, field

from app.core.cpu_gate import CpuGate
from app.core.runtime import Runtime
from ingest.reindex import Judge, ReindexReport, reindex


@dataclass
class ReindexStatus:
    state: str = "idle"  # idle | running | done | failed
    embedder: str | None = None
    done: int = 0
    total: int = 0
    started_at: float | None = None
    error: str | None = None
    report: dict | None = None


@dataclass
class ReindexJob:
    runtime: Runtime
    cpu_gate: CpuGate | None = None
    status: ReindexStatus = field(default_factory=ReindexStatus)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _thread: threading.Thread | None = None

    def start(self, embedder: str, judge: Judge | None = None) -> bool:
        """False if one is already running (one build at a time). ``judge``: the quality
        gate that may refuse the new build (the active version then keeps serving)."""
        with self._lock:
            if self.status.state == "running":
                return False
            self.status = ReindexStatus("running", embedder, started_at=time.time())
            self._thread = threading.Thread(
                target=self._run, args=(embedder, judge), name="reindex", daemon=True
            )
            self._thread.start()
            return True

    def _run(self, embedder: str, judge: Judge | None) -> None:
        def progress(done: int, total: int) -> None:
            self.status.done, self.status.total = done, total

        try:
            report: ReindexReport = reindex(
                self.runtime, embedder, cpu_gate=self.cpu_gate, on_progress=progress, judge=judge
            )
            self.status.report = asdict(report)
            self.status.state = "done"
        except Exception as exc:  # reported to the caller, service keeps going
            self.status.error = f"{type(exc).__name__}: {exc}"
            self.status.state = "failed"
