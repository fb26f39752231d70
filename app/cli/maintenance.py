"""`factvault backup|restore|reindex`: work on the whole store.

Backup and restore need the stores to themselves (stop the service first); a reindex goes
through the running service when there is one, which keeps answering from the old version.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from app.cli.common import fail, open_runtime, progress_bar, running_service, say, settings
from app.core.config import EMBEDDER_NAMES
from app.errors import ServiceError


def backup_cmd(
    directory: Annotated[Path, typer.Argument(help="A new directory to write the backup to.")],
) -> None:
    """A consistent copy of SQL and the live vector index, restorable anywhere."""
    from app.maintenance.backup import BackupError
    from app.service import FactVault

    if running_service() is not None:
        raise fail("the service is running and owns the stores: stop it first")
    service = FactVault(settings(), runtime=open_runtime())
    try:
        report = service.backup(directory)
    except BackupError as exc:
        raise fail(str(exc)) from exc
    finally:
        service.close()
    say(
        f"backup written to {report.path}: "
        + ", ".join(f"{n} {t}" for t, n in report.tables.items() if n)
        + "; "
        + ", ".join(f"{n} points of {c}" for c, n in report.points.items())
        + f" ({report.seconds:.1f} s)"
    )


def restore_cmd(
    directory: Annotated[Path, typer.Argument(help="A directory written by `factvault backup`.")],
) -> None:
    """Restore a backup onto this (fresh) data dir and database."""
    from app.maintenance.backup import BackupError
    from app.service import FactVault

    if running_service() is not None:
        raise fail("the service is running: stop it before restoring")
    settings().ensure_dirs()
    try:
        report = FactVault(settings()).restore(directory)
    except BackupError as exc:
        raise fail(str(exc)) from exc
    say(
        f"restored {sum(report.tables.values())} rows and "
        f"{sum(report.points.values())} points from {directory} ({report.seconds:.1f} s)"
    )


def reindex_cmd(
    embedder: Annotated[
        str, typer.Option(help=f"Embedding model of the new index: {' or '.join(EMBEDDER_NAMES)}.")
    ],
) -> None:
    """Build a new index version from the chunks and contexts in SQL, then switch to it.

    The current version keeps serving meanwhile; through the running service when it answers.
    """
    client = running_service()
    if client is not None:
        try:
            status = client.reindex(embedder)
        except ServiceError as exc:
            raise fail(f"reindex refused ({exc.status}): {exc.detail}", code=1) from exc
        if status["state"] == "failed":
            raise fail(f"reindex failed: {status['error']}", code=1)
        rep = status["report"]
        say(
            f"active index: {rep['new_collection']} ({rep['embedder']}), {rep['chunks']} chunks, "
            f"{rep['seconds']:.1f} s (built by the running service)"
        )
        return
    from ingest.reindex import reindex

    rt = open_runtime()
    try:
        with progress_bar("embedding chunks") as advance:
            report = reindex(rt, embedder, on_progress=advance)
    except (ValueError, RuntimeError) as exc:
        raise fail(str(exc)) from exc
    finally:
        rt.close()
    say(
        f"active index: {report.new_collection} ({report.embedder}), {report.chunks} chunks, "
        f"{report.seconds:.1f} s{' (resumed)' if report.resumed else ''}; "
        f"previous: {report.old_collection or 'none'}"
        + (f"; dropped {', '.join(report.dropped)}" if report.dropped else "")
    )


def register(app: typer.Typer) -> None:
    app.command("backup")(backup_cmd)
    app.command("restore")(restore_cmd)
    app.command("reindex")(reindex_cmd)
