"""Backup and restore of one factvault installation: SQL and the live vector index (and,
when that index was built with an embedder tuned here, the tuned weights).

Both halves are written in a logical, backend-neutral form (JSON lines per SQL table, and
every point of the active collection with its vectors and payload), so a backup taken from
SQLite + Qdrant Edge restores onto PostgreSQL + a Qdrant server and back. SQL is read in
one transaction (a snapshot); the caller keeps writers out for the duration (the CLI runs
alone on the embedded stores; the service holds its ingest lock). A backup is written to
``DIR.partial`` and renamed when complete, with a sha256 per file in its manifest, so a
crash or a damaged file is detected, never restored. Restore ends with the same repair an
ingest starts with (orphan points removed, missing ones re-embedded from SQL), so SQL and
the index agree afterwards whatever happened.
"""

from __future__ import annotations

import enum
import gzip
import json
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import DateTime, Integer, func, insert, select, text
from sqlalchemy.engine import Connection

from app.core.backup_log import MANIFEST, record
from app.core.config import Settings
from app.core.db import Base, Document, IndexStatus, IndexVersion
from app.core.embedder_choice import TUNED_DIR, tuned_dir
from app.core.hashing import sha256_file
from app.core.migrate import current_revision, upgrade
from app.core.runtime import Runtime, open_runtime
from app.core.sparse import SparseVector
from app.core.vectorstore import PointRecord

FORMAT = 1
TUNED_BACKUP = "embedders/tuned"  # where a backup keeps a tuned embedder's folder


class BackupError(RuntimeError):
    pass


@dataclass
class BackupReport:
    path: Path
    tables: dict[str, int] = field(default_factory=dict)
    points: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    repaired: int = 0


def backup(rt: Runtime, dest: Path) -> BackupReport:
    dest = Path(dest)
    if dest.exists() and any(dest.iterdir()):
        raise BackupError(f"{dest}: exists and is not empty; choose a new directory")
    started = time.perf_counter()
    work = dest.with_name(dest.name + ".partial")
    shutil.rmtree(work, ignore_errors=True)
    (work / "sql").mkdir(parents=True)
    (work / "vectors").mkdir()
    report = BackupReport(dest)
    with rt.db.engine.connect() as conn, conn.begin():
        if conn.dialect.name == "postgresql":
            conn.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))
        # Which documents it holds, by content: a later deletion's receipt names this backup.
        held = sorted(set(conn.scalars(select(Document.sha256))))
        for table in Base.metadata.sorted_tables:
            rows = conn.execute(select(table)).mappings()
            report.tables[table.name] = _write_lines(
                work / "sql" / f"{table.name}.jsonl.gz", (_encode(dict(r)) for r in rows)
            )
        index = conn.execute(
            select(
                IndexVersion.collection, IndexVersion.dimension, IndexVersion.embedding_model
            ).where(IndexVersion.status == IndexStatus.active)
        ).first()
    if index is not None:
        collection, dimension, model = index
        if model.startswith("tuned:"):  # trained here: its weights exist nowhere else
            folder = tuned_dir(model, rt.settings.embedder_cache_dir)
            shutil.copytree(folder, work / TUNED_BACKUP / folder.name)
        report.points[collection] = _write_lines(
            work / "vectors" / f"{collection}.jsonl.gz",
            (_point_line(p) for p in rt.store.export_points(collection)),
        )
    manifest = {
        "format": FORMAT,
        "created_at": datetime.now(UTC).isoformat(),
        "schema_revision": current_revision(rt.settings.sql_url),
        "tables": report.tables,
        "collections": {
            name: {"points": n, "dimension": index[1] if index else 0}
            for name, n in report.points.items()
        },
        "files": {
            p.relative_to(work).as_posix(): sha256_file(p)
            for p in sorted(work.rglob("*"))
            if p.is_file()
        },
        "document_sha256": held,
    }
    (work / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    if dest.exists():
        dest.rmdir()
    work.rename(dest)
    with rt.db.session() as s:
        record(s, dest, report.tables.get("documents", 0))
    report.seconds = time.perf_counter() - started
    return report


def restore(settings: Settings, src: Path) -> BackupReport:
    """Onto a fresh data dir / empty database; refuses to merge into existing data."""
    src = Path(src)
    manifest = read_manifest(src)
    started = time.perf_counter()
    upgrade(settings.sql_url, manifest["schema_revision"] or "base")
    report = BackupReport(src)
    from app.core.db import make_engine

    engine = make_engine(settings.sql_url)
    try:
        with engine.begin() as conn:
            for table in Base.metadata.sorted_tables:
                if conn.execute(select(func.count()).select_from(table)).scalar():
                    raise BackupError(
                        f"{settings.sql_url}: table {table.name} is not empty; "
                        "restore needs a fresh database"
                    )
            for table in Base.metadata.sorted_tables:
                if table.name not in manifest["tables"]:  # newer than the backup: stays empty
                    continue
                path = src / "sql" / f"{table.name}.jsonl.gz"
                rows = [_decode(table, row) for row in _read_lines(path)]
                for i in range(0, len(rows), 500):
                    conn.execute(insert(table), rows[i : i + 500])
                report.tables[table.name] = len(rows)
            if conn.dialect.name == "postgresql":
                _reset_sequences(conn)
    finally:
        engine.dispose()
    upgrade(settings.sql_url)
    if (src / TUNED_BACKUP).is_dir():  # the tuned embedder the index was built with
        target = settings.embedder_cache_dir / TUNED_DIR
        target.mkdir(parents=True, exist_ok=True)
        for folder in (src / TUNED_BACKUP).iterdir():
            if not (target / folder.name).exists():
                shutil.copytree(folder, target / folder.name)
    rt = open_runtime(settings)
    try:
        with rt.db.session() as s:  # the backup holds every document restored from it
            record(s, src, report.tables.get("documents", 0))
        for name, info in manifest["collections"].items():
            if rt.store.has_collection(name) and rt.store.count(name):
                raise BackupError(
                    f"collection {name} already holds points; restore onto a fresh store"
                )
            rt.store.create_collection(name, int(info["dimension"]))
            batch: list[PointRecord] = []
            for line in _read_lines(src / "vectors" / f"{name}.jsonl.gz"):
                batch.append(_point(line))
                if len(batch) >= 500:
                    rt.store.upsert(name, batch)
                    batch = []
            rt.store.upsert(name, batch)
            rt.store.optimize(name)
            report.points[name] = rt.store.count(name)
        from ingest.pipeline import IngestPipeline

        repair = IngestPipeline(rt).reconcile()
        report.repaired = repair.repaired_missing + repair.repaired_orphans
    finally:
        rt.close()
    report.seconds = time.perf_counter() - started
    return report


def read_manifest(src: Path) -> dict[str, Any]:
    path = src / MANIFEST
    if not path.is_file():
        partial = src.with_name(src.name + ".partial")
        hint = f" ({partial} is an unfinished backup)" if partial.exists() else ""
        raise BackupError(f"{src}: no {MANIFEST}, not a factvault backup{hint}")
    manifest = json.loads(path.read_text())
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{path}: backup format {manifest.get('format')} is not {FORMAT}")
    for name, digest in manifest["files"].items():
        file = src / name
        if not file.is_file():
            raise BackupError(f"{file}: missing from the backup")
        if sha256_file(file) != digest:
            raise BackupError(f"{file}: damaged (sha256 differs from the manifest)")
    return manifest


def _encode(row: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for key, value in row.items():
        if isinstance(value, datetime):
            value = value.isoformat()
        elif isinstance(value, enum.Enum):
            value = value.name
        out[key] = value
    return out


def _decode(table, row: dict[str, Any]) -> dict[str, Any]:
    for column in table.columns:
        value = row.get(column.name)
        if value is not None and isinstance(column.type, DateTime):
            row[column.name] = datetime.fromisoformat(value)
    return row


def _point_line(p: PointRecord) -> dict[str, Any]:
    return {
        "id": p.id, "dense": [float(x) for x in p.dense],
        "sparse": [list(p.sparse.indices), list(p.sparse.values)],
        "document_id": p.document_id, "ordinal": p.ordinal, "source": p.source,
        "collection": p.collection,
    }  # fmt: skip


def _point(line: dict[str, Any]) -> PointRecord:
    indices, values = line["sparse"]
    return PointRecord(
        line["id"], line["dense"], SparseVector(indices, values),
        line["document_id"], line["ordinal"], line["source"],
        line.get("collection", "default"),  # backups from before collections
    )  # fmt: skip


def _write_lines(path: Path, rows: Iterator[dict[str, Any]]) -> int:
    n = 0
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n")
            n += 1
    return n


def _read_lines(path: Path) -> Iterator[dict[str, Any]]:
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield json.loads(line)


def _reset_sequences(conn: Connection) -> None:
    """Explicit ids were inserted: move each serial past them, or the next insert collides."""
    for table in Base.metadata.sorted_tables:
        pk = list(table.primary_key.columns)
        if len(pk) == 1 and isinstance(pk[0].type, Integer):
            conn.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', '{pk[0].name}'), "
                    f"COALESCE(MAX({pk[0].name}), 1), MAX({pk[0].name}) IS NOT NULL) "
                    f"FROM {table.name}"
                )
            )
