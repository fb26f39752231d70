"""The index: which version serves, and re-indexing it without downtime."""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter
from pydantic import BaseModel, Field

from app.api.deps import CallerDep, OperatorScope, ReadScope, ServiceDep
from app.api.guard import GuardedRoute
from app.core.config import EMBEDDER_NAMES

router = APIRouter(prefix="/v1/index", tags=["index"], route_class=GuardedRoute)


class ReindexRequest(BaseModel):
    embedder: str = Field(
        max_length=64, description=f"one of {', '.join(EMBEDDER_NAMES)}, or tuned:minilm-<id>"
    )
    gate: bool = Field(
        default=False,
        description="switch only if the new build is not worse on the held-out synthetic "
        "questions (`factvault tune queries` first)",
    )


@router.get("", dependencies=[ReadScope])
def index(service: ServiceDep, caller: CallerDep) -> dict:
    """What serves now, its size as SQL and the vector store see it, and the latest
    `factvault eval` figures run against this data dir (null if it never ran). A key
    limited to collections sees the sizes of its collections only."""
    return service.index_status(caller)


@router.post("/reindex", status_code=202, dependencies=[OperatorScope])
def start_reindex(req: ReindexRequest, service: ServiceDep) -> dict:
    return {"reindex": service.start_reindex(req.embedder, req.gate)}


@router.post("/rollback", dependencies=[OperatorScope])
def rollback(service: ServiceDep) -> dict:
    """Make the previous index version active again (rebuilt from SQL if it was dropped)."""
    return {"rollback": asdict(service.rollback_index())}
