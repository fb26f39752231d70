"""Models: list, register a GGUF file or inference endpoints, hot-swap the active one, and
add or drain a pool's endpoints."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter

from app.api.deps import CallerDep, OperatorScope, ReadScope, ServiceDep
from app.api.guard import GuardedRoute
from app.api.schemas import (
    ActivateRequest,
    AddModelRequest,
    EndpointRequest,
    ModelList,
    ModelOut,
)
from app.core.db import ModelRecord
from app.service import FactVault

router = APIRouter(prefix="/v1/models", tags=["models"], route_class=GuardedRoute)


def model_out(
    m: ModelRecord, loaded: str | None, endpoints: list[dict] | None, operator: bool = True
) -> ModelOut:
    """A model as the API shows it; where it lives (its file, its endpoints) only to an
    operator: to other keys a server path or an internal address is reconnaissance."""
    return ModelOut(
        id=m.name, name=m.name, path=m.path if operator else None, size_bytes=m.size_bytes,
        sha256=m.sha256, context_length=m.context_length, architecture=m.architecture,
        active=m.is_active, loaded=m.name == loaded, provenance=m.provenance if operator else None,
        endpoints=endpoints if operator else None,
    )  # fmt: skip


def _out(service: FactVault, m: ModelRecord, operator: bool = True) -> ModelOut:
    current = service.models.current
    states = service.endpoint_states(m) if operator else None
    return model_out(m, current.name if current else None, states, operator)


@router.get("", response_model=ModelList, dependencies=[ReadScope])
def models(service: ServiceDep, caller: CallerDep) -> ModelList:
    current = service.models.current
    operator = caller.operator
    return ModelList(
        data=[_out(service, m, operator) for m in service.list_models()],
        active=current.name if current else None,
        swap=service.models.swap.as_dict(),
    )


@router.post("", response_model=ModelOut, status_code=201, dependencies=[OperatorScope])
def add_model(req: AddModelRequest, service: ServiceDep) -> ModelOut:
    """A GGUF file from the model directories, or a model served by inference endpoints
    (its fingerprint computed from the GGUF when ``path`` is given too, else taken from the
    first endpoint)."""
    if req.endpoints:
        record = service.register_remote_model(
            req.name, req.endpoints, Path(req.path) if req.path else None, req.context_length,
            allowed_dirs=service.settings.model_source_dirs,
        )  # fmt: skip
        return _out(service, record)
    assert req.path is not None  # the schema asks for a path or endpoints
    return _out(service, service.register_model(Path(req.path), req.name))


@router.post("/{name}/endpoints", dependencies=[OperatorScope])
def add_endpoint(name: str, req: EndpointRequest, service: ServiceDep) -> dict:
    """Add an inference endpoint to a model's pool; it serves once attested."""
    return service.add_endpoint(name, req.url)


@router.post("/{name}/endpoints/drain", dependencies=[OperatorScope])
def drain_endpoint(name: str, req: EndpointRequest, service: ServiceDep) -> dict:
    """Take an endpoint out: nothing new goes to it, its running requests finish (up to
    ``wait_seconds``), then it has left the pool (``state``: drained, or still draining)."""
    return service.drain_endpoint(name, req.url, req.wait_seconds)


@router.put("/active", response_model=ModelOut, dependencies=[OperatorScope])
def activate(req: ActivateRequest, service: ServiceDep) -> ModelOut:
    """Loads the model beside the current one, then switches; requests keep being served."""
    return _out(service, service.activate_model(req.name))
