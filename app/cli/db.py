"""`factvault db upgrade`: schema migrations are an explicit step, never hidden in start-up."""

from __future__ import annotations

import typer

from app.cli.common import say, settings

db_app = typer.Typer(no_args_is_help=True, help="Database schema (Alembic).")


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Apply schema migrations (SQLite in the data dir, or FACTVAULT_DATABASE_URL)."""
    from app.core.migrate import current_revision, upgrade

    s = settings()
    s.ensure_dirs()
    upgrade(s.sql_url, revision)
    say(f"database at revision {current_revision(s.sql_url)}")


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")
