"""Models: list, register a GGUF file, hot-swap the active one."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter

from app.api.deps import AdminScope, ReadScope, StateDep
from app.api.guard import GuardedRoute
from app.api.schemas import ActivateRequest, AddModelRequest, ModelList, ModelOut
from app.core.db import ModelRecord
from app.generation.registry import get_model, list_models, mark_active, register_model

router = APIRouter(prefix="/v1/models", tags=["models"], route_class=GuardedRoute)


def model_out(m: ModelRecord, loaded: str | None) -> ModelOut:
    return ModelOut(
        id=m.name, name=m.name, path=m.path, size_bytes=m.size_bytes, sha256=m.sha256,
        context_length=m.context_length, architecture=m.architecture, active=m.is_active,
        loaded=m.name == loaded, provenance=m.provenance,
    )  # fmt: skip


@router.get("", response_model=ModelList, dependencies=[ReadScope])
def models(state: StateDep) -> ModelList:
    current = state.models.current
    loaded = current.name if current else None
    with state.runtime.db.session() as s:
        return ModelList(
            data=[model_out(m, loaded) for m in list_models(s)],
            active=loaded,
            swap=state.models.swap.as_dict(),
        )


@router.post("", response_model=ModelOut, status_code=201, dependencies=[AdminScope])
def add_model(req: AddModelRequest, state: StateDep) -> ModelOut:
    with state.runtime.db.session() as s:
        record = register_model(
            s, Path(req.path), req.name, provenance="added through the API",
            allowed_dirs=state.settings.model_source_dirs,
        )  # fmt: skip
        return model_out(record, None)


@router.put("/active", response_model=ModelOut, dependencies=[AdminScope])
def activate(req: ActivateRequest, state: StateDep) -> ModelOut:
    """Loads the model beside the current one, then switches; requests keep being served."""
    with state.activation_lock:
        with state.runtime.db.session() as s:
            record = get_model(s, req.name)
            s.expunge(record)
        state.models.activate(record)  # raises (and changes nothing) if it cannot load
        with state.runtime.db.session() as s:
            record = mark_active(s, req.name)
            return model_out(record, req.name)
