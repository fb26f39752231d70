"""The index: which version serves, and re-indexing it without downtime."""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter
from pydantic import BaseModel, Field
from sqlalchemy import func, select

from app.api.deps import AdminScope, ReadScope, StateDep
from app.api.errors import ApiError
from app.api.guard import GuardedRoute
from app.core.db import Chunk, Document, IndexVersion
from app.core.embedder import EMBEDDER_NAMES
from app.evaluation.summary import load_summary

router = APIRouter(prefix="/v1/index", tags=["index"], route_class=GuardedRoute)


class ReindexRequest(BaseModel):
    embedder: str = Field(description=f"one of {', '.join(EMBEDDER_NAMES)}")


def _versions(state) -> list[dict]:  # noqa: ANN001
    with state.runtime.db.session() as s:
        rows = s.scalars(select(IndexVersion).order_by(IndexVersion.id)).all()
        return [
            {
                "id": r.id,
                "collection": r.collection,
                "status": str(r.status),
                "embedding_model": r.embedding_model,
                "embedding_sha256": r.embedding_sha256,
                "dimension": r.dimension,
                "chunk_count": r.chunk_count,
                "created_at": r.created_at.isoformat(),
                "retired_at": r.retired_at.isoformat() if r.retired_at else None,
            }  # fmt: skip
            for r in rows
        ]


@router.get("", dependencies=[ReadScope])
def index(state: StateDep) -> dict:
    """What serves now, its size as SQL and the vector store see it, and the latest
    `factvault eval` figures run against this data dir (null if it never ran)."""
    versions = _versions(state)
    active = next((v for v in versions if v["status"] == "active"), None)
    with state.runtime.db.session() as s:
        counts = {
            "documents": s.scalar(select(func.count()).select_from(Document)) or 0,
            "chunks": s.scalar(select(func.count()).select_from(Chunk)) or 0,
        }
    counts["points"] = state.runtime.store.count(active["collection"]) if active else 0
    return {
        "active": active,
        "versions": versions,
        "counts": counts,
        "reindex": asdict(state.reindex.status),
        "eval": load_summary(state.settings.data_dir),
    }


@router.post("/reindex", status_code=202, dependencies=[AdminScope])
def start_reindex(req: ReindexRequest, state: StateDep) -> dict:
    if req.embedder not in EMBEDDER_NAMES:
        raise ApiError(
            422,
            "unknown_embedder",
            f"embedder {req.embedder!r}: choose {', '.join(EMBEDDER_NAMES)}",
        )
    if not state.reindex.start(req.embedder):
        raise ApiError(409, "reindex_running", "a reindex is already running")
    return {"reindex": asdict(state.reindex.status)}
