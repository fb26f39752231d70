"""Keeping a collection in step with folders, whichever way the store is reached.

The pass and the watcher are ingest/folder_sync.py's; they apply what changed through a
target: this process's stores (``LocalVault``), or the running service's documents API
(``ServiceClient``). Both Vaults call these two functions with theirs.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from app.core.auth import check_collection
from app.errors import ServiceError
from app.service.interface import Watch
from ingest.folder_sync import Syncer, SyncReport, SyncTarget, Watcher


def checked_collection(name: str) -> str:
    """A collection name, or a 400 saying what a name may hold."""
    try:
        return check_collection(name)
    except ValueError as exc:
        raise ServiceError(400, "invalid_collection", str(exc)) from exc


def sync_once(target: SyncTarget, paths: Sequence[Path], collection: str) -> SyncReport:
    return Syncer(target, paths, checked_collection(collection)).full_pass()


def watch(target: SyncTarget, paths: Sequence[Path], collection: str, how: Watch) -> None:
    syncer = Syncer(target, paths, checked_collection(collection))
    how.on_start(syncer.roots)
    Watcher(syncer, debounce=how.debounce, on_report=how.on_report, on_error=how.on_error).run(
        how.stop
    )
