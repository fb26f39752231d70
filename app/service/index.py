"""The index and the whole store: versions, reindex, rollback, backup and restore."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from sqlalchemy import func, select

from app.core.db import Chunk, Document, IndexVersion
from app.core.embedder import EmbedderUnavailable, IndexMismatch
from app.core.embedder_choice import check_embedder_name, embedder_from_settings
from app.errors import ServiceError
from app.evaluation.selfeval import NoQuestions, quality_gate, questions_for
from app.evaluation.summary import load_summary
from app.maintenance.backup import BackupReport, backup, restore
from app.retrieval.search import NoIndex
from app.service.access import EVERYONE, Access
from app.service.parts import ServiceParts
from ingest.reindex import RollbackImpossible, rollback


@dataclass(frozen=True)
class Rollback:
    """What an index rollback did: the version now active, the one it replaced, and
    whether the active one had to be rebuilt from SQL (its collection had been dropped)."""

    active: str
    replaced: str | None
    rebuilt: bool


class IndexAndStore(ServiceParts):
    """Index versions (status, reindex, rollback) and the whole store (backup, restore)."""

    def index_status(self, caller: Access = EVERYONE) -> dict:
        """What serves now, its size as SQL and the vector store see it, the running
        reindex, and the latest `factvault eval` figures of this data dir (None if none).

        For a caller limited to collections the sizes are those of its collections, and
        the store-wide ones (points, each version's chunks) are null: a total would tell it
        how much it cannot see."""
        documents = select(func.count()).select_from(Document)
        chunks = select(func.count()).select_from(Chunk)
        collections = caller.collections
        if collections is not None:
            documents = documents.where(Document.collection.in_(list(collections)))
            chunks = chunks.join(Document, Chunk.document_id == Document.id).where(
                Document.collection.in_(list(collections))
            )
        with self.runtime.db.session() as s:
            versions = [
                _version_out(r) for r in s.scalars(select(IndexVersion).order_by(IndexVersion.id))
            ]
            counts = {"documents": s.scalar(documents) or 0, "chunks": s.scalar(chunks) or 0}
        active = next((v for v in versions if v["status"] == "active"), None)
        if collections is not None:
            counts["points"] = None
            for version in versions:
                version["chunk_count"] = None
        else:
            counts["points"] = self.runtime.store.count(active["collection"]) if active else 0
        return {
            "active": active,
            "versions": versions,
            "counts": counts,
            "reindex": asdict(self.reindex.status),
            "eval": load_summary(self.settings.data_dir),
        }

    def start_reindex(self, embedder: str, gate: bool = False) -> dict:
        """Build a new index version in the background. With ``gate``, it is switched to
        only if it scores no worse than the active one on the held-out synthetic questions
        (``FACTVAULT_INDEX_GATE_MARGIN``); there must be such questions to start."""
        try:  # light constructors: a missing package or tuned folder is refused here
            embedder_from_settings(check_embedder_name(embedder), self.settings)
        except (ValueError, EmbedderUnavailable) as exc:
            raise ServiceError(422, "unknown_embedder", str(exc)) from exc
        judge = None
        if gate:
            try:  # refused now, not after an hour of embedding
                questions = questions_for(self.runtime)
            except (NoQuestions, NoIndex) as exc:
                raise ServiceError(409, "no_self_eval", str(exc)) from exc
            judge = quality_gate(self.runtime, questions, self.settings.index_gate_margin)
        if not self.reindex.start(embedder, judge):
            raise ServiceError(409, "reindex_running", "a reindex is already running")
        return asdict(self.reindex.status)

    def rollback_index(self, on_progress: Callable[[int, int], None] | None = None) -> Rollback:
        """The previous index version serves again (rebuilt from SQL if it was dropped;
        ``on_progress(done, total)`` follows the rebuild)."""
        if self.reindex.status.state == "running":
            raise ServiceError(409, "reindex_running", "a reindex is running: wait for it")
        try:
            active, replaced, rebuilt = rollback(self.runtime, on_progress)
        except RollbackImpossible as exc:
            raise ServiceError(409, "no_previous_index", str(exc)) from exc
        except IndexMismatch as exc:  # its embedder's weights are gone or changed
            raise ServiceError(409, "index_mismatch", str(exc)) from exc
        return Rollback(active, replaced, rebuilt)

    def backup(self, directory: Path) -> BackupReport:
        """A consistent copy of SQL and the live vector index into a new directory."""
        return backup(self.runtime, directory)

    def restore(self, directory: Path) -> BackupReport:
        """A backup onto this service's fresh data dir and database (before any use: the
        restore writes the stores itself, so this service must not have opened them)."""
        if self._runtime is not None:
            raise ServiceError(409, "stores_open", "restore needs stores nobody has opened")
        return restore(self.settings, directory)


def _version_out(r: IndexVersion) -> dict:
    return {
        "id": r.id,
        "collection": r.collection,
        "status": str(r.status),
        "embedding_model": r.embedding_model,
        "embedding_sha256": r.embedding_sha256,
        "dimension": r.dimension,
        "chunk_count": r.chunk_count,
        "created_at": r.created_at.isoformat(),
        "retired_at": r.retired_at.isoformat() if r.retired_at else None,
    }
