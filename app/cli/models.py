"""`factvault models list|add|activate`: the answering models (GGUF files).

Listing and adding touch SQL alone, so they work while a server runs; activating goes
through the running service (a hot swap) when there is one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from app.cli.common import fail, open_runtime, running_service, say, settings, sql_session, table
from app.errors import ServiceError

models_app = typer.Typer(no_args_is_help=True, help="Answering models (GGUF).")


@models_app.command("list")
def models_list() -> None:
    """Registered models (bundled ones are registered on first use)."""
    from app.generation.registry import list_models, register_bundled

    with sql_session() as s:
        register_bundled(s, settings().models_dir)
        rows = [
            (m.name, "yes" if m.is_active else "", f"{m.size_bytes / 2**20:.0f}",
             m.context_length or "", m.sha256[:12], m.path)
            for m in list_models(s)
        ]  # fmt: skip
    table(("name", "active", "size MB", "ctx", "sha256", "path"), rows)


@models_app.command("add")
def models_add(path: Path, name: Annotated[str, typer.Option("--name")]) -> None:
    """Register any GGUF file under a name (the API accepts only the model directories)."""
    from app.generation.registry import RegistryError, register_model

    try:
        with sql_session() as s:
            record = register_model(s, path, name, provenance="added with `factvault models add`")
            say(f"registered {record.name} ({record.sha256[:12]}, {record.architecture})")
    except RegistryError as exc:
        raise fail(str(exc)) from exc


@models_app.command("activate")
def models_activate(name: str) -> None:
    """Make a model the active one (hot-swapped in the running service, if any)."""
    from app.generation.registry import RegistryError
    from app.service import FactVault

    client = running_service()
    if client is not None:
        try:
            client.activate_model(name)
        except ServiceError as exc:
            raise fail(exc.detail) from exc
        say(f"the running service now answers with {name}")
        return
    service = FactVault(settings(), runtime=open_runtime())
    try:
        service.activate_model(name)  # verified and marked active; the next start loads it
    except RegistryError as exc:
        raise fail(str(exc)) from exc
    finally:
        service.close()
    say(f"{name} is the active model")


def register(app: typer.Typer) -> None:
    app.add_typer(models_app, name="models")
