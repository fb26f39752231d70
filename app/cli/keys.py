"""`factvault keys create|list|revoke`: API keys, in SQL (works while a server runs)."""

from __future__ import annotations

from typing import Annotated

import typer

from app.cli.common import fail, say, sql_session, table

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
    from app.core.auth import SCOPES, create_key

    if scope not in SCOPES:
        raise fail(f"--scope must be one of {', '.join(SCOPES)}")
    limited = None if collections is None else [c.strip() for c in collections.split(",")]
    try:
        with sql_session() as s:
            key = create_key(s, name, scope, [c for c in limited if c] if limited else limited)
    except ValueError as exc:
        raise fail(f"--collections: {exc}") from exc
    say(key)


@keys_app.command("list")
def keys_list() -> None:
    """The API keys: id, name, prefix, scope, created, revoked (never the key itself)."""
    from app.core.auth import list_keys

    with sql_session() as s:
        rows = [
            (k.id, k.name, k.prefix, k.scope,
             ",".join(k.collections) if k.collections is not None else "(all)",
             k.created_at.isoformat(timespec="seconds"),
             k.revoked_at.isoformat(timespec="seconds") if k.revoked_at else "")
            for k in list_keys(s)
        ]  # fmt: skip
    table(("id", "name", "prefix", "scope", "collections", "created", "revoked"), rows)


@keys_app.command("revoke")
def keys_revoke(
    key: Annotated[str, typer.Argument(help="The key's id or prefix, from `keys list`.")],
) -> None:
    """Revoke a key: every request with it gets 401 from the next one on."""
    from app.core.auth import revoke_key

    try:
        with sql_session() as s:
            record = revoke_key(s, key)
            say(f"revoked key {record.id} ({record.name}, {record.prefix}…)")
    except LookupError as exc:
        raise fail(str(exc)) from exc


def register(app: typer.Typer) -> None:
    app.add_typer(keys_app, name="keys")
