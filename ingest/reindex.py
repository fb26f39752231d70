"""Re-index without downtime: build a new index version (a new collection, possibly with a
new embedding model) from what SQL holds, while the current one keeps serving, then switch.

Nothing is re-parsed or re-contextualized: chunks and their contexts are in SQL. The switch
is one SQL transaction (active -> retired, building -> active); retrieval reads the active
row per query, so a query runs wholly on the old or wholly on the new version. Writes that
reach the old version while the new one is built are caught by syncing again after the
switch (and an ingest that saw the switch mid-run syncs at its end). The old collection is
dropped only after a grace period, so queries already under way finish on it. A crash
during the build leaves a `building` row that the next reindex for the same model resumes.

A ``judge`` (the quality gate, app/evaluation/selfeval.py) scores the finished build beside
the active version before the switch: a build it refuses is dropped and the active version
stays. ``rollback`` makes the previous version active again (rebuilt from SQL if its
collection was already dropped).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from app.core.config import EMBEDDER_NAMES
from app.core.db import Chunk, IndexStatus, IndexVersion
from app.core.embedder_choice import embedder_from_settings
from app.core.index_versions import active_index, bm25_for, collection_name
from app.core.runtime import Runtime
from ingest.index_points import sync_index


@dataclass
class GateVerdict:
    accepted: bool
    reason: str
    queries: int = 0  # held-out questions scored
    old: dict[str, float] | None = None  # the active version's scores (None: no index yet)
    new: dict[str, float] | None = None


Judge = Callable[[IndexVersion | None, IndexVersion], GateVerdict]


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
    switched: bool = True  # False: the gate refused the new build; the old one serves
    gate: GateVerdict | None = None


class RollbackImpossible(RuntimeError):
    pass


def reindex(
    rt: Runtime,
    embedder_name: str,
    cpu_gate: Callable[[], AbstractContextManager[object]] | None = None,
    on_progress: Callable[[int, int], None] | None = None,
    max_passes: int = 5,
    judge: Judge | None = None,
) -> ReindexReport:
    started = time.perf_counter()
    embedder = embedder_from_settings(embedder_name, rt.settings)
    bm25 = rt.bm25()
    with rt.db.session() as s:
        old = active_index(s)
        if old is not None:
            s.expunge(old)  # the gate reads it after this session
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
    if judge is not None:
        report.gate = judge(old, new)
        if not report.gate.accepted:
            _discard(rt, new)
            report.switched = False
            report.seconds = time.perf_counter() - started
            return report
    _switch(rt, new)
    sync_index(rt, new, embedder, bm25, cpu_gate=cpu_gate, on_batch=progress)
    report.chunks = rt.store.count(new.collection)
    with rt.db.session() as s:
        row = s.get(IndexVersion, new.id)
        if row is not None:
            row.chunk_count = report.chunks
    report.dropped = drop_retired(rt)
    report.seconds = time.perf_counter() - started
    return report


def _switch(rt: Runtime, new: IndexVersion) -> None:
    """``new`` active, whatever was active retired: one transaction. The retired one's
    size is recorded, which marks it as one that served (what a rollback may return to):
    the first version, built by ingest rather than by a reindex, had none."""
    with rt.db.session() as s:
        for row in s.scalars(select(IndexVersion).where(IndexVersion.status == IndexStatus.active)):
            row.status = IndexStatus.retired
            row.retired_at = datetime.now(UTC)
            if rt.store.has_collection(row.collection):
                row.chunk_count = rt.store.count(row.collection)
        row = s.get(IndexVersion, new.id)
        assert row is not None
        row.status = IndexStatus.active
        row.retired_at = None


def _discard(rt: Runtime, version: IndexVersion) -> None:
    """A build the gate refused: never served, so it goes at once (row and collection)."""
    with rt.db.session() as s:
        row = s.get(IndexVersion, version.id)
        if row is not None:
            s.delete(row)
    if rt.store.has_collection(version.collection):
        rt.store.drop_collection(version.collection)


def rollback(
    rt: Runtime, on_progress: Callable[[int, int], None] | None = None
) -> tuple[str, str | None, bool]:
    """Make the previous version active again: the newest retired one that once served
    (builds that never switched have no chunk count). Its collection is rebuilt from SQL
    with its own embedder if the grace period already dropped it. Returns (now active,
    replaced, rebuilt)."""
    with rt.db.session() as s:
        current = active_index(s)
        previous = s.scalars(
            select(IndexVersion)
            .where(IndexVersion.status == IndexStatus.retired, IndexVersion.chunk_count > 0)
            .order_by(IndexVersion.retired_at.desc(), IndexVersion.id.desc())
        ).first()
        if previous is None:
            raise RollbackImpossible("no earlier index version to roll back to")
        s.expunge(previous)
        replaced = current.collection if current is not None else None
    if not rt.store.has_collection(previous.collection):
        name = embedder_setting(rt, previous.embedding_model)
        report = reindex(rt, name, on_progress=on_progress)
        return report.new_collection, replaced, True
    embedder = rt.embedder_for(previous)  # raises if its weights are gone or changed
    _switch(rt, previous)
    sync_index(rt, previous, embedder, bm25_for(previous))  # ingested since it retired
    return previous.collection, replaced, False


def embedder_setting(rt: Runtime, model: str) -> str:
    """The setting name (minilm, e5, tuned:...) of the embedder an index version records."""
    if model.startswith("tuned:"):
        return model
    for name in EMBEDDER_NAMES:
        if name != "tuned" and embedder_from_settings(name, rt.settings).name == model:
            return name
    raise RollbackImpossible(f"this installation has no embedder {model!r} to rebuild with")


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
