"""`factvault db upgrade`: schema migrations are an explicit step, never hidden in start-up."""

from __future__ import annotations

import typer

from app.cli.connect import open_installation
from app.cli.output import say

db_app = typer.Typer(no_args_is_help=True, help="Database schema (Alembic).")


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Apply schema migrations (SQLite in the data dir, or FACTVAULT_DATABASE_URL)."""
    with open_installation() as installation:
        say(f"database at revision {installation.upgrade_schema(revision)}")


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")
