"""Re-index without downtime: build a new index version (a new collection, possibly with a
new embedding model) from what SQL holds, while the current one keeps serving, then switch.

Nothing is re-parsed or re-contextualized: chunks and their contexts are in SQL. The switch
is one SQL transaction (active -> retired, building -> active); retrieval reads the active
row per query, so a query runs wholly on the old or wholly on the new version. Writes that
reach the old version while the new one is built are caught by syncing again after the
switch (and an ingest that saw the switch mid-run syncs at its end). The old collection is
dropped only after a grace period, so queries already under way finish on it. A crash
during the build leaves a `building` row that the next reindex for the same model resumes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from app.core.db import Chunk, IndexStatus, IndexVersion
from app.core.embedders import embedder_from_settings
from app.core.index_versions import active_index, collection_name
from app.core.runtime import Runtime
from ingest.index_sync import sync_index


@dataclass
class ReindexReport:
    embedder: str
    new_collection: str
    old_collection: str | None
    chunks: int = 0
    passes: int = 0
    resumed: bool = False
    seconds: float = 0.0
    dropped: list[str] = field(default_factory=list)


def reindex(
    rt: Runtime,
    embedder_name: str,
    cpu_gate: Callable[[], AbstractContextManager[object]] | None = None,
    on_progress: Callable[[int, int], None] | None = None,
    max_passes: int = 5,
) -> ReindexReport:
    started = time.perf_counter()
    embedder = embedder_from_settings(embedder_name, rt.settings)
    bm25 = rt.bm25()
    with rt.db.session() as s:
        old = active_index(s)
        new, resumed = _building_version(s, rt, embedder.name, embedder.weights_sha256, bm25.config)
        new.dimension = embedder.dimension
        s.flush()
        s.expunge(new)
        total = s.scalar(select(func.count(Chunk.id))) or 0
        report = ReindexReport(embedder.name, new.collection, old.collection if old else None)
        report.resumed = resumed
    rt.store.create_collection(new.collection, new.dimension)
    done = len(rt.store.point_ids(new.collection))

    def progress(n: int) -> None:
        nonlocal done
        done += n
        if on_progress is not None:
            on_progress(min(done, total), total)

    embedder.warm_up()
    while report.passes < max_passes:
        report.passes += 1
        result = sync_index(rt, new, embedder, bm25, cpu_gate=cpu_gate, on_batch=progress)
        if not result.missing and not result.orphans:
            break
    rt.store.optimize(new.collection)
    rt.register_embedder(new.embedding_sha256, embedder)  # queries after the switch use it
    with rt.db.session() as s:  # the switch: one transaction
        for row in s.scalars(select(IndexVersion).where(IndexVersion.status == IndexStatus.active)):
            row.status = IndexStatus.retired
            row.retired_at = datetime.now(UTC)
        row = s.get(IndexVersion, new.id)
        assert row is not None
        row.status = IndexStatus.active
    sync_index(rt, new, embedder, bm25, cpu_gate=cpu_gate, on_batch=progress)
    report.chunks = rt.store.count(new.collection)
    with rt.db.session() as s:
        row = s.get(IndexVersion, new.id)
        if row is not None:
            row.chunk_count = report.chunks
    report.dropped = drop_retired(rt)
    report.seconds = time.perf_counter() - started
    return report


def _building_version(
    s, rt: Runtime, model: str, sha: str, bm25_config: dict
) -> tuple[IndexVersion, bool]:
    """The unfinished build for this model (resumed), or a new one; stale builds retire."""
    resumed = None
    for row in s.scalars(select(IndexVersion).where(IndexVersion.status == IndexStatus.building)):
        if row.embedding_sha256 == sha and row.bm25_config == bm25_config and resumed is None:
            resumed = row
        else:
            row.status = IndexStatus.retired
            row.retired_at = datetime.now(UTC) - timedelta(days=1)  # never served: drop now
    if resumed is not None:
        return resumed, True
    number = (s.scalar(select(func.max(IndexVersion.id))) or 0) + 1
    row = IndexVersion(
        embedding_model=model,
        embedding_sha256=sha,
        dimension=0,
        bm25_config=bm25_config,
        collection=collection_name(model, sha, number),
        status=IndexStatus.building,
    )
    s.add(row)
    return row, False


def drop_retired(rt: Runtime, grace_seconds: int | None = None) -> list[str]:
    """Drop the collections of versions retired longer ago than the grace period."""
    grace = rt.settings.index_retire_grace_seconds if grace_seconds is None else grace_seconds
    cutoff = datetime.now(UTC) - timedelta(seconds=grace)
    dropped = []
    with rt.db.session() as s:
        rows = s.scalars(select(IndexVersion).where(IndexVersion.status == IndexStatus.retired))
        for row in rows:
            retired = row.retired_at
            if retired is not None and retired.tzinfo is None:
                retired = retired.replace(tzinfo=UTC)  # SQLite drops the zone
            if (
                retired is not None
                and retired <= cutoff
                and rt.store.has_collection(row.collection)
            ):
                rt.store.drop_collection(row.collection)
                dropped.append(row.collection)
    return dropped
