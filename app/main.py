"""create_app(): the FastAPI query service. Migrations are not run here: `factvault db upgrade`."""

from __future__ import annotations

import base64
import hashlib
import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import fastapi_offline
from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from app.api import mcp, openapi, problems
from app.api.guard import RequestGuard
from app.api.routes import (
    chat,
    console,
    conversations,
    documents,
    health,
    index,
    library,
    models,
    query,
)
from app.api.routes.console import SECURITY_HEADERS
from app.core import tracing
from app.core.config import Settings, get_settings
from app.service import FactVault

log = logging.getLogger("factvault.service")

# Swagger UI's script and stylesheet, shipped inside the fastapi-offline package: /docs
# works with no network, like the console.
DOCS_ASSETS = Path(fastapi_offline.__file__).parent / "static"


def docs_security_headers(page: str) -> dict[str, str]:
    """The console's headers for Swagger UI's page: its one inline script (the UI's
    configuration) allowed by its hash and no other, the page never framed."""
    inline = re.search(r"<script>(.*?)</script>", page, re.S)
    script_hash = ""
    if inline is not None:
        digest = hashlib.sha256(inline.group(1).encode()).digest()
        script_hash = f" 'sha256-{base64.b64encode(digest).decode()}'"
    return {
        **SECURITY_HEADERS,
        # Swagger UI sets style attributes from its script: inline style, never script.
        "Content-Security-Policy": (
            f"default-src 'self'; script-src 'self'{script_hash}; style-src 'self' "
            "'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors "
            "'none'; base-uri 'none'; form-action 'self'"
        ),
        "X-Frame-Options": "DENY",
    }


def create_app(settings: Settings | None = None, service: FactVault | None = None) -> FastAPI:
    """The API over ``service`` (started by the caller, who also closes it), or over a
    FactVault of its own, started with the app and closed with it."""
    settings = settings or get_settings()
    tracing.configure_from_env()  # OTEL_* variables; off when no exporter is set

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if not settings.auth_enabled:
            log.warning("*** AUTH IS DISABLED (FACTVAULT_AUTH_ENABLED=false): local use only ***")
        own = service is None
        app.state.service = service or FactVault(settings).start()
        try:
            async with mcp_server.running():
                yield
        finally:
            if own:
                app.state.service.close()

    app = FastAPI(
        title="factvault",
        version="0.1.0",
        summary="Grounded answers from your own documents, by a frozen local model.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    problems.install(app)
    openapi.install(app)
    for module in (health, query, chat, conversations, documents, library, models, index):
        app.include_router(module.router)
    mcp_server = mcp.mount(app)  # /mcp: the MCP server over streamable HTTP
    console.install(app)
    app.mount("/docs-assets", StaticFiles(directory=DOCS_ASSETS), name="docs-assets")

    docs_page = get_swagger_ui_html(
        openapi_url="/openapi.json",
        title="factvault API",
        swagger_js_url="/docs-assets/swagger-ui-bundle.js",
        swagger_css_url="/docs-assets/swagger-ui.css",
        swagger_favicon_url="/docs-assets/favicon.png",
    )
    docs_headers = docs_security_headers(docs_page.body.decode())

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return HTMLResponse(docs_page.body, headers=docs_headers)

    app.add_middleware(RequestGuard)
    tracing.instrument_app(app)  # the HTTP server span every stage span sits under
    return app
