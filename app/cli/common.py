"""What every command shares: settings read once, the two output streams, failing plainly,
and opening the stores (or finding the running service that owns them).

On a terminal the commands print rich tables and progress bars; on a pipe or in a log they
print plain lines: no markup, no colour, no wrapping at 80 columns.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import cache
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.table import Table

from app.core.config import Settings, get_settings

if TYPE_CHECKING:  # imported where used: a command loads only what it needs
    from sqlalchemy.orm import Session

    from app.client import ServiceClient
    from app.core.db import Database
    from app.core.runtime import Runtime
    from app.service.interface import Vault

out = Console(soft_wrap=not sys.stdout.isatty(), highlight=False)
err = Console(stderr=True, soft_wrap=not sys.stderr.isatty(), highlight=False)


@cache
def settings() -> Settings:
    """The settings of this command run, read once from the environment and `.env`."""
    return get_settings()


def fail(message: str, code: int = 2) -> typer.Exit:
    warn(f"error: {message}")
    return typer.Exit(code)


def say(message: str) -> None:
    """A line of output, exactly as given (rich only on a terminal: no markup either way)."""
    if out.is_terminal:
        out.print(message, markup=False)
    else:
        print(message, flush=True)


def warn(message: str) -> None:
    """A line on stderr: failures, progress in a log."""
    if err.is_terminal:
        err.print(message, markup=False)
    else:
        print(message, file=sys.stderr, flush=True)


def table(columns: Sequence[str], rows: Sequence[Sequence[object]], title: str = "") -> None:
    """A table on a terminal; tab-separated lines, a header line first, anywhere else."""
    if out.is_terminal:
        shown = Table(title=title or None, show_header=True)
        for column in columns:
            shown.add_column(column)
        for row in rows:
            shown.add_row(*(str(v) for v in row))
        out.print(shown)
        return
    if title:
        say(title)
    say("\t".join(columns))
    for row in rows:
        say("\t".join(str(v) for v in row))


def open_runtime() -> Runtime:
    from app.core.runtime import SchemaOutOfDate
    from app.core.runtime import open_runtime as open_stores

    try:
        return open_stores(settings())
    except SchemaOutOfDate as exc:
        raise fail(str(exc)) from exc
    except RuntimeError as exc:  # e.g. the embedded store is locked by a running server
        raise fail(f"cannot open the stores: {exc}") from exc


def sql_database() -> Database:
    """The SQL store alone (keys, the model registry, the context cache): works while a
    server holds the embedded vector store."""
    from app.core.db import Database
    from app.core.runtime import SchemaOutOfDate, require_current_schema

    s = settings()
    s.ensure_dirs()
    try:
        require_current_schema(s.sql_url)
    except SchemaOutOfDate as exc:
        raise fail(str(exc)) from exc
    return Database(s.sql_url)


@contextmanager
def sql_session() -> Iterator[Session]:
    """One transaction on the SQL store alone (committed on success), then closed."""
    db = sql_database()
    try:
        with db.session() as s:
            yield s
    finally:
        db.dispose()


def running_service() -> ServiceClient | None:
    """A client of the server that owns this data dir, if one runs; says which URL it uses
    (on stderr, so piped output stays the command's own)."""
    from app.client import ServiceClient

    client = ServiceClient.running(settings())
    if client is not None:
        warn(f"using the service at {client.base_url} (it owns {settings().data_dir})")
    return client


@contextmanager
def open_vault() -> Iterator[Vault]:
    """The use cases through the running server that owns the data dir, if one runs, else
    through a service in this process; closed on the way out."""
    vault: Vault | None = running_service()
    if vault is None:
        from app.service import FactVault
        from app.service.interface import LocalVault

        vault = LocalVault(FactVault(settings(), runtime=open_runtime()))
    try:
        yield vault
    finally:
        vault.close()


@contextmanager
def progress_bar(label: str) -> Iterator[Callable[[int, int], None]]:
    """A callback (done, total) drawn as a bar on a terminal, logged every 10 % elsewhere."""
    if not err.is_terminal:
        last = {"tenth": -1}

        def log_line(done: int, total: int) -> None:
            tenth = 10 * done // max(total, 1)
            if tenth != last["tenth"]:
                last["tenth"] = tenth
                warn(f"{label}: {done}/{total}")

        yield log_line
        return
    from rich.progress import Progress

    with Progress(console=err, transient=True) as progress:
        task = progress.add_task(label, total=None)

        def advance(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        yield advance
