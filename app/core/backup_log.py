"""Which backups hold a document: what a deletion receipt owes its reader.

Deleting a document cannot reach into a backup (a backup is a copy the owner keeps
elsewhere, checked by its manifest's sha256 sums), but it can say which backups still hold
the document, so the owner knows what to delete or re-take. Each backup's manifest lists
the sha256 of every document it holds; this installation logs every backup it writes or is
restored from (table ``backups``), and a receipt names the logged backups that are still on
disk and list the deleted document's sha256.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.core.db import BackupRecord

MANIFEST = "manifest.json"


def record(s: Session, path: Path, documents: int) -> None:
    """Log a backup written to, or restored from, ``path``."""
    s.add(BackupRecord(path=Path(path).resolve().as_posix(), documents=documents))


def holding(s: Session, sha256: str) -> list[str]:
    """The logged backups, still on disk, whose manifest lists a document with these bytes."""
    found = []
    for path in dict.fromkeys(s.scalars(select(BackupRecord.path).order_by(BackupRecord.id))):
        manifest = Path(path) / MANIFEST
        try:
            stamp = manifest.stat().st_mtime_ns
        except OSError:
            continue  # moved or deleted since: it holds nothing any more, here
        if sha256 in _documents(manifest.as_posix(), stamp):
            found.append(path)
    return found


@lru_cache(maxsize=64)
def _documents(manifest: str, _stamp: int) -> frozenset[str]:
    """A manifest's document sha256s, read once per version of the file (a sync that
    forgets many files reads each manifest once)."""
    try:
        return frozenset(json.loads(Path(manifest).read_text()).get("document_sha256", []))
    except (OSError, ValueError):
        return frozenset()
