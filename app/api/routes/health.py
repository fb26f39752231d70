"""Liveness, readiness and Prometheus metrics.

These run on the event loop (``async def``), not in the thread pool that blocking routes
share, and read only the service's state: a busy model, or every worker thread waiting on
it, never delays them.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse, PlainTextResponse
from sqlalchemy import text

from app.api.deps import ServiceDep
from app.api.guard import GuardedRoute

router = APIRouter(tags=["health"], route_class=GuardedRoute)


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(service: ServiceDep) -> JSONResponse:
    checks: dict[str, str] = {}
    current = service.models.current
    checks["model"] = f"loaded: {current.name}" if current else "no model loaded"
    try:
        with service.runtime.db.session() as s:
            s.execute(text("SELECT 1"))
        checks["sql"] = "ok"
    except Exception as exc:  # reported, not raised: this is the probe
        checks["sql"] = f"error: {exc}"
    try:
        collection = service.collection()
        if collection:
            service.runtime.store.count(collection)
        checks["vector_store"] = "ok" if collection else "ok (nothing ingested yet)"
    except Exception as exc:
        checks["vector_store"] = f"error: {exc}"
    ready = current is not None and all(not v.startswith("error") for v in checks.values())
    return JSONResponse({"ready": ready, "checks": checks}, status_code=200 if ready else 503)


@router.get("/metrics", response_class=PlainTextResponse)
async def metrics(service: ServiceDep) -> str:
    current = service.models.current
    return service.metrics.render(current.name if current else None)
