"""`factvault sync PATH... --collection C [--watch]`: keep a collection in step with folders.

The pass and the watcher run through the Vault: the running service's API when one owns
the stores (files are sent under their absolute path, gone ones deleted by id), else this
process's stores. Each change is printed as it is applied, with how long the pass took:
``+`` new, ``~`` changed, ``-`` forgotten, ``!`` failed.
"""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from app.cli.connect import open_vault, settings
from app.cli.output import fail, option_error, say, warn
from app.errors import ServiceError

if TYPE_CHECKING:
    from app.service.interface import SyncReport, Watch

MARKS = {"new": "+", "changed": "~", "forgotten": "-"}


def _print(report: SyncReport) -> None:
    for action, source in report.actions:
        say(f"{MARKS[action]} {source}")
    for source, reason in report.failed:
        warn(f"! {source}: {reason}")
    say(f"synced: {report.summary}")


def sync(
    paths: Annotated[list[Path], typer.Argument(help="Folders (or files) to keep in step.")],
    collection: Annotated[
        str, typer.Option(help="The collection their documents belong to.")
    ] = "default",
    watch: Annotated[
        bool, typer.Option(help="After the first pass, follow file events until stopped.")
    ] = False,
    debounce: Annotated[
        float | None,
        typer.Option(help="Seconds of quiet before a change is synced (default: settings)."),
    ] = None,
) -> None:
    """Ingest new and changed files under PATH and forget documents whose files are gone.

    The documents table is the record of what was seen, so a sync stopped and started again
    catches up with whatever changed meanwhile. When the service is running, it owns the
    stores and the files are sent to it; otherwise this process writes them (and, with
    --watch, holds the embedded store until stopped).
    """
    missing = [str(p) for p in paths if not p.expanduser().exists()]
    if missing:
        raise fail(f"no such file or directory: {', '.join(missing)}")
    try:
        with open_vault() as vault:
            if not watch:
                report = vault.sync(paths, collection)
            else:
                vault.watch(paths, collection, _watching(debounce))
                say("stopped")
                return
    except ServiceError as exc:
        raise fail(option_error(exc), code=1 if exc.status >= 500 else 2) from exc
    _print(report)
    raise typer.Exit(1 if report.failed else 0)


def _watching(debounce: float | None) -> Watch:
    """Until Ctrl-C or SIGTERM: every pass printed, a failed one told and retried."""
    from app.service.interface import Watch

    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    return Watch(
        stop,
        settings().sync_debounce_seconds if debounce is None else debounce,
        on_start=lambda roots: say(
            f"watching {', '.join(r.as_posix() for r in roots)} (Ctrl-C stops)"
        ),
        on_report=_print,
        on_error=lambda exc: warn(f"sync pass failed, retrying: {exc}"),
    )


def register(app: typer.Typer) -> None:
    app.command()(sync)
