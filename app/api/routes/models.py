"""Models: list, register a GGUF file, hot-swap the active one."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter

from app.api.deps import AdminScope, ReadScope, ServiceDep
from app.api.guard import GuardedRoute
from app.api.schemas import ActivateRequest, AddModelRequest, ModelList, ModelOut
from app.core.db import ModelRecord

router = APIRouter(prefix="/v1/models", tags=["models"], route_class=GuardedRoute)


def model_out(m: ModelRecord, loaded: str | None) -> ModelOut:
    return ModelOut(
        id=m.name, name=m.name, path=m.path, size_bytes=m.size_bytes, sha256=m.sha256,
        context_length=m.context_length, architecture=m.architecture, active=m.is_active,
        loaded=m.name == loaded, provenance=m.provenance,
    )  # fmt: skip


@router.get("", response_model=ModelList, dependencies=[ReadScope])
def models(service: ServiceDep) -> ModelList:
    current = service.models.current
    loaded = current.name if current else None
    return ModelList(
        data=[model_out(m, loaded) for m in service.list_models()],
        active=loaded,
        swap=service.models.swap.as_dict(),
    )


@router.post("", response_model=ModelOut, status_code=201, dependencies=[AdminScope])
def add_model(req: AddModelRequest, service: ServiceDep) -> ModelOut:
    return model_out(service.register_model(Path(req.path), req.name), None)


@router.put("/active", response_model=ModelOut, dependencies=[AdminScope])
def activate(req: ActivateRequest, service: ServiceDep) -> ModelOut:
    """Loads the model beside the current one, then switches; requests keep being served."""
    return model_out(service.activate_model(req.name), req.name)
