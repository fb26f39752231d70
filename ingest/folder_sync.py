"""Keeping a collection in step with folders: ``factvault sync PATH... --collection C``.

A pass compares the files under the folders with the documents stored from them: new and
changed files are ingested, documents whose files are gone are forgotten (ingest/forget.py,
with everything derived from them). The documents table is the record of what was seen,
so nothing is kept in memory between passes: a sync stopped and started again, or a file
deleted while nothing watched, is caught up by the next pass.

``--watch`` then follows file events (watchdog's inotify observer) and syncs only the paths
they name once the folder has been quiet for the debounce, so an editor's burst of writes
(temp file, write, rename) is one ingest; a rename is the old path forgotten and the new one
ingested.

A pass runs the same whether this process owns the stores (:class:`LocalTarget`) or a
running service does (the CLI's API target, app/cli/sync.py): both are a
:class:`SyncTarget`. Identity is the file's absolute path, so either way a file is the same
document.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from sqlalchemy import or_, select
from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from app.core.db import Document, source_under
from app.core.runtime import Runtime
from ingest.loaders import loader_version
from ingest.progress import ProgressSink
from ingest.sources import SourceFile, discover

# Above this many paths in one batch of events, the whole roots are compared instead.
MAX_SCOPES = 32


@dataclass(frozen=True)
class Stored:
    """What the store holds for one source path."""

    id: int
    sha256: str
    collection: str
    loader_version: str


class SyncTarget(Protocol):
    """Where a sync writes: this process's stores, or the running service's API."""

    def stored(self, scopes: Sequence[str]) -> dict[str, Stored]:
        """Documents whose source is one of ``scopes`` or lies under one of them."""

    def put(self, files: Sequence[Path], collection: str) -> list[tuple[str, str]]:
        """Ingest these files into ``collection``; returns (source, reason) per failure."""

    def forget(self, doc_ids: Sequence[int]) -> int:
        """Forget these documents (and what was derived from them); returns how many."""


@dataclass
class SyncReport:
    """One pass: what changed, in order, and how long it took."""

    actions: list[tuple[str, str]] = field(default_factory=list)  # (new|changed|forgotten, src)
    unchanged: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    seconds: float = 0.0

    def count(self, action: str) -> int:
        return sum(1 for a, _ in self.actions if a == action)

    @property
    def summary(self) -> str:
        return (
            f"new {self.count('new')}, changed {self.count('changed')}, "
            f"forgotten {self.count('forgotten')}, unchanged {self.unchanged}, "
            f"failed {len(self.failed)} ({self.seconds:.2f} s)"
        )


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class Syncer:
    """Compares folders with the store and applies the difference through a target."""

    def __init__(self, target: SyncTarget, roots: Sequence[Path], collection: str) -> None:
        self.target = target
        self.roots = [Path(r).expanduser().resolve() for r in roots]
        self.collection = collection

    def full_pass(self) -> SyncReport:
        """Every file under the roots against every document stored from them."""
        started = time.perf_counter()
        files, bad = discover(self.roots)
        report = self._apply({f.path for f in files}, self.roots)
        report.failed[:0] = bad
        report.seconds = time.perf_counter() - started
        return report

    def paths_changed(self, paths: Iterable[Path]) -> SyncReport:
        """Only the paths that file events named: each is now a file, a folder (moved in:
        everything under it), or gone (the document, or every document under it, forgotten).
        """
        started = time.perf_counter()
        scopes = sorted({p for p in (Path(x) for x in paths) if self._watched(p)})
        # A path under another one in the batch is covered by it.
        scopes = [p for p in scopes if not any(q != p and q in p.parents for q in scopes)]
        if len(scopes) > MAX_SCOPES:
            return self.full_pass()
        present: set[Path] = set()
        for path in scopes:
            if path.is_file():
                present.add(path)
            elif path.is_dir():
                present |= {f.path for f in discover([path])[0]}
        report = self._apply(present, scopes)
        report.seconds = time.perf_counter() - started
        return report

    def _watched(self, path: Path) -> bool:
        """Under a root and not hidden (as ``discover`` skips dot-files and dot-folders)."""
        for root in self.roots:
            if path == root:
                return True
            if root in path.parents:
                return not any(part.startswith(".") for part in path.relative_to(root).parts)
        return False

    def _apply(self, present: set[Path], scopes: Sequence[Path]) -> SyncReport:
        report = SyncReport()
        stored = self.target.stored([s.as_posix() for s in scopes])
        to_put: list[tuple[Path, str]] = []
        present = set(present)
        for path in sorted(present):
            doc = stored.get(path.as_posix())
            try:
                same = (
                    doc is not None
                    and doc.collection == self.collection
                    and doc.loader_version == loader_version(path)
                    and doc.sha256 == file_sha256(path)
                )
            except FileNotFoundError:  # deleted since it was listed: it is gone, not broken
                present.discard(path)
                continue
            except OSError as exc:
                report.failed.append((path.as_posix(), f"cannot read file ({exc.strerror})"))
                continue
            if same:
                report.unchanged += 1
            else:
                to_put.append((path, "new" if doc is None else "changed"))
        # New versions go in before anything is forgotten: a crash between the two leaves
        # an extra document for the next pass to forget, never a missing one.
        failures = dict(self.target.put([p for p, _ in to_put], self.collection)) if to_put else {}
        for path, action in to_put:
            source = path.as_posix()
            if source in failures and not path.exists():  # deleted while it was read
                present.discard(path)
            elif source in failures:
                report.failed.append((source, failures[source]))
            else:
                report.actions.append((action, source))
        gone = {s: d for s, d in stored.items() if Path(s) not in present}
        if gone:
            self.target.forget([d.id for d in gone.values()])
            report.actions += [("forgotten", s) for s in sorted(gone)]
        return report


class LocalTarget:
    """This process owns the stores: the ingest pipeline and ``forget`` directly."""

    def __init__(self, runtime: Runtime, progress: Callable[[], ProgressSink] | None = None):
        self.rt = runtime
        self.progress = progress

    def stored(self, scopes: Sequence[str]) -> dict[str, Stored]:
        if not scopes:
            return {}
        with self.rt.db.session() as s:
            rows = s.execute(
                select(
                    Document.source,
                    Document.id,
                    Document.sha256,
                    Document.collection,
                    Document.loader_version,
                )
                .where(or_(*(source_under(p) for p in scopes)))
                .where(Document.parent_id.is_(None))  # attachments follow their mail
            ).all()
        return {src: Stored(i, sha, coll, ver) for src, i, sha, coll, ver in rows}

    def put(self, files: Sequence[Path], collection: str) -> list[tuple[str, str]]:
        from ingest.pipeline import IngestPipeline

        progress = self.progress() if self.progress else None
        items = [SourceFile(p.as_posix(), p, collection=collection) for p in files]
        return IngestPipeline(self.rt, progress=progress).run(items).errors

    def forget(self, doc_ids: Sequence[int]) -> int:
        from ingest.forget import remove_documents

        return remove_documents(self.rt, doc_ids)


class Watcher:
    """Follows file events under the syncer's roots and syncs the paths they name.

    The observer starts before the first full pass, so a change made during that pass is
    not missed (it is looked at again afterwards). A batch waits until no event has come
    for ``debounce`` seconds, or at most ``max_delay``, so a folder that never stops
    changing is still synced. A pass that fails (the service went away) is retried with
    its paths after ``retry_seconds``.
    """

    def __init__(
        self,
        syncer: Syncer,
        debounce: float = 1.0,
        on_report: Callable[[SyncReport], None] = lambda r: None,
        on_error: Callable[[Exception], None] = lambda e: None,
        retry_seconds: float = 5.0,
    ) -> None:
        self.syncer = syncer
        self.debounce = debounce
        self.max_delay = max(10 * debounce, 5.0)
        self.on_report = on_report
        self.on_error = on_error
        self.retry_seconds = retry_seconds
        self._pending: set[Path] = set()
        self._first = self._last = 0.0
        self._cond = threading.Condition()

    def notice(self, *paths: str | bytes) -> None:
        """An event named these paths (called from the observer's thread)."""
        with self._cond:
            now = time.monotonic()
            if not self._pending:
                self._first = now
            self._last = now
            for p in paths:
                self._pending.add(Path(p.decode() if isinstance(p, bytes) else p))
            self._cond.notify()

    def run(self, stop: threading.Event) -> None:
        """Full pass, then event-driven passes until ``stop`` is set."""
        observer = Observer()
        handler = _Events(self)
        for root in self.syncer.roots:
            if root.is_dir():
                observer.schedule(handler, str(root), recursive=True)
            else:  # a single file: its folder, not recursively; other files are filtered
                observer.schedule(handler, str(root.parent), recursive=False)
        observer.start()
        try:
            self._pass(self.syncer.full_pass, set())
            while not stop.is_set():
                batch = self._next_batch(stop)
                if batch:
                    self._pass(lambda b=batch: self.syncer.paths_changed(b), batch)
        finally:
            observer.stop()
            observer.join(timeout=5)

    def _pass(self, run: Callable[[], SyncReport], batch: set[Path]) -> None:
        try:
            report = run()
        except Exception as exc:  # e.g. the service is restarting: try these paths again
            self.on_error(exc)
            time.sleep(self.retry_seconds)
            with self._cond:
                self._pending |= batch or set(self.syncer.roots)
                self._first = self._last = time.monotonic()
            return
        if report.actions or report.failed:
            self.on_report(report)

    def _next_batch(self, stop: threading.Event) -> set[Path]:
        with self._cond:
            while not self._pending:
                if stop.is_set():
                    return set()
                self._cond.wait(timeout=0.5)
            while not stop.is_set():
                now = time.monotonic()
                due = min(self._last + self.debounce, self._first + self.max_delay)
                if now >= due:
                    break
                self._cond.wait(timeout=due - now)
            batch, self._pending = self._pending, set()
            return batch


class _Events(FileSystemEventHandler):
    """watchdog's callbacks -> the watcher's pending paths. A folder's own "modified"
    (its listing changed) and opens/closes without a write name nothing new."""

    KINDS = {"created", "modified", "deleted", "moved", "closed"}

    def __init__(self, watcher: Watcher) -> None:
        super().__init__()
        self.watcher = watcher

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type not in self.KINDS:
            return
        if event.is_directory and event.event_type == "modified":
            return
        paths = [event.src_path]
        if getattr(event, "dest_path", ""):
            paths.append(event.dest_path)
        self.watcher.notice(*paths)
