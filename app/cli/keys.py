"""`factvault keys create|list|revoke`: API keys, in SQL (works while a server runs)."""

from __future__ import annotations

from typing import Annotated

import typer

from app.cli.connect import open_installation
from app.cli.output import plain_errors, say, table

keys_app = typer.Typer(no_args_is_help=True, help="API keys.")


@keys_app.command("create")
def keys_create(
    scope: Annotated[str, typer.Option(help="read or admin")] = "read",
    name: Annotated[str, typer.Option()] = "cli",
    collections: Annotated[
        str | None,
        typer.Option(help="Comma-separated: the only collections the key may see (default all)."),
    ] = None,
) -> None:
    """Create an API key; it is printed once and stored only as a hash."""
    limited = None if collections is None else [c.strip() for c in collections.split(",")]
    with plain_errors(), open_installation() as installation:
        key = installation.create_key(
            name, scope, None if limited is None else [c for c in limited if c]
        )
    say(key)


@keys_app.command("list")
def keys_list() -> None:
    """The API keys: id, name, prefix, scope, created, revoked (never the key itself)."""
    with plain_errors(), open_installation() as installation:
        keys = installation.keys()
    rows = [
        (k.id, k.name, k.prefix, k.scope,
         ",".join(k.collections) if k.collections is not None else "(all)",
         k.created_at, k.revoked_at)
        for k in keys
    ]  # fmt: skip
    table(("id", "name", "prefix", "scope", "collections", "created", "revoked"), rows)


@keys_app.command("revoke")
def keys_revoke(
    key: Annotated[str, typer.Argument(help="The key's id or prefix, from `keys list`.")],
) -> None:
    """Revoke a key: every request with it gets 401 from the next one on."""
    with plain_errors(), open_installation() as installation:
        record = installation.revoke_key(key)
    say(f"revoked key {record.id} ({record.name}, {record.prefix}…)")


def register(app: typer.Typer) -> None:
    app.add_typer(keys_app, name="keys")
