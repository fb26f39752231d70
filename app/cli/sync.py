"""`factvault sync PATH... --collection C [--watch]`: keep a collection in step with folders.

The pass and the watcher are ingest/folder_sync.py. Here they get their target: the running
service over HTTP when one owns the stores (files are sent under their absolute path, gone
ones deleted by id), else this process's stores. Each change is printed as it is applied,
with how long the pass took: ``+`` new, ``~`` changed, ``-`` forgotten, ``!`` failed.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from app.cli.common import fail, open_runtime, running_service, say, settings, warn
from app.errors import ServiceError

if TYPE_CHECKING:
    from app.client import ServiceClient
    from ingest.folder_sync import Stored, SyncReport

MARKS = {"new": "+", "changed": "~", "forgotten": "-"}


class ApiTarget:
    """A sync through the running service's documents API (ingest/folder_sync.py's SyncTarget)."""

    def __init__(self, client: ServiceClient) -> None:
        self.client = client

    def stored(self, scopes: Sequence[str]) -> dict[str, Stored]:
        from ingest.folder_sync import Stored

        found: dict[str, Stored] = {}
        for scope in scopes:
            for d in self.client.documents(under=scope):
                if d.parent_id is None:  # an attachment follows its mail
                    found[d.source] = Stored(d.id, d.sha256, d.collection, d.loader_version)
        return found

    def put(self, files: Sequence[Path], collection: str) -> list[tuple[str, str]]:
        failed: list[tuple[str, str]] = []
        for path in files:
            try:
                body = self.client.upload(path, collection, source=path.as_posix())
            except ServiceError as exc:
                if exc.status >= 500:  # the service is away: the whole pass is retried
                    raise
                failed.append((path.as_posix(), exc.detail))
            else:
                failed += [(path.as_posix(), e["reason"]) for e in body["failed"]]
        return failed

    def forget(self, doc_ids: Sequence[int]) -> int:
        gone = 0
        for doc_id in doc_ids:
            try:
                self.client.remove_document(doc_id)
            except ServiceError as exc:
                if exc.status != 404:  # already gone is what was wanted
                    raise
            else:
                gone += 1
        return gone


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
    from app.core.auth import check_collection
    from ingest.folder_sync import LocalTarget, Syncer, Watcher
    from ingest.progress import terminal_progress

    try:
        check_collection(collection)
    except ValueError as exc:
        raise fail(f"--collection: {exc}") from exc
    missing = [str(p) for p in paths if not p.expanduser().exists()]
    if missing:
        raise fail(f"no such file or directory: {', '.join(missing)}")

    client = running_service()
    rt = None
    if client is not None:
        say("syncing through the running service")
        target = ApiTarget(client)
    else:
        rt = open_runtime()
        target = LocalTarget(rt, progress=terminal_progress)
    syncer = Syncer(target, paths, collection)
    try:
        if not watch:
            try:
                report = syncer.full_pass()
            except ServiceError as exc:
                raise fail(f"{exc.detail}", code=1) from exc
            _print(report)
            raise typer.Exit(1 if report.failed else 0)
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        wait = settings().sync_debounce_seconds if debounce is None else debounce
        say(f"watching {', '.join(r.as_posix() for r in syncer.roots)} (Ctrl-C stops)")
        Watcher(
            syncer,
            debounce=wait,
            on_report=_print,
            on_error=lambda exc: warn(f"sync pass failed, retrying: {exc}"),
        ).run(stop)
        say("stopped")
    finally:
        if client is not None:
            client.close()
        if rt is not None:
            rt.close()


def register(app: typer.Typer) -> None:
    app.command()(sync)
