"""`factvault models list|add|activate`: the answering models (GGUF files).

Listing and activating go through the running service when there is one (activating is
then a hot swap); adding touches SQL alone, so it works while a server runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from app.cli.common import fail, open_vault, running_service, say, settings, sql_session, table
from app.errors import ServiceError

models_app = typer.Typer(no_args_is_help=True, help="Answering models (GGUF).")


@models_app.command("list")
def models_list() -> None:
    """Registered models (bundled ones are registered on first use)."""
    try:
        with open_vault() as vault:
            models = vault.models()
    except ServiceError as exc:
        raise fail(exc.detail) from exc
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
    from app.models import fingerprint
    from app.models.registry import (
        RegistryError,
        check_endpoint,
        checked_model_path,
        register_model,
        register_remote,
    )

    if path is None and not endpoint:
        raise fail("give a GGUF file, --endpoint URL, or both")
    try:
        if endpoint:
            urls = [check_endpoint(u) for u in endpoint]
            path = checked_model_path(path) if path is not None else None
            say(f"taking the fingerprint ({'from ' + path.name if path else 'from ' + urls[0]})")
            taken = fingerprint.take(
                path, urls[0], settings().llm_threads, settings().inference_read_timeout
            )
            with sql_session() as s:
                record = register_remote(s, name, urls, taken, path=path, context_length=context)
                say(f"registered {record.name}, served by {len(urls)} endpoint(s)")
            return
        assert path is not None
        with sql_session() as s:
            record = register_model(s, path, name, provenance="added with `factvault models add`")
            say(f"registered {record.name} ({record.sha256[:12]}, {record.architecture})")
    except (RegistryError, fingerprint.FingerprintError) as exc:
        raise fail(str(exc)) from exc


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
    from app.models.registry import RegistryError, check_endpoint, get_model, set_endpoints

    if action not in ("add", "drain"):
        raise fail("ACTION is add or drain")
    client = running_service()
    if client is not None:
        try:
            body = client.endpoint(name, url, action, wait)
        except ServiceError as exc:
            raise fail(exc.detail) from exc
        say(
            f"{body['url']}: {body['state']}{' (' + body['reason'] + ')' if body['reason'] else ''}"
        )
        return
    try:
        url = check_endpoint(url)
        with sql_session() as s:
            urls = list(get_model(s, name).endpoints or [])
            urls = [*urls, url] if action == "add" else [u for u in urls if u != url]
            set_endpoints(s, name, list(dict.fromkeys(urls)))
    except RegistryError as exc:
        raise fail(str(exc)) from exc
    say(f"{url}: {'registered' if action == 'add' else 'removed'} (no service is running)")


@models_app.command("activate")
def models_activate(name: str) -> None:
    """Make a model the active one (hot-swapped in the running service, if any)."""
    from app.models.registry import RegistryError

    try:
        with open_vault() as vault:
            swapped = vault.activate_model(name)
    except (ServiceError, RegistryError) as exc:
        raise fail(exc.detail if isinstance(exc, ServiceError) else str(exc)) from exc
    say(
        f"the running service now answers with {name}" if swapped else f"{name} is the active model"
    )


def register(app: typer.Typer) -> None:
    app.add_typer(models_app, name="models")
