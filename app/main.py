"""create_app(): the FastAPI query service. Migrations are not run here: `factvault db upgrade`."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, Response

from app.api import errors, openapi
from app.api.routes import chat, console, documents, health, index, models, query
from app.api.state import ServiceState, build_state
from app.core.config import Settings, get_settings

log = logging.getLogger("factvault.service")


def create_app(settings: Settings | None = None, state: ServiceState | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if not settings.auth_enabled:
            log.warning("*** AUTH IS DISABLED (FACTVAULT_AUTH_ENABLED=false): local use only ***")
        own = state is None
        app.state.service = state or build_state(settings)
        try:
            yield
        finally:
            if own:
                app.state.service.close()

    app = FastAPI(
        title="factvault",
        version="0.1.0",
        summary="Grounded answers from your own documents, by a frozen local model.",
        lifespan=lifespan,
    )
    errors.install(app)
    openapi.install(app)
    for module in (health, query, chat, documents, models, index):
        app.include_router(module.router)
    console.install(app)

    @app.middleware("http")
    async def count_requests(request: Request, call_next) -> Response:  # noqa: ANN001
        started = time.perf_counter()
        response = await call_next(request)
        service = getattr(request.app.state, "service", None)
        if service is not None:
            route = request.scope.get("route")
            path = getattr(route, "path", "unmatched")
            service.metrics.request(path, response.status_code)
            service.metrics.stage("http", time.perf_counter() - started)
        return response

    @app.middleware("http")
    async def refuse_oversized_bodies(request: Request, call_next) -> Response:  # noqa: ANN001
        """A declared body over the upload limit is refused before anything reads (or spools
        to disk) a byte of it; the per-file limit in the upload route covers the rest."""
        declared = request.headers.get("content-length")
        limit = settings.max_upload_bytes + (1 << 20)  # room for multipart framing
        if declared is not None and declared.isdigit() and int(declared) > limit:
            return errors.problem(
                413, "upload_too_large", f"request body of {int(declared):,} bytes is over the "
                f"{settings.max_upload_bytes:,}-byte limit",
            )  # fmt: skip
        return await call_next(request)

    return app
