"""`factvault backup|restore|reindex`: work on the whole store.

Backup and restore need the stores to themselves (stop the service first); a reindex goes
through the running service when there is one, which keeps answering from the old version.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from app.cli.connect import open_installation, open_vault, running_service
from app.cli.output import fail, plain_errors, progress_bar, say
from app.core.config import EMBEDDER_NAMES
from app.errors import ServiceError


def backup_cmd(
    directory: Annotated[Path, typer.Argument(help="A new directory to write the backup to.")],
) -> None:
    """A consistent copy of SQL and the live vector index, restorable anywhere."""
    if running_service() is not None:
        raise fail("the service is running and owns the stores: stop it first")
    with plain_errors(), open_installation() as installation:
        report = installation.backup(directory)
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
    if running_service() is not None:
        raise fail("the service is running: stop it before restoring")
    with plain_errors(), open_installation() as installation:
        report = installation.restore(directory)
    say(
        f"restored {sum(report.tables.values())} rows and "
        f"{sum(report.points.values())} points from {directory} ({report.seconds:.1f} s)"
    )


def reindex_cmd(
    embedder: Annotated[
        str,
        typer.Option(
            help=f"Embedding model of the new index: {', '.join(EMBEDDER_NAMES)} "
            "(the newest tuned one) or tuned:minilm-<id>."
        ),
    ],
    gate: Annotated[
        bool,
        typer.Option(
            help="Switch only if the new build scores no worse on the held-out synthetic "
            "questions (FACTVAULT_INDEX_GATE_MARGIN points); otherwise keep the active one."
        ),
    ] = False,
) -> None:
    """Build a new index version from the chunks and contexts in SQL, then switch to it.

    The current version keeps serving meanwhile; through the running service when it answers.
    """
    try:
        with open_vault() as vault, progress_bar("embedding chunks") as advance:
            status = vault.reindex(embedder, gate, advance)
    except ServiceError as exc:
        raise fail(f"reindex refused ({exc.status}): {exc.detail}", code=1) from exc
    if status.state == "failed" or status.report is None:
        raise fail(f"reindex failed: {status.error}", code=1)
    rep = status.report
    _say_gate(rep.get("gate"))
    if not rep["switched"]:
        raise fail(f"the gate kept the active index: {rep['gate']['reason']}", code=1)
    say(
        f"active index: {rep['new_collection']} ({rep['embedder']}), {rep['chunks']} chunks, "
        f"{rep['seconds']:.1f} s{' (resumed)' if rep['resumed'] else ''}; "
        f"previous: {rep['old_collection'] or 'none'}"
        + (f"; dropped {', '.join(rep['dropped'])}" if rep["dropped"] else "")
    )


def _say_gate(gate: dict | None) -> None:
    if not gate:
        return
    for label in ("old", "new"):
        scores = gate.get(label)
        if scores:
            shown = ", ".join(
                f"{m} {100 * v:.2f}" if m != "MRR" else f"MRR {v:.3f}" for m, v in scores.items()
            )
            say(f"self-eval {'active' if label == 'old' else 'new build'}: {shown}")
    say(f"gate ({gate['queries']} held-out questions): {gate['reason']}")


index_app = typer.Typer(no_args_is_help=True, help="Index versions.")


@index_app.command("rollback")
def index_rollback() -> None:
    """Make the previous index version active again (the one a reindex replaced); rebuilt
    from SQL with its own embedder if its collection was already dropped."""
    try:
        with open_vault() as vault, progress_bar("embedding chunks") as advance:
            done = vault.rollback_index(advance)
    except ServiceError as exc:
        raise fail(f"rollback refused ({exc.status}): {exc.detail}", code=1) from exc
    say(
        f"active index: {done.active}{' (rebuilt)' if done.rebuilt else ''}; "
        f"replaced: {done.replaced or 'none'}"
    )


def register(app: typer.Typer) -> None:
    app.command("backup")(backup_cmd)
    app.command("restore")(restore_cmd)
    app.command("reindex")(reindex_cmd)
    app.add_typer(index_app, name="index")
