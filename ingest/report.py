"""What an ingest run did: counts, failures with their reasons, and seconds per stage."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from app.core import tracing


@dataclass
class IngestReport:
    run_id: int = 0
    files_seen: int = 0
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    failed: int = 0
    pruned: int = 0
    chunks_written: int = 0
    errors: list[tuple[str, str]] = field(default_factory=list)
    stage_seconds: dict[str, float] = field(default_factory=dict)
    repaired_orphans: int = 0
    repaired_missing: int = 0
    documents: list[int] = field(default_factory=list)
    elapsed: float = 0.0

    @property
    def ok(self) -> bool:
        return self.failed == 0

    def add_time(self, stage: str, seconds: float) -> None:
        self.stage_seconds[stage] = self.stage_seconds.get(stage, 0.0) + seconds


class StageTimer:
    """Times one ingest stage into the report, and traces it as ``factvault.ingest.<stage>``
    (app/core/tracing.py; a no-op while tracing is off)."""

    def __init__(self, report: IngestReport, stage: str) -> None:
        self.report, self.stage = report, stage

    def __enter__(self) -> None:
        self.t0 = time.perf_counter()
        self._span = tracing.stage(f"ingest.{self.stage.replace(' ', '_')}")
        self._span.__enter__()

    def __exit__(self, *exc: object) -> None:
        self._span.__exit__(*exc)  # type: ignore[arg-type]
        self.report.add_time(self.stage, time.perf_counter() - self.t0)
