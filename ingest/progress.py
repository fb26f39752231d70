"""Progress of an ingest: rich bars per stage on a terminal, plain log lines otherwise."""

from __future__ import annotations

import logging
import sys
import time
from typing import Protocol

log = logging.getLogger("factvault.ingest")


class ProgressSink(Protocol):
    def advance(self, stage: str, n: int = 1, total: int | None = None) -> None: ...

    def note(self, message: str) -> None: ...

    def close(self) -> None: ...


class NullProgress:
    def advance(self, stage: str, n: int = 1, total: int | None = None) -> None:
        pass

    def note(self, message: str) -> None:
        pass

    def close(self) -> None:
        pass


class LogProgress:
    """One line per stage every ``every`` seconds: readable in CI logs and journald."""

    def __init__(self, every: float = 5.0) -> None:
        self.every = every
        self.counts: dict[str, int] = {}
        self.totals: dict[str, int | None] = {}
        self._last = 0.0

    def advance(self, stage: str, n: int = 1, total: int | None = None) -> None:
        self.counts[stage] = self.counts.get(stage, 0) + n
        if total is not None:
            self.totals[stage] = total
        now = time.monotonic()
        if now - self._last >= self.every:
            self._last = now
            log.info("ingest progress: %s", self._summary())

    def _summary(self) -> str:
        parts = []
        for stage, count in self.counts.items():
            total = self.totals.get(stage)
            parts.append(f"{stage} {count}" + (f"/{total}" if total else ""))
        return ", ".join(parts)

    def note(self, message: str) -> None:
        log.info("%s", message)

    def close(self) -> None:
        if self.counts:
            log.info("ingest progress: %s", self._summary())


class RichProgress:
    def __init__(self) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        self._progress = Progress(
            TextColumn("[bold]{task.description:>12}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            transient=False,
        )
        self._tasks: dict[str, int] = {}
        self._progress.start()

    def advance(self, stage: str, n: int = 1, total: int | None = None) -> None:
        task = self._tasks.get(stage)
        if task is None:
            task = self._progress.add_task(stage, total=total)
            self._tasks[stage] = task
        elif total is not None:
            self._progress.update(task, total=total)
        self._progress.advance(task, n)

    def note(self, message: str) -> None:
        self._progress.console.print(message, markup=False, highlight=False)

    def close(self) -> None:
        self._progress.stop()


def terminal_progress() -> ProgressSink:
    return RichProgress() if sys.stderr.isatty() else LogProgress()
