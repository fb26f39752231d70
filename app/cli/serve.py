"""`factvault serve`: the query service (FastAPI + the active model) on one address."""

from __future__ import annotations

from typing import Annotated

import typer

from app.cli.output import fail
from app.core.config import get_settings


def serve(
    host: Annotated[str | None, typer.Option()] = None,
    port: Annotated[int | None, typer.Option()] = None,
) -> None:
    """Run the query service (FastAPI + the active model); 127.0.0.1 unless told otherwise."""
    from app.api.server import run
    from app.core.runtime import SchemaOutOfDate
    from app.main import create_app

    overrides = {k: v for k, v in {"host": host, "port": port}.items() if v is not None}
    settings = get_settings(**overrides)
    try:
        application = create_app(settings)
        run(application, settings)
    except SchemaOutOfDate as exc:
        raise fail(str(exc)) from exc


def register(app: typer.Typer) -> None:
    app.command()(serve)
