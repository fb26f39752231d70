"""`factvault models list|add|activate`: the answering models (GGUF files).

Listing, activating and endpoints go through the running service when there is one
(activating is then a hot swap); adding touches SQL alone, so it works while a server runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from app.cli.connect import open_installation, open_vault
from app.cli.output import fail, plain_errors, say, table

models_app = typer.Typer(no_args_is_help=True, help="Answering models (GGUF).")


@models_app.command("list")
def models_list() -> None:
    """Registered models (bundled ones are registered on first use)."""
    with plain_errors(), open_vault() as vault:
        models = vault.models()
    rows = [
        (m.name, "yes" if m.active else "", f"{m.size_bytes / 2**20:.0f}",
         m.context_length or "", m.sha256[:12], m.path or "")
        for m in models
    ]  # fmt: skip
    table(("name", "active", "size MB", "ctx", "sha256", "path"), rows)


@models_app.command("add")
def models_add(
    name: Annotated[str, typer.Option("--name")],
    path: Annotated[Path | None, typer.Argument(help="The GGUF file (if it is here).")] = None,
    endpoint: Annotated[
        list[str] | None,
        typer.Option(help="An OpenAI-compatible inference endpoint serving it (repeatable)."),
    ] = None,
    context: Annotated[
        int | None, typer.Option(help="Its context length, when no GGUF is given.")
    ] = None,
) -> None:
    """Register any GGUF file under a name (the API accepts only the model directories),
    or a model served by inference endpoints: its fingerprint is computed from the GGUF
    when it is given, else taken from the first endpoint; each endpoint is checked against
    it before it answers."""
    with plain_errors(), open_installation() as installation:
        m = installation.add_model(
            name, path, endpoint or (), context,
            on_fingerprint=lambda source: say(f"taking the fingerprint from {source}"),
        )  # fmt: skip
    if m.endpoints:
        say(f"registered {m.name}, served by {len(m.endpoints)} endpoint(s)")
    else:
        say(f"registered {m.name} ({m.sha256[:12]}, {m.architecture})")


@models_app.command("endpoint")
def models_endpoint(
    action: Annotated[str, typer.Argument(help="add or drain")],
    name: Annotated[str, typer.Argument(help="The model.")],
    url: Annotated[str, typer.Argument(help="The endpoint's base URL.")],
    wait: Annotated[float, typer.Option(help="drain: seconds to wait for its requests.")] = 30,
) -> None:
    """Add an endpoint to a model's pool (attested before it serves) or drain one (nothing
    new goes to it; its running requests finish; then it leaves). Goes through the running
    service when there is one, else changes the registry for the next start."""
    if action not in ("add", "drain"):
        raise fail("ACTION is add or drain")
    with plain_errors(), open_vault() as vault:
        e = vault.change_endpoint(name, url, action, wait)
    note = {"registered": " (no service is running)", "removed": " (no service is running)"}
    say(f"{e.url}: {e.state}{' (' + e.reason + ')' if e.reason else note.get(e.state, '')}")


@models_app.command("activate")
def models_activate(name: str) -> None:
    """Make a model the active one (hot-swapped in the running service, if any)."""
    with plain_errors(), open_vault() as vault:
        swapped = vault.activate_model(name)
    say(
        f"the running service now answers with {name}" if swapped else f"{name} is the active model"
    )


def register(app: typer.Typer) -> None:
    app.add_typer(models_app, name="models")
