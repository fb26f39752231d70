"""Liveness, readiness and Prometheus metrics.

These run on the event loop (``async def``), not in the thread pool that blocking routes
share, and read only the service's state: a busy model, or every worker thread waiting on
it, never delays them.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse, PlainTextResponse

from app.api.deps import ServiceDep
from app.api.guard import GuardedRoute

router = APIRouter(tags=["health"], route_class=GuardedRoute)


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(service: ServiceDep) -> JSONResponse:
    ready, checks = service.readiness()
    return JSONResponse({"ready": ready, "checks": checks}, status_code=200 if ready else 503)


@router.get("/metrics", response_class=PlainTextResponse)
async def metrics(service: ServiceDep) -> str:
    current = service.models.current
    return service.metrics.render(current.name if current else None)
