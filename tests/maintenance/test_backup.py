"""Backup and restore on real stores: the restored installation answers retrieval exactly
like the original; a damaged or unfinished backup and a non-empty target are refused.
The PostgreSQL leg restores a SQLite + Qdrant Edge backup onto a real PostgreSQL server."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import pytest

from app.core.config import get_settings
from app.core.runtime import open_runtime
from app.maintenance.backup import BackupError, backup, restore
from app.retrieval import Retriever
from ingest.pipeline import IngestPipeline
from tests.fixtures import assert_consistent

pytestmark = pytest.mark.slow
QUESTIONS = [
    "How many days of paid annual leave does an employee get?",
    "Where is the fire assembly point?",
    "How does the rate limiter refill tokens?",
]


def answers(rt) -> list[list[tuple[str, float]]]:
    r = Retriever(rt)
    return [[(h.chunk_id, round(h.score, 5)) for h in r.retrieve(q, top_k=5)] for q in QUESTIONS]


def restored_runtime(tmp_path: Path, minilm, database_url: str | None = None):
    settings = get_settings(
        data_dir=tmp_path / "restored", database_url=database_url, qdrant_url=None
    )
    settings.ensure_dirs()
    return settings


def test_backup_restores_identical_retrieval(runtime, corpus: Path, tmp_path: Path, minilm) -> None:
    assert IngestPipeline(runtime).ingest_paths([corpus]).ok
    before = answers(runtime)
    report = backup(runtime, tmp_path / "bk")
    assert report.tables["chunks"] > 0 and sum(report.points.values()) == report.tables["chunks"]
    assert not (tmp_path / "bk.partial").exists()

    with pytest.raises(BackupError, match="not empty"):
        backup(runtime, tmp_path / "bk")  # never writes over an earlier backup

    settings = restored_runtime(tmp_path, minilm)
    restored = restore(settings, tmp_path / "bk")
    assert restored.tables == report.tables and restored.repaired == 0
    rt = open_runtime(settings, embedder=minilm)
    try:
        assert answers(rt) == before
        assert_consistent(rt)
        with pytest.raises(BackupError, match="not empty"):
            restore(settings, tmp_path / "bk")  # refuses to merge into existing data
    finally:
        rt.close()


def test_damaged_or_unfinished_backup_is_refused(
    runtime, corpus: Path, tmp_path: Path, minilm
) -> None:
    assert IngestPipeline(runtime).ingest_paths([corpus]).ok
    backup(runtime, tmp_path / "bk")
    chunks = tmp_path / "bk" / "sql" / "chunks.jsonl.gz"
    data = gzip.decompress(chunks.read_bytes()).replace(b"annual leave", b"annual LEAVE")
    chunks.write_bytes(gzip.compress(data))
    settings = restored_runtime(tmp_path, minilm)
    with pytest.raises(BackupError, match=r"chunks\.jsonl\.gz: damaged"):
        restore(settings, tmp_path / "bk")
    (tmp_path / "half.partial").mkdir()
    with pytest.raises(BackupError, match="unfinished backup"):
        restore(settings, tmp_path / "half")


@pytest.mark.postgres
def test_sqlite_backup_restores_onto_postgresql(
    runtime, corpus: Path, tmp_path: Path, minilm, pg_database: str
) -> None:
    assert IngestPipeline(runtime).ingest_paths([corpus]).ok
    before = answers(runtime)
    backup(runtime, tmp_path / "bk")
    settings = restored_runtime(tmp_path, minilm, database_url=pg_database)
    restore(settings, tmp_path / "bk")
    rt = open_runtime(settings, embedder=minilm)
    try:
        assert answers(rt) == before
        assert_consistent(rt)
        # Sequences moved past the restored ids: new rows do not collide.
        (corpus / "new.md").write_text("# New\n\nThe library opens at nine.\n")
        assert IngestPipeline(rt).ingest_paths([corpus]).ok
        assert_consistent(rt)
    finally:
        rt.close()


def test_a_deletion_receipt_names_the_backups_that_still_hold_the_document(
    runtime, corpus: Path, tmp_path: Path, minilm
) -> None:
    from sqlalchemy import select

    from app.core.db import Document
    from ingest.forget import forget

    assert IngestPipeline(runtime).ingest_paths([corpus]).ok
    with runtime.db.session() as s:
        ids = list(s.scalars(select(Document.id).order_by(Document.id)))
    bk1, bk2 = tmp_path / "bk1", tmp_path / "bk2"
    backup(runtime, bk1)
    receipt = forget(runtime, ids[0])
    assert receipt is not None and receipt.backups == [bk1.resolve().as_posix()]
    backup(runtime, bk2)  # taken after that deletion: it does not hold ids[0]

    (corpus / "late.md").write_text("# Late\n\nWritten after both backups were taken.\n")
    report = IngestPipeline(runtime).ingest_paths([corpus])
    late = forget(runtime, max(report.documents))
    assert late is not None and late.source.endswith("late.md") and late.backups == []

    both = forget(runtime, ids[1])
    assert both is not None and both.backups == [p.resolve().as_posix() for p in (bk1, bk2)]
    shutil.rmtree(bk1)  # the owner deleted it: it holds nothing any more
    one = forget(runtime, ids[2])
    assert one is not None and one.backups == [bk2.resolve().as_posix()]

    # A restored installation knows the backup it came from.
    settings = restored_runtime(tmp_path, minilm)
    restore(settings, bk2)
    rt = open_runtime(settings, embedder=minilm)
    try:
        again = forget(rt, ids[3])
        assert again is not None and again.backups == [bk2.resolve().as_posix()]
    finally:
        rt.close()


def test_an_index_built_with_a_tuned_embedder_restores_with_its_weights(
    runtime, corpus: Path, tmp_path: Path, minilm
) -> None:
    """A tuned embedder exists only in its data dir: the backup carries its folder (under
    the manifest's sha256s) and the restored installation embeds queries with it."""
    from app.core.embedder import MiniLMEmbedder
    from app.core.embedder_choice import TUNED_DIR, tuned_name
    from app.core.hashing import sha256_file
    from ingest.reindex import reindex

    assert IngestPipeline(runtime).ingest_paths([corpus]).ok
    source = MiniLMEmbedder()._model_dir  # stands in for a trained copy: same layout
    name = tuned_name(sha256_file(source / "model.safetensors"))
    shutil.copytree(source, runtime.settings.embedder_cache_dir / TUNED_DIR / name[6:])
    assert reindex(runtime, name).switched
    before = answers(runtime)
    backup(runtime, tmp_path / "bk")
    assert (tmp_path / "bk" / "embedders" / "tuned" / name[6:] / "model.safetensors").is_file()

    settings = restored_runtime(tmp_path, minilm)
    restore(settings, tmp_path / "bk")
    rt = open_runtime(settings)  # no embedder given: the index's own is loaded
    try:
        assert answers(rt) == before
        with rt.db.session() as s:
            from app.core.index_versions import active_index

            assert rt.embedder_for(active_index(s)).name == name
    finally:
        rt.close()
