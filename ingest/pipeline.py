"""The one ingest pipeline: files -> chunks -> context -> vectors -> Qdrant + SQL.

The CLI, the REST upload and the evaluator all call :class:`IngestPipeline`.

Crash safety: each document is written in an order any prefix of which is repairable
(document_write.py), and :meth:`IngestPipeline.reconcile` runs at the start of every ingest:
it deletes points without chunk rows and ``pending`` rows, and re-embeds any chunk row whose
point is missing, so SQL and the vector store agree exactly again.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import replace
from pathlib import Path

import numpy as np
from sqlalchemy import delete, select

from app.core import tracing
from app.core.config import Settings
from app.core.db import Document, DocumentStatus, IndexVersion, IngestionRun, RunStatus
from app.core.db import utcnow as _now
from app.core.embedder import Embedder
from app.core.hashing import sha256_bytes
from app.core.index_versions import active_index, bm25_for, ensure_active_index
from app.core.runtime import Runtime
from app.core.sparse import Bm25Encoder
from ingest.chunking import chunk_document, locate_chunks
from ingest.contextualize import (
    Contextualizer,
    DocumentContext,
    NoContext,
    make_contextualizer,
)
from ingest.document_write import PreparedDocument, write_document
from ingest.forget import remove_documents
from ingest.index_points import index_text, sync_index
from ingest.loaders import (
    LoadedDocument,
    LoaderBudget,
    LoaderError,
    check_size,
    loader_version,
    read_checked,
)
from ingest.parse_worker import ParseWorker
from ingest.progress import NullProgress, ProgressSink
from ingest.report import IngestReport, StageTimer
from ingest.sources import SourceFile, discover

# Texts embedded between two looks at ``stopping`` (and two turns of the CPU gate): one
# huge file's thousands of chunks must not hold a stopping service for minutes.
EMBED_SLICE = 128


class IngestStopped(Exception):
    """The service is stopping: the run ended between two steps, nothing half-written."""


class IngestPipeline:
    def __init__(
        self,
        runtime: Runtime,
        contextualizer: Contextualizer | None = None,
        progress: ProgressSink | None = None,
        batch_chunks: int = 256,
        cpu_gate: Callable[[], AbstractContextManager[object]] | None = None,
        parser: ParseWorker | None = None,
        stopping: Callable[[], bool] | None = None,
    ) -> None:
        self.rt = runtime
        self.settings = runtime.settings
        # Files are parsed in a worker process within the loader budget (parse_worker.py);
        # one given (the service's, kept warm) is the caller's to close, else one per run.
        self._given_parser = parser
        self.parser = parser
        self.budget = loader_budget(self.settings)
        # Asked between files: a stopping service ends the run there (what was written
        # stays; the rest is read by the next run).
        self.stopping = stopping or (lambda: False)
        # One given is the caller's to close; one made here (from the settings) is made for
        # each run and closed at its end, so an LLM contextualizer's model is released.
        self._given_contextualizer = contextualizer
        self.contextualizer: Contextualizer = contextualizer or NoContext()
        self.progress = progress or NullProgress()
        self.batch_chunks = batch_chunks
        # In the server, embedding batches take turns with generation (see CpuGate).
        self.cpu_gate = cpu_gate or (lambda: nullcontext())
        self.embedder: Embedder = runtime.embedder

    # -- entry points ---------------------------------------------------------------------

    def ingest_paths(
        self, paths: Sequence[Path], prune: bool = False, collection: str = "default"
    ) -> IngestReport:
        files, bad_paths = discover(paths)
        files = [replace(f, collection=collection) for f in files]
        roots = [Path(p).resolve().as_posix() for p in paths if Path(p).is_dir()]
        return self.run(files, prune_roots=roots if prune else None, path_errors=bad_paths)

    def run(
        self,
        files: Sequence[SourceFile],
        prune_roots: Sequence[str] | None = None,
        path_errors: Sequence[tuple[str, str]] = (),
    ) -> IngestReport:
        with tracing.stage("ingest", files=len(files)) as span:
            report = self._run(files, prune_roots, path_errors)
            tracing.set_attributes(
                span, new=report.new, changed=report.changed, unchanged=report.unchanged,
                failed=report.failed, chunks_written=report.chunks_written,
            )  # fmt: skip
            return report

    def _run(
        self,
        files: Sequence[SourceFile],
        prune_roots: Sequence[str] | None,
        path_errors: Sequence[tuple[str, str]],
    ) -> IngestReport:
        report = IngestReport()
        started = time.perf_counter()
        with self.rt.db.session() as s:
            run = IngestionRun(status=RunStatus.running)
            s.add(run)
            s.flush()
            report.run_id = run.id
            index = ensure_active_index(s, self.rt.store, self.rt.embedder, self.rt.bm25())
            s.expunge(index)
        # The active index decides the embedder (a reindex may have switched it).
        self.embedder = self.rt.embedder_for(index)
        bm25 = bm25_for(index)
        status = RunStatus.failed
        self.contextualizer = self._given_contextualizer or make_contextualizer(
            self.settings.contextualizer, self.rt
        )
        self.parser = self._given_parser or ParseWorker(self.settings.loader_memory_mib)
        try:
            with StageTimer(report, "repair"):
                self._reconcile(index, bm25, report)
            for source, reason in path_errors:
                self._fail(report, source, reason)
            report.files_seen = len(files)
            try:
                self._process(files, index, bm25, report)
            except IngestStopped:
                return report  # recorded as not completed; the next run catches up
            if self.stopping():
                return report
            self._follow_switch(index, report)
            if prune_roots is not None:
                with StageTimer(report, "prune"):
                    self._prune(prune_roots, {f.source for f in files}, report)
            if report.chunks_written or report.pruned or report.repaired_missing:
                with StageTimer(report, "optimize"):
                    self.rt.store.optimize(index.collection)
            status = RunStatus.completed
        finally:
            self.progress.close()
            if self._given_contextualizer is None:
                self.contextualizer.close()
            if self._given_parser is None:
                self.parser.close()
            report.elapsed = time.perf_counter() - started
            with self.rt.db.session() as s:
                run = s.get(IngestionRun, report.run_id)
                if run is not None:
                    run.status = status
                    run.finished_at = _now()
                    run.files_seen = report.files_seen
                    run.files_new = report.new
                    run.files_changed = report.changed
                    run.files_unchanged = report.unchanged
                    run.files_failed = report.failed
                    run.documents_pruned = report.pruned
                    run.chunks_written = report.chunks_written
                    run.errors = [{"file": f, "reason": r} for f, r in report.errors]
        return report

    def _follow_switch(self, index: IndexVersion, report: IngestReport) -> None:
        """A reindex switched versions during this run: bring the new one up to date."""
        with self.rt.db.session() as s:
            current = active_index(s)
            if current is None or current.id == index.id:
                return
            s.expunge(current)
        with StageTimer(report, "repair"):
            sync_index(
                self.rt, current, self.rt.embedder_for(current), bm25_for(current),
                self.batch_chunks, self.cpu_gate,
            )  # fmt: skip

    def reconcile(self) -> IngestReport:
        """Repair SQL/vector-store drift without ingesting anything."""
        return self.run([])

    # -- stages ---------------------------------------------------------------------------

    def _fail(self, report: IngestReport, source: str, reason: str) -> None:
        report.failed += 1
        report.errors.append((source, reason))
        self.progress.note(f"failed: {source}: {reason}")

    def _process(
        self,
        files: Sequence[SourceFile],
        index: IndexVersion,
        bm25: Bm25Encoder,
        report: IngestReport,
    ) -> None:
        with self.rt.db.session() as s:
            known = {
                src: (doc_id, sha, st, coll, version, parent_id)
                for src, doc_id, sha, st, coll, version, parent_id in s.execute(
                    select(
                        Document.source,
                        Document.id,
                        Document.sha256,
                        Document.status,
                        Document.collection,
                        Document.loader_version,
                        Document.parent_id,
                    )
                )
            }
        batch: list[PreparedDocument] = []
        seen: set[str] = set()
        stale: list[int] = []  # attachments a changed mail no longer has
        queue = deque(files)
        while queue:
            if self.stopping():
                self.progress.note(f"stopping: {len(queue)} file(s) left for the next run")
                raise IngestStopped("the service is stopping")
            item = queue.popleft()
            if item.source in seen:  # e.g. two uploads with one name in one request
                self._fail(report, item.source, "listed twice in one run; the first was kept")
                continue
            seen.add(item.source)
            if not _may_replace(item, known):
                self._fail(
                    report, item.source, "an attachment's name is taken by a document it may "
                    "not replace; the attachment was not stored",
                )  # fmt: skip
                continue
            prepared = self._prepare(item, known, report)
            self.progress.advance("read", 1, total=len(files))
            if prepared is None:
                continue
            children = attachment_files(item, prepared.loaded)
            queue.extend(children)  # after their mail, so it has its id when they are written
            if prepared.doc_id is not None:  # a changed document: attachments it dropped
                stale += self._dropped_attachments(prepared.doc_id, {c.source for c in children})
            batch.append(prepared)
            if sum(len(p.chunks) for p in batch) >= self.batch_chunks:
                self._write_batch(batch, index, bm25, report)
                batch = []
        if batch:
            self._write_batch(batch, index, bm25, report)
        report.pruned += remove_documents(self.rt, stale)

    def _dropped_attachments(self, doc_id: int, kept: set[str]) -> list[int]:
        """Documents that came out of ``doc_id`` (parent_id) and are not among ``kept``."""
        with self.rt.db.session() as s:
            rows = s.execute(
                select(Document.id, Document.source).where(Document.parent_id == doc_id)
            ).all()
        return [i for i, source in rows if source not in kept]

    def _prepare(
        self,
        item: SourceFile,
        known: dict[str, tuple[int, str, DocumentStatus, str, str, int | None]],
        report: IngestReport,
    ) -> PreparedDocument | None:
        """One file read, parsed, chunked and contextualized (None: unchanged or failed),
        traced as ``factvault.ingest.file`` with its size and chunk count, not its name."""
        with tracing.stage("ingest.file", collection=item.collection) as span:
            prepared = self._prepare_file(item, known, report)
            if prepared is not None:
                tracing.set_attributes(span, bytes=prepared.size, chunks=len(prepared.chunks),
                                       media_type=prepared.loaded.media_type)  # fmt: skip
            return prepared

    def _prepare_file(
        self,
        item: SourceFile,
        known: dict[str, tuple[int, str, DocumentStatus, str, str, int | None]],
        report: IngestReport,
    ) -> PreparedDocument | None:
        try:
            with StageTimer(report, "read"):
                data = (
                    item.data
                    if item.data is not None
                    else read_checked(item.path, self.settings.max_file_bytes)
                )
                if item.data is not None:
                    check_size(item.source, len(data), self.settings.max_file_bytes)
                sha = sha256_bytes(data)
            existing = known.get(item.source)
            # Unchanged: same bytes, same collection, read by the current loader version.
            same_place = (
                existing is not None
                and existing[3] == item.collection
                and existing[4] == loader_version(item.path)
            )
            if (
                existing
                and same_place
                and existing[1] == sha
                and existing[2] == DocumentStatus.active
            ):
                report.unchanged += 1
                report.documents.append(existing[0])
                return None
            with StageTimer(report, "parse"):
                assert self.parser is not None  # set by run()
                loaded = self.parser.load(item.path, data, self.budget)
                if item.chunks is not None:
                    chunks = locate_chunks(loaded, item.chunks, self.embedder.count_tokens)
                else:
                    chunks = chunk_document(
                        loaded,
                        self.embedder.count_tokens,
                        self.settings.chunk_tokens,
                        self.settings.chunk_overlap,
                    )
            if not chunks:
                raise LoaderError(item.source, "no text to index after chunking")
        except LoaderError as exc:
            self._fail(report, item.source, exc.reason)
            return None
        with StageTimer(report, "context"):
            contexts = self.contextualizer.contextualize(
                DocumentContext(item.source, loaded, sha), chunks
            )
        self.progress.advance("chunk", len(chunks))
        return PreparedDocument(
            item, sha, len(data), existing[0] if existing else None, loaded, chunks, contexts
        )

    def _write_batch(
        self,
        batch: list[PreparedDocument],
        index: IndexVersion,
        bm25: Bm25Encoder,
        report: IngestReport,
    ) -> None:
        texts = [
            index_text(c, ch.text)
            for p in batch
            for c, ch in zip(p.contexts, p.chunks, strict=True)
        ]
        if "model load" not in report.stage_seconds:
            with StageTimer(report, "model load"):
                self.embedder.warm_up()
        parts = []
        for start in range(0, len(texts), EMBED_SLICE):
            if self.stopping():  # nothing of this batch is written yet: the next run does it
                raise IngestStopped("the service is stopping")
            with StageTimer(report, "embed"), self.cpu_gate():
                parts.append(self.embedder.embed_documents(texts[start : start + EMBED_SLICE]))
        dense = np.concatenate(parts) if parts else np.zeros((0, 0), dtype=np.float32)
        with StageTimer(report, "bm25"):
            sparse = bm25.encode_documents(texts)
        self.progress.advance("embed", len(texts))
        offset = 0
        for p in batch:
            n = len(p.chunks)
            self._write_document(
                p, index, dense[offset : offset + n], sparse[offset : offset + n], report
            )
            offset += n
            self.progress.advance("write", n)

    def _write_document(
        self,
        p: PreparedDocument,
        index: IndexVersion,
        dense: Sequence[Sequence[float]],
        sparse: Sequence,
        report: IngestReport,
    ) -> None:
        with StageTimer(report, "write"):
            doc_id = write_document(self.rt, p, index, dense, sparse)
        if p.doc_id is None:
            report.new += 1
        else:
            report.changed += 1
        report.chunks_written += len(p.chunks)
        report.documents.append(doc_id)

    def _prune(
        self,
        roots: Sequence[str],
        seen: set[str],
        report: IngestReport,
    ) -> None:
        with self.rt.db.session() as s:  # attachments go with their mail, not on their own
            sources = s.execute(
                select(Document.id, Document.source).where(Document.parent_id.is_(None))
            ).all()
        gone = [
            doc_id
            for doc_id, source in sources
            if source not in seen
            and any(source.startswith(root.rstrip("/") + "/") for root in roots)
            and not Path(source).exists()
        ]
        report.pruned += remove_documents(self.rt, gone)

    def _reconcile(self, index: IndexVersion, bm25: Bm25Encoder, report: IngestReport) -> None:
        with self.rt.db.session() as s:
            s.execute(delete(Document).where(Document.status == DocumentStatus.pending))
        result = sync_index(self.rt, index, self.embedder, bm25, self.batch_chunks, self.cpu_gate)
        report.repaired_orphans = result.orphans
        report.repaired_missing = result.missing
        if result.orphans or result.missing:
            self.progress.note(
                f"repaired the index: removed {result.orphans} orphan points, "
                f"re-embedded {result.missing} missing ones"
            )


def loader_budget(settings: Settings) -> LoaderBudget:
    """What one file may cost to read, from the settings (FACTVAULT_LOADER_*)."""
    return LoaderBudget(
        rows=settings.loader_max_rows,
        columns=settings.loader_max_columns,
        cells=settings.loader_max_cells,
        characters=settings.loader_max_characters,
        depth=settings.loader_max_depth,
        seconds=settings.loader_seconds,
    )


def _may_replace(
    item: SourceFile, known: dict[str, tuple[int, str, DocumentStatus, str, str, int | None]]
) -> bool:
    """Whether a derived document (an attachment, ``mail.eml#name``) may be written over
    what its source holds now: nothing, a document of its own collection, or an earlier
    attachment of the same mail. Whoever may write the mail was checked; its attachments'
    names are chosen by the mail's author, so they must not reach another collection's
    document (a planted attachment named like it would move it and replace its text)."""
    if item.parent is None:
        return True
    held = known.get(item.source)
    if held is None or held[3] == item.collection:
        return True
    parent = known.get(item.parent)
    return parent is not None and held[5] == parent[0]


def attachment_files(item: SourceFile, loaded: LoadedDocument) -> list[SourceFile]:
    """A document's attachments as inputs of their own: ``mail.eml#report.pdf``, in the
    mail's collection, read by the loader of their own extension."""
    return [
        SourceFile(
            f"{item.source}#{a.name}", Path(a.name), data=a.data, collection=item.collection,
            parent=item.source,
        )
        for a in loaded.attachments
    ]  # fmt: skip
